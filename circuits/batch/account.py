"""One leaf update of a slot: settle funding, apply the slot's deltas, margin figures, Merkle.

For update u of a slot, with the global state G before the slot (rollup/margin.py, effects.py):

    collateral_s = collateral − Σ_m size_m·(F_m − f_m)            (settle_funding)
    candidate    = (pubkey', nonce + inc_u, collateral_s + dc_u,
                    size_m + [m = market]·ds_u, f_m = F_m)
    new          = write_u ? candidate : old                       (a read leaves the leaf as is)
    |new collateral| ≤ 2^95 − 1, |new size_m| ≤ 2^48 − 1, new nonce < 2^32
    TV  = collateral' + Σ size'_m·price_m                          (funding settled: f' = F)
    IR  = Σ |size'_m|·price_m·initial_fraction_m
    meets = [TV·10^6 ≥ IR]
    old leaf under the current accounts root along (index_u, siblings_u); the new leaf along the
    same path gives the next accounts root (index range-checked to D bits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import bounded, sign_ge
from circuits.batch.spec import BatchShape
from circuits.batch.state import AccountVars, GlobalVars, account_leaf
from circuits.gadgets.merkle import merkle_update
from circuits.gadgets.signed import is_negative
from circuits.linear import Value, Variable, as_variable
from protocol.spec import (
    COLLATERAL_BITS,
    FRACTION_SCALE,
    NONCE_BITS,
    SIZE_BITS,
)

__all__ = ["AccountUpdate", "abs49", "update_account"]


@dataclass(frozen=True)
class AccountUpdate:
    """The new account, the next accounts root and the margin figures of the new account."""

    new: AccountVars
    root: Variable
    settled_collateral: Variable
    abs_sizes: tuple[Variable, ...]
    total_value: Variable
    initial_risk: Variable
    meets_initial: Variable


def abs49(api: API, x: Value, name: str) -> Variable:
    """|x| for x ∈ [−2^48, 2^48) (enforced). 50 constraints."""
    x = as_variable(x)
    with api.namespace(name):
        neg = is_negative(api, x, SIZE_BITS + 1, "sign")
        out = api.select(neg, -x, x, "abs")
    api._set_bits(out, SIZE_BITS + 1)
    return out


def update_account(
    api: API,
    shape: BatchShape,
    g: GlobalVars,
    old: AccountVars,
    *,
    root: Variable,
    index: Variable,
    siblings: Sequence[Variable],
    msel: Sequence[Variable],
    ds: Value,
    dc: Value,
    inc: Value,
    write: Value,
    pubkey: tuple[Value, Value] | None,
    initial_price: Sequence[Variable],
) -> AccountUpdate:
    """The update described in the module docstring; asserts the old leaf against ``root``."""
    m = shape.n_markets
    settle = [
        api.mul(old.sizes[k], g.funding[k] - old.funding[k], name=f"settle{k}") for k in range(m)
    ]
    coll_s = old.collateral - api.sum(settle)
    cand_sizes = [old.sizes[k] + api.mul(msel[k], ds, name=f"fill{k}") for k in range(m)]
    pk = pubkey if pubkey is not None else (old.pubkey_x, old.pubkey_y)

    def keep(label: str, cand: Value, before: Variable) -> Variable:
        return before + api.mul(write, as_variable(cand) - before, name=f"write_{label}")

    new = AccountVars(
        keep("pubkey_x", pk[0], old.pubkey_x) if pubkey is not None else old.pubkey_x,
        keep("pubkey_y", pk[1], old.pubkey_y) if pubkey is not None else old.pubkey_y,
        keep("nonce", old.nonce + inc, old.nonce),
        keep("collateral", coll_s + dc, old.collateral),
        tuple(keep(f"size{k}", cand_sizes[k], old.sizes[k]) for k in range(m)),
        tuple(keep(f"f{k}", g.funding[k], old.funding[k]) for k in range(m)),
    )
    api.range_check(new.nonce, NONCE_BITS, "nonce_range")
    bounded(api, new.collateral, COLLATERAL_BITS, "collateral_range")
    abs_sizes = []
    for k in range(m):
        abs_sizes.append(abs49(api, new.sizes[k], f"size_range{k}"))
        api.assert_nonzero(new.sizes[k] + (1 << SIZE_BITS), f"size_not_min{k}")
    tv = new.collateral + api.sum(
        [api.mul(new.sizes[k], g.prices[k], name=f"notional{k}") for k in range(m)]
    )
    ir = api.sum([api.mul(abs_sizes[k], initial_price[k], name=f"risk{k}") for k in range(m)])
    meets = sign_ge(api, tv * FRACTION_SCALE - ir, shape.margin_bits, "meets_initial")
    bits = api.to_bits(index, shape.depth, "index_bits")
    old_root, new_root = merkle_update(
        api, account_leaf(api, old, "old_leaf"), account_leaf(api, new, "new_leaf"), bits, siblings
    )
    api.assert_equal(old_root, root, "old_root")
    return AccountUpdate(new, new_root, coll_s, tuple(abs_sizes), tv, ir, meets)
