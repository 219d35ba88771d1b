"""``Rollup``: one rollup directory — sequencer, local settlement layer, keys, order book — as one
object. Every ``zkr`` verb and every HTTP endpoint is a method here (or in ``rollup.node.report``);
the CLI only parses arguments, converts human units (``rollup.node.units``) and prints.

Units at this interface are the protocol's: L1 amounts (deposit, withdraw, claim) in collateral
quanta; transfers and fees in value units; sizes in base quanta (option contracts: base quanta of
the underlying); prices, strikes and marks in value units per base quantum; funding rates in 2^-32
per second; times in seconds (``protocol.spec``). Instruments are a market index m or
``OPTION_BASE`` + a series id. Trading is ``rollup.node.trading``'s, the oracle and the operator's
option series ``rollup.node.feeds``'; every signed message carries the rollup's ``domain``.

Before a transaction enters the mempool it is staged on a scratch copy of the head state with the
pending mempool (``pending_state``), so an invalid one (e.g. insufficient margin) is refused at
once with the state machine's own error; nothing is stored then. A frozen settlement layer refuses
new work (``Frozen``): orders, transactions, batches; escapes and claims still work.

Concurrency: an instance opened with ``lock=True`` (the default) holds the directory's lock
(``rollup.node.files.DirectoryLock``) until ``close``, so one process at a time changes a
directory and every instance starts from what the previous one committed. Read-only users
(``status``, ``account show``, ``export``, ``prove``) open with ``lock=False``: SQLite's WAL gives
them a consistent snapshot of each store, and proofs are stored in their own transactions.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol.eddsa import derive_public_key, sign
from protocol.spec import RollupParams
from rollup.errors import RollupError, StoreError
from rollup.node.errors import CorruptFile, Frozen, NodeError
from rollup.node.feeds import Feeds
from rollup.node.files import DirectoryLock, write_export
from rollup.node.keystore import Keystore
from rollup.node.l1 import Layer1, default_address, open_settlement
from rollup.node.meta import read_meta
from rollup.node.oracle import OracleLog
from rollup.node.orders import OrderBook, cancel_message
from rollup.node.pipeline import ProvingRun, prove_pending
from rollup.node.trading import Trading
from rollup.rebuild import rebuild_from_settlement
from rollup.sequencer import GROUP, Sequencer
from rollup.state import RollupState
from rollup.store import Store
from rollup.tx import Transfer, Tx, Withdraw, escape_message, forced_message
from rollup.witness import BatchWitness
from verifier.settlement import sign_batch

__all__ = ["FORCED_REQUEST_SECONDS", "Progress", "Rollup", "cancel_message"]

Progress = Callable[[str, int, int], None]
SEQUENCER = "sequencer.db"
RESTORE_HINT = "'zkr rebuild' restores it from the settlement layer's published data"
FORCED_REQUEST_SECONDS = 86_400  #: a forced-withdrawal request's default validity on L1


def open_sequencer(path: Path) -> Sequencer:
    """The sequencer of ``path``'s store; CorruptFile (with the way out) if it is damaged."""
    try:
        return Sequencer.open(str(path / SEQUENCER))
    except StoreError as e:
        raise CorruptFile(path=path / SEQUENCER, detail=f"{e}; {RESTORE_HINT}") from None


def check_against_settlement(path: Path, store: Store, l1: Layer1) -> None:
    """CorruptFile unless the store holds every batch the settlement layer accepted, the last
    of them with the root it accepted: a store put back from a backup (or another history)
    would seal again what was settled and leave the rollup stuck without a word."""
    settled, l1_root = l1.settled()  # one snapshot: the node may settle meanwhile
    head = store.head()
    restored = store.get("restored")  # [head, root] of a store ``restore`` wrote from L1
    try:
        if head < settled:
            detail = f"is behind the settlement layer (head batch {head}, {settled} settled)"
        elif restored is not None and restored[0] == settled:
            if restored[1] == l1_root:
                return
            detail = "the root it was restored at is not the settlement layer's"
        elif settled and store.root_after(settled - 1) != l1_root:
            detail = f"batch {settled - 1}'s root is not the one the settlement layer accepted"
        else:
            return
    except StoreError as e:
        detail = str(e)
    raise CorruptFile(path=path / SEQUENCER, detail=f"{detail}; {RESTORE_HINT}")


class Rollup(Trading, Feeds):
    """The façade over one rollup directory (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        clock: Callable[[], float] = time.time,
        lock: bool = True,
        holder: str = "zkr",
        lock_wait: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.meta = read_meta(self.path)
        self.params: RollupParams = self.meta.params
        self.keydir = self.meta.keydir
        self.lock = DirectoryLock(self.path, holder, lock_wait)
        if lock:
            self.lock.acquire()
        try:
            self.l1: Layer1 = open_settlement(self.path, self.meta.settlement_config, clock)
            try:
                self.seq = open_sequencer(self.path)
                try:
                    check_against_settlement(self.path, self.seq.store, self.l1)
                except BaseException:
                    self.seq.store.close()
                    raise
            except BaseException:
                self.l1.close()
                raise
        except BaseException:
            self.lock.release()
            raise
        self.keystore = Keystore(self.path)
        self.book = OrderBook(self.path)
        self.oracle_log = OracleLog(self.path)
        #: the rollup's domain: every signed message carries it
        self.domain: int = self.seq.state.global_state.domain

    # -- lifecycle -----------------------------------------------------------------------------
    @classmethod
    def init(cls, path: str | Path, *args: Any, **kwargs: Any) -> Rollup:
        """Genesis (``rollup.node.genesis.create``), then the new directory opened."""
        from rollup.node.genesis import create

        clock = kwargs.get("clock", time.time)
        return cls(create(path, *args, **kwargs), clock)

    def close(self) -> None:
        self.seq.store.close()
        self.l1.close()
        self.lock.release()

    def __enter__(self) -> Rollup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_live(self) -> None:
        """``Frozen`` ("frozen since <UTC time>" where the contract records it, else since the
        last settled batch) once the settlement layer is frozen."""
        if not self.l1.frozen:
            return
        at = getattr(self.l1, "frozen_at", None)
        if at is not None:
            since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
        else:
            since = f"batch {self.l1.status()['batches']} was settled"
        raise Frozen(
            detail=f"the rollup is frozen since {since}: no new orders, transactions or batches "
            "(use 'zkr escape' and 'zkr claim')"
        )

    # -- keys ----------------------------------------------------------------------------------
    def key(self, account: int) -> bytes:
        return self.keystore.key(account)

    def new_account(self, rng: random.Random | None = None) -> tuple[int, tuple[int, int]]:
        """A fresh key pair in the keystore; returns (account index, public key)."""
        return self.keystore.add(self.params.n_accounts, rng)

    def l1_address(self, account: int) -> int:
        """The default L1 address of an account: its public key's x mod 2^160."""
        return default_address(derive_public_key(self.key(account)))

    def _address(self, account: int, l1_address: int | None) -> int:
        return self.l1_address(account) if l1_address is None else l1_address

    # -- L1 requests ---------------------------------------------------------------------------
    def deposit(self, account: int, amount: int, l1_address: int | None = None) -> int:
        """Queue a deposit of ``amount`` quanta on L1; returns the request id."""
        pk = derive_public_key(self.key(account))
        address = default_address(pk) if l1_address is None else l1_address
        return self.l1.deposit(account, pk, amount, address)

    def account_proof(self, account: int, state: RollupState) -> tuple[list, tuple, list]:
        """(leaf preimage, Merkle siblings, global preimage) of ``account`` in ``state``."""
        return (
            state.account(account).to_list(),
            state.tree.siblings(account),
            state.global_state.to_list(),
        )

    def forced_nonce(self, account: int) -> int:
        """The nonce the account's next forced-withdrawal request signs (from the L1 contract)."""
        return self.l1.forced_nonce(account)

    @property
    def settlement_config(self) -> Any:
        """The settlement layer's deployment config (chain id, rollup id, fees, N, T ...)."""
        return self.l1.config

    def force_withdrawal(
        self, account: int, l1_address: int | None = None, expiry: int | None = None
    ) -> int:
        """Queue a forced withdrawal on L1 with the account's next forced nonce (from the L1
        contract), valid until ``expiry`` (default a day from now), proven against the settled
        state (rebuilt from L1)."""
        key, state = self.key(account), self.rebuild()
        address = self._address(account, l1_address)
        nonce = self.l1.forced_nonce(account)
        expiry = int(self.clock()) + FORCED_REQUEST_SECONDS if expiry is None else expiry
        sig = sign(key, forced_message(self.domain, account, address, nonce, expiry))
        return self.l1.request_forced_withdrawal(
            account, address, nonce, expiry, sig, *self.account_proof(account, state)
        )

    def claim(self, account: int | None = None, l1_address: int | None = None) -> int:
        """Pay out what L1 holds for the account's (or the given) L1 address; the amount."""
        if l1_address is None:
            if account is None:
                raise NodeError(detail="claim needs an account or an L1 address")
            l1_address = self.l1_address(account)
        return self.l1.withdraw(l1_address)

    # -- L2 transactions -----------------------------------------------------------------------
    def pending_state(self) -> RollupState:
        """A scratch copy of the head state with the mempool staged (failing transactions
        skipped). Staging checks and applies without hashing, and the copy shares nothing that
        staging writes with the sequencer's head state."""
        head = self.seq.state
        state = RollupState(head.params, head.global_state, head.verify_signature)
        state.accounts = dict(head.accounts)
        state.tree = head.tree  # read only: staged writes reach the tree only in flush()
        for tx in self.seq.pending.values():
            try:
                state.stage(tx)
            except RollupError:
                continue
        return state

    def next_nonce(self, account: int, state: RollupState | None = None) -> int:
        """The nonce the account's next withdrawal or transfer takes (resting orders take
        none)."""
        state = state or self.pending_state()
        return state.account(account).nonce

    def submit(self, tx: Tx) -> int:
        """Stage ``tx`` on the pending state (its RollupError propagates), then admit it."""
        self._require_live()
        self.pending_state().stage(tx)
        return self.seq.submit(tx)

    def withdraw(self, account: int, amount: int, l1_address: int | None = None) -> int:
        """Withdraw ``amount`` quanta to L1 (paid once its batch settles: ``claim``)."""
        key, address = self.key(account), self._address(account, l1_address)
        tx = Withdraw.signed(key, self.domain, account, amount, address, self.next_nonce(account))
        return self.submit(tx)

    def transfer(self, sender: int, recipient: int, amount: int) -> int:
        """Move ``amount`` value units of collateral from ``sender`` to ``recipient``."""
        tx = Transfer.signed(self.key(sender), self.domain, sender, recipient, amount,
                             self.next_nonce(sender))  # fmt: skip
        return self.submit(tx)

    # -- batches, proofs, settlement -----------------------------------------------------------
    def seal(self) -> BatchWitness | None:
        """Seal the next batch (priority requests first); None if there is nothing to seal."""
        self._require_live()
        return self.seq.seal_batch(self.l1.queue())

    def seal_batches(self, limit: int) -> list[BatchWitness]:
        """Seal up to ``limit`` batches in one SQL transaction (``Sequencer.seal_batches``)."""
        self._require_live()
        return self.seq.seal_batches(self.l1.queue(), limit)

    def seal_all(self) -> list[BatchWitness]:
        """Seal batches until the L1 queue and the mempool are empty, ``GROUP`` batches per SQL
        transaction at most."""
        out = []
        while sealed := self.seal_batches(GROUP):
            out.extend(sealed)
        return out

    def rejected(self, number: int) -> list[tuple[int, str]]:
        """(mempool sequence, reason) of the transactions batch ``number`` dropped."""
        return self.seq.store.rejected(number)

    def head(self) -> int:
        """The number of sealed batches."""
        return self.seq.store.head()

    @property
    def settled_root(self) -> int:
        """The state root the settlement layer has verified last."""
        return self.l1.root

    def pending_work(self) -> int:
        """Transactions a seal would take now: mempool plus unconsumed L1 priority requests."""
        consumed = self.seq.store.get("priority_consumed")
        return len(self.seq.pending) + sum(q["id"] >= consumed for q in self.l1.queue())

    def batch(self, number: int) -> BatchWitness:
        return self.seq.store.batch(number)

    def unproven(self) -> list[int]:
        """Unsettled sealed batches without a stored proof, in order."""
        proven = self.seq.store.proven()
        return [n for n in range(self.l1.batch_count, self.head()) if n not in proven]

    def proof(self, number: int) -> Any:
        return self.seq.store.proof(number)

    def prove(
        self, workers: int = 1, scheduler: Any = None, progress: Progress | None = None,
        numbers: list[int] | None = None,
    ) -> ProvingRun:  # fmt: skip
        """Prove the unproven batches (or ``numbers``), storing each proof as it finishes."""
        todo = self.unproven() if numbers is None else numbers
        return prove_pending(self.seq.store, self.keydir, todo, workers, scheduler, progress)

    def settle(self) -> list[int]:
        """Submit every proven, unsettled batch in order; stops at the first without a proof."""
        done: list[int] = []
        while self.l1.batch_count < self.head():
            n = self.l1.batch_count
            proof = self.seq.store.proof(n)
            if proof is None:
                break
            batch = self.seq.store.batch(n)
            self.submit_batch(list(batch.pubdata), batch.new_root, proof)
            done.append(n)
        return done

    def submit_batch(self, pubdata: list[int], new_root: int, proof: Any) -> int:
        """Submit a batch to the settlement layer as its next one, signed with the operator key
        (``verifier.settlement.sign_batch``); BatchRejected if it is refused."""
        number, root = self.l1.batch_count, self.l1.root
        key = self.keystore.operator_key()
        signature = sign_batch(key, self.l1.config.domain, number, root, new_root, pubdata)
        return self.l1.submit_batch(pubdata, new_root, proof, signature)

    def status(self) -> dict[str, Any]:
        """The status report (``rollup.node.report.status``)."""
        from rollup.node.report import status

        return status(self)

    # -- recovery ------------------------------------------------------------------------------
    def rebuild(self) -> RollupState:
        """The settled state recomputed from the settlement layer's data alone."""
        return rebuild_from_settlement(self.l1)

    def freeze(self) -> dict[str, Any]:
        return self.l1.freeze()

    def escape(self, account: int, l1_address: int | None = None) -> int:
        """Exit the frozen rollup with the account's value, proven from the rebuilt state."""
        key, state = self.key(account), self.rebuild()
        address = self._address(account, l1_address)
        sig = sign(key, escape_message(self.domain, account, address))
        return self.l1.escape(account, address, sig, *self.account_proof(account, state))

    def export(self, number: int, out: str | Path) -> list[Path]:
        """verification_key.json, proof.json, public.json (snarkjs) of a proven batch."""
        if not 0 <= number < self.head():
            raise NodeError(detail=f"no batch {number} (the head is {self.head()})")
        proof = self.seq.store.proof(number)
        if proof is None:
            raise NodeError(detail=f"batch {number} has no proof (run 'zkr prove')")
        b = self.seq.store.batch(number)
        return write_export(
            out, self.l1.verifying_key, proof, (b.old_root, b.new_root, b.commitment)
        )
