"""The rollup state machine: accounts in a sparse Merkle tree, the global state, and ``apply``.

``RollupState.apply(tx)`` checks every precondition — signer-level ones here and in
``rollup.checks`` (account exists, nonce equals the account nonce, EdDSA-Poseidon signature over
the rollup's domain, order terms: market, opposite sides, limit prices, q ≤ order sizes, fee
within the signed maximum, expiry), order fill records in ``rollup.fills`` and effect-level ones in
``rollup.effects`` and ``rollup.bankruptcy`` — and only then writes.  A failing transaction raises a
``RollupError`` and changes nothing.  Each applied transaction returns its ``SlotWitness``
(``rollup.witness``).

Hashing is deferred: ``stage(tx)`` checks and applies a transaction to the accounts and global
state at once (so the next transaction sees it) and records its leaf writes; ``flush()`` then
hashes every staged write together on the state's Poseidon backend (``rollup.hashing``; default
the best this machine has) — account leaves by ``rollup.account.hash_leaves`` (one ``many``
call per sub-hash over every written account, then one over the leaves), the tree through
``SparseMerkleTree.update_many`` (only node versions someone reads) — and returns the staged
slots' witnesses.  ``apply(tx)`` is ``stage`` then ``flush``; the sequencer
stages a whole batch and flushes once.  ``root`` needs nothing staged.

state_root = Poseidon(accounts_root, global_hash)  (``rollup.account``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from protocol.eddsa import Signature
from protocol.errors import ProtocolError
from protocol.pubdata import encode_chunk
from protocol.spec import (
    L1_ADDRESS_BITS,
    N_TX_TYPES,
    OPEN_INTEREST_BITS,
    PRICE_BITS,
    RATE_OFFSET,
    SIZE_BITS,
    RollupParams,
)
from rollup import bankruptcy, effects, series
from rollup.account import Account, GlobalState, hash_leaves, state_root
from rollup.checks import SignatureCache, SignatureCheck, check_fill, check_order_terms
from rollup.errors import (
    AccountOutOfRange,
    BadNonce,
    BadSignature,
    OracleGap,
    OrderMismatch,
    SelfTrade,
    SeriesUnavailable,
    Unencodable,
    UnknownAccount,
)
from rollup.fills import fill_order
from rollup.hashing import PoseidonBackend, get_backend
from rollup.margin import settle
from rollup.options import open_interest_deltas
from rollup.tree import SparseMerkleTree
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
    SignedOrder,
    Trade,
    Transfer,
    Tx,
    Withdraw,
)
from rollup.witness import MAX_UPDATES, LeafUpdate, SlotWitness


@dataclass(frozen=True)
class StagedSlot:
    """A checked, applied transaction whose hashes are not computed yet (see ``flush``)."""

    slot: int
    tx_type: int
    tx: Tx
    messages: tuple[int, ...]
    old_global: GlobalState
    new_global: GlobalState
    changes: tuple[tuple[int, Account, Account], ...]  #: (index, before, after), MAX_UPDATES
    writes: int  #: the first ``writes`` changes are writes, the rest reads of leaf 0
    chunk: tuple[int, ...]
    effect: dict


class RollupState:
    """Accounts (tree + preimages) and global state; ``apply`` is all-or-nothing."""

    def __init__(
        self,
        params: RollupParams,
        genesis: GlobalState,
        verify_signature: SignatureCheck | None = None,
        backend: PoseidonBackend | str | None = None,
    ) -> None:
        self.params = params
        self.global_state = genesis
        self.backend = get_backend(backend)
        self.empty_account = Account.empty(params.n_markets)
        self.tree = SparseMerkleTree(params.depth, self.empty_account.leaf(), self.backend)
        self.accounts: dict[int, Account] = {}
        self.verify_signature = verify_signature or SignatureCache()
        self.staged: list[StagedSlot] = []
        self._root_memo: tuple = (None, 0)

    # -- reading -------------------------------------------------------------------------------
    @property
    def root(self) -> int:
        """state_root = Poseidon(accounts_root, global_hash), memoised on its two inputs."""
        if self.staged:
            raise RuntimeError(f"{len(self.staged)} staged transactions: flush() them first")
        key = (self.tree.root, self.global_state.hash())
        if self._root_memo[0] != key:
            self._root_memo = (key, state_root(*key, self.backend))
        return self._root_memo[1]

    def account(self, index: int) -> Account:
        if not isinstance(index, int) or not 0 <= index < self.params.n_accounts:
            raise AccountOutOfRange(account=index, depth=self.params.depth)
        return self.accounts.get(index, self.empty_account)

    def existing(self, index: int) -> Account:
        account = self.account(index)
        if account.is_empty:
            raise UnknownAccount(account=index)
        return account

    # -- checks --------------------------------------------------------------------------------
    def _check_signed(
        self, index: int, nonce: int, message: int, sig: Signature, what: str
    ) -> Account:
        account = self.existing(index)
        if nonce != account.nonce:
            raise BadNonce(account=index, got=nonce, expected=account.nonce)
        if not self.verify_signature(account.pubkey, message, sig):
            raise BadSignature(what=what, account=index)
        return account

    def _check_order(self, signed: SignedOrder, price: int, quantity: int, fee: int) -> Account:
        o = signed.order
        check_order_terms(o, self.params.n_markets)
        account = self.existing(o.account)
        message = o.message(self.global_state.domain)
        if not self.verify_signature(account.pubkey, message, signed.signature):
            raise BadSignature(what="order", account=o.account)
        check_fill(o, price, quantity, fee, self.global_state.oracle_time)
        return account

    # -- apply ---------------------------------------------------------------------------------
    def apply(self, tx: Tx, slot: int = 0) -> SlotWitness:
        """Check and apply one transaction, return its witness; on RollupError nothing changed."""
        self.stage(tx, slot)
        return self.flush()[-1]

    def stage(self, tx: Tx, slot: int = 0) -> None:
        """Check and apply one transaction, hashing deferred to ``flush``; on RollupError
        nothing changed (and nothing was staged)."""
        handler = self._handlers.get(type(tx))
        if handler is None:
            raise OrderMismatch(detail=f"unknown transaction {type(tx).__name__}")
        writes, new_global, effect, messages = handler(self, tx)
        self.stage_effects(slot, tx.TYPE, tx, writes, new_global, effect, messages)

    def commit(
        self,
        slot: int,
        tx_type: int,
        tx: Tx,
        writes: list[tuple[int, Account]],
        new_global: GlobalState,
        effect: dict,
        messages: tuple[int, ...],
    ) -> SlotWitness:
        """``stage_effects`` then ``flush``: the slot's witness (nothing else may be staged)."""
        self.stage_effects(slot, tx_type, tx, writes, new_global, effect, messages)
        return self.flush()[-1]

    def stage_effects(
        self,
        slot: int,
        tx_type: int,
        tx: Tx,
        writes: list[tuple[int, Account]],
        new_global: GlobalState,
        effect: dict,
        messages: tuple[int, ...],
    ) -> None:
        """Write checked effects (``writes`` in order, then global state, with the open interest the
        writes imply: ``rollup.options.open_interest_deltas``) and stage the slot."""
        try:  # validates widths before anything is written
            chunk = encode_chunk(tx_type, effect, self.params.n_markets)
        except ProtocolError as e:
            raise Unencodable(detail=str(e)) from None
        new_global = self._with_open_interest(new_global, writes)
        changes = []
        for index, account in writes:
            changes.append((index, self.account(index), account))
            if account == self.empty_account:
                self.accounts.pop(index, None)
            else:
                self.accounts[index] = account
        reader = self.account(0)
        changes += [(0, reader, reader)] * (MAX_UPDATES - len(writes))
        staged = StagedSlot(
            slot, tx_type, tx, messages, self.global_state, new_global, tuple(changes),
            len(writes), chunk, dict(effect),
        )  # fmt: skip
        self.global_state = new_global
        self.staged.append(staged)

    def _with_open_interest(self, g: GlobalState, writes: list[tuple[int, Account]]) -> GlobalState:
        deltas: dict[int, int] = {}
        for index, account in writes:
            for j, d in open_interest_deltas(self.account(index), account).items():
                deltas[j] = deltas.get(j, 0) + d
        if not deltas:
            return g
        slots = list(g.series)
        for j, d in deltas.items():
            oi = effects.check_range(
                f"open interest {j}", slots[j].open_interest + d, 0,
                (1 << OPEN_INTEREST_BITS) - 1,
            )  # fmt: skip
            slots[j] = replace(slots[j], open_interest=oi)
        return replace(g, series=tuple(slots))

    def flush(self) -> list[SlotWitness]:
        """Hash everything staged (leaves, then the tree in one batch); the staged witnesses."""
        staged, self.staged = self.staged, []
        hash_leaves([after for s in staged for _, _, after in s.changes[: s.writes]], self.backend)
        entries = [
            (index, after.leaf() if k < s.writes else None)
            for s in staged
            for k, (index, _, after) in enumerate(s.changes)
        ]
        proofs = iter(self.tree.update_many(entries))
        return [
            SlotWitness(
                s.slot,
                s.tx_type,
                s.tx,
                s.messages,
                s.old_global,
                s.new_global,
                tuple(LeafUpdate(before, after, next(proofs)) for _, before, after in s.changes),
                s.chunk,
                s.effect,
            )
            for s in staged
        ]

    def _noop(self, tx: Noop):
        return [], self.global_state, {}, ()

    def _deposit(self, tx: Deposit):
        account = self.account(tx.account)
        effects.check_range("l1 address", tx.l1_address, 0, (1 << L1_ADDRESS_BITS) - 1)
        credited = effects.deposit(
            account, self.global_state, (tx.pubkey_x, tx.pubkey_y), tx.amount
        )
        effect = {
            "account": tx.account,
            "amount": tx.amount,
            "refunded": int(credited is None),
            "l1_address": tx.l1_address,
            "pubkey_x": tx.pubkey_x,
            "pubkey_y": tx.pubkey_y,
        }
        # A refund is an identity write of the request's own account, so the circuit reads that
        # leaf and proves the native reason for refusing the credit (circuits/batch/transfer.py).
        writes = [(tx.account, account if credited is None else credited)]
        return writes, self.global_state, effect, ()

    def _withdraw(self, tx: Withdraw):
        effects.check_range("l1 address", tx.l1_address, 0, (1 << L1_ADDRESS_BITS) - 1)
        message = tx.message(self.global_state.domain)
        account = self._check_signed(tx.account, tx.nonce, message, tx.signature, "withdraw")
        after = effects.withdraw(tx.account, account, self.global_state, tx.amount)
        effect = {"account": tx.account, "amount": tx.amount, "l1_address": tx.l1_address}
        return [(tx.account, after)], self.global_state, effect, (message,)

    def _transfer(self, tx: Transfer):
        if tx.sender == tx.recipient:
            raise SelfTrade(what="transfer", account=tx.sender)
        message = tx.message(self.global_state.domain)
        sender = self._check_signed(tx.sender, tx.nonce, message, tx.signature, "transfer")
        recipient = self.existing(tx.recipient)
        s, r = effects.transfer(tx.sender, sender, recipient, self.global_state, tx.amount)
        effect = {"sender": tx.sender, "recipient": tx.recipient, "amount": tx.amount}
        return [(tx.sender, s), (tx.recipient, r)], self.global_state, effect, (message,)

    def _trade(self, tx: Trade):
        mo, to = tx.maker.order, tx.taker.order
        if mo.account == to.account:
            raise SelfTrade(what="trade", account=mo.account)
        if mo.instrument != to.instrument:
            raise OrderMismatch(
                detail=f"maker instrument {mo.instrument} ≠ taker instrument {to.instrument}"
            )
        if mo.side == to.side:
            raise OrderMismatch(detail=f"both orders have side {mo.side}")
        effects.check_range("quantity", tx.quantity, 1, (1 << SIZE_BITS) - 1)
        effects.check_range("price", tx.price, 1, (1 << PRICE_BITS) - 1)
        maker = self._check_order(tx.maker, tx.price, tx.quantity, tx.maker_fee)
        taker = self._check_order(tx.taker, tx.price, tx.quantity, tx.taker_fee)
        inst = effects.resolve(self.global_state, mo.instrument)
        m, t, g = effects.trade(
            (mo.account, to.account), maker, taker, self.global_state, inst, mo.side,
            tx.quantity, tx.price, (tx.maker_fee, tx.taker_fee),
        )  # fmt: skip
        m = fill_order(mo.account, m, mo.order_id, mo.size, tx.quantity)
        t = fill_order(to.account, t, to.order_id, to.size, tx.quantity)
        effect = {
            "maker": mo.account,
            "taker": to.account,
            "instrument": inst.code(self.params.n_markets),
            "maker_side": mo.side,
            "quantity": tx.quantity,
            "price": tx.price,
            "maker_fee": tx.maker_fee,
            "taker_fee": tx.taker_fee,
            "maker_order_id": mo.order_id,
            "taker_order_id": to.order_id,
        }
        domain = self.global_state.domain
        messages = (mo.message(domain), to.message(domain))
        return [(mo.account, m), (to.account, t)], g, effect, messages

    def _oracle(self, tx: OraclePrice):
        g = self.global_state
        if tx.previous != g.oracle_time:
            raise OracleGap(previous=tx.previous, last=g.oracle_time)
        new_global = effects.oracle(g, tuple(tx.prices), tuple(tx.rates), tx.timestamp)
        message = tx.message(g.domain)
        if not self.verify_signature((g.oracle_pk_x, g.oracle_pk_y), message, tx.signature):
            raise BadSignature(what="oracle price", account="oracle")
        effect = (
            {"timestamp": tx.timestamp}
            | {f"price_{k}": p for k, p in enumerate(tx.prices)}
            | {f"rate_{k}": rate + RATE_OFFSET for k, rate in enumerate(tx.rates)}
        )
        return [], new_global, effect, (message,)

    def _liquidate(self, tx: Liquidate):
        o = tx.liquidator.order
        if o.account == tx.liquidated:
            raise SelfTrade(what="liquidation", account=o.account)
        liquidator = self._check_order(tx.liquidator, tx.price, tx.quantity, tx.liquidator_fee)
        victim = self.existing(tx.liquidated)
        inst = effects.resolve(self.global_state, o.instrument)
        v, lq, g = bankruptcy.liquidate(
            (tx.liquidated, o.account), victim, liquidator, self.global_state, inst, o.side,
            tx.quantity, tx.price, tx.liquidator_fee,
        )  # fmt: skip
        lq = fill_order(o.account, lq, o.order_id, o.size, tx.quantity)
        effect = {
            "liquidator": o.account,
            "liquidated": tx.liquidated,
            "instrument": inst.code(self.params.n_markets),
            "liquidator_side": o.side,
            "quantity": tx.quantity,
            "price": tx.price,
            "fee": tx.liquidator_fee,
            "liquidator_order_id": o.order_id,
        }
        message = o.message(self.global_state.domain)
        return [(tx.liquidated, v), (o.account, lq)], g, effect, (message,)

    def _deleverage(self, tx: Deleverage):
        if tx.deleveraged == tx.deleverager:
            raise SelfTrade(what="deleverage", account=tx.deleveraged)
        inst = effects.resolve(self.global_state, tx.instrument)
        effects.check_range("quantity", tx.quantity, 1, (1 << SIZE_BITS) - 1)
        bankrupt = self.existing(tx.deleveraged)
        counterparty = self.existing(tx.deleverager)
        la, da, price = bankruptcy.deleverage(
            (tx.deleveraged, tx.deleverager), bankrupt, counterparty, self.global_state, inst,
            tx.quantity,
        )  # fmt: skip
        effect = {
            "deleveraged": tx.deleveraged,
            "deleverager": tx.deleverager,
            "instrument": inst.code(self.params.n_markets),
            "quantity": tx.quantity,
            "price": price,
        }
        return [(tx.deleveraged, la), (tx.deleverager, da)], self.global_state, effect, ()

    def _list_series(self, tx: ListSeries):
        g = self.global_state
        if tx.series_id != g.next_series_id:
            raise SeriesUnavailable(
                series=tx.series_id, detail=f"the next series id is {g.next_series_id}"
            )
        new_global = series.list_series(g, tx.slot, tx.market, tx.expiry, tx.strike, tx.kind)
        message = tx.message(g.domain)
        if not self.verify_signature((g.operator_pk_x, g.operator_pk_y), message, tx.signature):
            raise BadSignature(what="series listing", account="operator")
        effect = {"slot": tx.slot, "market": tx.market, "expiry": tx.expiry, "strike": tx.strike,
                  "kind": tx.kind}  # fmt: skip
        return [], new_global, effect, (message,)

    def _marks(self, tx: Marks):
        g = self.global_state
        new_global = series.marks(g, tx.timestamp, tuple(tx.marks), tx.settle_flags)
        message = tx.message(g.domain)
        if not self.verify_signature((g.oracle_pk_x, g.oracle_pk_y), message, tx.signature):
            raise BadSignature(what="marks", account="oracle")
        effect = {f"mark_{j}": m for j, m in enumerate(tx.marks)} | {
            "settle_flags": tx.settle_flags
        }
        return [], new_global, effect, (message,)

    def _settle(self, tx: Settle):
        account = self.existing(tx.account)
        g = self.global_state
        swept = settle(account, g)
        draw = bankruptcy.write_off(tx.account, swept, g)  # bankrupt with nothing: the fund pays
        swept = replace(swept, collateral=swept.collateral + draw)
        effects.check_collateral(f"account {tx.account}", swept)
        return [(tx.account, swept)], effects.add_insurance(g, -draw), {"account": tx.account}, ()

    def _forced(self, tx: ForcedWithdrawal):
        effects.check_range("l1 address", tx.l1_address, 0, (1 << L1_ADDRESS_BITS) - 1)
        result = effects.forced_withdraw(self.account(tx.account), self.global_state)
        amount = 0 if result is None else result[1]
        effect = {
            "account": tx.account,
            "amount": amount,
            "void": int(result is None),
            "l1_address": tx.l1_address,
        }
        # A void request is an identity write of its own account: the circuit proves from that
        # leaf why nothing could be withdrawn (so the operator cannot void requests at will).
        account = self.account(tx.account)
        writes = [(tx.account, account if result is None else result[0])]
        return writes, self.global_state, effect, ()

    _handlers: ClassVar[dict[type, Callable]] = {
        Noop: _noop,
        Deposit: _deposit,
        Withdraw: _withdraw,
        Transfer: _transfer,
        Trade: _trade,
        OraclePrice: _oracle,
        Liquidate: _liquidate,
        Deleverage: _deleverage,
        ForcedWithdrawal: _forced,
        ListSeries: _list_series,
        Marks: _marks,
        Settle: _settle,
    }

    TYPES = tuple(range(N_TX_TYPES))
