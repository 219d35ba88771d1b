# ruff: noqa: N818  (error names say what was refused: BatchRejected, EscapeRejected ...)
"""The settlement layer ("L1 contract"): vault, verified root, priority queue, claims, escapes.

State (``verifier.l1_store``, one SQLite write transaction per operation, so neither a restart nor
a concurrent caller loses anything): the vault (quanta), the verified state root, the batch
counter, the priority queue (deposits, forced withdrawals), claimable balances per L1 address,
the frozen flag, escaped accounts, each account's forced-request nonce, the verifying key (opaque
here) and every accepted batch's pubdata (enough to rebuild the rollup state).

Rules (layouts and messages: ``protocol``; this package imports only ``protocol`` and py_ecc):

* **Requests cost a fee.** Every priority request pays ``priority_fee`` quanta with it; the fee
  goes to the operator's claimable balance when a batch serves the request, back to the payer if
  the rollup freezes first. A deposit locks ``amount + fee``.
* **Forced withdrawals** are signed by the account's key over
  ``Poseidon(5, domain, account, l1_address, nonce, expiry)`` with the account's next forced
  nonce (each nonce is used once), before ``expiry``, with the account proven against the
  verified root; at most one is pending per account.
* ``submit_batch(pubdata, new_root, proof, signature)``: decode every slot, check that its
  priority slots are exactly the next queue entries in order, compute
  ``commitment = poseidon_sponge([root, new_root, *pubdata])``, check the operator's signature
  over ``Poseidon(TAG_BATCH, domain, number, commitment)`` (``batch_message``; the operator key
  is the genesis global state's), verify the proof on ``(root, new_root, commitment)``, then
  advance the root, pop the served requests, pay their fees to the operator and credit
  withdrawals, forced withdrawals and refunded deposits.
* **Only the operator submits, each batch number once.** The proof alone binds no batch number
  and no sender: a batch that leaves the root as it was (every slot a no-op) would verify again
  and again, and anyone holding the public proving key could prove one, each adding slack to
  the whole queue until it could be frozen, and moving the batch counter away from the
  operator's numbering. The signature over the batch number closes both.
* **Freezing is earned, not flooded.** A batch that serves fewer priority requests than its B
  slots while requests wait adds one to the *slack* of every request queued at least N batches
  before it (queued at batch count b, a batch numbered n counts when n ≥ b + N: the operator
  seals ahead of settlement, so the N batches after a request arrives may have been sealed
  before it was seen). Anyone may freeze the rollup when the oldest waiting request has
  slack ≥ N (the operator skipped it with room to spare N times after that grace), or when it
  has waited ≥ T seconds and no batch was accepted for T seconds (the operator stopped). An
  operator that fills every batch with requests in order is never frozen, however long the
  queue; one that keeps fewer than N batches sealed ahead of settlement is never frozen for
  batches sealed before a request arrived.
* **Escape**: frozen, each account once, with its canonical leaf preimage, Merkle path and the
  global-state preimage against the verified root, signed over ``Poseidon(6, domain, account,
  l1_address)``: credited ``max(0, ⌊TV / 2^32⌋)`` quanta (TV at the last settled prices, pending
  funding included), capped by the vault's unreserved balance (never below 0).
* **Never pays more than it holds**: a claim pays exactly the claimable balance and only if the
  vault holds it; escapes never reach into what is already claimable.

Every failure raises a ``SettlementError`` naming the reason; nothing changes then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol import leaf, messages
from protocol.babyjubjub import in_subgroup, is_on_curve
from protocol.codec import pack
from protocol.eddsa import Signature, sign
from protocol.eddsa import verify as verify_signature
from protocol.errors import CodecError, PrimitiveError, ProtocolError
from protocol.fields import R
from protocol.pubdata import CHUNK_WIDTH, l1_effects, pubdata_commitment
from protocol.spec import (
    ACCOUNT_BITS,
    AMOUNT_BITS,
    DEPOSIT,
    FORCED_WITHDRAW,
    L1_ADDRESS_BITS,
    NONCE_BITS,
    TIME_BITS,
    VALUE_SCALE,
    check_domain_ids,
)
from verifier.escape import open_account
from verifier.l1_store import L1_FORMAT, L1Store, StoreCorruptError

ProofChecker = Callable[[tuple[int, int, int], Any], bool]
ADDRESS_LIMIT = 1 << L1_ADDRESS_BITS
AMOUNT_LIMIT = 1 << AMOUNT_BITS


class SettlementError(Exception):
    """A settlement operation was refused; the message is the precise reason. Nothing changed."""


class SettlementStoreError(SettlementError):
    """The settlement store is missing, damaged or of another kind (not a refusal: restore it)."""


class BatchRejected(SettlementError):
    """submit_batch refused (wrong priority requests, bad proof, malformed pubdata, frozen)."""


class RequestRejected(SettlementError):
    """A deposit / forced withdrawal request is malformed or unauthorised."""


class FreezeRejected(SettlementError):
    """freeze called while no priority request is overdue (or already frozen)."""


class EscapeRejected(SettlementError):
    """escape refused (not frozen, already escaped, bad path, bad signature)."""


class ClaimRejected(SettlementError):
    """withdraw refused (nothing claimable, or more than the vault holds)."""


def _int(error: type[SettlementError], name: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise error(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return value


@dataclass(frozen=True)
class SettlementConfig:
    """What the contract is deployed with; every field is checked at construction."""

    depth: int
    batch_slots: int
    genesis_root: int
    genesis_global: tuple  #: the genesis global-state list form (``protocol.leaf``)
    chain_id: int
    rollup_id: int
    max_pending_batches: int = 8  #: N: a request skipped with room to spare N times → freeze
    max_pending_seconds: int = 86_400  #: T: waiting T s while no batch came for T s → freeze
    priority_fee: int = 0  #: quanta paid with every priority request
    operator_address: int = 0  #: the L1 address the served requests' fees are credited to

    def __post_init__(self) -> None:
        e = SettlementError
        _int(e, "depth", self.depth, 1, ACCOUNT_BITS)
        _int(e, "batch_slots", self.batch_slots, 1, 1 << 16)
        _int(e, "genesis root", self.genesis_root, 0, R - 1)
        try:
            check_domain_ids(self.chain_id, self.rollup_id)
            g = leaf.check_global(list(self.genesis_global), len(self.genesis_global[0]))
        except (ValueError, TypeError, IndexError) as err:
            raise SettlementError(f"genesis: {err}") from None
        if g[leaf.GLOBAL_DOMAIN] != messages.domain(self.chain_id, self.rollup_id):
            raise SettlementError("genesis: the global state's domain is not (chain id, rollup id)")
        key = (g[leaf.GLOBAL_OPERATOR], g[leaf.GLOBAL_OPERATOR + 1])
        if not (is_on_curve(key) and in_subgroup(key) and key != (0, 1)):
            raise SettlementError(
                f"genesis: the operator key {key} is not a BabyJubJub subgroup point (it signs "
                "every batch)"
            )
        _int(e, "max_pending_batches", self.max_pending_batches, 1, 1 << 32)
        _int(e, "max_pending_seconds", self.max_pending_seconds, 1, 1 << TIME_BITS)
        _int(e, "priority_fee", self.priority_fee, 0, AMOUNT_LIMIT - 1)
        _int(e, "operator address", self.operator_address, 0, ADDRESS_LIMIT - 1)

    @property
    def n_markets(self) -> int:
        return len(self.genesis_global[0])

    @property
    def domain(self) -> int:
        return int(self.genesis_global[leaf.GLOBAL_DOMAIN])

    @property
    def operator_key(self) -> tuple[int, int]:
        """The operator's public key (genesis global state): the only submitter of batches."""
        return int(self.genesis_global[leaf.GLOBAL_OPERATOR]), int(
            self.genesis_global[leaf.GLOBAL_OPERATOR + 1]
        )

    def to_list(self) -> list:
        return [self.depth, self.batch_slots, self.genesis_root, list(self.genesis_global),
                self.chain_id, self.rollup_id, self.max_pending_batches,
                self.max_pending_seconds, self.priority_fee, self.operator_address]  # fmt: skip


def batch_message(
    domain: int, number: int, root: int, new_root: int, pubdata: Sequence[int]
) -> int:
    """What the operator signs to submit batch ``number`` on top of ``root``:
    ``Poseidon(TAG_BATCH, domain, number, poseidon_sponge([root, new_root, *pubdata]))``."""
    commitment = pubdata_commitment(root, new_root, list(pubdata))
    return messages.message(messages.batch_preimage(domain, number, commitment))


def sign_batch(
    operator_key: bytes, domain: int, number: int, root: int, new_root: int,
    pubdata: Sequence[int],
) -> Signature:  # fmt: skip
    """The operator's signature that ``submit_batch`` asks for (``batch_message``)."""
    return sign(operator_key, batch_message(domain, number, root, new_root, pubdata))


class Settlement:
    """The L1 contract. ``path=None`` keeps it in memory (tests); otherwise an SQLite file, made
    only with ``create=True`` (an existing file is opened, a missing one is an error)."""

    def __init__(
        self,
        config: SettlementConfig,
        proof_checker: ProofChecker,
        path: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        verifying_key: Any = None,
        *,
        create: bool = False,
    ) -> None:
        self.config, self.proof_checker, self.clock = config, proof_checker, clock
        try:
            self.store = L1Store(path, create=create or path is None)
        except StoreCorruptError as e:
            raise SettlementStoreError(str(e)) from None
        if create or path is None:
            with self.store.transaction():
                for key, value in (
                    ("format", L1_FORMAT), ("config", config.to_list()),
                    ("root", config.genesis_root), ("batches", 0), ("vault", 0),
                    ("frozen", False), ("frozen_at", None), ("next_id", 0),
                    ("last_batch_time", clock()), ("vk", verifying_key),
                ):  # fmt: skip
                    self.store.put(key, value)
                self.store.create_records()
        else:
            try:
                stored = self._get("config")
            except SettlementError:
                self.store.close()
                raise
            if stored != config.to_list():
                self.store.close()
                raise SettlementError(
                    "the stored settlement was deployed with another configuration"
                )

    # -- reading ---------------------------------------------------------------------------------
    def _get(self, key: str) -> Any:
        try:
            return self.store.get(key)
        except StoreCorruptError as e:
            raise SettlementStoreError(str(e)) from None

    @property
    def root(self) -> int:
        return self._get("root")

    @property
    def vault(self) -> int:
        return self._get("vault")

    @property
    def batch_count(self) -> int:
        return self._get("batches")

    def settled(self) -> tuple[int, int]:
        """(batch count, root) from one snapshot of the store: read apart, another process
        settling a batch between the two reads pairs a count with the next batch's root."""
        db = self.store.db
        if db.in_transaction:
            return self.batch_count, self.root
        self._read(lambda: self.store.query("BEGIN"))
        try:
            return self.batch_count, self.root
        finally:
            self._read(lambda: self.store.query("COMMIT"))

    @property
    def frozen(self) -> bool:
        return self._get("frozen")

    @property
    def frozen_at(self) -> float | None:
        return self._get("frozen_at")

    @property
    def verifying_key(self) -> Any:
        return self._get("vk")

    def queue(self) -> list[dict[str, Any]]:
        """Pending priority requests, oldest first: {id, kind, fields, batch, time, slack, fee,
        payer}."""
        return self._read(self.store.queue)

    def claimable(self, l1_address: int) -> int:
        return self._read(lambda: self.store.claimable(l1_address))

    def total_claimable(self) -> int:
        return self._read(self.store.total_claimable)

    def pending_deposits(self) -> int:
        """Quanta locked by queued requests (deposit amounts and every queued fee)."""
        return sum((q["fields"][3] if q["kind"] == DEPOSIT else 0) + q["fee"] for q in self.queue())

    def forced_nonce(self, account: int) -> int:
        """The nonce the account's next forced-withdrawal request must sign."""
        return self._read(lambda: self.store.next_nonce(account))

    def escaped(self, account: int) -> bool:
        return self._read(lambda: self.store.escaped(account))

    def published_batches(self) -> list[tuple[int, list[int], int]]:
        """(number, pubdata, new_root) of every accepted batch, in order (what rebuild reads)."""
        return [(n, p, r) for n, p, r, _ in self._read(self.store.batches)]

    def batch_proof(self, number: int) -> Any:
        for n, _, _, proof in self._read(self.store.batches):
            if n == number:
                return proof
        raise SettlementError(f"batch {number} was not published")

    def _read(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except StoreCorruptError as e:
            raise SettlementStoreError(str(e)) from None

    def overdue(self) -> dict[str, Any] | None:
        """The oldest waiting request if the operator failed it (see the module docstring)."""
        queue = self.queue()
        if not queue:
            return None
        head, now = queue[0], self.clock()
        stalled = now - self._get("last_batch_time") >= self.config.max_pending_seconds
        if head["slack"] >= self.config.max_pending_batches or (
            stalled and now - head["time"] >= self.config.max_pending_seconds
        ):
            return head
        return None

    # -- requests --------------------------------------------------------------------------------
    def _enqueue(self, kind: int, fields: list[int], payer: int) -> int:
        if self._get("frozen"):
            raise RequestRejected("the rollup is frozen: use escape")
        rid = self._get("next_id")
        self.store.enqueue(rid, kind, fields, self._get("batches"), self.clock(),
                           self.config.priority_fee, payer)  # fmt: skip
        self.store.put("next_id", rid + 1)
        amount = fields[3] if kind == DEPOSIT else 0
        self.store.put("vault", self._get("vault") + amount + self.config.priority_fee)
        return rid

    def deposit(self, account: int, pubkey: tuple[int, int], amount: int, l1_address: int) -> int:
        """Lock ``amount`` + the priority fee in the vault and queue a deposit; the request id.
        The deposit is refunded to ``l1_address`` if the account belongs to another key."""
        c = self.config
        _int(RequestRejected, "account", account, 0, (1 << c.depth) - 1)
        _int(RequestRejected, "deposit amount", amount, 1, AMOUNT_LIMIT - 1)
        _int(RequestRejected, "L1 address", l1_address, 0, ADDRESS_LIMIT - 1)
        if not isinstance(pubkey, (tuple, list)) or len(pubkey) != 2:
            raise RequestRejected("public key must be a pair of field elements")
        pk = (
            _int(RequestRejected, "public key x", pubkey[0], 0, R - 1),
            _int(RequestRejected, "public key y", pubkey[1], 0, R - 1),
        )
        if not (is_on_curve(pk) and in_subgroup(pk) and pk != (0, 1)):
            raise RequestRejected(f"public key {pk} is not a BabyJubJub subgroup point")
        with self._write():
            return self._enqueue(DEPOSIT, [account, pk[0], pk[1], amount, l1_address], l1_address)

    def request_forced_withdrawal(
        self,
        account: int,
        l1_address: int,
        nonce: int,
        expiry: int,
        signature: Signature,
        preimage: Sequence,
        siblings: Sequence[int],
        global_state: Sequence,
    ) -> int:
        """Queue a forced withdrawal of all free collateral (module docstring); the request id."""
        c = self.config
        _int(RequestRejected, "account", account, 0, (1 << c.depth) - 1)
        _int(RequestRejected, "nonce", nonce, 0, (1 << NONCE_BITS) - 1)
        _int(RequestRejected, "expiry", expiry, 0, (1 << TIME_BITS) - 1)
        if expiry < self.clock():
            raise RequestRejected(f"the forced-withdrawal request expired at {expiry}")
        with self._write():
            expected = self.forced_nonce(account)
            if nonce != expected:
                raise RequestRejected(f"account {account}: forced-request nonce {nonce} is used "
                                      f"or out of order (next is {expected})")  # fmt: skip
            if self.store.forced_pending(account):
                raise RequestRejected(f"account {account} already has a pending forced request")
            signed = messages.forced_preimage(c.domain, account, l1_address, nonce, expiry)
            open_account(RequestRejected, c.depth, c.n_markets, self.root, account, l1_address,
                         "forced-withdrawal", signed, signature, preimage, siblings,
                         global_state)  # fmt: skip
            rid = self._enqueue(FORCED_WITHDRAW, [account, l1_address], l1_address)
            self.store.add_forced(account, rid, nonce + 1)
            return rid

    # -- batches ---------------------------------------------------------------------------------
    def submit_batch(
        self, pubdata: Sequence[int], new_root: int, proof: Any, signature: Signature
    ) -> int:
        """Verify and accept the next batch, signed by the operator over ``batch_message``;
        returns its number. Raises BatchRejected."""
        c = self.config
        if not isinstance(signature, Signature):
            kind = type(signature).__name__
            raise BatchRejected(f"the operator's batch signature must be a Signature, got {kind}")
        n = c.batch_slots * CHUNK_WIDTH
        if not isinstance(pubdata, (list, tuple)) or len(pubdata) != n:
            raise BatchRejected(f"pubdata must be {n} field elements")
        pubdata = list(pubdata)
        if not all(isinstance(e, int) and not isinstance(e, bool) and 0 <= e < R for e in pubdata):
            raise BatchRejected(f"pubdata must be {n} field elements")
        _int(BatchRejected, "new root", new_root, 0, R - 1)
        try:
            effects = l1_effects(pubdata, c.batch_slots, c.n_markets)
        except ProtocolError as e:
            raise BatchRejected(f"malformed pubdata: {e}") from None
        with self._write():
            if self._get("frozen"):
                raise BatchRejected("the rollup is frozen")
            root, number = self._get("root"), self._get("batches")
            queue = self.store.queue()
            for k, (slot, kind, fields) in enumerate(effects.requests):
                if k >= len(queue):
                    raise BatchRejected(f"slot {slot}: consumes a priority request, queue is empty")
                head = queue[k]
                if head["kind"] != kind or tuple(head["fields"]) != fields:
                    raise BatchRejected(
                        f"slot {slot}: priority request does not match queue head #{head['id']}"
                    )
            commitment = pubdata_commitment(root, new_root, pubdata)
            signed = messages.message(messages.batch_preimage(c.domain, number, commitment))
            try:
                by_operator = verify_signature(c.operator_key, signed, signature)
            except PrimitiveError as e:
                raise BatchRejected(f"batch {number}: malformed operator signature: {e}") from None
            if not by_operator:
                raise BatchRejected(
                    f"batch {number}: not signed by the operator key for this number and pubdata"
                )
            try:
                pack(proof)
            except CodecError as e:
                raise BatchRejected(f"batch {number}: the proof cannot be stored: {e}") from None
            if not self.proof_checker((root, new_root, commitment), proof):
                raise BatchRejected(f"batch {number}: proof does not verify")
            served = queue[: len(effects.requests)]
            self._serve(served, len(effects.requests) < c.batch_slots, number)
            for address, amount in effects.payouts:
                self.store.credit(address, amount)
            now = self.clock()
            self.store.put("batches", number + 1)
            self.store.put("root", new_root)
            self.store.put("last_batch_time", now)
            self.store.add_batch(number, pubdata, new_root, proof, now)
            return number

    def _serve(self, served: list[dict[str, Any]], room_left: bool, number: int) -> None:
        """Pop served requests (fees to the operator, forced slots freed); slack for the rest
        queued at least N batches before batch ``number`` (the grace of the module docstring)."""
        for q in served:
            self.store.serve(q["id"])
            self.store.credit(self.config.operator_address, q["fee"])
        if room_left:
            self.store.add_slack(self.config.max_pending_batches, number)

    # -- claims, freezing, escapes -------------------------------------------------------------
    def withdraw(self, l1_address: int) -> int:
        """Pay out (and zero) the claimable balance of ``l1_address``; returns the amount."""
        _int(ClaimRejected, "L1 address", l1_address, 0, ADDRESS_LIMIT - 1)
        with self._write():
            amount = self.store.take_claimable(l1_address)
            if amount <= 0:
                raise ClaimRejected(f"nothing claimable for L1 address {l1_address}")
            vault = self._get("vault")
            if amount > vault:
                raise ClaimRejected(f"the vault holds {vault} quanta, less than the {amount} due")
            self.store.put("vault", vault - amount)
            return amount

    def freeze(self) -> dict[str, Any]:
        """Freeze the rollup because the operator failed a request; returns that request. Queued
        deposits and fees are refunded to their payers."""
        with self._write():
            if self._get("frozen"):
                raise FreezeRejected("already frozen")
            late = self.overdue()
            if late is None:
                raise FreezeRejected("no priority request is overdue")
            for q in self.store.queue():
                refund = (q["fields"][3] if q["kind"] == DEPOSIT else 0) + q["fee"]
                self.store.credit(q["payer"], refund)
            self.store.clear_queue()
            self.store.put("frozen", True)
            self.store.put("frozen_at", self.clock())
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
        c = self.config
        _int(EscapeRejected, "account", account, 0, (1 << c.depth) - 1)
        with self._write():
            if not self._get("frozen"):
                raise EscapeRejected("the rollup is not frozen")
            if self.escaped(account):
                raise EscapeRejected(f"account {account} has already escaped")
            signed = messages.escape_preimage(c.domain, account, l1_address)
            opened, state = open_account(
                EscapeRejected, c.depth, c.n_markets, self._get("root"), account, l1_address,
                "escape", signed, signature, preimage, siblings, global_state,
            )  # fmt: skip
            value = max(0, leaf.total_value(opened, state) // VALUE_SCALE)
            amount = max(0, min(value, self._get("vault") - self.store.total_claimable()))
            self.store.add_escaped(account)
            self.store.credit(l1_address, amount)
            return amount

    def status(self) -> dict[str, Any]:
        late = self.overdue()
        return {
            "root": self.root, "batches": self.batch_count, "vault": self.vault,
            "queue": len(self.queue()), "claimable": self.total_claimable(),
            "frozen": self.frozen, "frozen_at": self.frozen_at,
            "overdue_request": None if late is None else late["id"],
            "seconds_since_settlement": self.clock() - self._get("last_batch_time"),
        }  # fmt: skip

    @contextmanager
    def _write(self) -> Iterator[None]:
        """The store's write transaction, with store failures as SettlementError."""
        try:
            with self.store.transaction():
                yield
        except StoreCorruptError as e:
            raise SettlementStoreError(str(e)) from None

    def close(self) -> None:
        self.store.close()
