# ruff: noqa: N818  (error names say what was refused: BatchRejected, EscapeRejected ...)
"""The settlement layer ("L1 contract", DESIGN §6), persisted in SQLite so a restart loses nothing.

State: vault (quanta), verified state root, batch counter, priority queue (deposits, forced
withdrawals) with the batch number and time each request entered it, claimable balances per L1
address, frozen flag, escaped accounts, the verifying key (opaque here) and every accepted batch's
pubdata (published data: enough to rebuild the rollup state — ``rollup.rebuild``).

``submit_batch(pubdata, new_root, proof)``: decode the slots' types, check that its priority slots
(deposit, forced_withdraw) are exactly the next queue entries in order, compute
``commitment = poseidon_sponge([root, new_root, *pubdata])`` and call
``proof_checker((root, new_root, commitment), proof)`` — pluggable (Groth16 in the batch-circuit
issue) — then advance the root, pop the consumed requests and credit withdrawals (withdraw,
forced_withdraw, refunded deposits) to ``claimable``.  Any failure raises a ``SettlementError``
naming the reason and changes nothing (state is written only after every check passed, in one SQL
transaction).

Censorship resistance: a request pending for ≥ ``max_pending_batches`` accepted batches or
≥ ``max_pending_seconds`` (clock injected) lets anyone ``freeze``.  Frozen: each account may
``escape`` once with its leaf preimage, Merkle path and the global-state preimage against the
verified root, authorised by its key's EdDSA signature of Poseidon(6, account, l1_address), and is
credited max(0, floor(TV / 2^32)) quanta (TV at the last settled prices, pending funding included),
capped by the vault's unreserved balance; freezing refunds the deposits still queued.  Leaf,
global-state, message and pubdata layouts are ``protocol``'s (``verifier`` imports only
``protocol`` and py_ecc).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol import leaf, messages
from protocol.babyjubjub import in_subgroup, is_on_curve
from protocol.codec import pack, unpack
from protocol.eddsa import Signature
from protocol.errors import ProtocolError
from protocol.fields import R
from protocol.pubdata import CHUNK_WIDTH, l1_effects, pubdata_commitment
from protocol.spec import AMOUNT_BITS, DEPOSIT, FORCED_WITHDRAW, L1_ADDRESS_BITS, VALUE_SCALE
from verifier.escape import open_account

ProofChecker = Callable[[tuple[int, int, int], Any], bool]
ADDRESS_LIMIT = 1 << L1_ADDRESS_BITS
AMOUNT_LIMIT = 1 << AMOUNT_BITS


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


class SettlementError(Exception):
    """A settlement operation was refused; the message is the precise reason. Nothing changed."""


class BatchRejected(SettlementError):
    """submit_batch refused (wrong priority requests, bad proof, malformed pubdata, frozen)."""


class RequestRejected(SettlementError):
    """A deposit / forced withdrawal request is malformed or unauthorised."""


class FreezeRejected(SettlementError):
    """freeze called while no priority request is overdue (or already frozen)."""


class EscapeRejected(SettlementError):
    """escape refused (not frozen, already escaped, bad path, bad signature)."""


@dataclass(frozen=True)
class SettlementConfig:
    depth: int
    batch_slots: int
    genesis_root: int
    genesis_global: tuple  #: the genesis global-state preimage (``GlobalState.to_list``)
    max_pending_batches: int = 8  #: N
    max_pending_seconds: int = 86_400  #: T

    @property
    def n_markets(self) -> int:
        return len(self.genesis_global[0])


class Settlement:
    """The L1 contract.  ``path=None`` keeps it in memory (tests); otherwise an SQLite file."""

    def __init__(
        self,
        config: SettlementConfig,
        proof_checker: ProofChecker,
        path: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        verifying_key: Any = None,
    ) -> None:
        self.config, self.proof_checker, self.clock = config, proof_checker, clock
        self.db = sqlite3.connect(":memory:" if path is None else str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS batches (number INTEGER PRIMARY KEY, pubdata BLOB,"
            " new_root BLOB, proof BLOB, time REAL)"
        )
        row = self.db.execute("SELECT value FROM kv WHERE key = 's'").fetchone()
        if row is None:
            self.s: dict[str, Any] = {
                "vault": 0, "root": config.genesis_root, "batches": 0, "queue": [], "next_id": 0,
                "claimable": {}, "frozen": False, "escaped": [], "vk": verifying_key,
                "last_settled_time": clock(), "genesis": config.genesis_root,
            }  # fmt: skip
            self._write()
        else:
            self.s = unpack(row[0])
            if self.s["genesis"] != config.genesis_root:
                raise SettlementError("the stored settlement belongs to another genesis root")

    def _write(self, batch: tuple | None = None) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT OR REPLACE INTO kv VALUES ('s', ?)", (pack(self.s),))
            if batch is not None:
                self.db.execute("INSERT INTO batches VALUES (?, ?, ?, ?, ?)", batch)

    def _commit(self, new: dict[str, Any], batch: tuple | None = None) -> None:
        old, self.s = self.s, new
        try:
            self._write(batch)
        except Exception:
            self.s = old
            raise

    def _copy(self) -> dict[str, Any]:
        return unpack(pack(self.s))

    @property
    def root(self) -> int:
        return self.s["root"]

    @property
    def vault(self) -> int:
        return self.s["vault"]

    @property
    def batch_count(self) -> int:
        return self.s["batches"]

    @property
    def frozen(self) -> bool:
        return self.s["frozen"]

    @property
    def verifying_key(self) -> Any:
        return self.s["vk"]

    def queue(self) -> list[dict[str, Any]]:
        """Pending priority requests, oldest first: {id, kind, fields, batch, time}."""
        return [dict(q) for q in self.s["queue"]]

    def claimable(self, l1_address: int) -> int:
        return self.s["claimable"].get(l1_address, 0)

    def total_claimable(self) -> int:
        return sum(self.s["claimable"].values())

    def pending_deposits(self) -> int:
        return sum(q["fields"][3] for q in self.s["queue"] if q["kind"] == DEPOSIT)

    def published_batches(self) -> list[tuple[int, list[int], int]]:
        """(number, pubdata, new_root) of every accepted batch, in order (what rebuild reads)."""
        rows = self.db.execute("SELECT number, pubdata, new_root FROM batches ORDER BY number")
        return [(n, unpack(p), unpack(r)) for n, p, r in rows]

    def overdue(self) -> dict[str, Any] | None:
        """The oldest request pending ≥ N batches or ≥ T seconds, if any."""
        for q in self.s["queue"]:
            if (
                self.s["batches"] - q["batch"] >= self.config.max_pending_batches
                or self.clock() - q["time"] >= self.config.max_pending_seconds
            ):
                return dict(q)
        return None

    def _enqueue(self, kind: int, fields: list[int]) -> int:
        if self.s["frozen"]:
            raise RequestRejected("the rollup is frozen: use escape")
        new = self._copy()
        rid = new["next_id"]
        new["queue"].append(
            {
                "id": rid,
                "kind": kind,
                "fields": fields,
                "batch": new["batches"],
                "time": self.clock(),
            }
        )
        new["next_id"] = rid + 1
        if kind == DEPOSIT:
            new["vault"] += fields[3]
        self._commit(new)
        return rid

    def deposit(self, account: int, pubkey: tuple[int, int], amount: int, l1_address: int) -> int:
        """Lock ``amount`` quanta in the vault and queue a deposit; returns the request id."""
        if not 0 <= account < 1 << self.config.depth:
            raise RequestRejected(
                f"account {account} outside the tree of depth {self.config.depth}"
            )
        if not 0 < amount < AMOUNT_LIMIT:
            raise RequestRejected(f"deposit amount {amount} outside (0, 2^63)")
        if not 0 <= l1_address < ADDRESS_LIMIT:
            raise RequestRejected(f"L1 address {l1_address} is not a 160-bit integer")
        pk = tuple(pubkey)
        if not (
            all(0 <= c < R for c in pk) and is_on_curve(pk) and in_subgroup(pk) and pk != (0, 1)
        ):
            raise RequestRejected(f"public key {pk} is not a BabyJubJub subgroup point")
        return self._enqueue(DEPOSIT, [account, pk[0], pk[1], amount, l1_address])

    def _open(
        self, error: type[SettlementError], what: str, account: int, l1_address: int,
        signed: list[int],
        signature: Signature, preimage: Sequence, siblings: Sequence[int], global_state: Sequence,
    ) -> tuple[list, list]:  # fmt: skip
        """``verifier.escape.open_account`` against the verified root; else ``error``."""
        c = self.config
        return open_account(error, c.depth, c.n_markets, self.s["root"], account, l1_address,
                            what, signed, signature, preimage, siblings, global_state)  # fmt: skip

    def request_forced_withdrawal(
        self,
        account: int,
        l1_address: int,
        signature: Signature,
        preimage: Sequence,
        siblings: Sequence[int],
        global_state: Sequence,
    ) -> int:
        """Queue a forced withdrawal of all free collateral; the account's key signs
        Poseidon(5, account, l1_address) and the account is proven against the verified root."""
        signed = messages.forced_preimage(account, l1_address)
        self._open(RequestRejected, "forced-withdrawal", account, l1_address, signed, signature,
                   preimage, siblings, global_state)  # fmt: skip
        return self._enqueue(FORCED_WITHDRAW, [account, l1_address])

    def submit_batch(self, pubdata: Sequence[int], new_root: int, proof: Any) -> int:
        """Verify and accept the next batch; returns its number.  Raises BatchRejected."""
        if self.s["frozen"]:
            raise BatchRejected("the rollup is frozen")
        n = self.config.batch_slots * CHUNK_WIDTH
        pubdata = list(pubdata)
        if len(pubdata) != n or not all(_is_int(e) and 0 <= e < R for e in pubdata):
            raise BatchRejected(f"pubdata must be {n} field elements")
        if not (_is_int(new_root) and 0 <= new_root < R):
            raise BatchRejected("new root is not a field element")
        try:
            effects = l1_effects(pubdata, self.config.batch_slots, self.config.n_markets)
        except ProtocolError as e:
            raise BatchRejected(f"malformed pubdata: {e}") from None
        new = self._copy()
        queue = new["queue"]
        for slot, kind, fields in effects.requests:
            if not queue:
                raise BatchRejected(f"slot {slot}: consumes a priority request, queue is empty")
            head = queue.pop(0)
            if head["kind"] != kind or tuple(head["fields"]) != fields:
                raise BatchRejected(
                    f"slot {slot}: priority request does not match queue head #{head['id']}"
                )
        for address, amount in effects.payouts:
            new["claimable"][address] = new["claimable"].get(address, 0) + amount
        commitment = pubdata_commitment(self.s["root"], new_root, pubdata)
        if not self.proof_checker((self.s["root"], new_root, commitment), proof):
            raise BatchRejected(f"batch {self.s['batches']}: proof does not verify")
        number = new["batches"]
        new["batches"], new["root"], new["last_settled_time"] = number + 1, new_root, self.clock()
        self._commit(new, (number, pack(pubdata), pack(new_root), pack(proof), self.clock()))
        return number

    def withdraw(self, l1_address: int) -> int:
        """Pay out (and zero) the claimable balance of ``l1_address``; returns the amount."""
        amount = self.s["claimable"].get(l1_address, 0)
        if amount == 0:
            raise SettlementError(f"nothing claimable for L1 address {l1_address}")
        new = self._copy()
        del new["claimable"][l1_address]
        new["vault"] -= amount
        self._commit(new)
        return amount

    def freeze(self) -> dict[str, Any]:
        """Freeze the rollup because a priority request is overdue; returns that request."""
        if self.s["frozen"]:
            raise FreezeRejected("already frozen")
        late = self.overdue()
        if late is None:
            raise FreezeRejected("no priority request is overdue")
        new = self._copy()
        new["frozen"] = True
        for q in new["queue"]:  # deposits that will never be served are refunded
            if q["kind"] == DEPOSIT:
                address, amount = q["fields"][4], q["fields"][3]
                new["claimable"][address] = new["claimable"].get(address, 0) + amount
        new["queue"] = []
        self._commit(new)
        return late

    def escape(
        self,
        account: int,
        l1_address: int,
        signature: Signature,
        preimage: Sequence,
        siblings: Sequence[int],
        global_state: Sequence,
    ) -> int:
        """Exit a frozen rollup once per account: credit its total value at the last settled
        prices (capped by the unreserved vault) to ``l1_address``; returns the amount."""
        if not self.s["frozen"]:
            raise EscapeRejected("the rollup is not frozen")
        if account in self.s["escaped"]:
            raise EscapeRejected(f"account {account} has already escaped")
        opened, state = self._open(
            EscapeRejected, "escape", account, l1_address,
            messages.escape_preimage(account, l1_address), signature, preimage, siblings,
            global_state,
        )  # fmt: skip
        value = max(0, leaf.total_value(opened, state) // VALUE_SCALE)
        amount = min(value, self.s["vault"] - self.total_claimable())
        new = self._copy()
        new["escaped"].append(account)
        if amount:
            new["claimable"][l1_address] = new["claimable"].get(l1_address, 0) + amount
        self._commit(new)
        return amount

    def status(self) -> dict[str, Any]:
        late = self.overdue()
        return {
            "root": self.s["root"], "batches": self.s["batches"], "vault": self.s["vault"],
            "queue": len(self.s["queue"]), "claimable": self.total_claimable(),
            "frozen": self.s["frozen"], "overdue_request": None if late is None else late["id"],
            "seconds_since_settlement": self.clock() - self.s["last_settled_time"],
        }  # fmt: skip

    def close(self) -> None:
        self.db.close()
