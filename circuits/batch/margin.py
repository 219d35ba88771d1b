"""Margin figures of an update before and after it, and the margin rules of every type.

Per update u (``rollup.margin``, ``rollup.effects.require_trade_margin``, ``rollup.bankruptcy``),
with its deltas dc_u (collateral, without the option payoffs, which lazy settlement moves from
option value to collateral: TV-neutral), ds_u (contracts or base quanta) and fv_u, the fill's
change of its positions' value (a perpetual's ds_u·price; an option's ΔTV of
``circuits.batch.options``: the contracts at the mark, a short's at mark')::

    TV_b     = TV_a − dc_u − fv_u                (= TV of the settled account before, exactly)
    MR_b     = MR_a + q·unit_u                   (exact whenever the position shrinks by q,
                                                  the only case in which a rule reads it:
                                                  perpetual unit o·mf; option unit mm_j when
                                                  the update buys back a short, 0 when it
                                                  sells a long, which carries no risk)
    meets_u  = [(TV_a − LV_a)·10^6 − IR_a ≥ 0]                  (|·| < 2^margin_bits)
               (LV_a the long options' value: initial margin does not count it; TV_a − LV_a
               is TV_a with the longs left out, so |TV_a − LV_a| has TV_a's bound)
    shrink_u = [(2·side_u − 1)·size_b − q ≥ 0]     side_u = 1 when u sells   (|·| < 2^49)
               (size_b: the position in the instrument, after lazy settlement; q ≥ 1: it
               moves towards 0 by q without changing side)
    gain_u   = TV_a·MR_b − TV_b·MR_a                            (|gain_u| < 2^improve_bits)
    riskless_u = [MR_b = 0]                    (long options only: no maintenance risk)
    floor_u  = min(TV_b, 0) = (1 − [TV_b ≥ 0])·TV_b              (|TV_b| < 2^tvb_bits)
    kept_u   = riskless_u ? TV_a − floor_u : gain_u     (|TV_a − floor_u| < 2^(tvb_bits+1))
    ratio_u  = [kept_u ≥ 0]      TV/TR not worse: StarkEx's TV_a·MR_b ≥ TV_b·MR_a when
               MR_b > 0; TV_a ≥ min(TV_b, 0) when MR_b = 0 (no loss below zero, none at all
               once negative; ``rollup.margin.ratio_not_worse``). A liquidation's draw is in
               TV_a and dc_0 (< 2^112, so the bounds hold with it)

Rules::

    withdraw, transfer (u = 0)             meets_0
    trade (u = 0, 1), liquidator (u = 1)   meets_u ∨ (shrink_u ∧ ratio_u)
    liquidated (u = 0)                     shrink_0 ∧ (ratio_0 unless bankrupt after the fill:
                                           then the fill is at p = o and moves no value,
                                           ``rollup.bankruptcy``)
    deleveraged (u = 0)                    shrink_0 ∧ ratio_0
    deleverager (u = 1)                    shrink_1 ∧ ratio_1

Bounds: ``circuits.batch.spec`` (every operand is a combination of range-checked values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.account import AccountUpdate
from circuits.batch.arith import pick, sign_ge
from circuits.batch.spec import BatchShape
from circuits.linear import Value, Variable, as_variable
from protocol.spec import (
    DELEVERAGE,
    FRACTION_SCALE,
    LIQUIDATE,
    SIZE_BITS,
    TRADE,
    TRANSFER,
    WITHDRAW,
)

__all__ = ["Figures", "figures", "margin_rules"]


@dataclass(frozen=True)
class Figures:
    total_value_before: Variable
    maint_risk_before: Variable
    riskless: Variable  #: [MR_b = 0]
    gain: Variable  #: TV_a·MR_b − TV_b·MR_a (not zeroed)
    meets: Variable
    shrink: Variable
    ratio: Variable


def figures(
    api: API,
    shape: BatchShape,
    upd: AccountUpdate,
    *,
    msel: Sequence[Value],
    sizes_before: Sequence[Value],
    option: tuple[Value, Value],
    sells: Value,
    quantity: Value,
    dc: Value,
    fill_value: Value,
    unit: Value,
    name: str,
) -> Figures:
    """The module docstring's figures of one update; ``option`` = (opt, the option position
    before). Beyond StarkEx's rule: the riskless case is tvb_bits + 6 rows (is_zero 2,
    sign_ge tvb_bits + 2, floor 1, select 1)."""
    with api.namespace(name):
        tv_b = upd.total_value - dc - fill_value
        mr_b = upd.maint_risk + api.mul(quantity, unit, name="q_unit")
        initial_value = upd.total_value - upd.long_value
        meets = sign_ge(
            api, initial_value * FRACTION_SCALE - upd.initial_risk, shape.margin_bits, "meets"
        )
        perp = pick(api, msel, sizes_before, "size_before")
        opt, held = option
        size_b = perp + api.mul(opt, as_variable(held) - perp, name="option_size_before")
        toward = api.mul(sells, size_b, name="sell_size") * 2 - size_b
        shrink = sign_ge(api, toward - quantity, SIZE_BITS + 1, "shrinks")
        gain = api.mul(upd.total_value, mr_b, name="tv_a_mr_b") - api.mul(
            tv_b, upd.maint_risk, name="tv_b_mr_a"
        )
        riskless = api.is_zero(mr_b, "riskless")
        nonneg_b = sign_ge(api, tv_b, shape.tvb_bits, "tv_before_sign")
        floor = tv_b - api.mul(nonneg_b, tv_b, name="tv_before_floor")
        kept = gain + api.mul(riskless, upd.total_value - floor - gain, name="kept")
        ratio = sign_ge(api, kept, shape.improve_bits, "ratio")
    return Figures(tv_b, mr_b, riskless, gain, meets, shrink, ratio)


def margin_rules(
    api: API, sel: Sequence[Variable], f: tuple[Figures, Figures], bankrupt: Value
) -> None:
    """The rules of the module docstring, one named row each; ``bankrupt`` = [L's TV after a
    liquidation's fill < 0] (``circuits.batch.liquidation``'s neg: 0 unless liquidating)."""
    trade, liq, dl = sel[TRADE], sel[LIQUIDATE], sel[DELEVERAGE]
    with api.namespace("margin"):
        api.assert_product(sel[WITHDRAW] + sel[TRANSFER], 1 - f[0].meets, 0, "initial0")
        for u, en in ((0, trade), (1, trade + liq)):
            short = api.mul(en, 1 - f[u].meets, name=f"short{u}")
            reduces = api.mul(f[u].shrink, f[u].ratio, name=f"reduces{u}")
            api.assert_product(short, 1 - reduces, 0, f"trade_margin{u}")
        api.assert_product(liq + dl, 1 - f[0].shrink, 0, "shrinks0")
        api.assert_product(liq - bankrupt + dl, 1 - f[0].ratio, 0, "ratio0")
        api.assert_product(dl, 1 - f[1].shrink, 0, "shrinks1")
        api.assert_product(dl, 1 - f[1].ratio, 0, "ratio1")
