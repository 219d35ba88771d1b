"""The batch circuit's private inputs per slot, and which transaction types may use each one.

Slot s declares arrays named ``slot{s}.<field>`` (``rollup.circuit_input`` fills them):

    sel[12]       one-hot transaction type (``protocol.spec.NOOP`` … ``SETTLE``)
    acct[2]       the accounts of update 0 (deposit / withdraw / forced / settle account | sender |
                  maker | liquidated | deleveraged) and update 1 (recipient | taker | liquidator |
                  deleverager)
    amount, l1_address, pubkey[2], flag (deposit refunded / forced withdrawal void)
    msel[M]       one-hot market of a fill (an option's: its underlying) or of a listed series
    jsel[S]       one-hot series slot of an option fill or of a listing (all 0 otherwise)
    side          trade: the maker's side; liquidation: the liquidator's side; deleverage: the side
                  that closes the deleveraged account's position (0 buy, 1 sell); list: the kind
    quantity, price (deleverage: the bankruptcy price; list: the strike), fee[2] (maker,
                  taker | liquidator)
    order0[5], order1[5]   (size, limit_price, max_fee, order_id, expiry): order0 = maker or
                  liquidator, order1 = taker
    rsel0[R], rsel1[R], match[2]   per fill update: the one-hot fill record and whether it
                  already holds the order (``circuits.batch.orders``)
    ksel0[K], ksel1[K], kmatch[2]  per option-fill update: the one-hot option position the fill
                  uses and whether it already holds the series (``circuits.batch.options``)
    nonce         the nonce signed by a withdrawal or transfer
    sig0[3], sig1[3]       EdDSA (R8x, R8y, S); (0, 1, 0) when unused
    timestamp, prices[M], rates[M]   an oracle update (list: timestamp is the expiry)
    marks[S], flags[S]     the oracle's marks and settle flags
    index[2], old0[5+2M+2R+2K], old1[…], siblings0[D], siblings1[D]   the two leaf updates

A field a type does not use must be 0 (``unused_<field>`` rows), so each transaction has exactly
one assignment and the chunk fields cannot carry stray values; the selectors (msel, jsel, rsel,
ksel) and match bits are pinned by their own one-hot rules (trade.py, series.py, orders.py,
options.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.api import API
from circuits.batch.spec import BatchShape
from circuits.linear import Variable
from protocol.spec import (
    DELEVERAGE,
    DEPOSIT,
    FORCED_WITHDRAW,
    LIQUIDATE,
    LIST_SERIES,
    MARKS,
    MAX_SERIES,
    N_TX_TYPES,
    OPTION_SLOTS,
    ORACLE,
    ORDER_RECORDS,
    SETTLE,
    TRADE,
    TRANSFER,
    WITHDRAW,
)

__all__ = ["ORDER_FIELDS", "USED_BY", "SlotInputs", "declare_slot", "pin_unused"]

#: (size, limit_price, max_fee, order_id, expiry)
ORDER_FIELDS = 5
_FILLS = frozenset({TRADE, LIQUIDATE, DELEVERAGE})

#: field → the transaction types that may set it (all others: 0)
USED_BY: dict[str, frozenset[int]] = {
    "acct0": frozenset({DEPOSIT, WITHDRAW, TRANSFER, FORCED_WITHDRAW, SETTLE}) | _FILLS,
    "acct1": frozenset({TRANSFER}) | _FILLS,
    "amount": frozenset({DEPOSIT, WITHDRAW, TRANSFER, FORCED_WITHDRAW}),
    "l1_address": frozenset({DEPOSIT, WITHDRAW, FORCED_WITHDRAW}),
    "pubkey": frozenset({DEPOSIT}),
    "flag": frozenset({DEPOSIT, FORCED_WITHDRAW}),
    "side": _FILLS | {LIST_SERIES},
    "quantity": _FILLS,
    "price": _FILLS | {LIST_SERIES},
    "fee0": frozenset({TRADE}),
    "fee1": frozenset({TRADE, LIQUIDATE}),
    "order0": frozenset({TRADE, LIQUIDATE}),
    "order1": frozenset({TRADE}),
    "match0": frozenset({TRADE}),
    "match1": frozenset({TRADE, LIQUIDATE}),
    "nonce": frozenset({WITHDRAW, TRANSFER}),
    "sig0": frozenset({WITHDRAW, TRANSFER, TRADE, LIQUIDATE, ORACLE, LIST_SERIES, MARKS}),
    "sig1": frozenset({TRADE}),
    "timestamp": frozenset({ORACLE, LIST_SERIES}),
    "prices": frozenset({ORACLE}),
    "rates": frozenset({ORACLE}),
    "marks": frozenset({MARKS}),
    "flags": frozenset({MARKS}),
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
    jsel: list[Variable]
    side: Variable
    quantity: Variable
    price: Variable
    fee: list[Variable]
    orders: tuple[list[Variable], list[Variable]]
    rsel: tuple[list[Variable], list[Variable]]
    match: list[Variable]
    ksel: tuple[list[Variable], list[Variable]]
    kmatch: list[Variable]
    nonce: Variable
    sigs: tuple[list[Variable], list[Variable]]
    timestamp: Variable
    prices: list[Variable]
    rates: list[Variable]
    marks: list[Variable]
    flags: list[Variable]
    index: list[Variable]
    old: tuple[list[Variable], list[Variable]]
    siblings: tuple[list[Variable], list[Variable]]

    def field_values(self) -> dict[str, list[Variable]]:
        """The inputs ``USED_BY`` governs, by name (``sig*`` are pinned separately)."""
        return {
            "acct0": [self.acct[0]],
            "acct1": [self.acct[1]],
            "amount": [self.amount],
            "l1_address": [self.l1_address],
            "pubkey": self.pubkey,
            "flag": [self.flag],
            "side": [self.side],
            "quantity": [self.quantity],
            "price": [self.price],
            "fee0": [self.fee[0]],
            "fee1": [self.fee[1]],
            "order0": self.orders[0],
            "order1": self.orders[1],
            "match0": [self.match[0]],
            "match1": [self.match[1]],
            "nonce": [self.nonce],
            "timestamp": [self.timestamp],
            "prices": self.prices,
            "rates": self.rates,
            "marks": self.marks,
            "flags": self.flags,
        }


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
        jsel=arr("jsel", MAX_SERIES),
        side=one("side"),
        quantity=one("quantity"),
        price=one("price"),
        fee=arr("fee", 2),
        orders=(arr("order0", ORDER_FIELDS), arr("order1", ORDER_FIELDS)),
        rsel=(arr("rsel0", ORDER_RECORDS), arr("rsel1", ORDER_RECORDS)),
        match=arr("match", 2),
        ksel=(arr("ksel0", OPTION_SLOTS), arr("ksel1", OPTION_SLOTS)),
        kmatch=arr("kmatch", 2),
        nonce=one("nonce"),
        sigs=(arr("sig0", 3), arr("sig1", 3)),
        timestamp=one("timestamp"),
        prices=arr("prices", m),
        rates=arr("rates", m),
        marks=arr("marks", MAX_SERIES),
        flags=arr("flags", MAX_SERIES),
        index=arr("index", 2),
        old=(arr("old0", w), arr("old1", w)),
        siblings=(arr("siblings0", d), arr("siblings1", d)),
    )


def pin_unused(api: API, inp: SlotInputs) -> None:
    """sel boolean and one-hot; every field the selected type does not use is 0, an unused
    signature is (0, 1, 0). One row per field element."""
    for t, s in enumerate(inp.sel):
        api.assert_boolean(s, f"type_bool{t}")
    api.assert_equal(api.sum(inp.sel), 1, "type_onehot")
    for field, values in inp.field_values().items():
        used = api.sum([inp.sel[t] for t in sorted(USED_BY[field])])
        for i, v in enumerate(values):
            api.assert_product(v, 1 - used, 0, f"unused_{field}{i}")
    for o in (0, 1):
        used = api.sum([inp.sel[t] for t in sorted(USED_BY[f"sig{o}"])])
        r8x, r8y, s = inp.sigs[o]
        api.assert_product(r8x, 1 - used, 0, f"unused_sig{o}_r8x")
        api.assert_product(r8y - 1, 1 - used, 0, f"unused_sig{o}_r8y")
        api.assert_product(s, 1 - used, 0, f"unused_sig{o}_s")
