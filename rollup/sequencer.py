"""The sequencer: mempool of signed transactions, batches of B fixed slots.

``submit`` admits a signed transaction (type allowed from users, signature valid against the
current key) and persists it before returning.  ``seal_batch`` fills B slots: first the
settlement layer's pending priority requests in queue order (deposits, forced withdrawals; each
is always served), then mempool transactions in arrival order — one that fails its checks is
dropped with its error recorded — and pads the rest with no-ops, staging each slot
(``RollupState.stage``: checked and applied, hashing deferred); one ``flush`` then hashes the whole
batch and the batch is written in one SQL transaction.  ``seal_batches`` seals up to ``GROUP``
batches the same way, one after another, and writes them in one transaction, all or nothing
(``zkr batch --all`` and the node's backlog).  Measured at D = 16, B = 8: the commit costs
0.8–0.9 ms a batch alone and ~0.5 ms a batch in a group of 8 — most of it is writing the batch's
~130 KB (its witness) to the WAL, not the fsync — and throughput is the same within the noise.
``divergence`` compares the head with the settled root.

Two pipelines were measured and dropped (interleaved A/B, D = 16): committing batch k on a
writer thread while batch k + 1 was built (0.7–1.1× of sealing one batch at a time: a third busy
thread stalls the two numba threads at their per-level barriers), and hashing batch k's tree on
a second Python thread while batch k + 1 was staged, every kernel on one numba thread
(1.02–1.09×: the GIL hand-offs between the two threads eat the second core).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from protocol.errors import ProtocolError
from protocol.pubdata import pubdata_commitment
from protocol.spec import DEPOSIT, FORCED_WITHDRAW, LIQUIDATE, NOOP, TRADE, RollupParams
from rollup.errors import MempoolRejected, RollupError
from rollup.hashing import PoseidonBackend, get_backend
from rollup.state import RollupState
from rollup.store import BatchWrite, Store
from rollup.tx import (
    Deleverage,
    Deposit,
    ForcedWithdrawal,
    Liquidate,
    ListSeries,
    Marks,
    Noop,
    OraclePrice,
    Settle,
    Trade,
    Transfer,
    Tx,
    Withdraw,
)
from rollup.witness import BatchWitness, SlotWitness

#: batches ``seal_batches`` writes in one SQL transaction at most, by default
GROUP: int = 8

USER_TYPES = (
    Withdraw, Transfer, Trade, OraclePrice, Liquidate, Deleverage, ListSeries, Marks, Settle,
)  # fmt: skip


def request_to_tx(request: dict[str, Any]) -> Tx:
    """A settlement-layer queue entry {id, kind, fields, ...} as a rollup transaction."""
    if request["kind"] == DEPOSIT:
        return Deposit(*request["fields"])
    if request["kind"] == FORCED_WITHDRAW:
        return ForcedWithdrawal(*request["fields"])
    raise MempoolRejected(detail=f"unknown priority request kind {request['kind']}")


class Sequencer:
    """Owns the store and the in-memory head state."""

    def __init__(self, store: Store, backend: PoseidonBackend | str | None = None) -> None:
        self.store = store
        self.backend = get_backend(backend)  #: the Poseidon backend (default: the best available)
        self.params: RollupParams = store.params()
        self.state: RollupState = store.load_state(self.backend)
        #: the store's mempool rows, decoded once (submit adds, a written batch removes); the
        #: sequencer owns its store: rows accepted behind its back are seen after a reopen
        self.pending: dict[int, Tx] = dict(store.mempool())

    @classmethod
    def open(
        cls,
        path: str,
        params: RollupParams | None = None,
        genesis: Any = None,
        backend: PoseidonBackend | str | None = None,
    ) -> Sequencer:
        """Open the store at ``path``; with ``params`` (genesis) it is created if missing.
        ``backend``: the Poseidon backend (`rollup.hashing`), default the best available."""
        store = Store(path, create=params is not None)
        if params is not None:
            store.initialise(params, genesis)
        return cls(store, backend)

    # -- mempool -------------------------------------------------------------------------------
    def _signature_ok(self, tx: Tx) -> bool:
        s, check = self.state, self.state.verify_signature
        domain = s.global_state.domain
        if isinstance(tx, (Withdraw, Transfer)):
            index = tx.account if isinstance(tx, Withdraw) else tx.sender
            return check(s.account(index).pubkey, tx.message(domain), tx.signature)
        if isinstance(tx, Trade):
            return all(
                check(s.account(o.order.account).pubkey, o.order.message(domain), o.signature)
                for o in (tx.maker, tx.taker)
            )
        if isinstance(tx, Liquidate):
            o = tx.liquidator
            return check(s.account(o.order.account).pubkey, o.order.message(domain), o.signature)
        g = s.global_state
        if isinstance(tx, (OraclePrice, Marks)):
            return check((g.oracle_pk_x, g.oracle_pk_y), tx.message(domain), tx.signature)
        if isinstance(tx, ListSeries):
            return check((g.operator_pk_x, g.operator_pk_y), tx.message(domain), tx.signature)
        return True

    def submit(self, tx: Tx) -> int:
        """Admit a user/operator transaction; returns its mempool sequence number (persisted)."""
        return self.submit_many([tx])[0]

    def submit_many(self, txs: Sequence[Tx]) -> list[int]:
        """Admit transactions together: each checked as ``submit`` checks it, then all persisted
        in one SQL transaction (an oracle update and its marks: both or neither)."""
        for tx in txs:
            if not isinstance(tx, USER_TYPES):
                detail = f"{type(tx).__name__} comes from the L1 queue, not users"
                raise MempoolRejected(detail=detail)
            try:
                ok = self._signature_ok(tx)
            except RollupError as e:
                raise MempoolRejected(detail=str(e)) from None
            except ProtocolError as e:  # a field of the signed message is not a field element
                raise MempoolRejected(detail=f"{type(tx).__name__}: {e}") from None
            if not ok:
                raise MempoolRejected(detail=f"{type(tx).__name__}: signature does not verify")
        seqs = self.store.accept_many(txs)
        self.pending.update(zip(seqs, txs, strict=True))
        return seqs

    # -- batches -------------------------------------------------------------------------------
    def seal_batch(self, priority_queue: Sequence[dict[str, Any]] = ()) -> BatchWitness | None:
        """Seal the next batch from the pending priority requests and the mempool; None if empty."""
        sealed = self.seal_batches(priority_queue, limit=1)
        return sealed[0] if sealed else None

    def seal_batches(
        self, priority_queue: Sequence[dict[str, Any]] = (), limit: int = GROUP
    ) -> list[BatchWitness]:
        """Seal up to ``limit`` batches, each exactly as ``seal_batch`` would one after another,
        and write them in ONE SQL transaction (group commit: one fsync for the group); returned
        once all are durable, [] if there is nothing to seal.  On any error none of them is
        written and the state is back at the head."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        consumed = self.store.get("priority_consumed")
        requests = [q for q in priority_queue if q["id"] >= consumed]
        mempool = list(self.pending.items())
        number, old_root = self.store.head(), self.state.root
        writes: list[BatchWrite] = []
        try:
            while len(writes) < limit and (requests or mempool):
                write = self._build(number, old_root, requests, mempool, consumed)
                batch, _, _, _, used, rejected, consumed_after = write
                requests = requests[consumed_after - consumed :]
                mempool = mempool[len(used) + len(rejected) :]
                writes.append(write)
                number, old_root, consumed = number + 1, batch.new_root, consumed_after
            if writes:
                self.store.write_batches(writes)
        except BaseException:
            self.state = self.store.load_state(self.backend)  # not written: back to the head
            self.pending = dict(self.store.mempool())
            raise
        for _, _, _, _, used, rejected, _ in writes:
            for seq in used + [seq for seq, _ in rejected]:
                del self.pending[seq]
        return [write[0] for write in writes]

    def _build(
        self,
        number: int,
        old_root: int,
        requests: list[dict[str, Any]],
        mempool: list[tuple[int, Tx]],
        consumed: int,
    ) -> BatchWrite:
        """Batch ``number`` on the head state: B slots of the requests (in queue order, from
        id ``consumed``), then the mempool in order (a transaction failing its checks is dropped
        with its error), then no-ops; hashed at once, its witness and what the store writes."""
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
        slots: list[SlotWitness] = state.flush()  # all of the batch's hashing, at once
        touched = {u.index for w in slots for u in w.updates}
        pubdata = tuple(e for w in slots for e in w.chunk)
        new_root = state.root
        batch = BatchWitness(
            number, old_root, new_root, tuple(slots), pubdata,
            pubdata_commitment(old_root, new_root, pubdata, self.backend.sponge),
        )  # fmt: skip
        nodes = state.tree.take_dirty()
        accounts = {i: state.accounts.get(i) for i in touched}
        return batch, accounts, state.global_state, nodes, used, rejected, consumed

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
