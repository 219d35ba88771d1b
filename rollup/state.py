"""The rollup state machine: accounts in a sparse Merkle tree, the global state, and ``apply``.

``RollupState.apply(tx)`` checks every precondition of DESIGN §4 — signer-level ones here and in
``rollup.checks`` (account exists, nonce equals the account nonce, EdDSA-Poseidon signature, order
terms: market, opposite sides, limit prices, q ≤ order sizes, fee ≤ signed maximum, expiry) and
effect-level ones in ``rollup.effects`` — and only then writes.  A failing transaction raises a
``RollupError`` and changes nothing.  Each applied transaction returns its ``SlotWitness``
(``rollup.witness``).

Hashing is deferred: ``stage(tx)`` checks and applies a transaction to the accounts and global
state at once (so the next transaction sees it) and records its leaf writes; ``flush()`` then
hashes every staged write together on the state's Poseidon backend (``rollup.hashing``; default
the best this machine has) — account leaves in one ``many_nested`` call, the tree through
``SparseMerkleTree.update_many`` (only node versions someone reads) — and returns the staged
slots' witnesses.  ``apply(tx)`` is ``stage`` then ``flush``; the sequencer
stages a whole batch and flushes once.  ``root`` needs nothing staged.

state_root = Poseidon(accounts_root, global_hash)  (``rollup.account``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from protocol.eddsa import Signature
from protocol.errors import ProtocolError
from protocol.pubdata import encode_chunk
from protocol.spec import (
    DEPOSIT,
    FORCED_WITHDRAW,
    FUNDING,
    L1_ADDRESS_BITS,
    LIQUIDATE,
    NOOP,
    ORACLE,
    PRICE_BITS,
    RATE_OFFSET,
    SIZE_BITS,
    TRADE,
    TRANSFER,
    WITHDRAW,
    RollupParams,
)
from rollup import effects
from rollup.account import Account, GlobalState, hash_leaves, state_root
from rollup.checks import SignatureCache, SignatureCheck, check_fill, check_order_terms
from rollup.errors import (
    AccountOutOfRange,
    BadNonce,
    BadSignature,
    OrderMismatch,
    SelfTrade,
    Unencodable,
    UnknownAccount,
)
from rollup.hashing import PoseidonBackend, get_backend
from rollup.tree import SparseMerkleTree
from rollup.tx import (
    Deposit,
    ForcedWithdrawal,
    FundingTick,
    Liquidate,
    Noop,
    OraclePrice,
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
        account = self._check_signed(o.account, o.nonce, o.message(), signed.signature, "order")
        check_fill(o, price, quantity, fee, self.global_state.last_oracle_time)
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
        """Write checked effects (``writes`` in order, then global state) and stage the slot."""
        try:  # validates widths before anything is written
            chunk = encode_chunk(tx_type, effect, self.params.n_markets)
        except ProtocolError as e:
            raise Unencodable(detail=str(e)) from None
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
        account = self._check_signed(tx.account, tx.nonce, tx.message(), tx.signature, "withdraw")
        after = effects.withdraw(tx.account, account, self.global_state, tx.amount)
        effect = {"account": tx.account, "amount": tx.amount, "l1_address": tx.l1_address}
        return [(tx.account, after)], self.global_state, effect, (tx.message(),)

    def _transfer(self, tx: Transfer):
        if tx.sender == tx.recipient:
            raise SelfTrade(what="transfer", account=tx.sender)
        sender = self._check_signed(tx.sender, tx.nonce, tx.message(), tx.signature, "transfer")
        recipient = self.existing(tx.recipient)
        s, r = effects.transfer(tx.sender, sender, recipient, self.global_state, tx.amount)
        effect = {"sender": tx.sender, "recipient": tx.recipient, "amount": tx.amount}
        return [(tx.sender, s), (tx.recipient, r)], self.global_state, effect, (tx.message(),)

    def _trade(self, tx: Trade):
        mo, to = tx.maker.order, tx.taker.order
        if mo.account == to.account:
            raise SelfTrade(what="trade", account=mo.account)
        if mo.market != to.market:
            raise OrderMismatch(detail=f"maker market {mo.market} ≠ taker market {to.market}")
        if mo.side == to.side:
            raise OrderMismatch(detail=f"both orders have side {mo.side}")
        effects.check_range("quantity", tx.quantity, 1, (1 << SIZE_BITS) - 1)
        effects.check_range("price", tx.price, 1, (1 << PRICE_BITS) - 1)
        maker = self._check_order(tx.maker, tx.price, tx.quantity, tx.maker_fee)
        taker = self._check_order(tx.taker, tx.price, tx.quantity, tx.taker_fee)
        m, t, g = effects.trade(
            (mo.account, to.account),
            maker,
            taker,
            self.global_state,
            mo.market,
            mo.side,
            tx.quantity,
            tx.price,
            tx.maker_fee,
            tx.taker_fee,
        )
        effect = {
            "maker": mo.account,
            "taker": to.account,
            "market": mo.market,
            "maker_side": mo.side,
            "quantity": tx.quantity,
            "price": tx.price,
            "maker_fee": tx.maker_fee,
            "taker_fee": tx.taker_fee,
        }
        return [(mo.account, m), (to.account, t)], g, effect, (mo.message(), to.message())

    def _oracle(self, tx: OraclePrice):
        g = self.global_state
        if len(tx.prices) != self.params.n_markets:
            raise OrderMismatch(
                detail=f"{len(tx.prices)} prices for {self.params.n_markets} markets"
            )
        new_global = effects.oracle(g, tuple(tx.prices), tx.timestamp)
        if not self.verify_signature((g.oracle_pk_x, g.oracle_pk_y), tx.message(), tx.signature):
            raise BadSignature(what="oracle price", account="oracle")
        effect = {"timestamp": tx.timestamp} | {f"price_{k}": p for k, p in enumerate(tx.prices)}
        return [], new_global, effect, (tx.message(),)

    def _funding(self, tx: FundingTick):
        new_global = effects.funding(self.global_state, tuple(tx.rates), tx.timestamp)
        effect = {"timestamp": tx.timestamp} | {
            f"rate_{k}": rate + RATE_OFFSET for k, rate in enumerate(tx.rates)
        }
        return [], new_global, effect, ()

    def _liquidate(self, tx: Liquidate):
        o = tx.liquidator.order
        if o.account == tx.liquidated:
            raise SelfTrade(what="liquidation", account=o.account)
        liquidator = self._check_order(tx.liquidator, tx.price, tx.quantity, tx.liquidator_fee)
        victim = self.existing(tx.liquidated)
        v, lq, g = effects.liquidate(
            (tx.liquidated, o.account),
            victim,
            liquidator,
            self.global_state,
            o.market,
            o.side,
            tx.quantity,
            tx.price,
            tx.liquidator_fee,
        )
        effect = {
            "liquidator": o.account,
            "liquidated": tx.liquidated,
            "market": o.market,
            "liquidator_side": o.side,
            "quantity": tx.quantity,
            "price": tx.price,
            "fee": tx.liquidator_fee,
        }
        return [(tx.liquidated, v), (o.account, lq)], g, effect, (o.message(),)

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
        FundingTick: _funding,
        Liquidate: _liquidate,
        ForcedWithdrawal: _forced,
    }

    TYPES = (NOOP, DEPOSIT, WITHDRAW, TRANSFER, TRADE, ORACLE, FUNDING, LIQUIDATE, FORCED_WITHDRAW)
