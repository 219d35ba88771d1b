"""Liquidation with penalty and shortfall, deleverage at the bankruptcy price, the insurance fund.

``rollup.bankruptcy`` (update 0 = the liquidated / deleveraged account L, funding settled; o the
instrument's reference price (oracle price; option mark), pen the (underlying) market's penalty
fraction; o is mark' = max(mark, intrinsic) when L's option position is short, the value
it is carried at, so ds0·o is the fill's exact change of L's TV: ``circuits.batch.trade``; the
margin rules themselves are ``circuits.batch.margin``'s)::

    liquidate   tv_fill  = liquidate·(collateral − funding + Σ size_b·price + Σ nv_k
                                      + ds0·o − paid0)
                           (L's TV after the fill at p, before penalty / shortfall; |·| < 2^128)
                neg      = [tv_fill < 0]           shortfall = max(−tv_fill, 0) = −neg·tv_fill
                nominal  = ⌊q·o·pen / 10^6⌋        (< 2^112)
                penalty  = min(nominal, max(tv_fill, 0))   (0 unless a liquidation: tv_fill = 0)
                neg ⇒ price = o                    (the fund pays no liquidator's discount)
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

from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import cond_range, floor_div, sign_ge
from circuits.batch.inputs import SlotInputs
from circuits.batch.margin import Figures
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
    SIZE_BITS,
)

__all__ = ["LiquidationTerms", "bankruptcy_checks", "insurance_fund", "liquidation_terms"]

#: ⌊q·o·pen / 10^6⌋ ≤ q·o < 2^112: a signed quotient of 113 bits
_NOMINAL_BITS = SIZE_BITS + PRICE_BITS + 1
#: q·MR_b < 2^48·(M+1)·2^132 ≤ 2^184 (M ≤ 8)
_LEAST_PRICE_BITS = 184


@dataclass(frozen=True)
class LiquidationTerms:
    neg: Variable
    penalty: Variable
    shortfall: Variable


def liquidation_terms(
    api: API, inp: SlotInputs, g: GlobalVars, fl: FillTerms, old0: AccountVars, cash0: Value
) -> LiquidationTerms:
    """tv_fill, neg, penalty and shortfall of the module docstring (all 0 unless liquidating);
    ``cash0`` = L's funding-settled collateral plus its options' value."""
    liq = inp.sel[LIQUIDATE]
    with api.namespace("liquidation"):
        notional = api.sum(
            [api.mul(s, g.prices[k], name=f"notional_before{k}") for k, s in enumerate(old0.sizes)]
        )
        tv_fill = api.mul(liq, cash0 + notional + fl.ds_oracle - fl.paid0, name="tv_fill")
        neg = 1 - sign_ge(api, tv_fill, TV_FILL_BITS, "solvent")
        shortfall = -api.mul(neg, tv_fill, name="shortfall")
        equity = tv_fill + shortfall
        risk = api.mul(
            api.mul(inp.quantity, fl.oracle, name="q_oracle"), fl.penalty, name="q_o_pen"
        )
        nominal = floor_div(api, risk, FRACTION_SCALE, _NOMINAL_BITS, "nominal")
        capped = sign_ge(api, equity - nominal, TV_FILL_BITS, "covers_nominal")
        penalty = equity + api.mul(capped, nominal - equity, name="penalty")
        api.assert_product(neg, inp.price - fl.oracle, 0, "shortfall_at_oracle_price")
    return LiquidationTerms(neg, penalty, shortfall)


def bankruptcy_checks(api: API, inp: SlotInputs, g: GlobalVars, f0: Figures, tv_a0: Value) -> None:
    """Liquidatable L (liquidation); bankrupt L beyond the fund and the least price
    (deleverage; ``tv_a0`` = L's TV after)."""
    liq, dl, q = inp.sel[LIQUIDATE], inp.sel[DELEVERAGE], inp.quantity
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


def insurance_fund(api: API, inp: SlotInputs, g: GlobalVars, lt: LiquidationTerms) -> Variable:
    """fund' = fund + fees + penalty − shortfall ∈ [0, 2^127)."""
    fund = g.fund + inp.fee[0] + inp.fee[1] + lt.penalty - lt.shortfall
    api.range_check(fund, INSURANCE_BITS, "insurance_fund")
    return fund
