"""Options natively: listing, marks and settlement prices, trading with premiums, short-option
margin, lazy settlement, open interest and slot reuse, liquidation — each with its negative twin
(named error, nothing changed) — and value conserved across premiums and payoffs."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.spec import BUY, CALL, FRACTION_SCALE, OPTION_BASE, PUT, SELL, VALUE_SCALE
from rollup import errors
from rollup.margin import initial_risk, maintenance_risk, settle, total_value
from rollup.options import requirement_units
from rollup.tx import Liquidate, ListSeries, Marks, Order, Settle, Trade
from tests.rollup.conftest import (
    DOMAIN,
    GENESIS_TIME,
    OPERATOR_KEY,
    ORACLE_KEY,
    PRICE,
    World,
    make_world,
)
from tests.rollup.test_state import oracle, rejected

Q = VALUE_SCALE
EXPIRY = GENESIS_TIME + 7 * 86_400
_ids = itertools.count(1)


def list_series(
    world: World, slot: int = 0, strike: int = PRICE, kind: int = CALL, expiry: int = EXPIRY,
    key: bytes = OPERATOR_KEY, series_id: int | None = None,
) -> ListSeries:  # fmt: skip
    g = world.state.global_state
    sid = g.next_series_id if series_id is None else series_id
    return ListSeries.signed(key, DOMAIN, slot, sid, 0, expiry, strike, kind)


def marks(world: World, values: dict[int, int], flags: int = 0, key=ORACLE_KEY, dt: int = 0):
    g = world.state.global_state
    m = tuple(values.get(j, 0) for j in range(8))
    return Marks.signed(key, DOMAIN, g.oracle_time + dt, m, flags)


def option_order(world: World, account: int, series_id: int, side: int, size: int,
                 limit: int) -> object:  # fmt: skip
    o = Order(account, OPTION_BASE + series_id, side, size, limit, 0, next(_ids), EXPIRY)
    return o.sign(world.keys[account], DOMAIN)


def listed_world(kind: int = CALL, strike: int = PRICE, mark: int = PRICE // 20) -> World:
    world = make_world()
    world.state.apply(list_series(world, strike=strike, kind=kind))
    world.state.apply(marks(world, {0: mark}))
    return world


def option_trade(world: World, q: int, price: int, buyer: int = 0, seller: int = 1) -> Trade:
    return Trade(option_order(world, buyer, 1, BUY, q, price),
                 option_order(world, seller, 1, SELL, q, price), q, price, 0, 0)  # fmt: skip


def value_sum(world: World) -> int:
    g = world.state.global_state
    return sum(total_value(a, g) for a in world.state.accounts.values()) + g.insurance_fund


# -- listing and marks ----------------------------------------------------------------------------
def test_list_series() -> None:
    world = make_world()
    world.state.apply(list_series(world, slot=3, strike=PRICE, kind=PUT))
    g = world.state.global_state
    s = g.series[3]
    assert (s.series_id, s.market, s.strike, s.kind, s.expiry) == (1, 0, PRICE, PUT, EXPIRY)
    assert g.next_series_id == 2 and g.series_by_id(1) == 3


def test_list_series_negative() -> None:
    world = make_world()
    rejected(world, list_series(world, key=ORACLE_KEY), errors.BadSignature)
    rejected(world, list_series(world, expiry=GENESIS_TIME), errors.ValueOutOfRange)
    rejected(world, list_series(world, strike=0), errors.ValueOutOfRange)
    rejected(world, list_series(world, slot=8), errors.ValueOutOfRange)
    rejected(world, list_series(world, series_id=7), errors.SeriesUnavailable)
    world.state.apply(list_series(world))
    rejected(world, list_series(world), errors.SeriesUnavailable)  # slot 0 is busy


def test_marks_bounds_and_settlement() -> None:
    world = make_world()
    world.state.apply(list_series(world, slot=0, kind=CALL))
    world.state.apply(list_series(world, slot=1, kind=PUT, strike=PRICE // 2))
    rejected(world, marks(world, {0: PRICE + 1}), errors.MarkOutOfBounds)  # call ≤ index
    rejected(world, marks(world, {1: PRICE // 2 + 1}), errors.MarkOutOfBounds)  # put ≤ strike
    rejected(world, marks(world, {2: 5}), errors.MarkOutOfBounds)  # empty slot
    rejected(world, marks(world, {0: 5}, flags=1), errors.MarkOutOfBounds)  # before expiry
    rejected(world, marks(world, {0: 5}, dt=1), errors.StaleTimestamp)
    rejected(world, marks(world, {0: 5}, key=OPERATOR_KEY), errors.BadSignature)
    world.state.apply(marks(world, {0: PRICE, 1: PRICE // 2}))
    world.state.apply(oracle(world, dt=EXPIRY - GENESIS_TIME))  # at expiry
    world.state.apply(marks(world, {0: PRICE * 11 // 10}, flags=1))  # settlement price
    s = world.state.global_state.series[0]
    assert s.settlement_price == PRICE * 11 // 10 and s.mark == 0
    rejected(world, marks(world, {0: PRICE}, flags=1), errors.MarkOutOfBounds)  # only once


# -- trading, margin -------------------------------------------------------------------------------
def test_option_trade_pays_the_premium_and_tracks_open_interest() -> None:
    world = listed_world()
    before = value_sum(world)
    premium = PRICE // 20
    world.state.apply(option_trade(world, 100, premium))
    a, b = world.state.account(0), world.state.account(1)
    assert a.options[0].size == 100 and b.options[0].size == -100
    assert a.collateral == 10**6 * Q - 100 * premium
    assert b.collateral == 10**6 * Q + 100 * premium
    assert world.state.global_state.series[0].open_interest == 200  # gross: |100| + |−100|
    assert value_sum(world) == before
    world.state.apply(option_trade(world, 40, premium, buyer=1, seller=0))  # partly closed
    assert world.state.global_state.series[0].open_interest == 120


def test_short_option_margin() -> None:
    """A short call needs max(15%·S − OTM, 10%·S) + mark per contract: an account with little
    collateral can buy but not write many."""
    world = make_world(amount=1000)
    world.state.apply(list_series(world))
    mark = PRICE // 20
    world.state.apply(marks(world, {0: mark}))
    g = world.state.global_state
    im, mm = requirement_units(g.series[0], g.markets[0], g.oracle_time)
    assert im == 150_000 * PRICE + FRACTION_SCALE * mark and mm == 75_000 * PRICE + 10**6 * mark
    can = 1000 * Q * FRACTION_SCALE // im  # contracts the writer's collateral supports
    rejected(world, option_trade(world, can + 50, mark), errors.InsufficientMargin)
    world.state.apply(option_trade(world, can - 5, mark))
    writer = world.state.account(1)
    assert total_value(writer, g) * FRACTION_SCALE >= initial_risk(writer, g)


def test_put_requirement_is_capped_at_the_strike() -> None:
    world = make_world()
    world.state.apply(list_series(world, kind=PUT, strike=PRICE // 100))
    g = world.state.global_state
    im, mm = requirement_units(g.series[0], g.markets[0], g.oracle_time)
    assert im == mm == FRACTION_SCALE * (PRICE // 100)


def test_option_trading_negative() -> None:
    world = listed_world()
    mark = PRICE // 20
    far = mark + PRICE * 6 // 100  # BTC band 5% of the index around the mark
    rejected(world, option_trade(world, 10, far), errors.PriceOutsideBand)
    unlisted = Trade(option_order(world, 0, 9, BUY, 10, mark),
                     option_order(world, 1, 9, SELL, 10, mark), 10, mark, 0, 0)  # fmt: skip
    rejected(world, unlisted, errors.SeriesUnavailable)
    world.state.apply(oracle(world, dt=EXPIRY - GENESIS_TIME))
    rejected(world, option_trade(world, 10, mark), errors.SeriesUnavailable)  # expired


def test_option_slots_fill_up() -> None:
    world = make_world()
    for j in range(5):
        world.state.apply(list_series(world, slot=j))
    world.state.apply(marks(world, {j: PRICE // 20 for j in range(5)}))
    p = PRICE // 20
    for sid in range(1, 5):
        t = Trade(option_order(world, 0, sid, BUY, 1, p), option_order(world, 1, sid, SELL, 1, p),
                  1, p, 0, 0)  # fmt: skip
        world.state.apply(t)
    fifth = Trade(option_order(world, 0, 5, BUY, 1, p), option_order(world, 2, 5, SELL, 1, p),
                  1, p, 0, 0)  # fmt: skip
    rejected(world, fifth, errors.OptionSlotsFull)


# -- expiry, lazy settlement, slot reuse -----------------------------------------------------
def test_settlement_is_lazy_and_conserves_value() -> None:
    world = listed_world()
    world.state.apply(option_trade(world, 100, PRICE // 20))
    world.state.apply(oracle(world, dt=EXPIRY - GENESIS_TIME))
    settle_price = PRICE * 11 // 10
    before = value_sum(world)
    tv = [total_value(world.state.account(i), world.state.global_state) for i in (0, 1)]
    world.state.apply(marks(world, {0: settle_price}, flags=1))
    g = world.state.global_state
    payoff = settle_price - PRICE
    assert [total_value(world.state.account(i), g) for i in (0, 1)] == [
        tv[0] + 100 * (payoff - PRICE // 20),
        tv[1] - 100 * (payoff - PRICE // 20),
    ]
    assert value_sum(world) == before
    assert maintenance_risk(world.state.account(1), g) == 0  # expired: no requirement
    world.state.apply(Settle(0))  # the operator sweeps account 0
    a = world.state.account(0)
    assert a.options[0].size == 0 and a.collateral == 10**6 * Q + 100 * (payoff - PRICE // 20)
    assert world.state.global_state.series[0].open_interest == 100  # the writer's short
    rejected(world, Settle(9), errors.UnknownAccount)
    # the writer is untouched, its position still valued at the payoff: the slot cannot be
    # relisted while anyone holds a position in the series (the short would carry over)
    assert world.state.account(1).options[0].size == -100
    relist = list_series(world, slot=0, expiry=EXPIRY + 86_400)
    rejected(world, relist, errors.SeriesUnavailable)
    world.state.apply(Settle(1))
    assert world.state.global_state.series[0].open_interest == 0
    world.state.apply(relist)  # nobody holds the old series: free
    assert world.state.global_state.series[0].series_id == 2
    assert value_sum(world) == before


def test_a_slot_with_open_interest_cannot_be_relisted() -> None:
    world = listed_world()
    world.state.apply(option_trade(world, 100, PRICE // 20))
    world.state.apply(oracle(world, dt=EXPIRY - GENESIS_TIME))
    world.state.apply(marks(world, {0: PRICE}, flags=1))
    late = list_series(world, slot=0, expiry=EXPIRY + 86_400)
    rejected(world, late, errors.SeriesUnavailable)
    world.state.apply(Settle(0))
    rejected(world, late, errors.SeriesUnavailable)  # the writer still holds its short
    world.state.apply(Settle(1))
    world.state.apply(late)


def test_short_option_holder_is_liquidated_when_the_index_rises() -> None:
    world = make_world(amount=1000)
    world.state.apply(list_series(world))
    mark = PRICE // 20
    world.state.apply(marks(world, {0: mark}))
    g = world.state.global_state
    im = requirement_units(g.series[0], g.markets[0], g.oracle_time)[0]
    q = 1000 * Q * FRACTION_SCALE // im - 5
    world.state.apply(option_trade(world, q, mark))
    up = PRICE * 110 // 100
    world.state.apply(oracle(world, (up,) * 4))
    world.state.apply(marks(world, {0: mark + PRICE * 10 // 100}))
    writer = settle(world.state.account(1), world.state.global_state)
    g = world.state.global_state
    assert total_value(writer, g) * FRACTION_SCALE < maintenance_risk(writer, g)
    world.deposit(2, 10**6)  # a well-funded liquidator takes the short over
    before = value_sum(world)
    new_mark = g.series[0].mark
    lo = Order(2, OPTION_BASE + 1, SELL, q, new_mark, 0, next(_ids), EXPIRY).sign(
        world.keys[2], DOMAIN
    )
    wrong_side = Order(2, OPTION_BASE + 1, BUY, q, new_mark, 0, next(_ids), EXPIRY).sign(
        world.keys[2], DOMAIN
    )
    rejected(world, Liquidate(wrong_side, 1, q, new_mark, 0), errors.OrderMismatch)
    world.state.apply(Liquidate(lo, 1, q, new_mark, 0))
    assert world.state.account(1).options[0].size == 0
    assert world.state.account(2).options[0].size == -q
    assert value_sum(world) == before


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 500), st.integers(1, 40)),
        min_size=1, max_size=10,
    ),
    st.integers(50, 150),
    st.sampled_from([CALL, PUT]),
)  # fmt: skip
def test_premiums_and_payoffs_net_to_zero(trades: list, settle_pct: int, kind: int) -> None:
    """Random option trades, expiry, a settlement price and sweeps: Σ TV + fund is conserved
    exactly at every step and open interest equals Σ long contracts."""
    world = listed_world(kind=kind, strike=PRICE, mark=PRICE // 20)
    total = value_sum(world)
    for buyer, offset, q, pct in trades:
        seller = (buyer + 1 + offset % 2) % 3
        price = PRICE * pct // 1000
        try:
            world.state.apply(option_trade(world, q, price, buyer, seller))
        except errors.RollupError:
            continue
        assert value_sum(world) == total
    world.state.apply(oracle(world, dt=EXPIRY - GENESIS_TIME))
    world.state.apply(marks(world, {0: PRICE * settle_pct // 100}, flags=1))
    assert value_sum(world) == total
    for i in range(3):
        world.state.apply(Settle(i))
        assert value_sum(world) == total
    assert world.state.global_state.series[0].open_interest == 0
    assert all(o.size == 0 for a in world.state.accounts.values() for o in a.options)


def bankrupt_call_holder() -> World:
    """Account 0 long 1000 calls (bought at 10 % of the index), its collateral set below zero
    by hand (no transaction lets it withdraw against them), then the mark collapses: bankrupt
    with no maintenance risk."""
    from dataclasses import replace

    world = listed_world(mark=PRICE // 10)
    world.state.apply(option_trade(world, 1000, PRICE // 10))
    s = world.state
    poor = replace(s.account(0), collateral=-50 * PRICE)
    s.accounts[0] = poor
    s.tree.update(0, poor.leaf())
    world.state.apply(marks(world, {0: PRICE // 100}))
    return world


def test_a_bankrupt_holder_of_long_options_only_is_deleveraged() -> None:
    """Long options carry no maintenance risk; an account below zero beside them that then saw
    the mark collapse is bankrupt with MR = 0: deleverage closes it at the least
    favourable price that leaves its TV ≥ 0, against the writer."""
    from rollup.tx import Deleverage

    world = bankrupt_call_holder()
    g = world.state.global_state
    assert total_value(settle(world.state.account(0), g), g) < 0
    assert maintenance_risk(world.state.account(0), g) == 0
    before = value_sum(world)
    w = world.state.apply(Deleverage(0, 1, OPTION_BASE + 1, 1000))
    g = world.state.global_state
    tv = total_value(world.state.account(0), g)
    assert 0 <= tv < 1000 and w.effect["price"] > g.series[0].mark
    assert value_sum(world) == before


def test_a_sweep_that_would_overflow_collateral_is_refused() -> None:
    """A settlement payoff that would take collateral past 2^95 value units is not written
    (the circuit could not prove such a leaf)."""
    from dataclasses import replace

    world = listed_world()
    world.state.apply(option_trade(world, 100, PRICE // 20))
    world.state.apply(oracle(world, dt=EXPIRY - GENESIS_TIME))
    world.state.apply(marks(world, {0: 2 * PRICE}, flags=1))
    s = world.state
    rich = replace(s.account(0), collateral=(1 << 95) - 2)
    s.accounts[0] = rich
    s.tree.update(0, rich.leaf())
    rejected(world, Settle(0), errors.ValueOutOfRange)
