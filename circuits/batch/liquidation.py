"""Liquidations and forced withdrawals: the checks on update 0's account.

rollup/effects.py ``liquidate`` (update 0 = the liquidated account, funding settled first)::

    before:   TV_b·10^6 < MR_b                     (MR = Σ |size|·price·maintenance_fraction)
    reduce:   size_mk·(1 − 2·liquidator_side) ≥ q  (a long is bought from, a short sold to;
                                                    q ≤ |size|, no flip)
    price:    long:  price·10^6 ≥ oracle·(10^6 − mf);   short: price·10^6 ≤ oracle·(10^6 + mf)
    improve:  TV_a·MR_b > TV_b·MR_a
    (the liquidator's order and margin are checked as a trade's: circuits.batch.trade, slot)

refunds and voids (``deposit`` returns None, ``forced_withdraw`` returns None)::

    refunded deposit ⇒ |settled collateral + amount·2^32| ≥ 2^95
    void forced withdrawal ⇒ account empty or |settled collateral| ≥ 2^95

``forced_withdraw`` (update 0, funding settled, unless void)::

    free   = ⌊(TV·10^6 − IR) / 10^6⌋
    amount = min(max(0, ⌊min(collateral, free) / 2^32⌋), 2^63 − 1)
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.api import API
from circuits.batch.account import AccountUpdate, abs49
from circuits.batch.arith import bounded, cond_range, floor_div, pick, sign_ge
from circuits.batch.inputs import SlotInputs
from circuits.batch.spec import BatchShape
from circuits.batch.state import AccountVars, GlobalVars
from circuits.linear import Variable
from protocol.spec import (
    AMOUNT_BITS,
    COLLATERAL_BITS,
    DEPOSIT,
    FORCED_WITHDRAW,
    FRACTION_BITS,
    FRACTION_SCALE,
    LIQUIDATE,
    PRICE_BITS,
    SIZE_BITS,
    VALUE_SCALE,
)
from prover.fields import R

__all__ = ["assert_overflows", "forced_amount_check", "liquidation_checks", "refund_reasons"]


def liquidation_checks(
    api: API,
    shape: BatchShape,
    inp: SlotInputs,
    g: GlobalVars,
    old: AccountVars,
    upd: AccountUpdate,
    maintenance_price: Sequence[Variable],
) -> None:
    """The four liquidation conditions on update 0, enforced when the slot is a liquidation."""
    en = inp.sel[LIQUIDATE]
    m = shape.n_markets
    with api.namespace("liquidation"):
        tv_b = upd.settled_collateral + api.sum(
            [api.mul(old.sizes[k], g.prices[k], name=f"notional_before{k}") for k in range(m)]
        )
        abs_b = [abs49(api, old.sizes[k], f"abs_before{k}") for k in range(m)]
        mr_b = api.sum([api.mul(abs_b[k], maintenance_price[k], name=f"mr_b{k}") for k in range(m)])
        mr_a = api.sum(
            [api.mul(upd.abs_sizes[k], maintenance_price[k], name=f"mr_a{k}") for k in range(m)]
        )
        cond_range(api, en, mr_b - tv_b * FRACTION_SCALE - 1, shape.margin_bits, "liquidatable")
        size_mk = pick(api, inp.msel, old.sizes, "position")
        reduce = size_mk - api.mul(size_mk, inp.side, name="side_size") * 2 - inp.quantity
        cond_range(api, en, reduce, SIZE_BITS, "size")
        oracle = pick(api, inp.msel, g.prices, "oracle")
        mf = pick(api, inp.msel, g.maintenance, "maintenance")
        band = api.mul(oracle, mf, name="band")
        low = (inp.price - oracle) * FRACTION_SCALE + band
        high = (oracle - inp.price) * FRACTION_SCALE + band
        slack = low + api.mul(inp.side, high - low, name="price_slack")
        cond_range(api, en, slack, PRICE_BITS + FRACTION_BITS + 2, "price")
        gain = api.mul(upd.total_value, mr_b, name="tv_a_mr_b") - api.mul(
            tv_b, mr_a, name="tv_b_mr_a"
        )
        cond_range(api, en, gain - 1, shape.improve_bits, "improves")


def forced_amount_check(api: API, shape: BatchShape, inp: SlotInputs, upd: AccountUpdate) -> None:
    """forced_withdraw ⇒ amount equals the native formula (0 when void). ~(3·tv_bits + 200)."""
    sf = inp.sel[FORCED_WITHDRAW]
    q_bits = max(shape.tv_bits, shape.risk_bits - FRACTION_BITS + 1) + 2
    with api.namespace("forced"):
        en = sf - api.mul(sf, inp.flag, name="not_void")
        withdrawn = inp.amount * VALUE_SCALE
        tv_s = upd.total_value + withdrawn
        excess = api.mul(en, tv_s * FRACTION_SCALE - upd.initial_risk, name="excess")
        free = floor_div(api, excess, FRACTION_SCALE, q_bits, "free")
        cash = api.mul(en, upd.new.collateral + withdrawn, name="cash")
        bounded(api, cash, COLLATERAL_BITS, "settled_collateral_range")
        lt = api.less_than(cash, free, q_bits, signed=True, name="cash_lt_free")
        v = api.select(lt, cash, free, "min")
        positive = sign_ge(api, v, q_bits, "positive")
        quanta = floor_div(api, api.mul(positive, v, name="clamped"), VALUE_SCALE, q_bits, "quanta")
        cap = (1 << AMOUNT_BITS) - 1
        below = api.less_than(quanta, cap, q_bits, signed=True, name="below_cap")
        amount = api.select(below, quanta, cap, "capped")
        api.assert_product(sf, inp.amount - amount, 0, "amount")


#: |collateral before the check| < 2^95 + M·2^48·2^97 + 2^95 < 2^150 (M ≤ 8)
_OVERFLOW_BITS = 150


def _overflow_sign(x: int, en: int) -> list[int]:
    v = x - R if x > R >> 1 else x
    return [int(bool(en) and v >= 0)]


def assert_overflows(api: API, x: Variable, en: Variable, name: str) -> None:
    """en ⇒ |x| ≥ 2^95 (the native refund / void condition on a collateral), |x| < 2^150:
    with a hinted sign s (pinned to 0 when en = 0), en·(s ? x − 2^95 : −x − 2^95) ∈ [0, 2^150)."""
    with api.namespace(name):
        (s,) = api.hint(_overflow_sign, [x, en], 1, "sign")
        api.assert_boolean(s, "sign_bool")
        api.assert_product(s, 1 - en, 0, "sign_pinned")
        bound = 1 << COLLATERAL_BITS
        gap = -x - bound + api.mul(s, x * 2, name="signed")
        cond_range(api, en, gap, _OVERFLOW_BITS, "beyond")


def refund_reasons(api: API, inp: SlotInputs, upd: AccountUpdate, empty: Variable) -> None:
    """A refunded deposit credits nothing: only if the credit would overflow 2^95 (the key is
    checked by the settlement layer when queued). A void forced withdrawal: only if the account
    is empty or its settled collateral is out of range. Update 0 reads the request's account."""
    flag = inp.flag
    with api.namespace("refund"):
        refunded = api.mul(inp.sel[DEPOSIT], flag, name="refunded")
        credit = upd.settled_collateral + inp.amount * VALUE_SCALE
        assert_overflows(api, credit, refunded, "deposit_overflows")
        void = api.mul(inp.sel[FORCED_WITHDRAW], flag, name="void")
        void_nonempty = api.mul(void, 1 - empty, name="void_nonempty")
        assert_overflows(api, upd.settled_collateral, void_nonempty, "collateral_out_of_range")
