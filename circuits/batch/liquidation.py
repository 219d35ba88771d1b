"""Liquidation with penalty and shortfall, deleverage at the bankruptcy price, the insurance fund.

``rollup.bankruptcy`` (update 0 = the liquidated / deleveraged account L, funding settled; o the
instrument's reference price: the oracle price, or an option's mark' = max(mark, intrinsic),
the value its positions are carried at, so ds0·o is the fill's exact change of L's TV:
``circuits.batch.trade``; pen the (underlying) market's penalty fraction; the margin rules
themselves are ``circuits.batch.margin``'s, which waive L's TV/TR rule for a bankrupt fill)::

    liquidate   tv_now   = collateral − funding + Σ size_b·price + Σ nv_k + ds0·o − paid0
                tv_fill  = liquidate·tv_now
                           (L's TV after the fill at p, before penalty / shortfall;
                           tv_fill = TV_a + penalty − shortfall: |·| < 2^117 ≤ 2^128)
                t        = (liquidate + settle)·tv_now,  neg_t = [t < 0]
                neg      = liquidate·neg_t = [tv_fill < 0]
                equity   = max(tv_fill, 0) = (1 − neg)·tv_fill
                nominal  = ⌊q·o·pen / 10^6⌋        (< 2^112)
                penalty  = min(nominal, equity)    (0 unless a liquidation: tv_fill = 0)
                neg ⇒ price = o                    (the fund pays no liquidator's discount; then
                                                    tv_fill = TV_b: the fill moves no value)
                closed   = [MR_a = 0]·[LV_a = 0]   (L left with no risk and no long options of
                                                    value: MR_a, LV_a ≥ 0 of the update after)
    settle      (the sweep of settled options; tv_now is the swept TV: no fill)
                covers   = [fund + t ≥ 0]          (the fund holds the deficit; |·| < 2^128)
    both        shortfall = (neg + settle·neg_t·covers)·closed·(−t) < 2^112
                           (draw_when_closed, a hint pinned here: a liquidation's whole deficit,
                           once, when nothing is left — ``rollup.bankruptcy.shortfall``; a
                           Settle's write-off of an account it leaves bankrupt with nothing,
                           when the fund holds it — ``write_off``)
                liquidatable: MR_b − TV_b·10^6 − 1 ≥ 0          (|·| < 2^150)
                L's collateral delta: −paid0 − penalty + shortfall
    deleverage  fund + TV_b < 0                    (−fund − TV_b − 1 ∈ [0, 2^128); so TV_b < 0)
                MR_b > 0: gain_0 ≥ 0 (margin rule) and gain_0 − q·MR_b < 0: the price one unit
                less favourable to L lowers L's TV_a by exactly q, so p is the least favourable
                price keeping L's TV/TR — the native ``deleverage_price``   (q·MR_b < 2^184)
                MR_b = 0 (long options only; then MR_a = gain_0 = 0): TV_a ≥ 0 and
                TV_a − q < 0, i.e. 0 ≤ TV_a < q < 2^48: the least favourable price leaving
                TV_a ≥ 0, the native ⌈−TV_b / q⌉ step
    fund'       = fund + fee0 + fee1 + penalty − shortfall ∈ [0, 2^127)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.account import AccountUpdate
from circuits.batch.arith import cond_range, floor_div, sign_ge
from circuits.batch.inputs import SlotInputs
from circuits.batch.margin import Figures
from circuits.batch.options import HeldOptions
from circuits.batch.spec import LIQUIDATABLE_BITS, TV_FILL_BITS
from circuits.batch.state import AccountVars, GlobalVars
from circuits.batch.trade import FillTerms
from circuits.linear import Value, Variable
from protocol.spec import (
    DELEVERAGE,
    FRACTION_SCALE,
    INSURANCE_BITS,
    LIQUIDATE,
    PRICE_BITS,
    SETTLE,
    SHORTFALL_BITS,
    SIZE_BITS,
)
from prover.fields import R

__all__ = ["LiquidationTerms", "bankruptcy_checks", "insurance_fund", "liquidation_terms"]

#: ⌊q·o·pen / 10^6⌋ ≤ q·o < 2^112: a signed quotient of 113 bits
_NOMINAL_BITS = SIZE_BITS + PRICE_BITS + 1
#: q·MR_b < 2^48·(M+1)·2^132 ≤ 2^184 (M ≤ 8)
_LEAST_PRICE_BITS = 184


@dataclass(frozen=True)
class LiquidationTerms:
    t: Variable  #: (liquidate + settle)·tv_now
    neg_t: Variable  #: [t < 0]
    neg: Variable  #: liquidate·neg_t
    penalty: Variable
    shortfall: Variable


def _signed(v: int) -> int:
    return v - R if v > R >> 1 else v


def _draw_hint(t: int, settle: int, fund: int, q: int, unit: int, dn_value: int, lv_b: int,
               risk_mm: int, *sizes_prices: int) -> list[int]:  # fmt: skip
    """The native ``rollup.bankruptcy.shortfall`` / ``write_off`` from the slot's figures
    (witness only; ``bankruptcy_checks`` pins it): −t when negative and the update leaves
    MR = 0 and LV = 0 (L's long options lose dn·mark' when it sells them; buying back a short
    leaves LV) — for a Settle only if the fund holds it."""
    deficit, half = -_signed(t), len(sizes_prices) // 2
    pairs = zip(sizes_prices[:half], sizes_prices[half:], strict=True)
    mr_a = sum(abs(_signed(s)) * p for s, p in pairs) + risk_mm - q * unit
    lv_a = lv_b + min(_signed(dn_value), 0)
    owed = deficit > 0 and mr_a == 0 and lv_a == 0 and (not settle or fund >= deficit)
    return [deficit if owed else 0]


def liquidation_terms(
    api: API,
    inp: SlotInputs,
    g: GlobalVars,
    fl: FillTerms,
    old0: AccountVars,
    cash0: Value,
    held: tuple[HeldOptions, Sequence[Value]],
) -> LiquidationTerms:
    """tv_fill, neg, penalty and shortfall of the module docstring (all 0 unless liquidating);
    ``cash0`` = L's funding-settled collateral plus its options' value, ``held`` = (L's
    options, whose ``long_value`` is LV_b, and the maintenance prices price_m·mf_m). The
    shortfall is a hint pinned by ``bankruptcy_checks``."""
    liq, settle = inp.sel[LIQUIDATE], inp.sel[SETTLE]
    held0, maint_prices = held
    with api.namespace("liquidation"):
        notional = api.sum(
            [api.mul(s, g.prices[k], name=f"notional_before{k}") for k, s in enumerate(old0.sizes)]
        )
        tv_now = cash0 + notional + fl.ds_oracle - fl.paid0
        tv_fill = api.mul(liq, tv_now, name="tv_fill")
        t = tv_fill + api.mul(settle, tv_now, name="tv_settled")
        neg_t = 1 - sign_ge(api, t, TV_FILL_BITS, "solvent")
        neg = api.mul(liq, neg_t, name="bankrupt_fill")
        equity = tv_fill - api.mul(neg, tv_fill, name="equity")
        risk = api.mul(
            api.mul(inp.quantity, fl.oracle, name="q_oracle"), fl.penalty, name="q_o_pen"
        )
        nominal = floor_div(api, risk, FRACTION_SCALE, _NOMINAL_BITS, "nominal")
        capped = sign_ge(api, equity - nominal, TV_FILL_BITS, "covers_nominal")
        penalty = equity + api.mul(capped, nominal - equity, name="penalty")
        api.assert_product(neg, inp.price - fl.oracle, 0, "shortfall_at_oracle_price")
        inputs = [t, settle, g.fund, inp.quantity, fl.unit_risk[0], fl.dn_value[0],
                  held0.long_value, held0.risk_mm, *old0.sizes, *maint_prices]  # fmt: skip
        (shortfall,) = api.hint(_draw_hint, inputs, 1, "shortfall")
        api.range_check(shortfall, SHORTFALL_BITS, "shortfall_range")
    return LiquidationTerms(t, neg_t, neg, penalty, shortfall)


def bankruptcy_checks(
    api: API,
    inp: SlotInputs,
    g: GlobalVars,
    f0: Figures,
    upd0: AccountUpdate,
    lt: LiquidationTerms,
) -> None:
    """Liquidatable L and its draw (liquidation); bankrupt L beyond the fund and the least
    price (deleverage); ``upd0`` = L's update (TV, MR and LV after)."""
    liq, dl, q = inp.sel[LIQUIDATE], inp.sel[DELEVERAGE], inp.quantity
    tv_a0 = upd0.total_value
    with api.namespace("bankruptcy"):
        below = f0.maint_risk_before - f0.total_value_before * FRACTION_SCALE - 1
        cond_range(api, liq, below, LIQUIDATABLE_BITS, "liquidatable")
        cond_range(api, dl, -g.fund - f0.total_value_before - 1, INSURANCE_BITS + 1, "uncovered")
        riskless = f0.riskless
        cond_range(api, api.mul(dl, riskless, name="riskless_dl"), tv_a0, SIZE_BITS,
                   "solvent_after")  # fmt: skip
        least = api.mul(q, f0.maint_risk_before, name="q_mr_b") - f0.gain - 1
        least = least + api.mul(riskless, q - tv_a0 - least - 1, name="riskless_least")
        cond_range(api, dl, least, _LEAST_PRICE_BITS, "least_price")
        # the draw: the whole deficit, once L is left with nothing (a Settle: if the fund holds it)
        closed = api.mul(api.is_zero(upd0.maint_risk, "riskless_after"),
                         api.is_zero(upd0.long_value, "no_longs_after"), name="closed")  # fmt: skip
        covers = sign_ge(api, g.fund + lt.t, INSURANCE_BITS + 1, "fund_covers")
        written_off = api.mul(api.mul(inp.sel[SETTLE], lt.neg_t, name="settle_bankrupt"), covers,
                              name="write_off")  # fmt: skip
        owed = api.mul(lt.neg + written_off, closed, name="bankrupt_closed")
        api.assert_equal(lt.shortfall, api.mul(owed, -lt.t, name="deficit"),
                         "draw_when_closed")  # fmt: skip


def insurance_fund(api: API, inp: SlotInputs, g: GlobalVars, lt: LiquidationTerms) -> Variable:
    """fund' = fund + fees + penalty − shortfall ∈ [0, 2^127)."""
    fund = g.fund + inp.fee[0] + inp.fee[1] + lt.penalty - lt.shortfall
    api.range_check(fund, INSURANCE_BITS, "insurance_fund")
    return fund
