"""Liquidation with the insurance fund, and deleverage: where an account's losses go.

Value units and ppm fractions; accounts funding-settled first; MR / IR the maintenance / initial
risk (``rollup.margin``), ``o`` the market's oracle price, ``mf`` its maintenance fraction.

Liquidate (the liquidator's signed order takes q of account L's position in market m at p)::

    L liquidatable      TV_b·10^6 < MR_b
    reduce              q ≤ |size_m|, on the side that reduces it (no flip)
    band                L long: p·10^6 ≥ o·(10^6 − mf);  L short: p·10^6 ≤ o·(10^6 + mf)
    fill                L's size and collateral move as in a trade at p (no fee)   → TV_f
    penalty             ⌊q·o·penalty_m / 10^6⌋, but never more than max(TV_f, 0)  → insurance
    shortfall           max(−TV_f, 0) drawn from the insurance fund into L's collateral; only at
                        p = o (the fund never pays for a liquidator's discount), and only if the
                        fund (plus this tx's penalty and fee) covers it, else: deleverage L
    L after             TV_a = TV_f − penalty + shortfall ≥ 0, and TV/TR not worse:
                        TV_a·MR_b ≥ TV_b·MR_a
    liquidator          its order and margin as a trade party; its fee to the insurance fund

Deleverage (account L bankrupt, the fund cannot cover it; counterparty D holds the opposite
position in m; no signature: the operator's move, priced by the rule alone)::

    L bankrupt          TV_Lb < 0 and insurance_fund < −TV_Lb
    opposite            size_L·size_D < 0,  q ≤ min(|size_L|, |size_D|)
    price p             the bankruptcy price: the least favourable price to L at which L's TV/TR
                        does not get worse (L long sells at the smallest such p, L short buys at
                        the largest), 0 < p < 2^64:
                            L long:   p = o + ⌈TV_Lb·(MR_La − MR_Lb) / (q·MR_Lb)⌉
                            L short:  p = o − ⌈TV_Lb·(MR_La − MR_Lb) / (q·MR_Lb)⌉
    D after             its position shrinks and its TV/TR does not get worse

Both transitions move collateral between the two accounts and the fund only; value is
conserved exactly. Reference: StarkEx perpetual (liquidate, deleverage: docs.starkware.co).
"""

from __future__ import annotations

from dataclasses import replace

from protocol.spec import BUY, FRACTION_SCALE, PRICE_BITS, SELL
from rollup.account import Account, GlobalState
from rollup.effects import (
    add_insurance,
    check_collateral,
    check_fill_terms,
    fill,
    trade_side,
)
from rollup.errors import (
    InsuranceExhausted,
    LiquidationNotImproving,
    LiquidationPriceOutOfBounds,
    NotDeleveragable,
    NotLiquidatable,
    OrderMismatch,
    SizeExceeded,
)
from rollup.margin import maintenance_risk, ratio_not_worse, settle_funding, total_value

__all__ = ["deleverage", "deleverage_price", "liquidate"]


def _check_reduces(index: int, size: int, side_taken: int, quantity: int) -> None:
    """``side_taken`` (the side the account's position is closed on) reduces ``size`` by q."""
    if size == 0 or (size > 0) != (side_taken == SELL):
        raise OrderMismatch(detail=f"account {index}: side {side_taken} does not reduce {size}")
    if quantity > abs(size):
        raise SizeExceeded(account=index, quantity=quantity, what="position", limit=abs(size))


def liquidate(
    indices: tuple[int, int],
    liquidated: Account,
    liquidator: Account,
    state: GlobalState,
    market: int,
    liquidator_side: int,
    quantity: int,
    price: int,
    fee: int,
) -> tuple[Account, Account, GlobalState]:
    """The liquidation of the module docstring; returns (L after, liquidator after, state)."""
    check_fill_terms(quantity, price, (fee,))
    victim, lq_index = indices
    before = settle_funding(liquidated, state)
    tv_b, mr_b = total_value(before, state), maintenance_risk(before, state)
    if tv_b * FRACTION_SCALE >= mr_b:
        raise NotLiquidatable(account=victim, total_value=tv_b, required=-(-mr_b // FRACTION_SCALE))
    size = before.positions[market].size
    _check_reduces(victim, size, 1 - liquidator_side, quantity)
    m = state.markets[market]
    if (
        size > 0 and price * FRACTION_SCALE < m.price * (FRACTION_SCALE - m.maintenance_fraction)
    ) or (
        size < 0 and price * FRACTION_SCALE > m.price * (FRACTION_SCALE + m.maintenance_fraction)
    ):
        low = -(-m.price * (FRACTION_SCALE - m.maintenance_fraction) // FRACTION_SCALE)
        high = m.price * (FRACTION_SCALE + m.maintenance_fraction) // FRACTION_SCALE
        raise LiquidationPriceOutOfBounds(
            price=price,
            low=low if size > 0 else 1,
            high=high if size < 0 else (1 << PRICE_BITS) - 1,
            oracle=m.price,
            market=market,
        )
    filled = fill(before, market, 1 - liquidator_side, quantity, price, 0)
    tv_f = total_value(filled, state)
    penalty = min(quantity * m.price * m.liquidation_penalty // FRACTION_SCALE, max(tv_f, 0))
    shortfall = max(-tv_f, 0)
    if shortfall and price != m.price:
        raise LiquidationPriceOutOfBounds(
            price=price, low=m.price, high=m.price, oracle=m.price, market=market
        )
    fund = state.insurance_fund + fee + penalty
    if shortfall > fund:
        raise InsuranceExhausted(account=victim, fund=fund, shortfall=shortfall)
    after = check_collateral(
        "liquidated", replace(filled, collateral=filled.collateral - penalty + shortfall)
    )
    if not ratio_not_worse(before, after, state):
        tv_a, mr_a = total_value(after, state), maintenance_risk(after, state)
        raise LiquidationNotImproving(
            account=victim, detail=f"TV {tv_b}→{tv_a}, risk·10^6 {mr_b}→{mr_a}"
        )
    lq_after = trade_side(
        lq_index, liquidator, state, market, liquidator_side, quantity, price, fee
    )
    return after, lq_after, add_insurance(state, fee + penalty - shortfall)


def deleverage_price(before: Account, state: GlobalState, market: int, quantity: int) -> int:
    """The bankruptcy price of closing ``quantity`` of ``before``'s position in ``market``
    (see the module docstring); ``before`` funding-settled, TV < 0, position ≠ 0."""
    size = before.positions[market].size
    o = state.markets[market].price
    tv_b, mr_b = total_value(before, state), maintenance_risk(before, state)
    closed = fill(before, market, SELL if size > 0 else BUY, quantity, o, 0)
    mr_a = maintenance_risk(closed, state)
    num, den = tv_b * (mr_a - mr_b), quantity * mr_b  # num ≥ 0: TV_b < 0, MR_a ≤ MR_b
    step = -(-num // den)  # ⌈num / den⌉
    return o + step if size > 0 else o - step


def deleverage(
    indices: tuple[int, int],
    deleveraged: Account,
    deleverager: Account,
    state: GlobalState,
    market: int,
    quantity: int,
) -> tuple[Account, Account, int]:
    """The deleverage of the module docstring; returns (L after, D after, price)."""
    l_index, d_index = indices
    l_b = settle_funding(deleveraged, state)
    tv_b = total_value(l_b, state)
    if tv_b >= 0:
        raise NotDeleveragable(account=l_index, detail=f"total value {tv_b} is not negative")
    if state.insurance_fund >= -tv_b:
        raise NotDeleveragable(
            account=l_index,
            detail=f"the insurance fund {state.insurance_fund} covers its {-tv_b}: liquidate it",
        )
    size_l = l_b.positions[market].size
    l_side = SELL if size_l > 0 else BUY
    _check_reduces(l_index, size_l, l_side, quantity)
    d_b = settle_funding(deleverager, state)
    _check_reduces(d_index, d_b.positions[market].size, 1 - l_side, quantity)
    price = deleverage_price(l_b, state, market, quantity)
    if not 0 < price < 1 << PRICE_BITS:
        raise NotDeleveragable(account=l_index, detail=f"bankruptcy price {price} out of range")
    l_a = check_collateral("deleveraged", fill(l_b, market, l_side, quantity, price, 0))
    d_a = check_collateral("deleverager", fill(d_b, market, 1 - l_side, quantity, price, 0))
    if not ratio_not_worse(d_b, d_a, state):
        raise NotDeleveragable(account=d_index, detail="the deleverager's TV/TR would get worse")
    return l_a, d_a, price
