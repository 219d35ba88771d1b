"""A sealed batch (``rollup.witness.BatchWitness``) as the batch circuit's input assignment.

The native state machine is the witness source (gnark's rollup example): every value below is
read from the applied transactions, their effects and the recorded leaf updates; the fill record
an order uses is the native rule's (``rollup.fills.record_index`` on the recorded account before
the update), and so is the option position a fill uses (``rollup.options.add_option``'s choice on
the account before the update, settled by ``rollup.margin.settle``). Input names and meanings:
``circuits.batch.inputs`` (per slot) and ``circuits.batch.circuit`` (batch level). Signed
integers are passed as Python ints; the solver maps them to x mod r like
``protocol.leaf.to_field``. Flat layouts are ``rollup.codec``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.batch.spec import BatchShape
from protocol.pubdata import CHUNK_WIDTH
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
    RollupParams,
)
from rollup.account import Account, GlobalState, OptionPosition
from rollup.fills import record_index
from rollup.margin import settle
from rollup.tx import SignedOrder
from rollup.witness import BatchWitness, LeafUpdate, SlotWitness

__all__ = [
    "account_inputs",
    "batch_assignment",
    "global_inputs",
    "option_position",
    "shape_of",
    "slot_assignment",
]

_NO_SIG = [0, 1, 0]
_NO_ORDER = [0] * 5


def shape_of(params: RollupParams) -> BatchShape:
    """The circuit shape of a rollup: (B, D, M)."""
    return BatchShape(params.batch_slots, params.depth, params.n_markets)


def account_inputs(account: Account) -> list[int]:
    """[x, y, nonce, floor, collateral, size_0, f_0, ..., id_0, filled_0, ..., slot_0, n_0, ...]
    (the leaf)."""
    a = account
    out = [a.pubkey_x, a.pubkey_y, a.nonce, a.order_floor, a.collateral]
    for p in a.positions:
        out += [p.size, p.funding_index]
    for o in a.orders:
        out += [o.order_id, o.filled]
    for x in a.options:
        out += [x.slot, x.size]
    return out


def global_inputs(g: GlobalState) -> list[int]:
    """[11 fields per market ..., 8 fields per series slot ..., oracle_pk_x, oracle_pk_y,
    operator_pk_x, operator_pk_y, oracle_time, insurance_fund, domain, next_series_id]."""
    out: list[int] = []
    for m in g.markets:
        out += m.to_list()
    for s in g.series:
        out += s.to_list()
    return [*out, g.oracle_pk_x, g.oracle_pk_y, g.operator_pk_x, g.operator_pk_y, g.oracle_time,
            g.insurance_fund, g.domain, g.next_series_id]  # fmt: skip


def _order(signed: SignedOrder) -> list[int]:
    o = signed.order
    return [o.size, o.limit_price, o.max_fee, o.order_id, o.expiry]


def _sig(signature) -> list[int]:
    return [signature.r8_x, signature.r8_y, signature.s]


def _record(update: LeafUpdate, signed: SignedOrder) -> tuple[list[int], int]:
    """(one-hot record selector, match) of the native rule for this order's fill."""
    k, matched = record_index(update.old_account, signed.order.order_id)
    return [int(j == k) for j in range(ORDER_RECORDS)], int(matched)


def _onehot(index: int, n: int) -> list[int]:
    return [int(k == index) for k in range(n)]


def option_position(options: Sequence[OptionPosition], slot: int) -> tuple[int, bool]:
    """(k, matched): the position ``rollup.options.add_option`` fills with the series in
    ``slot`` — the one holding it, else the first empty one (0 when none is: natively
    OptionSlotsFull, and the circuit is then unsatisfiable)."""
    held = [k for k, o in enumerate(options) if o.size and o.slot == slot]
    empty = [k for k, o in enumerate(options) if not o.size]
    return (held[0], True) if held else (empty[0] if empty else 0, False)


def _position(update: LeafUpdate, g: GlobalState, slot: int) -> tuple[list[int], int, int]:
    """(one-hot position, match, size before) of the fill of the series in ``slot``, on the
    account before the update, settled."""
    options = settle(update.old_account, g).options
    k, matched = option_position(options, slot)
    return _onehot(k, OPTION_SLOTS), int(matched), options[k].size if matched else 0


def _fill(a: dict, w: SlotWitness, m: int) -> None:
    e, tx, t = w.effect, w.tx, w.tx_type
    code, g = e["instrument"], w.old_global
    option = code >= m
    market = g.series[code - m].market if option else code
    a["msel"] = _onehot(market, m)
    a["quantity"], a["price"] = e["quantity"], e["price"]
    sizes = [0, 0]
    if option:
        a["jsel"] = _onehot(code - m, MAX_SERIES)
        for u in (0, 1):
            a[f"ksel{u}"], match, sizes[u] = _position(w.updates[u], g, code - m)
            a["kmatch"][u] = match
    if t == TRADE:
        a["acct"], a["side"] = [e["maker"], e["taker"]], e["maker_side"]
        a["fee"] = [e["maker_fee"], e["taker_fee"]]
        a["order0"], a["order1"] = _order(tx.maker), _order(tx.taker)
        a["sig0"], a["sig1"] = _sig(tx.maker.signature), _sig(tx.taker.signature)
        (a["rsel0"], m0), (a["rsel1"], m1) = (_record(w.updates[0], tx.maker),
                                              _record(w.updates[1], tx.taker))  # fmt: skip
        a["match"] = [m0, m1]
    elif t == LIQUIDATE:
        a["acct"], a["side"] = [e["liquidated"], e["liquidator"]], e["liquidator_side"]
        a["fee"] = [0, e["fee"]]
        a["order0"], a["sig0"] = _order(tx.liquidator), _sig(tx.liquidator.signature)
        a["rsel1"], m1 = _record(w.updates[1], tx.liquidator)
        a["match"] = [0, m1]
    else:  # deleverage: the side that closes the deleveraged account's position
        a["acct"] = [e["deleveraged"], e["deleverager"]]
        size = sizes[0] if option else w.updates[0].old_account.positions[market].size
        a["side"] = int(size > 0)


def slot_assignment(w: SlotWitness, shape: BatchShape) -> dict[str, int | list[int]]:
    """The inputs of one slot (without the ``slot{s}.`` prefix)."""
    m = shape.n_markets
    e, tx, t = w.effect, w.tx, w.tx_type
    a: dict[str, int | list[int]] = {
        "sel": [int(k == t) for k in range(N_TX_TYPES)],
        "acct": [0, 0],
        "amount": 0,
        "l1_address": 0,
        "pubkey": [0, 0],
        "flag": 0,
        "msel": [0] * m,
        "jsel": [0] * MAX_SERIES,
        "side": 0,
        "quantity": 0,
        "price": 0,
        "fee": [0, 0],
        "order0": list(_NO_ORDER),
        "order1": list(_NO_ORDER),
        "rsel0": [0] * ORDER_RECORDS,
        "rsel1": [0] * ORDER_RECORDS,
        "match": [0, 0],
        "ksel0": [0] * OPTION_SLOTS,
        "ksel1": [0] * OPTION_SLOTS,
        "kmatch": [0, 0],
        "nonce": 0,
        "sig0": list(_NO_SIG),
        "sig1": list(_NO_SIG),
        "timestamp": 0,
        "prices": [0] * m,
        "rates": [0] * m,
        "marks": [0] * MAX_SERIES,
        "flags": [0] * MAX_SERIES,
    }
    if t in (DEPOSIT, WITHDRAW, FORCED_WITHDRAW, SETTLE):
        a["acct"] = [e["account"], 0]
    if t in (DEPOSIT, WITHDRAW, FORCED_WITHDRAW):
        a["amount"], a["l1_address"] = e["amount"], e["l1_address"]
    if t == DEPOSIT:
        a["pubkey"], a["flag"] = [e["pubkey_x"], e["pubkey_y"]], e["refunded"]
    elif t == FORCED_WITHDRAW:
        a["flag"] = e["void"]
    elif t in (WITHDRAW, TRANSFER):
        a["nonce"], a["sig0"] = tx.nonce, _sig(tx.signature)
        if t == TRANSFER:
            a["acct"], a["amount"] = [e["sender"], e["recipient"]], e["amount"]
    elif t in (TRADE, LIQUIDATE, DELEVERAGE):
        _fill(a, w, m)
    elif t == ORACLE:
        a["timestamp"], a["sig0"] = tx.timestamp, _sig(tx.signature)
        a["prices"], a["rates"] = list(tx.prices), list(tx.rates)
    elif t == LIST_SERIES:
        a["jsel"], a["msel"] = _onehot(e["slot"], MAX_SERIES), _onehot(e["market"], m)
        a["timestamp"], a["price"], a["side"] = e["expiry"], e["strike"], e["kind"]
        a["sig0"] = _sig(tx.signature)
    elif t == MARKS:
        a["marks"] = [e[f"mark_{j}"] for j in range(MAX_SERIES)]
        a["flags"] = [e["settle_flags"] >> j & 1 for j in range(MAX_SERIES)]
        a["sig0"] = _sig(tx.signature)
    a["index"] = [u.index for u in w.updates]
    for u, upd in enumerate(w.updates):
        a[f"old{u}"] = account_inputs(upd.old_account)
        a[f"siblings{u}"] = list(upd.proof.siblings)
    return a


def batch_assignment(batch: BatchWitness, shape: BatchShape) -> dict[str, int | list[int]]:
    """The full assignment of ``circuits.batch.BatchCircuit(shape)`` for a sealed batch."""
    if len(batch.slots) != shape.batch_slots:
        raise ValueError(f"batch has {len(batch.slots)} slots, the shape {shape.batch_slots}")
    if len(batch.pubdata) != CHUNK_WIDTH * shape.batch_slots:
        raise ValueError(f"pubdata has {len(batch.pubdata)} elements")
    first = batch.slots[0]
    out: dict[str, int | list[int]] = {
        "old_root": batch.old_root,
        "new_root": batch.new_root,
        "commitment": batch.commitment,
        "accounts_root": first.updates[0].proof.old_root,
        "global": global_inputs(first.old_global),
    }
    for s, w in enumerate(batch.slots):
        for name, value in slot_assignment(w, shape).items():
            out[f"slot{s}.{name}"] = value
    return out
