"""The batch circuit's private inputs per slot, and which transaction types may use each one.

Slot s declares arrays named ``slot{s}.<field>`` (rollup/circuit_input.py fills them):

    sel[9]        one-hot transaction type (spec.NOOP … spec.FORCED_WITHDRAW)
    acct[2]       the tx's accounts: (deposit/withdraw/forced account | sender | maker |
                  liquidated, recipient | taker | liquidator)
    amount, l1_address, pubkey[2], flag (deposit refunded / forced withdrawal void)
    msel[M]       one-hot market of a trade or liquidation
    side          maker side (trade) or liquidator side (liquidation); 0 buy, 1 sell
    quantity, price, fee[2] (maker fee, taker or liquidator fee)
    order0[4], order1[4]   signed order terms (size, limit_price, max_fee, expiry):
                  order0 = maker (trade) or liquidator (liquidation), order1 = taker
    nonce[2]      the nonces signed by sig0 / sig1
    sig0[3], sig1[3]       EdDSA (R8x, R8y, S); (0, 1, 0) when unused
    timestamp, prices[M], rates[M]   oracle and funding ticks
    index[2], old0[4+2M], old1[4+2M], siblings0[D], siblings1[D]   the two leaf updates

A field a type does not use must be 0 (``unused_<field>`` constraints), so each transaction has
exactly one assignment and the chunk fields cannot carry stray values.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.api import API
from circuits.batch.spec import BatchShape
from circuits.linear import Variable
from protocol.spec import (
    DEPOSIT,
    FORCED_WITHDRAW,
    FUNDING,
    LIQUIDATE,
    N_TX_TYPES,
    ORACLE,
    TRADE,
    TRANSFER,
    WITHDRAW,
)

__all__ = ["USED_BY", "SlotInputs", "declare_slot"]

#: field → the transaction types that may set it (all others: 0)
USED_BY: dict[str, frozenset[int]] = {
    "acct0": frozenset({DEPOSIT, WITHDRAW, TRANSFER, TRADE, LIQUIDATE, FORCED_WITHDRAW}),
    "acct1": frozenset({TRANSFER, TRADE, LIQUIDATE}),
    "amount": frozenset({DEPOSIT, WITHDRAW, TRANSFER, FORCED_WITHDRAW}),
    "l1_address": frozenset({DEPOSIT, WITHDRAW, FORCED_WITHDRAW}),
    "pubkey": frozenset({DEPOSIT}),
    "flag": frozenset({DEPOSIT, FORCED_WITHDRAW}),
    "side": frozenset({TRADE, LIQUIDATE}),
    "quantity": frozenset({TRADE, LIQUIDATE}),
    "price": frozenset({TRADE, LIQUIDATE}),
    "fee0": frozenset({TRADE}),
    "fee1": frozenset({TRADE, LIQUIDATE}),
    "order0": frozenset({TRADE, LIQUIDATE}),
    "order1": frozenset({TRADE}),
    "nonce0": frozenset({WITHDRAW, TRANSFER, TRADE, LIQUIDATE}),
    "nonce1": frozenset({TRADE}),
    "sig0": frozenset({WITHDRAW, TRANSFER, TRADE, LIQUIDATE, ORACLE}),
    "sig1": frozenset({TRADE}),
    "timestamp": frozenset({ORACLE, FUNDING}),
    "prices": frozenset({ORACLE}),
    "rates": frozenset({FUNDING}),
}


@dataclass(frozen=True)
class SlotInputs:
    sel: list[Variable]
    acct: list[Variable]
    amount: Variable
    l1_address: Variable
    pubkey: list[Variable]
    flag: Variable
    msel: list[Variable]
    side: Variable
    quantity: Variable
    price: Variable
    fee: list[Variable]
    orders: tuple[list[Variable], list[Variable]]
    nonce: list[Variable]
    sigs: tuple[list[Variable], list[Variable]]
    timestamp: Variable
    prices: list[Variable]
    rates: list[Variable]
    index: list[Variable]
    old: tuple[list[Variable], list[Variable]]
    siblings: tuple[list[Variable], list[Variable]]


def declare_slot(api: API, shape: BatchShape, s: int) -> SlotInputs:
    """Declare slot s's private inputs (names ``slot{s}.<field>``)."""
    m, d, w = shape.n_markets, shape.depth, shape.account_width

    def arr(name: str, n: int) -> list[Variable]:
        return api.private_input(f"slot{s}.{name}", n)  # type: ignore[return-value]

    def one(name: str) -> Variable:
        return api.private_input(f"slot{s}.{name}")  # type: ignore[return-value]

    return SlotInputs(
        sel=arr("sel", N_TX_TYPES),
        acct=arr("acct", 2),
        amount=one("amount"),
        l1_address=one("l1_address"),
        pubkey=arr("pubkey", 2),
        flag=one("flag"),
        msel=arr("msel", m),
        side=one("side"),
        quantity=one("quantity"),
        price=one("price"),
        fee=arr("fee", 2),
        orders=(arr("order0", 4), arr("order1", 4)),
        nonce=arr("nonce", 2),
        sigs=(arr("sig0", 3), arr("sig1", 3)),
        timestamp=one("timestamp"),
        prices=arr("prices", m),
        rates=arr("rates", m),
        index=arr("index", 2),
        old=(arr("old0", w), arr("old1", w)),
        siblings=(arr("siblings0", d), arr("siblings1", d)),
    )
