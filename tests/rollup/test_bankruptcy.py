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


# -- the draw in proportion to the risk the liquidation removes (economics review E3) ---------
def _deficit(world: World) -> int:
    g = world.state.global_state
    return -total_value(settle(world.state.account(0), g), g)


def _expected_draw(world: World, q: int) -> int:
    """⌈D·(MR_b − MR_a) / MR_b⌉ for closing q of account 0's long at the oracle price."""
    g = world.state.global_state
    before = settle(world.state.account(0), g)
    closed = fill(0, before, Instrument(False, 0), SELL, q, g.markets[0].price, 0)
    mr_b, mr_a = maintenance_risk(before, g), maintenance_risk(closed, g)
    return -(-_deficit(world) * (mr_b - mr_a) // mr_b)


def cash_sum(world: World) -> int:
    """Σ collateral (funding-settled) + insurance fund: what a liquidation moves, conserved."""
    g = world.state.global_state
    return sum(settle(a, g).collateral for a in world.state.accounts.values()) + g.insurance_fund


def _liquidate(world: World, q: int) -> None:
    o = world.state.global_state.markets[0].price
    world.state.apply(Liquidate(order(world, 2, BUY, size=q, limit=o), 0, q, o, 0))


def test_liquidating_one_quantum_draws_one_quantums_share_of_the_deficit() -> None:
    """The reproduction of E3: liquidating q = 1 of a bankrupt account used to draw its whole
    deficit (leaving it at TV = 0 with the rest of its position); now ⌈D·ΔMR / MR_b⌉."""
    world = levered(15)
    deficit = _deficit(world)
    set_fund(world, 10**6 * Q)
    before, fund, cash = value_sum(world), world.state.global_state.insurance_fund, cash_sum(world)
    draw = _expected_draw(world, 1)
    assert draw == -(-deficit // BIG)  # ΔMR / MR_b = 1 / BIG for a single position
    l_before = settle(world.state.account(0), world.state.global_state)
    _liquidate(world, 1)
    g = world.state.global_state
    a = world.state.account(0)
    assert fund - g.insurance_fund == draw < deficit // 1000  # the old rule paid `deficit`
    assert total_value(a, g) == draw - deficit < 0  # still bankrupt, liquidatable again
    assert a.positions[0].size == BIG - 1 and is_liquidatable(a, g)
    assert ratio_not_worse(l_before, a, g)
    assert value_sum(world) == before and cash_sum(world) == cash


def test_partial_liquidations_of_a_bankrupt_account_draw_its_deficit_once() -> None:
    """Liquidations in pieces at a fixed price draw exactly the deficit in total, each its
    ⌈share⌉; after a further drop the next pieces draw shares of the new deficit."""
    world = levered(15)
    set_fund(world, 10**6 * Q)
    before, fund0 = value_sum(world), world.state.global_state.insurance_fund
    deficit, cash = _deficit(world), cash_sum(world)
    pieces = [1, 7, BIG // 3, BIG // 5]
    for q in pieces:
        draw, fund = _expected_draw(world, q), world.state.global_state.insurance_fund
        _liquidate(world, q)
        assert fund - world.state.global_state.insurance_fund == draw
        assert value_sum(world) == before and cash_sum(world) == cash
    drawn = fund0 - world.state.global_state.insurance_fund
    assert _deficit(world) == deficit - drawn > 0  # each draw lowered the deficit by itself
    rest = BIG - sum(pieces)
    assert world.state.account(0).positions[0].size == rest
    world.state.apply(oracle(world, (PRICE * 84 // 100,) * 4))  # another 1% drop
    before, deficit = value_sum(world), drawn + _deficit(world)
    for q in (rest // 2, rest - rest // 2):  # the last piece closes the position
        draw, fund = _expected_draw(world, q), world.state.global_state.insurance_fund
        _liquidate(world, q)
        assert fund - world.state.global_state.insurance_fund == draw
    g = world.state.global_state
    a = world.state.account(0)
    assert a.positions[0].size == 0 and total_value(a, g) == 0
    assert fund0 - g.insurance_fund == deficit  # the whole deficit, drawn once
    assert value_sum(world) == before and cash_sum(world) == cash


def test_a_partial_draw_beyond_the_fund_is_refused() -> None:
    world = levered(15)
    draw = _expected_draw(world, BIG // 4)
    assert 0 < draw < _deficit(world)
    set_fund(world, draw - 1)
    o = world.state.global_state.markets[0].price
    lq = Liquidate(order(world, 2, BUY, size=BIG, limit=o), 0, BIG // 4, o, 0)
    rejected(world, lq, errors.InsuranceExhausted)
    set_fund(world, draw)
    world.state.apply(lq)
    assert world.state.global_state.insurance_fund == 0


def test_a_riskless_account_draws_in_proportion_to_the_long_option_value_sold() -> None:
    """MR_b = 0 (long options only): the weight is LV = Σ_{n>0} n·value; selling 1/10 of the
    options at the mark draws ⌈D / 10⌉."""
    from tests.rollup.test_options import bankrupt_call_holder, option_order

    world = bankrupt_call_holder()  # the mark collapsed: TV < 0, MR = 0
    g = world.state.global_state
    assert maintenance_risk(world.state.account(0), g) == 0
    deficit = _deficit(world)
    assert deficit > 0
    set_fund(world, 10**6 * Q)
    world.deposit(2, 10**6)
    before, fund = value_sum(world), world.state.global_state.insurance_fund
    mark = g.series[0].mark
    lq = Liquidate(option_order(world, 2, 1, BUY, 100, mark), 0, 100, mark, 0)
    world.state.apply(lq)
    g = world.state.global_state
    assert fund - g.insurance_fund == -(-deficit // 10)
    assert total_value(world.state.account(0), g) == -(deficit - -(-deficit // 10))
    assert world.state.account(0).options[0].size == 900
    assert value_sum(world) == before
