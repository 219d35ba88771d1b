"""Pubdata chunks in-circuit, by the layout and packing rule of ``protocol.pubdata``.

Every packed field is range-checked to its width where it is computed, so a chunk determines
its fields.

    chunk_e = Σ_t sel_t · Σ_{fields f of t in element e} f · 2^offset_f      (sel one-hot)

The batch commitment over [old_root, new_root, *pubdata] is ``protocol.pubdata``'s, computed
in-circuit by ``circuits.gadgets.poseidon.poseidon_sponge``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from circuits.api import API
from circuits.linear import Value, Variable, as_variable, linear_sum
from protocol.pubdata import CHUNK_WIDTH, field_slots

__all__ = ["chunk", "packed"]


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
