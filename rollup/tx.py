"""Transaction types and the messages their signers sign (EdDSA-Poseidon, circomlib).

Each signed message is the hash of a ``protocol.messages`` preimage (tag and the rollup's domain
first), computed here on the fast twin; ``message(domain)`` memoises it per domain. Units: see
``protocol.spec``; rules: ``rollup.effects``, ``rollup.bankruptcy``, ``rollup.fills``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from protocol import messages
from protocol.eddsa import Signature, sign
from protocol.spec import (
    DELEVERAGE,
    DEPOSIT,
    FORCED_WITHDRAW,
    LIQUIDATE,
    LIST_SERIES,
    MARKS,
    NOOP,
    ORACLE,
    SETTLE,
    TRADE,
    TRANSFER,
    WITHDRAW,
)
from rollup.hashing import poseidon, sponge


def _sig_list(sig: Signature) -> list[int]:
    return [sig.r8_x, sig.r8_y, sig.s]


def _sig(data: list[int]) -> Signature:
    return Signature(*data)


def _memo(obj: Any, domain: int, compute: Any) -> int:
    """The message of ``obj`` under ``domain``, computed once per (object, domain)."""
    cached = obj.__dict__.get("_message")
    if cached is not None and cached[0] == domain:
        return cached[1]
    value = compute()
    obj.__dict__["_message"] = (domain, value)
    return value


@dataclass(frozen=True)
class Order:
    """A signed order's terms (``protocol.messages.order_preimage``)."""

    account: int
    instrument: int  #: a perpetual market m, or OPTION_BASE + an option series id
    side: int  #: 0 buy, 1 sell
    size: int  #: base quanta, > 0
    limit_price: int  #: value units per base quantum
    max_fee: int  #: the most paid for the whole size (value units); pro rata per fill
    order_id: int  #: 0 < id < 2^32, unique per account (``rollup.fills``)
    expiry: int  #: executes while the oracle time ≤ expiry

    def message(self, domain: int) -> int:
        o = self
        return _memo(self, domain, lambda: poseidon(messages.order_preimage(
            domain, o.account, o.instrument, o.side, o.size, o.limit_price, o.max_fee,
            o.order_id, o.expiry,
        )))  # fmt: skip

    def sign(self, private_key: bytes, domain: int) -> SignedOrder:
        return SignedOrder(self, sign(private_key, self.message(domain)))

    def to_list(self) -> list[int]:
        o = self
        return [o.account, o.instrument, o.side, o.size, o.limit_price, o.max_fee, o.order_id,
                o.expiry]  # fmt: skip


@dataclass(frozen=True)
class SignedOrder:
    order: Order
    signature: Signature

    def to_list(self) -> list:
        return [self.order.to_list(), _sig_list(self.signature)]

    @classmethod
    def from_list(cls, data: list) -> SignedOrder:
        return cls(Order(*data[0]), _sig(data[1]))


@dataclass(frozen=True)
class Noop:
    TYPE: ClassVar[int] = NOOP

    def to_list(self) -> list:
        return []

    @classmethod
    def from_list(cls, data: list) -> Noop:
        return cls()


@dataclass(frozen=True)
class Deposit:
    """L1 priority request: credit ``amount`` quanta; registers the key if the account is empty;
    refunded to ``l1_address`` if the account belongs to another key."""

    TYPE: ClassVar[int] = DEPOSIT
    account: int
    pubkey_x: int
    pubkey_y: int
    amount: int  #: quanta
    l1_address: int

    def to_list(self) -> list:
        return [self.account, self.pubkey_x, self.pubkey_y, self.amount, self.l1_address]

    @classmethod
    def from_list(cls, data: list) -> Deposit:
        return cls(*data)


@dataclass(frozen=True)
class ForcedWithdrawal:
    """L1 priority request: withdraw all free collateral of ``account`` to ``l1_address``."""

    TYPE: ClassVar[int] = FORCED_WITHDRAW
    account: int
    l1_address: int

    def to_list(self) -> list:
        return [self.account, self.l1_address]

    @classmethod
    def from_list(cls, data: list) -> ForcedWithdrawal:
        return cls(*data)


@dataclass(frozen=True)
class Withdraw:
    TYPE: ClassVar[int] = WITHDRAW
    account: int
    amount: int  #: quanta
    l1_address: int
    nonce: int
    signature: Signature

    def message(self, domain: int) -> int:
        return _memo(self, domain, lambda: poseidon(messages.withdraw_preimage(
            domain, self.account, self.amount, self.l1_address, self.nonce
        )))  # fmt: skip

    @classmethod
    def signed(
        cls, private_key: bytes, domain: int, account: int, amount: int, l1_address: int,
        nonce: int,
    ) -> Withdraw:  # fmt: skip
        preimage = messages.withdraw_preimage(domain, account, amount, l1_address, nonce)
        return cls(account, amount, l1_address, nonce, sign(private_key, poseidon(preimage)))

    def to_list(self) -> list:
        return [self.account, self.amount, self.l1_address, self.nonce, _sig_list(self.signature)]

    @classmethod
    def from_list(cls, data: list) -> Withdraw:
        return cls(*data[:4], _sig(data[4]))


@dataclass(frozen=True)
class Transfer:
    TYPE: ClassVar[int] = TRANSFER
    sender: int
    recipient: int
    amount: int  #: value units
    nonce: int
    signature: Signature

    def message(self, domain: int) -> int:
        return _memo(self, domain, lambda: poseidon(messages.transfer_preimage(
            domain, self.sender, self.recipient, self.amount, self.nonce
        )))  # fmt: skip

    @classmethod
    def signed(
        cls, private_key: bytes, domain: int, sender: int, recipient: int, amount: int, nonce: int
    ) -> Transfer:
        preimage = messages.transfer_preimage(domain, sender, recipient, amount, nonce)
        return cls(sender, recipient, amount, nonce, sign(private_key, poseidon(preimage)))

    def to_list(self) -> list:
        return [self.sender, self.recipient, self.amount, self.nonce, _sig_list(self.signature)]

    @classmethod
    def from_list(cls, data: list) -> Transfer:
        return cls(*data[:4], _sig(data[4]))


@dataclass(frozen=True)
class Trade:
    """Maker and taker orders matched for ``quantity`` at ``price``; fees go to the insurance
    fund."""

    TYPE: ClassVar[int] = TRADE
    maker: SignedOrder
    taker: SignedOrder
    quantity: int
    price: int
    maker_fee: int
    taker_fee: int

    def to_list(self) -> list:
        return [self.maker.to_list(), self.taker.to_list(), self.quantity, self.price,
                self.maker_fee, self.taker_fee]  # fmt: skip

    @classmethod
    def from_list(cls, data: list) -> Trade:
        return cls(SignedOrder.from_list(data[0]), SignedOrder.from_list(data[1]), *data[2:])


@dataclass(frozen=True)
class OraclePrice:
    """All M index prices and funding rates at ``timestamp``, signed by the oracle key, chained
    to the update before it: ``previous`` is that update's timestamp (the genesis oracle time for
    the first), and only an update whose ``previous`` is the rollup's oracle time applies."""

    TYPE: ClassVar[int] = ORACLE
    prices: tuple[int, ...]
    rates: tuple[int, ...]  #: signed, 2^-32 per second, in force until the next update
    timestamp: int
    previous: int
    signature: Signature

    def message(self, domain: int) -> int:
        return _memo(self, domain, lambda: sponge(messages.oracle_preimage(
            domain, self.previous, self.timestamp, self.prices, self.rates
        )))  # fmt: skip

    @classmethod
    def signed(
        cls, private_key: bytes, domain: int, prices: tuple[int, ...], rates: tuple[int, ...],
        timestamp: int, previous: int,
    ) -> OraclePrice:  # fmt: skip
        prices, rates = tuple(prices), tuple(rates)
        preimage = messages.oracle_preimage(domain, previous, timestamp, prices, rates)
        return cls(prices, rates, timestamp, previous, sign(private_key, sponge(preimage)))

    def to_list(self) -> list:
        return [list(self.prices), list(self.rates), self.timestamp, self.previous,
                _sig_list(self.signature)]  # fmt: skip

    @classmethod
    def from_list(cls, data: list) -> OraclePrice:
        return cls(tuple(data[0]), tuple(data[1]), data[2], data[3], _sig(data[4]))


@dataclass(frozen=True)
class Liquidate:
    """The liquidator's order takes ``quantity`` of ``liquidated``'s position at ``price``."""

    TYPE: ClassVar[int] = LIQUIDATE
    liquidator: SignedOrder
    liquidated: int
    quantity: int
    price: int
    liquidator_fee: int

    def to_list(self) -> list:
        return [self.liquidator.to_list(), self.liquidated, self.quantity, self.price,
                self.liquidator_fee]  # fmt: skip

    @classmethod
    def from_list(cls, data: list) -> Liquidate:
        return cls(SignedOrder.from_list(data[0]), *data[1:])


@dataclass(frozen=True)
class Deleverage:
    """Close ``quantity`` of bankrupt ``deleveraged``'s position in ``instrument`` (as in an
    order) against ``deleverager``'s opposite one, at the bankruptcy price
    (``rollup.bankruptcy``)."""

    TYPE: ClassVar[int] = DELEVERAGE
    deleveraged: int
    deleverager: int
    instrument: int
    quantity: int

    def to_list(self) -> list:
        return [self.deleveraged, self.deleverager, self.instrument, self.quantity]

    @classmethod
    def from_list(cls, data: list) -> Deleverage:
        return cls(*data)


@dataclass(frozen=True)
class ListSeries:
    """The operator lists an option series in global series slot ``slot``."""

    TYPE: ClassVar[int] = LIST_SERIES
    slot: int
    series_id: int  #: the global state's next series id (signed, so a listing replays nowhere)
    market: int
    expiry: int
    strike: int  #: value units per base quantum
    kind: int  #: 0 call, 1 put
    signature: Signature

    def message(self, domain: int) -> int:
        return _memo(self, domain, lambda: poseidon(messages.list_preimage(
            domain, self.slot, self.series_id, self.market, self.expiry, self.strike, self.kind
        )))  # fmt: skip

    @classmethod
    def signed(
        cls, private_key: bytes, domain: int, slot: int, series_id: int, market: int,
        expiry: int, strike: int, kind: int,
    ) -> ListSeries:  # fmt: skip
        preimage = messages.list_preimage(domain, slot, series_id, market, expiry, strike, kind)
        sig = sign(private_key, poseidon(preimage))
        return cls(slot, series_id, market, expiry, strike, kind, sig)

    def to_list(self) -> list:
        return [self.slot, self.series_id, self.market, self.expiry, self.strike, self.kind,
                _sig_list(self.signature)]  # fmt: skip

    @classmethod
    def from_list(cls, data: list) -> ListSeries:
        return cls(*data[:6], _sig(data[6]))


@dataclass(frozen=True)
class Marks:
    """The oracle's marks of every series slot at the current oracle time; bit j of
    ``settle_flags`` makes mark j series j's settlement price."""

    TYPE: ClassVar[int] = MARKS
    timestamp: int
    marks: tuple[int, ...]
    settle_flags: int
    signature: Signature

    def message(self, domain: int) -> int:
        return _memo(self, domain, lambda: poseidon(messages.marks_preimage(
            domain, self.timestamp, self.marks, self.settle_flags
        )))  # fmt: skip

    @classmethod
    def signed(
        cls, private_key: bytes, domain: int, timestamp: int, marks: tuple[int, ...],
        settle_flags: int = 0,
    ) -> Marks:  # fmt: skip
        marks = tuple(marks)
        preimage = messages.marks_preimage(domain, timestamp, marks, settle_flags)
        return cls(timestamp, marks, settle_flags, sign(private_key, poseidon(preimage)))

    def to_list(self) -> list:
        return [self.timestamp, list(self.marks), self.settle_flags, _sig_list(self.signature)]

    @classmethod
    def from_list(cls, data: list) -> Marks:
        return cls(data[0], tuple(data[1]), data[2], _sig(data[3]))


@dataclass(frozen=True)
class Settle:
    """Touch an account so its positions in settled option series turn into collateral (the
    operator sweeps them; any other write of the account does the same)."""

    TYPE: ClassVar[int] = SETTLE
    account: int

    def to_list(self) -> list:
        return [self.account]

    @classmethod
    def from_list(cls, data: list) -> Settle:
        return cls(*data)


Tx = (
    Noop
    | Deposit
    | ForcedWithdrawal
    | Withdraw
    | Transfer
    | Trade
    | OraclePrice
    | Liquidate
    | Deleverage
    | ListSeries
    | Marks
    | Settle
)

TX_CLASSES: dict[int, type] = {
    cls.TYPE: cls
    for cls in (
        Noop, Deposit, ForcedWithdrawal, Withdraw, Transfer, Trade, OraclePrice, Liquidate,
        Deleverage, ListSeries, Marks, Settle,
    )
}  # fmt: skip


def tx_to_list(tx: Tx) -> list:
    """[type, fields...] — the msgpack-able form of a transaction."""
    return [tx.TYPE, tx.to_list()]


def tx_from_list(data: list) -> Tx:
    kind, body = data
    return TX_CLASSES[kind].from_list(body)


def forced_message(
    domain: int, account: int, l1_address: int, request_nonce: int, expiry: int
) -> int:
    """The message an account key signs to request a forced withdrawal on L1."""
    return poseidon(messages.forced_preimage(domain, account, l1_address, request_nonce, expiry))


def escape_message(domain: int, account: int, l1_address: int) -> int:
    """The message an account key signs to escape (exit) from a frozen rollup on L1."""
    return poseidon(messages.escape_preimage(domain, account, l1_address))
