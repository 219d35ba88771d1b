"""One leaf update of a slot: funding and lazy option settlement, the candidate account, its
figures, Merkle.

For update u with the global state G before the slot (``rollup.margin``, ``rollup.effects``)::

    collateral_s = collateral − Σ_m size_m·(F_m − f_m) + Σ_k s_k·n_k·value_k   (settle; the
                   option payoffs: circuits.batch.options)
    candidate    = (pubkey', nonce + inc_u, floor', collateral_s + dc_u,
                    size_m + [m = market]·ds_u, f_m = F_m, records', option positions')
    new          = write_u ? candidate : old     (collateral, f and the option positions are
                                                  muxed; every other delta is 0 unless the update
                                                  writes)
    new nonce < 2^32 (when inc_u can be 1), |new collateral| ≤ 2^95 − 1,
    |new size_m| ≤ 2^48 − 1  (abs_m = |new size_m|, 50 rows each)
    TV_a = collateral' + Σ size'_m·price_m + TV_opt                   (f' = F: settled)
    LV_a = LV_opt          (the long options' value, which initial margin does not count)
    IR_a = Σ abs_m·price_m·initial_m + IR_opt,   MR_a = Σ abs_m·price_m·maintenance_m + MR_opt
    the old leaf under the current accounts root along (index_u, siblings_u); the new leaf along
    the same path gives the next accounts root (index range-checked to D bits).

Every figure is a combination of range-checked values, so |TV_a| < 2^tv_bits and
IR_a, MR_a < 2^risk_bits (``circuits.batch.spec``) for every update, written or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import bounded
from circuits.batch.options import OptionFill
from circuits.batch.orders import Records
from circuits.batch.spec import BatchShape
from circuits.batch.state import AccountVars, GlobalVars, account_leaf
from circuits.gadgets.merkle import merkle_update
from circuits.gadgets.signed import abs_value
from circuits.linear import Value, Variable, as_variable
from protocol.spec import COLLATERAL_BITS, NONCE_BITS, SIZE_BITS

__all__ = ["AccountUpdate", "settle", "update_account"]


@dataclass(frozen=True)
class AccountUpdate:
    """The new account, the next accounts root and the figures of the new account."""

    new: AccountVars
    root: Variable
    total_value: Variable
    long_value: Variable  #: LV_a
    initial_risk: Variable
    maint_risk: Variable


def settle(api: API, g: GlobalVars, old: AccountVars, name: str) -> Variable:
    """collateral − Σ size_m·(F_m − f_m) (funding only; the option payoffs are added by the
    caller). M constraints."""
    with api.namespace(name):
        paid = [
            api.mul(s, g.funding[k] - f, name=f"funding{k}")
            for k, (s, f) in enumerate(zip(old.sizes, old.funding, strict=True))
        ]
    return old.collateral - api.sum(paid)


def update_account(
    api: API,
    shape: BatchShape,
    g: GlobalVars,
    old: AccountVars,
    *,
    settled: Value,
    root: Variable,
    index: Variable,
    siblings: Sequence[Variable],
    msel: Sequence[Variable],
    ds: Value,
    dc: Value,
    inc: Value,
    write: Value,
    pubkey: tuple[Value, Value],
    records: Records,
    options: OptionFill,
    initial_prices: Sequence[Variable],
    maint_prices: Sequence[Variable],
) -> AccountUpdate:
    """The update of the module docstring; asserts the old leaf against ``root``."""
    m = shape.n_markets
    collateral = old.collateral + api.mul(
        write, as_variable(settled) + dc - old.collateral, name="write_collateral"
    )
    funding = tuple(
        f + api.mul(write, g.funding[k] - f, name=f"write_f{k}") for k, f in enumerate(old.funding)
    )
    sizes = tuple(s + api.mul(msel[k], ds, name=f"fill{k}") for k, s in enumerate(old.sizes))
    nonce = old.nonce + inc
    new = AccountVars(
        as_variable(pubkey[0]), as_variable(pubkey[1]), nonce, records.floor, collateral,
        sizes, funding, records.ids, records.filled, options.slots, options.sizes,
    )  # fmt: skip
    if as_variable(inc).constant_value != 0:
        api.range_check(nonce, NONCE_BITS, "nonce_range")
    bounded(api, collateral, COLLATERAL_BITS, "collateral_range")
    abs_sizes = []
    for k in range(m):
        abs_sizes.append(abs_value(api, sizes[k], SIZE_BITS + 1, f"size_range{k}"))
        api.assert_nonzero(sizes[k] + (1 << SIZE_BITS), f"size_not_min{k}")
    tv = (
        collateral
        + options.total_value
        + api.sum([api.mul(sizes[k], g.prices[k], name=f"notional{k}") for k in range(m)])
    )
    ir = options.initial_risk + api.sum(
        [api.mul(abs_sizes[k], initial_prices[k], name=f"ir{k}") for k in range(m)]
    )
    mr = options.maint_risk + api.sum(
        [api.mul(abs_sizes[k], maint_prices[k], name=f"mr{k}") for k in range(m)]
    )
    bits = api.to_bits(index, shape.depth, "index_bits")
    old_root, new_root = merkle_update(
        api, account_leaf(api, old, "old_leaf"), account_leaf(api, new, "new_leaf"), bits, siblings
    )
    api.assert_equal(old_root, root, "old_root")
    return AccountUpdate(new, new_root, tv, options.long_value, ir, mr)
