"""Pubdata chunks in-circuit, by the layout and packing rule of ``protocol.pubdata``.

Every packed field is range-checked to its width where it is computed (marks: their bounds in
circuits.batch.series; settle flags: booleans), so a chunk determines its fields.

    chunk_e = Σ_t sel_t · Σ_{fields f of t in element e} f · 2^offset_f      (sel one-hot)

The batch commitment over [old_root, new_root, *pubdata] is ``protocol.pubdata``'s, computed
in-circuit by ``circuits.gadgets.poseidon.poseidon_sponge``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from circuits.api import API
from circuits.batch.inputs import SlotInputs
from circuits.linear import Value, Variable, as_variable, linear_sum
from protocol.pubdata import CHUNK_WIDTH, field_slots
from protocol.spec import (
    DELEVERAGE,
    DEPOSIT,
    FORCED_WITHDRAW,
    LIQUIDATE,
    LIST_SERIES,
    MARKS,
    N_TX_TYPES,
    NOOP,
    ORACLE,
    RATE_OFFSET,
    SETTLE,
    TRADE,
    TRANSFER,
    WITHDRAW,
)

__all__ = ["chunk", "packed", "slot_fields"]

_ID = 3  #: order_id's place in an order input (size, limit, max_fee, order_id, expiry)


def slot_fields(
    inp: SlotInputs, instrument: Value, market: Value, jslot: Value
) -> dict[int, dict[str, Value]]:
    """The chunk fields of every type, from the slot's (range-checked) inputs: ``instrument``
    (m, or M + j), the listed ``market`` and ``jslot`` (one-hot sums: < M, < S)."""
    a0, a1 = inp.acct
    ids = (inp.orders[0][_ID], inp.orders[1][_ID])
    fill = {"instrument": instrument, "quantity": inp.quantity, "price": inp.price}
    fields: dict[int, dict[str, Value]] = {
        NOOP: {},
        DEPOSIT: {
            "account": a0,
            "amount": inp.amount,
            "refunded": inp.flag,
            "l1_address": inp.l1_address,
            "pubkey_x": inp.pubkey[0],
            "pubkey_y": inp.pubkey[1],
        },
        WITHDRAW: {"account": a0, "amount": inp.amount, "l1_address": inp.l1_address},
        TRANSFER: {"sender": a0, "recipient": a1, "amount": inp.amount},
        TRADE: {
            "maker": a0,
            "taker": a1,
            "maker_side": inp.side,
            "maker_fee": inp.fee[0],
            "taker_fee": inp.fee[1],
            "maker_order_id": ids[0],
            "taker_order_id": ids[1],
        }
        | fill,
        ORACLE: {"timestamp": inp.timestamp}
        | {f"price_{k}": p for k, p in enumerate(inp.prices)}
        | {f"rate_{k}": r + RATE_OFFSET for k, r in enumerate(inp.rates)},
        LIQUIDATE: {
            "liquidator": a1,
            "liquidated": a0,
            "liquidator_side": inp.side,
            "fee": inp.fee[1],
            "liquidator_order_id": ids[0],
        }
        | fill,
        DELEVERAGE: {"deleveraged": a0, "deleverager": a1} | fill,
        FORCED_WITHDRAW: {
            "account": a0,
            "amount": inp.amount,
            "void": inp.flag,
            "l1_address": inp.l1_address,
        },
        LIST_SERIES: {
            "slot": jslot,
            "market": market,
            "expiry": inp.timestamp,
            "strike": inp.price,
            "kind": inp.side,
        },
        MARKS: {f"mark_{j}": x for j, x in enumerate(inp.marks)}
        | {"settle_flags": linear_sum([(1 << j, as_variable(f)) for j, f in enumerate(inp.flags)])},
        SETTLE: {"account": a0},
    }
    assert len(fields) == N_TX_TYPES
    return fields


def packed(tx_type: int, n_markets: int, fields: Mapping[str, Value]) -> list[Variable]:
    """The chunk of a tx of this type as linear combinations of its (range-checked) fields. Free."""
    terms: list[list[tuple[int, Variable]]] = [[] for _ in range(CHUNK_WIDTH)]
    for name, _bits, element, offset in field_slots(tx_type, n_markets):
        value = as_variable(tx_type) if name == "type" else as_variable(fields[name])
        terms[element].append((1 << offset, value))
    return [linear_sum(t) if t else Variable.constant(0) for t in terms]


def chunk(
    api: API,
    selectors: Sequence[Value],
    fields_by_type: Mapping[int, Mapping[str, Value]],
    n_markets: int,
    name: str = "chunk",
) -> list[Variable]:
    """Σ_t sel_t · packed_t: the slot's chunk. One constraint per non-zero (type, element)."""
    out: list[Variable] = [Variable.constant(0)] * CHUNK_WIDTH
    with api.namespace(name):
        for t, fields in fields_by_type.items():
            for e, lc in enumerate(packed(t, n_markets, fields)):
                if lc.constant_value == 0:
                    continue
                out[e] = out[e] + api.mul(selectors[t], lc, name=f"type{t}_e{e}")
    return out
