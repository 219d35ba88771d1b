"""Liquidations with penalties and the insurance fund, and deleverage at the bankruptcy price:
each rule with its negative twin (named error, nothing changed), and value conserved."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.spec import BUY, FRACTION_SCALE, SELL, VALUE_SCALE
from rollup import errors
from rollup.bankruptcy import deleverage_price
from rollup.effects import Instrument, fill
from rollup.margin import (
    is_liquidatable,
    maintenance_risk,
    ratio_not_worse,
    settle,
    total_value,
)
from rollup.tx import Deleverage, Liquidate, Trade
from tests.rollup.conftest import PRICE, World, make_world
from tests.rollup.test_state import oracle, order, rejected

Q = VALUE_SCALE
BIG = 10**6 * Q // PRICE * 9  #: account 0's long at 9× leverage, account 1 short


def levered(drop_pct: int) -> World:
    """Account 0 long BIG, account 1 short BIG, then the oracle price drops by ``drop_pct``%."""
    world = make_world()
    world.state.apply(Trade(order(world, 0, BUY, size=BIG), order(world, 1, SELL, size=BIG), BIG,
                            PRICE, 0, 0))  # fmt: skip
    world.state.apply(oracle(world, (PRICE * (100 - drop_pct) // 100,) * 4))
    return world


def value_sum(world: World) -> int:
    """Σ TV + insurance fund (value units): conserved by every transaction here."""
    g = world.state.global_state
    return sum(total_value(a, g) for a in world.state.accounts.values()) + g.insurance_fund


def set_fund(world: World, fund: int) -> None:
    world.state.global_state = replace(world.state.global_state, insurance_fund=fund)


def test_liquidation_pays_a_penalty_to_the_fund() -> None:
    world = levered(7)
    g = world.state.global_state
    assert is_liquidatable(world.state.account(0), g)
    oracle_price = g.markets[0].price
    before = value_sum(world)
    lq = Liquidate(order(world, 2, BUY, size=BIG, limit=oracle_price), 0, BIG, oracle_price, 0)
    w = world.state.apply(lq)
    assert w.updates[0].index == 0 and w.updates[1].index == 2
    a = world.state.account(0)
    penalty = BIG * oracle_price * 10_000 // FRACTION_SCALE
    assert a.positions[0].size == 0 and world.state.account(2).positions[0].size == BIG
    assert world.state.global_state.insurance_fund == penalty
    assert total_value(a, world.state.global_state) >= 0
    assert value_sum(world) == before


def test_penalty_never_exceeds_the_remaining_equity() -> None:
    world = levered(10)  # TV = 10^6 − 900,000 = 100,000 quanta, penalty 1% of 8.1M = 81,000
    o = world.state.global_state.markets[0].price
    tv = total_value(world.state.account(0), world.state.global_state)
    lq = Liquidate(order(world, 2, BUY, size=BIG, limit=o), 0, BIG, o, 0)
    world.state.apply(lq)
    assert world.state.global_state.insurance_fund == min(BIG * o * 10_000 // FRACTION_SCALE, tv)


def test_bankrupt_liquidation_draws_the_shortfall_at_the_oracle_price() -> None:
    world = levered(15)  # TV ≈ −350,000 quanta
    o = world.state.global_state.markets[0].price
    deficit = -total_value(settle(world.state.account(0), world.state.global_state),
                           world.state.global_state)  # fmt: skip
    assert deficit > 0
    set_fund(world, deficit + 7)
    before = value_sum(world)
    discount = Liquidate(order(world, 2, BUY, size=BIG, limit=o), 0, BIG, o - 1, 0)
    rejected(world, discount, errors.LiquidationPriceOutOfBounds)  # the fund pays no discount
    world.state.apply(Liquidate(order(world, 2, BUY, size=BIG, limit=o), 0, BIG, o, 0))
    a = world.state.account(0)
    assert total_value(a, world.state.global_state) == 0 and a.positions[0].size == 0
    assert world.state.global_state.insurance_fund == 7
    assert value_sum(world) == before


def test_exhausted_fund_refuses_liquidation_and_deleverage_closes_it() -> None:
    world = levered(15)
    g = world.state.global_state
    o = g.markets[0].price
    set_fund(world, 1000 * Q)
    exhausted = Liquidate(order(world, 2, BUY, size=BIG, limit=o), 0, BIG, o, 0)
    assert isinstance(rejected(world, exhausted, errors.InsuranceExhausted), errors.RollupError)
    before = value_sum(world)
    d_before = settle(world.state.account(1), world.state.global_state)
    w = world.state.apply(Deleverage(0, 1, 0, BIG))
    a, d = world.state.account(0), world.state.account(1)
    g = world.state.global_state
    assert a.positions[0].size == 0 and d.positions[0].size == 0
    assert 0 <= total_value(a, g) < BIG  # the least favourable price that leaves L at ≥ 0
    assert w.effect["price"] > o  # L long sells above the oracle price: D absorbs the deficit
    assert total_value(d, g) * maintenance_risk(d_before, g) >= total_value(
        d_before, g
    ) * maintenance_risk(d, g)
    assert value_sum(world) == before


def test_deleverage_price_is_the_least_favourable_that_keeps_the_ratio() -> None:
    world = levered(15)
    s = world.state
    g = s.global_state
    btc = Instrument(False, 0)
    for q in (1, 7, BIG // 3, BIG):
        l_b = settle(s.account(0), g)
        p = deleverage_price(0, l_b, g, btc, q)
        assert ratio_not_worse(l_b, fill(0, l_b, btc, SELL, q, p, 0), g)
        assert not ratio_not_worse(l_b, fill(0, l_b, btc, SELL, q, p - 1, 0), g)


def test_short_bankrupt_deleverage() -> None:
    world = make_world()
    world.state.apply(Trade(order(world, 0, SELL, size=BIG), order(world, 1, BUY, size=BIG), BIG,
                            PRICE, 0, 0))  # fmt: skip
    world.state.apply(oracle(world, (PRICE * 115 // 100,) * 4))
    o = world.state.global_state.markets[0].price
    w = world.state.apply(Deleverage(0, 1, 0, BIG // 2))
    assert w.effect["price"] < o  # L short buys back below the oracle price
    assert world.state.account(0).positions[0].size == -(BIG - BIG // 2)


def test_liquidation_negative() -> None:
    world = levered(7)
    o = world.state.global_state.markets[0].price
    price = o * 96 // 100
    ok = order(world, 2, BUY, size=BIG, limit=o)
    rejected(world, Liquidate(ok, 1, 5, price, 0), errors.NotLiquidatable)
    wrong_side = order(world, 2, SELL, size=BIG, limit=1)
    rejected(world, Liquidate(wrong_side, 0, 5, price, 0), errors.OrderMismatch)
    cheap = o * 90 // 100  # below the 5% maintenance band
    rejected(world, Liquidate(ok, 0, 5, cheap, 0), errors.LiquidationPriceOutOfBounds)
    too_big = order(world, 2, BUY, size=2 * BIG, limit=o)
    rejected(world, Liquidate(too_big, 0, BIG + 1, price, 0), errors.SizeExceeded)
    rejected(world, Liquidate(ok, 0, 5, o + 1, 0), errors.LimitPriceViolated)
    rejected(world, Liquidate(order(world, 0, BUY, size=BIG, limit=o), 0, 5, price, 0),
             errors.SelfTrade)  # fmt: skip
    # at the band's lower edge the account loses value faster than risk: TV/TR gets worse
    edge = -(-o * 95 // 100)
    rejected(world, Liquidate(ok, 0, BIG // 2, edge, 0), errors.LiquidationNotImproving)
    # closing everything there would leave a shortfall the fund must not pay at a discount
    rejected(world, Liquidate(ok, 0, BIG, edge, 0), errors.LiquidationPriceOutOfBounds)


def test_deleverage_negative() -> None:
    world = levered(15)
    rejected(world, Deleverage(1, 0, 0, 5), errors.NotDeleveragable)  # 1 is not bankrupt
    rejected(world, Deleverage(0, 0, 0, 5), errors.SelfTrade)
    rejected(world, Deleverage(0, 2, 0, 5), errors.OrderMismatch)  # 2 holds no position
    rejected(world, Deleverage(0, 1, 0, BIG + 1), errors.SizeExceeded)
    rejected(world, Deleverage(0, 1, 4, 5), errors.MarketOutOfRange)
    rejected(world, Deleverage(0, 1, 0, 0), errors.ValueOutOfRange)
    deficit = -total_value(world.state.account(0), world.state.global_state)
    set_fund(world, deficit)
    rejected(world, Deleverage(0, 1, 0, 5), errors.NotDeleveragable)  # the fund covers it


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(6, 25),
    st.integers(0, 2 * 10**6),
    st.lists(
        st.tuples(st.sampled_from(["liquidate", "deleverage"]), st.integers(1, BIG),
                  st.integers(-5, 0)),
        min_size=1, max_size=6,
    ),
)  # fmt: skip
def test_bankruptcy_paths_conserve_value(drop: int, fund_quanta: int, steps: list) -> None:
    """After a price gap, any sequence of liquidations (any size, any in-band price) and
    deleverages conserves Σ TV + fund exactly, never creates negative TV, and leaves the
    bankrupt account at TV ≥ 0 once its position is closed."""
    world = levered(drop)
    set_fund(world, fund_quanta * Q)
    total = value_sum(world)
    for kind, q, tick in steps:
        g = world.state.global_state
        o = g.markets[0].price
        tvs = {i: total_value(settle(a, g), g) for i, a in world.state.accounts.items()}
        if kind == "liquidate":
            price = o * (100 + tick) // 100
            tx = Liquidate(order(world, 2, BUY, size=q, limit=price), 0, q, price, 0)
        else:
            tx = Deleverage(0, 1, 0, q)
        try:
            world.state.apply(tx)
        except errors.RollupError:
            continue
        g = world.state.global_state
        assert value_sum(world) == total and g.insurance_fund >= 0
        for i, a in world.state.accounts.items():
            tv = total_value(settle(a, g), g)
            assert tv >= 0 or tvs[i] < 0
        if world.state.account(0).positions[0].size == 0:
            assert total_value(world.state.account(0), g) >= 0


# -- the draw: the whole deficit, once, when the account is left with nothing ------------------
def _deficit(world: World) -> int:
    g = world.state.global_state
    return -total_value(settle(world.state.account(0), g), g)


def cash_sum(world: World) -> int:
    """Σ collateral (funding-settled) + insurance fund: what a liquidation moves, conserved."""
    g = world.state.global_state
    return sum(settle(a, g).collateral for a in world.state.accounts.values()) + g.insurance_fund


def _liquidate(world: World, q: int, market: int = 0) -> None:
    o = world.state.global_state.markets[market].price
    tx = Liquidate(order(world, 2, BUY, size=q, limit=o, market=market), 0, q, o, 0)
    world.state.apply(tx)


def test_liquidating_one_quantum_of_a_bankrupt_account_draws_nothing() -> None:
    """The reproduction of E3: liquidating q = 1 of a bankrupt account used to draw its whole
    deficit, leaving it the rest of its position's upside. Now a partial fill at the oracle
    price moves no value and draws nothing (the TV/TR rule is waived: nothing to protect)."""
    world = levered(15)
    deficit = _deficit(world)
    set_fund(world, 10**6 * Q)
    before, fund, cash = value_sum(world), world.state.global_state.insurance_fund, cash_sum(world)
    _liquidate(world, 1)
    g = world.state.global_state
    a = world.state.account(0)
    assert g.insurance_fund == fund and total_value(a, g) == -deficit
    assert a.positions[0].size == BIG - 1 and is_liquidatable(a, g)
    assert value_sum(world) == before and cash_sum(world) == cash


def test_partial_liquidations_of_a_bankrupt_account_draw_its_deficit_once() -> None:
    """Liquidations in pieces draw nothing until the last closes the position; it draws the
    deficit at that moment (after a further drop: the larger one), exactly once."""
    world = levered(15)
    set_fund(world, 10**6 * Q)
    before, fund0, cash = value_sum(world), world.state.global_state.insurance_fund, cash_sum(world)
    pieces = [1, 7, BIG // 3, BIG // 5]
    for q in pieces:
        _liquidate(world, q)
        assert world.state.global_state.insurance_fund == fund0
        assert value_sum(world) == before and cash_sum(world) == cash
    rest = BIG - sum(pieces)
    assert world.state.account(0).positions[0].size == rest
    world.state.apply(oracle(world, (PRICE * 84 // 100,) * 4))  # another 1% drop
    before = value_sum(world)
    _liquidate(world, rest // 2)
    assert world.state.global_state.insurance_fund == fund0
    deficit = _deficit(world)
    _liquidate(world, rest - rest // 2)  # the last piece closes the position
    g = world.state.global_state
    a = world.state.account(0)
    assert a.positions[0].size == 0 and total_value(a, g) == 0
    assert fund0 - g.insurance_fund == deficit  # the whole deficit, drawn once
    assert value_sum(world) == before and cash_sum(world) == cash


def test_the_closing_draw_beyond_the_fund_is_refused() -> None:
    world = levered(15)
    _liquidate(world, BIG // 4)  # no draw: the fund may be empty
    deficit = _deficit(world)
    set_fund(world, deficit - 1)
    o = world.state.global_state.markets[0].price
    lq = Liquidate(order(world, 2, BUY, size=BIG, limit=o), 0, BIG - BIG // 4, o, 0)
    rejected(world, lq, errors.InsuranceExhausted)
    set_fund(world, deficit)
    world.state.apply(lq)
    assert world.state.global_state.insurance_fund == 0


def test_closing_a_market_without_the_loss_draws_nothing() -> None:
    """Review F4: A long in markets 0 and 1, market 0 falls 50% (A bankrupt), market 1 does
    not move. Liquidating all of market 1 used to draw the deficit in proportion to the risk
    removed (19,999 quanta); A kept its losing market-0 position, whose recovery the fund had
    paid for. Now nothing is drawn while a position is left; the twin closes market 0 too."""
    world = make_world(amount=20_000)
    q = 100_000 * Q // PRICE  # long q in each market: initial margin 2·10% of q·PRICE = 20,000q
    for m in (0, 1):
        buy, sell = order(world, 0, BUY, size=q, market=m), order(world, 1, SELL, size=q, market=m)
        world.state.apply(Trade(buy, sell, q, PRICE, 0, 0))
    world.state.apply(oracle(world, (PRICE // 2, PRICE, PRICE, PRICE)))
    assert _deficit(world) > 0
    set_fund(world, 10**6 * Q)
    fund, cash = world.state.global_state.insurance_fund, cash_sum(world)
    _liquidate(world, q, market=1)
    g = world.state.global_state
    a = world.state.account(0)
    assert g.insurance_fund == fund and a.positions[1].size == 0 and a.positions[0].size == q
    world.state.apply(oracle(world, (PRICE, PRICE, PRICE, PRICE)))  # market 0 recovers
    g = world.state.global_state
    assert total_value(settle(world.state.account(0), g), g) > 0 and g.insurance_fund == fund
    assert cash_sum(world) == cash
    # twin: it does not recover, and closing market 0 too draws the whole deficit
    world.state.apply(oracle(world, (PRICE // 2, PRICE, PRICE, PRICE)))
    deficit = _deficit(world)
    _liquidate(world, q, market=0)
    assert fund - world.state.global_state.insurance_fund == deficit
    assert cash_sum(world) == cash


def test_a_riskless_account_draws_once_its_long_options_are_sold() -> None:
    """MR_b = 0 (long options only): selling 1/10 of the options at mark' draws nothing;
    selling the rest draws the deficit."""
    from tests.rollup.test_options import bankrupt_call_holder, option_order

    world = bankrupt_call_holder()  # the mark collapsed: TV < 0, MR = 0
    g = world.state.global_state
    assert maintenance_risk(world.state.account(0), g) == 0
    deficit = _deficit(world)
    assert deficit > 0
    set_fund(world, 10**6 * Q)
    world.deposit(2, 10**6)
    before, fund = value_sum(world), world.state.global_state.insurance_fund
    mark = g.series[0].marked_value(g.markets[0].price)
    world.state.apply(Liquidate(option_order(world, 2, 1, BUY, 100, mark), 0, 100, mark, 0))
    g = world.state.global_state
    assert g.insurance_fund == fund and total_value(world.state.account(0), g) == -deficit
    assert world.state.account(0).options[0].size == 900
    world.state.apply(Liquidate(option_order(world, 2, 1, BUY, 900, mark), 0, 900, mark, 0))
    g = world.state.global_state
    assert fund - g.insurance_fund == deficit and total_value(world.state.account(0), g) == 0
    assert value_sum(world) == before
