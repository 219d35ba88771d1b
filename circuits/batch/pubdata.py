"""Pubdata chunks in-circuit and the public-input commitment (rollup/pubdata.py restated).

A slot's pubdata is ``CHUNK_WIDTH = 4`` field elements: its fields packed least-significant bit
first in the order of ``layout`` into elements of at most 253 bits (a field never straddles two
elements; a 254-bit field — a curve coordinate — takes an element of its own). Every packed field
is range-checked to its width where it is computed, so a chunk determines its fields.

    chunk_e = Σ_t sel_t · Σ_{fields f of t in element e} f · 2^offset_f      (sel one-hot)

Commitment (circuits.primitives.poseidon.poseidon_sponge, verifier/settlement.py)::

    h = 2^64 + n;  for each run of 15 elements: h = Poseidon(h, *run);  commitment = h
    over [old_root, new_root, *pubdata]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from circuits.api import API
from circuits.batch.spec import (
    ACCOUNT_BITS,
    AMOUNT_BITS,
    CHUNK_WIDTH,
    DEPOSIT,
    FEE_BITS,
    FORCED_WITHDRAW,
    FULL,
    FUNDING,
    L1_ADDRESS_BITS,
    LIQUIDATE,
    MARKET_BITS,
    NOOP,
    ORACLE,
    PACK_BITS,
    PRICE_BITS,
    RATE_BITS,
    SIZE_BITS,
    TIME_BITS,
    TRADE,
    TRANSFER,
    TRANSFER_BITS,
    TYPE_BITS,
    WITHDRAW,
)
from circuits.linear import Value, Variable, as_variable, linear_sum

__all__ = ["chunk", "field_slots", "layout"]


def layout(tx_type: int, n_markets: int) -> tuple[tuple[str, int], ...]:
    """The (name, bits) fields of a chunk of this type, in packing order."""
    t = ("type", TYPE_BITS)
    acct, amount, addr = ACCOUNT_BITS, AMOUNT_BITS, L1_ADDRESS_BITS
    return {
        NOOP: (t,),
        DEPOSIT: (
            t,
            ("account", acct),
            ("amount", amount),
            ("refunded", 1),
            ("l1_address", addr),
            ("pubkey_x", FULL),
            ("pubkey_y", FULL),
        ),
        WITHDRAW: (t, ("account", acct), ("amount", amount), ("l1_address", addr)),
        TRANSFER: (t, ("sender", acct), ("recipient", acct), ("amount", TRANSFER_BITS)),
        TRADE: (
            t,
            ("maker", acct),
            ("taker", acct),
            ("market", MARKET_BITS),
            ("maker_side", 1),
            ("quantity", SIZE_BITS),
            ("price", PRICE_BITS),
            ("maker_fee", FEE_BITS),
            ("taker_fee", FEE_BITS),
        ),
        ORACLE: (
            t,
            ("timestamp", TIME_BITS),
            *((f"price_{m}", PRICE_BITS) for m in range(n_markets)),
        ),
        FUNDING: (
            t,
            ("timestamp", TIME_BITS),
            *((f"rate_{m}", RATE_BITS + 1) for m in range(n_markets)),
        ),
        LIQUIDATE: (
            t,
            ("liquidator", acct),
            ("liquidated", acct),
            ("market", MARKET_BITS),
            ("liquidator_side", 1),
            ("quantity", SIZE_BITS),
            ("price", PRICE_BITS),
            ("fee", FEE_BITS),
        ),
        FORCED_WITHDRAW: (
            t,
            ("account", acct),
            ("amount", amount),
            ("void", 1),
            ("l1_address", addr),
        ),
    }[tx_type]


def field_slots(tx_type: int, n_markets: int) -> list[tuple[str, int, int, int]]:
    """(name, bits, element, bit offset) of each field, by the greedy packing rule."""
    out, element, offset = [], 0, 0
    for name, bits in layout(tx_type, n_markets):
        if (bits == FULL or offset + bits > PACK_BITS) and offset:
            element, offset = element + 1, 0
        out.append((name, bits, element, offset))
        if bits == FULL:
            element, offset = element + 1, 0
        else:
            offset += bits
    return out


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
