"""Margin engine: total value, total risk, settlement — the StarkEx model extended to options.

With pending funding settled virtually (no entry price needed)::

    collateral' = collateral - Σ_m size_m · (F_m - f_m)
    TV          = collateral' + Σ_m size_m · price_m + Σ_k n_k · value_k     (value units)
    risk_maint  = Σ_m |size_m| · price_m · maintenance_fraction_m + Σ_short |n_k| · mm_unit_k
    risk_init   = Σ_m |size_m| · price_m · initial_fraction_m + Σ_short |n_k| · im_unit_k
                                                                  (value units · 10^6)

(option value and units: ``rollup.options``). ``TR = risk / FRACTION_SCALE`` is rational; every
comparison cross-multiplies, e.g. the account is liquidatable iff ``TV · 10^6 < risk_maint``.
Initial margin does not count the long options' value LV = Σ_{n_k > 0} n_k · value_k (a long
needs no requirement; counting its mark would let an account borrow its premium back, and lose
it when the option expires worthless): the account is initial-margin-healthy iff
``(TV − LV) · 10^6 ≥ risk_init``. Shorts still count at their value.

TV/TR not worse (a reducing trade below initial margin, liquidation, deleverage): with MR_b > 0
StarkEx's ``TV_a · MR_b ≥ TV_b · MR_a``; an account with no maintenance risk before (MR_b = 0:
long options only) may not lose value below zero, nor lose any if already negative:
``TV_a ≥ min(TV_b, 0)`` (the cross-multiplied rule would read 0 ≥ 0 for it).

Reference: StarkEx perpetual "total value / total risk" (docs.starkware.co, Perpetual trading).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from protocol.spec import FRACTION_SCALE
from rollup.account import Account, GlobalState, Position
from rollup.options import long_value, option_risk, option_value, settle_options


def settle(account: Account, state: GlobalState) -> Account:
    """Settle pending funding (collateral -= size_m · (F_m - f_m), f_m = F_m) and every position
    in a settled option series (``rollup.options.settle_options``). TV is unchanged."""
    pending = any(
        p.funding_index != m.funding_index
        for p, m in zip(account.positions, state.markets, strict=True)
    )
    if not pending:  # nothing to settle: the account as it is (most touches since the last tick)
        return settle_options(account, state)
    collateral = account.collateral
    positions = []
    for p, m in zip(account.positions, state.markets, strict=True):
        collateral -= p.size * (m.funding_index - p.funding_index)
        positions.append(Position(p.size, m.funding_index))
    settled = replace(account, collateral=collateral, positions=tuple(positions))
    return settle_options(settled, state)


def total_value(account: Account, state: GlobalState) -> int:
    """TV in value units, pending funding included, options at their value."""
    tv = account.collateral
    for p, m in zip(account.positions, state.markets, strict=True):
        tv += p.size * (m.price - (m.funding_index - p.funding_index))
    return tv + option_value(account, state)


def maintenance_risk(account: Account, state: GlobalState) -> int:
    """Σ |size| · price · maintenance_fraction + short options (value units · 10^6)."""
    perps = sum(
        abs(p.size) * m.price * m.maintenance_fraction
        for p, m in zip(account.positions, state.markets, strict=True)
    )
    return perps + option_risk(account, state)[1]


def initial_risk(account: Account, state: GlobalState) -> int:
    """Σ |size| · price · initial_fraction + short options (value units · 10^6)."""
    perps = sum(
        abs(p.size) * m.price * m.initial_fraction
        for p, m in zip(account.positions, state.markets, strict=True)
    )
    return perps + option_risk(account, state)[0]


def is_liquidatable(account: Account, state: GlobalState) -> bool:
    return total_value(account, state) * FRACTION_SCALE < maintenance_risk(account, state)


def initial_value(account: Account, state: GlobalState) -> int:
    """TV − LV: the total value without the long options' value (value units)."""
    return total_value(account, state) - long_value(account, state)


def meets_initial(account: Account, state: GlobalState) -> bool:
    """(TV − LV) · 10^6 ≥ IR: long options' value does not count towards initial margin."""
    return initial_value(account, state) * FRACTION_SCALE >= initial_risk(account, state)


def ratio_not_worse(before: Account, after: Account, state: GlobalState) -> bool:
    """TV/TR (maintenance) does not get worse, cross-multiplied (no division; StarkEx's rule):
    TV_after · MR_before ≥ TV_before · MR_after when MR_before > 0; with no maintenance risk
    before (MR_before = 0) TV_after ≥ min(TV_before, 0). Both accounts funding-settled."""
    tv_b, mr_b = total_value(before, state), maintenance_risk(before, state)
    tv_a = total_value(after, state)
    if mr_b == 0:
        return tv_a >= min(tv_b, 0)
    return tv_a * mr_b >= tv_b * maintenance_risk(after, state)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class MarginReport:
    """An account's margin figures; ratios in ppm, ``None`` where undefined (no risk)."""

    total_value: int  #: value units
    maintenance_requirement: int  #: ceil(risk_maint / 10^6), value units
    initial_requirement: int  #: ceil(risk_init / 10^6), value units
    margin_ratio_ppm: int | None  #: floor(TV / TR · 10^6)
    liquidatable: bool
    #: uniform relative move x of all prices (ppm, floor) at which TV = TR; None if no such move
    liquidation_move_ppm: int | None
    #: per market, the price (others fixed) at which TV = TR; None if the size is 0 or no such price
    liquidation_prices: tuple[int | None, ...]


def margin_report(account: Account, state: GlobalState) -> MarginReport:
    tv = total_value(account, state)
    risk_m = maintenance_risk(account, state)
    risk_i = initial_risk(account, state)
    ratio = None if risk_m == 0 else tv * FRACTION_SCALE * FRACTION_SCALE // risk_m
    # prices scaled by (1 + x): TV(x) = C + (1 + x)·N,  TR(x) = (1 + x)·R  →  1 + x = C / (R - N)
    notional = sum(p.size * m.price for p, m in zip(account.positions, state.markets, strict=True))
    cash = tv - notional  # collateral after funding
    denom = risk_m - notional * FRACTION_SCALE  # (R - N) · 10^6
    move = None
    if denom != 0 and (cash * FRACTION_SCALE) * denom > 0:
        move = cash * FRACTION_SCALE * FRACTION_SCALE // denom - FRACTION_SCALE
    prices: list[int | None] = []
    for k, (p, m) in enumerate(zip(account.positions, state.markets, strict=True)):
        slope = p.size * FRACTION_SCALE - abs(p.size) * m.maintenance_fraction
        if p.size == 0 or slope == 0:
            prices.append(None)
            continue
        # TV·10^6 - risk = rest + price_k · slope = 0
        rest = (tv - p.size * m.price) * FRACTION_SCALE - (
            risk_m - abs(p.size) * m.price * m.maintenance_fraction
        )
        price = -rest // slope if slope > 0 else ceil_div(-rest, slope)
        prices.append(price if price > 0 else None)
        del k
    return MarginReport(
        total_value=tv,
        maintenance_requirement=ceil_div(risk_m, FRACTION_SCALE),
        initial_requirement=ceil_div(risk_i, FRACTION_SCALE),
        margin_ratio_ppm=ratio,
        liquidatable=tv * FRACTION_SCALE < risk_m,
        liquidation_move_ppm=move,
        liquidation_prices=tuple(prices),
    )
