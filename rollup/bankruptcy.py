"""Liquidation with the insurance fund, and deleverage: where an account's losses go.

Value units and ppm fractions; accounts settled first; MR / IR the maintenance / initial risk
(``rollup.margin``); for the instrument (a perpetual market or an option series,
``rollup.effects.reference``) ``o`` is its reference price (oracle price; an option's
mark' = max(mark, intrinsic): the price at which its positions are valued, ``rollup.options``,
so a fill at o leaves L's TV unchanged — which the shortfall rule and the bankruptcy price
below rely on), ``s`` the scale of its bands (oracle price; the underlying's index), ``mf`` the
(underlying) market's maintenance fraction.

Liquidate (the liquidator's signed order takes q of account L's position in the instrument at p)::

    L liquidatable      TV_b·10^6 < MR_b
    reduce              q ≤ |size|, on the side that reduces it (no flip)
    band                L long: p·10^6 ≥ o·10^6 − s·mf;  L short: p·10^6 ≤ o·10^6 + s·mf
    fill                L's size and collateral move as in a trade at p (no fee)   → TV_f
    penalty             ⌊q·o·penalty / 10^6⌋, but never more than max(TV_f, 0)    → insurance
    shortfall           TV_f ≥ 0: 0.  TV_f < 0 (bankrupt after the fill): only at p = o (the fund
                        never pays for a liquidator's discount; then TV_f = TV_b, the fill moves
                        no value), and the fund pays the whole deficit −TV_f exactly when the
                        fill leaves L with nothing: no maintenance risk and no long options of
                        value (MR_a = 0 and LV_a = 0); before that, 0. A bankrupt account is
                        closed position by position at the reference price, and the fund pays
                        once, for what is left when nothing is: a draw in proportion to the
                        risk a partial fill removed paid for losses that the positions left
                        behind could still win back (liquidating a market that carried none of
                        the loss drew part of it, and the account kept its losing position's
                        upside), and no account keeps an upside after the fund paid. The draw
                        comes from the insurance fund into L's collateral if the fund (plus
                        this tx's penalty and fee) covers it and it is < 2^SHORTFALL_BITS, else:
                        deleverage L
    L after             TV_a = TV_f − penalty + shortfall, and, unless bankrupt after the fill,
                        TV/TR not worse: TV_a·MR_b ≥ TV_b·MR_a (where MR_b = 0: TV_a ≥
                        min(TV_b, 0)). A bankrupt fill is at p = o and leaves TV_a = TV_b (or 0
                        once the fund paid): no value moves, so there is no ratio to protect,
                        and closing risk of an account whose TV is negative lowers TV/TR.
    series              an option position can be liquidated or deleveraged while its series is
                        listed and unsettled, after its expiry too (``rollup.effects.check_open``)
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
                        and where L carries no maintenance risk (MR_Lb = 0: long options only)
                        the least favourable price leaving TV_La ≥ 0: step ⌈−TV_Lb / q⌉
    D after             its position shrinks and its TV/TR does not get worse

Settle (the sweep of settled options) writes off an account it leaves bankrupt with nothing
(TV < 0, MR = 0, LV = 0): the fund pays the whole deficit if it holds it (``write_off``).

These transitions move collateral between the accounts and the fund only; value is conserved
exactly. Reference: StarkEx perpetual (liquidate, deleverage: docs.starkware.co).
"""

from __future__ import annotations

from dataclasses import replace

from protocol.spec import BUY, FRACTION_SCALE, PRICE_BITS, SELL, SHORTFALL_BITS
from rollup.account import Account, GlobalState
from rollup.effects import (
    Instrument,
    add_insurance,
    check_collateral,
    check_fill_terms,
    check_open,
    fill,
    reference,
    size_of,
    trade_side,
)
from rollup.errors import (
    FundCovers,
    InsuranceExhausted,
    LiquidationNotImproving,
    LiquidationPriceOutOfBounds,
    NotBankrupt,
    NotDeleveragable,
    NotLiquidatable,
    OrderMismatch,
    SizeExceeded,
)
from rollup.margin import maintenance_risk, ratio_not_worse, settle, total_value
from rollup.options import long_value

__all__ = ["deleverage", "deleverage_price", "liquidate", "shortfall", "write_off"]


def _check_reduces(index: int, size: int, side_taken: int, quantity: int) -> None:
    """``side_taken`` (the side the account's position is closed on) reduces ``size`` by q."""
    if size == 0 or (size > 0) != (side_taken == SELL):
        raise OrderMismatch(detail=f"account {index}: side {side_taken} does not reduce {size}")
    if quantity > abs(size):
        raise SizeExceeded(account=index, quantity=quantity, what="position", limit=abs(size))


def shortfall(filled: Account, state: GlobalState) -> int:
    """The draw of the module docstring for a fill at the reference price: the whole deficit
    −TV_f if the fill leaves the account bankrupt with nothing (MR = 0, LV = 0), else 0.
    ``filled`` = the settled account after the fill."""
    deficit = -total_value(filled, state)
    if deficit <= 0 or maintenance_risk(filled, state) or long_value(filled, state):
        return 0
    return deficit


def write_off(index: int, account: Account, state: GlobalState) -> int:
    """What the insurance fund pays when a Settle leaves ``account`` (settled) bankrupt with
    nothing left to liquidate — the ``shortfall`` rule: TV < 0, no maintenance risk, no long
    options of value (an option that expired out of the money cannot be sold at a mark of 0,
    so its holder's debt outlives it) — the whole deficit if the fund holds it, else 0 (the
    debt stays, and a later Settle writes it off once the fund has grown). A draw the fund
    holds but that is ≥ 2^SHORTFALL_BITS (a fund beyond 2^80 quanta) refuses the Settle, as
    the liquidation does."""
    deficit = shortfall(account, state)
    if deficit > state.insurance_fund:
        return 0
    if deficit >> SHORTFALL_BITS:
        raise InsuranceExhausted(account=index, fund=state.insurance_fund, shortfall=deficit)
    return deficit


def liquidate(
    indices: tuple[int, int],
    liquidated: Account,
    liquidator: Account,
    state: GlobalState,
    inst: Instrument,
    liquidator_side: int,
    quantity: int,
    price: int,
    fee: int,
) -> tuple[Account, Account, GlobalState]:
    """The liquidation of the module docstring; returns (L after, liquidator after, state)."""
    check_fill_terms(quantity, price, (fee,))
    check_open(state, inst)
    victim, lq_index = indices
    before = settle(liquidated, state)
    tv_b, mr_b = total_value(before, state), maintenance_risk(before, state)
    if tv_b * FRACTION_SCALE >= mr_b:
        raise NotLiquidatable(account=victim, total_value=tv_b, required=-(-mr_b // FRACTION_SCALE))
    size = size_of(before, inst)
    _check_reduces(victim, size, 1 - liquidator_side, quantity)
    o, s, m = reference(state, inst)
    reach = s * m.maintenance_fraction
    if (size > 0 and price * FRACTION_SCALE < o * FRACTION_SCALE - reach) or (
        size < 0 and price * FRACTION_SCALE > o * FRACTION_SCALE + reach
    ):
        low = -(-(o * FRACTION_SCALE - reach) // FRACTION_SCALE)
        high = (o * FRACTION_SCALE + reach) // FRACTION_SCALE
        raise LiquidationPriceOutOfBounds(
            price=price,
            low=low if size > 0 else 1,
            high=high if size < 0 else (1 << PRICE_BITS) - 1,
            oracle=o,
            market=inst.code(len(state.markets)),
        )
    filled = fill(victim, before, inst, 1 - liquidator_side, quantity, price, 0)
    tv_f = total_value(filled, state)
    penalty = min(quantity * o * m.liquidation_penalty // FRACTION_SCALE, max(tv_f, 0))
    if tv_f < 0 and price != o:
        raise LiquidationPriceOutOfBounds(
            price=price, low=o, high=o, oracle=o, market=inst.code(len(state.markets))
        )
    draw = shortfall(filled, state)
    fund = state.insurance_fund + fee + penalty
    if draw > fund or draw >> SHORTFALL_BITS:
        raise InsuranceExhausted(account=victim, fund=fund, shortfall=draw)
    after = check_collateral(
        "liquidated", replace(filled, collateral=filled.collateral - penalty + draw)
    )
    if tv_f >= 0 and not ratio_not_worse(before, after, state):
        raise LiquidationNotImproving(
            account=victim, tv_before=tv_b, tv_after=total_value(after, state)
        )
    lq_after = trade_side(lq_index, liquidator, state, inst, liquidator_side, quantity, price, fee)
    return after, lq_after, add_insurance(state, fee + penalty - draw)


def deleverage_price(
    index: int, before: Account, state: GlobalState, inst: Instrument, quantity: int
) -> int:
    """The bankruptcy price of closing ``quantity`` of ``before``'s position in ``inst`` (see
    the module docstring); ``before`` settled, TV < 0, position ≠ 0."""
    size = size_of(before, inst)
    o = reference(state, inst)[0]
    tv_b, mr_b = total_value(before, state), maintenance_risk(before, state)
    closed = fill(index, before, inst, SELL if size > 0 else BUY, quantity, o, 0)
    mr_a = maintenance_risk(closed, state)
    if mr_b:
        num, den = tv_b * (mr_a - mr_b), quantity * mr_b  # num ≥ 0: TV_b < 0, MR_a ≤ MR_b
    else:  # only long options carry no risk: the least favourable price leaving TV ≥ 0
        num, den = -tv_b, quantity
    step = -(-num // den)  # ⌈num / den⌉
    return o + step if size > 0 else o - step


def deleverage(
    indices: tuple[int, int],
    deleveraged: Account,
    deleverager: Account,
    state: GlobalState,
    inst: Instrument,
    quantity: int,
) -> tuple[Account, Account, int]:
    """The deleverage of the module docstring; returns (L after, D after, price)."""
    check_open(state, inst)
    l_index, d_index = indices
    l_b = settle(deleveraged, state)
    tv_b = total_value(l_b, state)
    if tv_b >= 0:
        raise NotBankrupt(account=l_index, total_value=tv_b)
    if state.insurance_fund >= -tv_b:
        raise FundCovers(account=l_index, fund=state.insurance_fund, deficit=-tv_b)
    size_l = size_of(l_b, inst)
    l_side = SELL if size_l > 0 else BUY
    _check_reduces(l_index, size_l, l_side, quantity)
    d_b = settle(deleverager, state)
    _check_reduces(d_index, size_of(d_b, inst), 1 - l_side, quantity)
    price = deleverage_price(l_index, l_b, state, inst, quantity)
    if not 0 < price < 1 << PRICE_BITS:
        raise NotDeleveragable(account=l_index, detail=f"bankruptcy price {price} out of range")
    l_a = check_collateral("deleveraged", fill(l_index, l_b, inst, l_side, quantity, price, 0))
    d_a = check_collateral("deleverager", fill(d_index, d_b, inst, 1 - l_side, quantity, price, 0))
    if not ratio_not_worse(d_b, d_a, state):
        raise NotDeleveragable(account=d_index, detail="the deleverager's TV/TR would get worse")
    return l_a, d_a, price
