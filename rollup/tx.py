"""Transaction types and the messages their signers sign (EdDSA-Poseidon, circomlib).

Each signed message is ``Poseidon(preimage)`` of a ``protocol.messages`` preimage (domain tag
first), hashed here on the fast twin. Units: see ``protocol.spec``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar

from protocol import messages
from protocol.eddsa import Signature, sign
from protocol.spec import (
    DEPOSIT,
    FORCED_WITHDRAW,
    FUNDING,
    LIQUIDATE,
    NOOP,
    ORACLE,
    TRADE,
    TRANSFER,
    WITHDRAW,
)
from rollup.hashing import poseidon


def _sig_list(sig: Signature) -> list[int]:
    return [sig.r8_x, sig.r8_y, sig.s]


def _sig(data: list[int]) -> Signature:
    return Signature(*data)


@dataclass(frozen=True)
class Order:
    account: int
    market: int
    side: int  #: 0 buy, 1 sell
    size: int  #: base quanta, > 0
    limit_price: int  #: value units per base quantum
    fee: int  #: maximum fee, value units
    nonce: int
    expiry: int  #: valid while last_oracle_time ≤ expiry

    def message(self) -> int:
        return self._message

    @cached_property
    def _message(self) -> int:
        o = self
        return poseidon(
            messages.order_preimage(
                o.account, o.market, o.side, o.size, o.limit_price, o.fee, o.nonce, o.expiry
            )
        )

    def sign(self, private_key: bytes) -> SignedOrder:
        return SignedOrder(self, sign(private_key, self.message()))


@dataclass(frozen=True)
class SignedOrder:
    order: Order
    signature: Signature

    def to_list(self) -> list:
        o = self.order
        fields = [o.account, o.market, o.side, o.size, o.limit_price, o.fee, o.nonce, o.expiry]
        return [fields, _sig_list(self.signature)]

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
    """L1 priority request: credit ``amount`` quanta; registers the key if the account is empty."""

    TYPE: ClassVar[int] = DEPOSIT
    account: int
    pubkey_x: int
    pubkey_y: int
    amount: int  #: quanta
    l1_address: int  #: refund address if the deposit cannot be credited

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
    signature: Signature = field(compare=True)

    @staticmethod
    def message_of(account: int, amount: int, l1_address: int, nonce: int) -> int:
        return poseidon(messages.withdraw_preimage(account, amount, l1_address, nonce))

    def message(self) -> int:
        return self.message_of(self.account, self.amount, self.l1_address, self.nonce)

    @classmethod
    def signed(
        cls, private_key: bytes, account: int, amount: int, l1_address: int, nonce: int
    ) -> Withdraw:
        sig = sign(private_key, cls.message_of(account, amount, l1_address, nonce))
        return cls(account, amount, l1_address, nonce, sig)

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

    @staticmethod
    def message_of(sender: int, recipient: int, amount: int, nonce: int) -> int:
        return poseidon(messages.transfer_preimage(sender, recipient, amount, nonce))

    def message(self) -> int:
        return self.message_of(self.sender, self.recipient, self.amount, self.nonce)

    @classmethod
    def signed(
        cls, private_key: bytes, sender: int, recipient: int, amount: int, nonce: int
    ) -> Transfer:
        sig = sign(private_key, cls.message_of(sender, recipient, amount, nonce))
        return cls(sender, recipient, amount, nonce, sig)

    def to_list(self) -> list:
        return [self.sender, self.recipient, self.amount, self.nonce, _sig_list(self.signature)]

    @classmethod
    def from_list(cls, data: list) -> Transfer:
        return cls(*data[:4], _sig(data[4]))


@dataclass(frozen=True)
class Trade:
    """Maker and taker orders matched for ``quantity`` at ``price``; fees go to the fee pool."""

    TYPE: ClassVar[int] = TRADE
    maker: SignedOrder
    taker: SignedOrder
    quantity: int
    price: int
    maker_fee: int
    taker_fee: int

    def to_list(self) -> list:
        return [
            self.maker.to_list(),
            self.taker.to_list(),
            self.quantity,
            self.price,
            self.maker_fee,
            self.taker_fee,
        ]

    @classmethod
    def from_list(cls, data: list) -> Trade:
        return cls(SignedOrder.from_list(data[0]), SignedOrder.from_list(data[1]), *data[2:])


@dataclass(frozen=True)
class OraclePrice:
    """All M prices at ``timestamp``, signed by the oracle key."""

    TYPE: ClassVar[int] = ORACLE
    prices: tuple[int, ...]
    timestamp: int
    signature: Signature

    @staticmethod
    def message_of(prices: tuple[int, ...], timestamp: int) -> int:
        return poseidon(messages.oracle_preimage(timestamp, prices))

    def message(self) -> int:
        return self.message_of(self.prices, self.timestamp)

    @classmethod
    def signed(cls, private_key: bytes, prices: tuple[int, ...], timestamp: int) -> OraclePrice:
        prices = tuple(prices)
        return cls(prices, timestamp, sign(private_key, cls.message_of(prices, timestamp)))

    def to_list(self) -> list:
        return [list(self.prices), self.timestamp, _sig_list(self.signature)]

    @classmethod
    def from_list(cls, data: list) -> OraclePrice:
        return cls(tuple(data[0]), data[1], _sig(data[2]))


@dataclass(frozen=True)
class FundingTick:
    """Operator's funding tick: F_m += floor(rate_m · Δt · price_m / 2^32), Δt = t - last."""

    TYPE: ClassVar[int] = FUNDING
    rates: tuple[int, ...]
    timestamp: int

    def to_list(self) -> list:
        return [list(self.rates), self.timestamp]

    @classmethod
    def from_list(cls, data: list) -> FundingTick:
        return cls(tuple(data[0]), data[1])


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
        return [
            self.liquidator.to_list(),
            self.liquidated,
            self.quantity,
            self.price,
            self.liquidator_fee,
        ]

    @classmethod
    def from_list(cls, data: list) -> Liquidate:
        return cls(SignedOrder.from_list(data[0]), *data[1:])


Tx = (
    Noop
    | Deposit
    | ForcedWithdrawal
    | Withdraw
    | Transfer
    | Trade
    | OraclePrice
    | FundingTick
    | Liquidate
)

TX_CLASSES: dict[int, type] = {
    cls.TYPE: cls
    for cls in (
        Noop,
        Deposit,
        ForcedWithdrawal,
        Withdraw,
        Transfer,
        Trade,
        OraclePrice,
        FundingTick,
        Liquidate,
    )
}


def tx_to_list(tx: Tx) -> list:
    """[type, fields...] — the msgpack-able form of a transaction."""
    return [tx.TYPE, tx.to_list()]


def tx_from_list(data: list) -> Tx:
    kind, body = data
    return TX_CLASSES[kind].from_list(body)


def forced_message(account: int, l1_address: int) -> int:
    """The message an account key signs to request a forced withdrawal on L1."""
    return poseidon(messages.forced_preimage(account, l1_address))


def escape_message(account: int, l1_address: int) -> int:
    """The message an account key signs to escape (exit) from a frozen rollup on L1."""
    return poseidon(messages.escape_preimage(account, l1_address))
