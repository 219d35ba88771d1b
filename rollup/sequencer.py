"""The sequencer: mempool of signed transactions, batches of B fixed slots (DESIGN §5).

``submit`` admits a signed transaction (type allowed from users, signature valid against the
current key) and persists it before returning.  ``seal_batch`` fills B slots: first the
settlement layer's pending priority requests in queue order (deposits, forced withdrawals; each
is always served), then mempool transactions in arrival order — one that fails its checks is
dropped with its error recorded — and pads the rest with no-ops, staging each slot
(``RollupState.stage``: checked and applied, hashing deferred); one ``flush`` then hashes the whole
batch and the batch is written in one SQL transaction.  ``divergence`` compares the head with
the settled root.

``seal_all`` seals until nothing is left, pipelined on the two cores: batch k's tree update runs
on a hasher thread while this one stages batch k + 1 and writes batch k (the same batches, each
in its own SQL transaction).  (A first pipeline that committed batch k on a writer thread while
batch k + 1 was hashed on two numba threads was 0.7–1.1× of sealing one at a time: a third busy
thread stalls the numba threads at their per-level barriers; here every kernel gets one thread.)
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numba

from rollup.account import Account, GlobalState, state_root
from rollup.errors import MempoolRejected, RollupError
from rollup.params import DEPOSIT, FORCED_WITHDRAW, LIQUIDATE, NOOP, TRADE, RollupParams
from rollup.pubdata import pubdata_commitment
from rollup.state import RollupState, StagedSlot
from rollup.store import Store
from rollup.tree import SparseMerkleTree, UpdateProof
from rollup.tx import (
    Deposit,
    ForcedWithdrawal,
    FundingTick,
    Liquidate,
    Noop,
    OraclePrice,
    Trade,
    Transfer,
    Tx,
    Withdraw,
)
from rollup.witness import BatchWitness

PIPELINE_SWITCH_INTERVAL: float = 1e-4  #: seconds, sys.setswitchinterval during seal_all
USER_TYPES = (Withdraw, Transfer, Trade, OraclePrice, FundingTick, Liquidate)


def request_to_tx(request: dict[str, Any]) -> Tx:
    """A settlement-layer queue entry {id, kind, fields, ...} as a rollup transaction."""
    if request["kind"] == DEPOSIT:
        return Deposit(*request["fields"])
    if request["kind"] == FORCED_WITHDRAW:
        return ForcedWithdrawal(*request["fields"])
    raise MempoolRejected(detail=f"unknown priority request kind {request['kind']}")


@dataclass(frozen=True)
class _Staged:
    """A batch staged, nothing hashed yet (``Sequencer._stage``)."""

    number: int
    slots: list[StagedSlot]
    accounts: dict[int, Account | None]  #: every account it touches, after the batch
    global_state: GlobalState
    used: list[int]
    rejected: list[tuple[int, str]]
    consumed: int


@dataclass(frozen=True)
class _Built:
    """A batch built in memory and what its SQL transaction writes (``Store.write_batch``)."""

    batch: BatchWitness
    accounts: dict[int, Account | None]  #: every account it touched, after the batch
    global_state: GlobalState
    nodes: dict[tuple[int, int], int | None]
    used: list[int]
    rejected: list[tuple[int, str]]
    consumed: int

    def rows(self) -> tuple:
        return (self.batch, self.accounts, self.global_state, self.nodes, self.used,
                self.rejected, self.consumed)  # fmt: skip


def _hash_batch(
    tree: SparseMerkleTree,
    slots: list[StagedSlot],
    entries: list[tuple[int, int | None]] | None,
) -> list[UpdateProof]:
    """The hasher thread's task in ``Sequencer.seal_all``: the slots' leaves (unless ``entries``
    were already made from them), then the tree update, each on one numba thread."""
    if entries is None:
        entries = RollupState.tree_entries(slots, threads=1)
    return tree.update_many(entries, threads=1)


class Sequencer:
    """Owns the store and the in-memory head state."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.params: RollupParams = store.params()
        self.state: RollupState = store.load_state()
        #: the store's mempool rows, decoded once (submit adds, a written batch removes); the
        #: sequencer owns its store: rows accepted behind its back are seen after a reopen
        self.pending: dict[int, Tx] = dict(store.mempool())

    @classmethod
    def open(cls, path: str, params: RollupParams | None = None, genesis: Any = None) -> Sequencer:
        store = Store(path)
        if params is not None:
            store.initialise(params, genesis)
        return cls(store)

    # -- mempool -------------------------------------------------------------------------------
    def _signature_ok(self, tx: Tx) -> bool:
        s, check = self.state, self.state.verify_signature
        if isinstance(tx, (Withdraw, Transfer)):
            index = tx.account if isinstance(tx, Withdraw) else tx.sender
            return check(s.account(index).pubkey, tx.message(), tx.signature)
        if isinstance(tx, Trade):
            return all(
                check(s.account(o.order.account).pubkey, o.order.message(), o.signature)
                for o in (tx.maker, tx.taker)
            )
        if isinstance(tx, Liquidate):
            o = tx.liquidator
            return check(s.account(o.order.account).pubkey, o.order.message(), o.signature)
        if isinstance(tx, OraclePrice):
            g = s.global_state
            return check((g.oracle_pk_x, g.oracle_pk_y), tx.message(), tx.signature)
        return True

    def submit(self, tx: Tx) -> int:
        """Admit a user/operator transaction; returns its mempool sequence number (persisted)."""
        if not isinstance(tx, USER_TYPES):
            raise MempoolRejected(detail=f"{type(tx).__name__} comes from the L1 queue, not users")
        try:
            ok = self._signature_ok(tx)
        except RollupError as e:
            raise MempoolRejected(detail=str(e)) from None
        if not ok:
            raise MempoolRejected(detail=f"{type(tx).__name__}: signature does not verify")
        seq = self.store.accept(tx)
        self.pending[seq] = tx
        return seq

    # -- batches -------------------------------------------------------------------------------
    def seal_batch(self, priority_queue: Sequence[dict[str, Any]] = ()) -> BatchWitness | None:
        """Seal the next batch from the pending priority requests and the mempool; None if empty.
        The batch is written (committed) when this returns."""
        try:
            old_root = self.state.root
            consumed = self.store.get("priority_consumed")
            staged = self._stage(priority_queue, self.store.head(), consumed)
            if staged is None:
                return None
            tree = self.state.tree
            proofs = tree.update_many(RollupState.tree_entries(staged.slots))
            built = self._finish(staged, proofs, tree.root, tree.take_dirty(), old_root)
            self.store.write_batch(*built.rows())
        except BaseException:
            self._reload()
            raise
        return built.batch

    def seal_all(
        self, priority_queue: Sequence[dict[str, Any]] = (), *, max_batches: int | None = None
    ) -> list[BatchWitness]:
        """Seal batches until the queue and the mempool are empty (or ``max_batches`` are), each
        exactly the batch ``seal_batch`` would seal and written in its own SQL transaction before
        the next is written; returns them.  Pipelined on the two cores: a hasher thread runs
        batch k's tree update (numba, GIL released) while this thread stages batch k + 1 —
        hashing its leaves too if the hasher is still busy, else leaving them to the hasher —
        and writes batch k.  Every kernel runs on one numba thread, so two threads are busy and
        none waits at a parallel barrier; the interpreter's switch interval is lowered to
        ``PIPELINE_SWITCH_INTERVAL`` meanwhile (at the default 5 ms each thread waited for the
        other's GIL hand-offs: writing a batch took 2.8× as long).  On any error, the batches
        written before it stay, the state returns to the store's head and the error is raised."""
        sealed: list[BatchWitness] = []
        threads, interval = numba.get_num_threads(), sys.getswitchinterval()
        numba.set_num_threads(1)  # this thread's kernels (a thread-local setting)
        sys.setswitchinterval(PIPELINE_SWITCH_INTERVAL)
        try:
            with ThreadPoolExecutor(1, "zkr-tree", numba.set_num_threads, (1,)) as hasher:
                self._pipeline(hasher, priority_queue, max_batches, sealed)
        finally:
            numba.set_num_threads(threads)
            sys.setswitchinterval(interval)
        return sealed

    def _pipeline(
        self,
        hasher: ThreadPoolExecutor,
        priority_queue: Sequence[dict[str, Any]],
        max_batches: int | None,
        sealed: list[BatchWitness],
    ) -> None:
        """``seal_all``'s loop: stage k + 1 while the hasher runs k's tree, then write k."""
        in_flight: Future | None = None
        try:
            old_root, number = self.state.root, self.store.head()
            consumed = self.store.get("priority_consumed")
            cur = self._stage(priority_queue, number, consumed)
            if cur is not None:
                in_flight = hasher.submit(_hash_batch, self.state.tree, cur.slots, None)
            while cur is not None and in_flight is not None:
                nxt = entries = None
                if max_batches is None or len(sealed) + 1 < max_batches:
                    nxt = self._stage(priority_queue, number + 1, cur.consumed)
                if nxt is not None and not in_flight.done():  # the hasher is busy: take its
                    entries = RollupState.tree_entries(nxt.slots, threads=1)  # leaves here
                proofs = in_flight.result()
                tree = self.state.tree
                root, nodes = tree.root, tree.take_dirty()  # before batch k + 1 is hashed
                in_flight = None
                if nxt is not None:
                    in_flight = hasher.submit(_hash_batch, tree, nxt.slots, entries)
                built = self._finish(cur, proofs, root, nodes, old_root)
                self.store.write_batch(*built.rows())
                sealed.append(built.batch)
                old_root, number, cur = built.batch.new_root, number + 1, nxt
        except BaseException:
            if in_flight is not None:
                with contextlib.suppress(BaseException):
                    in_flight.result()  # leave the tree alone before reloading
            self._reload()
            raise

    def _reload(self) -> None:
        """Back to the store's head (a batch built or staged but not committed is dropped)."""
        self.state = self.store.load_state()
        self.pending = dict(self.store.mempool())

    def _stage(
        self, priority_queue: Sequence[dict[str, Any]], number: int, consumed: int
    ) -> _Staged | None:
        """Stage batch ``number`` (priority requests from ``consumed`` on, then the mempool, then
        no-ops); its transactions leave ``pending``.  Nothing is hashed and neither the tree nor
        the store is touched (the caller runs ``RollupState.tree_entries`` and the tree update).
        None if there is nothing to seal.  On an error the in-memory state is half-advanced: the
        caller reloads it."""
        requests = [q for q in priority_queue if q["id"] >= consumed]
        mempool = list(self.pending.items())
        if not requests and not mempool:
            return None
        state, n = self.state, 0
        used: list[int] = []
        rejected: list[tuple[int, str]] = []
        B = self.params.batch_slots
        for q in requests[:B]:
            if q["id"] != consumed:
                raise MempoolRejected(detail=f"priority request {q['id']} out of order")
            state.stage(request_to_tx(q), n)
            consumed, n = consumed + 1, n + 1
        for seq, tx in mempool:
            if n == B:
                break
            try:
                state.stage(tx, n)
                used.append(seq)
                n += 1
            except RollupError as e:
                rejected.append((seq, f"{type(e).__name__}: {e}"))
        for k in range(n, B):
            state.stage(Noop(), k)
        slots = state.take_staged()
        for seq in used + [seq for seq, _ in rejected]:
            del self.pending[seq]
        touched = {index for s in slots for index, _, _ in s.changes}
        accounts = {i: state.accounts.get(i) for i in touched}
        return _Staged(number, slots, accounts, state.global_state, used, rejected, consumed)

    @staticmethod
    def _finish(
        staged: _Staged,
        proofs: list[UpdateProof],
        accounts_root: int,
        nodes: dict[tuple[int, int], int | None],
        old_root: int,
    ) -> _Built:
        """The batch witness of a staged batch once its tree update is done (``accounts_root``
        and ``nodes``: the tree's root and ``take_dirty`` right after it)."""
        slots = RollupState.flush_witnesses(staged.slots, proofs)
        pubdata = tuple(e for w in slots for e in w.chunk)
        new_root = state_root(accounts_root, staged.global_state.hash())
        batch = BatchWitness(
            staged.number, old_root, new_root, tuple(slots), pubdata,
            pubdata_commitment(old_root, new_root, pubdata),
        )  # fmt: skip
        return _Built(batch, staged.accounts, staged.global_state, nodes, staged.used,
                      staged.rejected, staged.consumed)  # fmt: skip

    # -- reporting -----------------------------------------------------------------------------
    def divergence(self, settled_batches: int, seconds_since_settlement: float) -> dict[str, Any]:
        """Batches, transactions and notional (value units) sealed but not yet settled."""
        head = self.store.head()
        txs = notional = 0
        for number in range(settled_batches, head):
            for w in self.store.batch(number).slots:
                if w.tx_type != NOOP:
                    txs += 1
                if w.tx_type in (TRADE, LIQUIDATE):
                    notional += w.effect["quantity"] * w.effect["price"]
        return {
            "head_batch": head,
            "settled_batches": settled_batches,
            "unsettled_batches": head - settled_batches,
            "unsettled_transactions": txs,
            "unsettled_notional": notional,
            "mempool": len(self.pending),
            "seconds_since_checkpoint": seconds_since_settlement,
        }
