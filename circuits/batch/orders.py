"""Order fill records in-circuit: the rule of ``rollup.fills`` with the record as a witness.

An update that fills an order (trade: both; liquidation: the liquidator, update 1) carries a
one-hot record selector rsel[R] and a bit ``match``; with id the order's id, k the selected
record, id_k / filled_k its content and ``alloc = en − match``::

    Σ rsel = en, match ≤ en                                  (both 0 when the update fills none)
    id ≥ floor                                               (else the order is dead)
    match ⇒ id_k = id                                        (the record that holds the order)
    alloc ⇒ Π_j (id_j − id) ≠ 0                              (no record holds it)
    alloc ⇒ id_k < id                                        (else every record is newer)
    alloc ⇒ ∀j: id_j − id_k − [j < k] ≥ 0,   [j < k] = Σ_{k' > j} rsel_k'
                                            (k is the FIRST record of smallest id: unique)
    floor' = alloc ∧ id_k + 1 > floor ? id_k + 1 : floor     (max(floor, id_k + 1))
    filled' = q + match·filled_k ≤ size                      (never beyond the signed size)
    record k := (id, filled');  the others unchanged

Ids are < 2^32 (the order's id range-checked, the records' by induction), so each difference
above lies in (−2^33, 2^33); a disabled check adds 2^33 and is then in [0, 2^34) whatever the
values, an enabled one is in [0, 2^34) iff it is ≥ 0. The native record choice
(``rollup.fills.record_index``) is the only one these rows admit, so the transition is unique.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import cond_range, nonzero_if, pick, sign_ge
from circuits.batch.state import AccountVars
from circuits.linear import Value, Variable, as_variable
from protocol.spec import ORDER_ID_BITS, SIZE_BITS

__all__ = ["Records", "record_fill"]

_OFF = 1 << (ORDER_ID_BITS + 1)
_ID_DIFF_BITS = ORDER_ID_BITS + 2


@dataclass(frozen=True)
class Records:
    """The account's order floor and fill records after the update."""

    floor: Variable
    ids: tuple[Variable, ...]
    filled: tuple[Variable, ...]


def record_fill(
    api: API,
    rsel: Sequence[Variable],
    match: Variable,
    en: Value,
    old: AccountVars,
    order_id: Value,
    size: Value,
    quantity: Value,
    name: str,
) -> Records:
    """The records after filling ``quantity`` of order (order_id, size) when ``en`` (a known
    boolean), unchanged when ``en`` = 0. ~(39R + 160) constraints."""
    en, oid = as_variable(en), as_variable(order_id)
    with api.namespace(name):
        for k, s in enumerate(rsel):
            api.assert_boolean(s, f"rsel_bool{k}")
        api.assert_equal(api.sum(rsel), en, "rsel_onehot")
        api.assert_boolean(match, "match_bool")
        alloc = en - match
        id_sel = pick(api, rsel, old.ids, "id_sel")
        filled_sel = pick(api, rsel, old.filled, "filled_sel")
        cond_range(api, en, oid - old.floor, ORDER_ID_BITS, "not_dead")
        api.assert_product(match, id_sel - oid, 0, "match_id")
        others = old.ids[0] - oid
        for j in range(1, len(old.ids)):
            others = api.mul(others, old.ids[j] - oid, name=f"distinct{j}")
        nonzero_if(api, alloc, others, "new_id")
        api.range_check(oid - id_sel - 1 + (1 - alloc) * _OFF, _ID_DIFF_BITS, "evicts_older")
        for j, id_j in enumerate(old.ids):
            before = api.sum(list(rsel[j + 1 :]))
            gap = id_j - id_sel - before + (1 - alloc) * _OFF
            api.range_check(gap, _ID_DIFF_BITS, f"first_oldest{j}")
        keeps = sign_ge(api, old.floor - id_sel - 1, ORDER_ID_BITS + 1, "floor_cmp")
        raises = api.mul(alloc, 1 - keeps, name="raises_floor")
        floor = old.floor + api.mul(raises, id_sel + 1 - old.floor, name="floor")
        filled = quantity + api.mul(match, filled_sel, name="filled")
        cond_range(api, en, as_variable(size) - filled, SIZE_BITS, "size")
        ids = tuple(
            id_k + api.mul(rsel[k], oid - id_k, name=f"set_id{k}") for k, id_k in enumerate(old.ids)
        )
        fills = tuple(
            f_k + api.mul(rsel[k], filled - f_k, name=f"set_filled{k}")
            for k, f_k in enumerate(old.filled)
        )
    return Records(floor, ids, fills)
