"""``rollup.risk`` over the views the app builds (``rollup.node.riskview``) and the native margin
engine (``rollup.margin``) are twins: on random accounts holding perpetuals and options (live,
expired and settled series, long and short, pending funding), the integer TV, initial and
maintenance risk agree exactly; and the report of such an account is well formed."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.spec import DEFAULT_MARKETS, MAX_SERIES, OPTION_SLOTS, PUT, RollupParams
from rollup import margin, risk
from rollup.account import Account, GlobalState, OptionPosition, Position, SeriesState
from rollup.node.riskview import account_views, risk_report

PARAMS = RollupParams(4, 2, DEFAULT_MARKETS[:3])
T0 = 1_800_000_000


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Account, GlobalState]:
    prices = tuple(draw(st.integers(1, 1 << 50)) for _ in PARAMS.markets)
    g = GlobalState.genesis(PARAMS, (1, 2), prices, T0, 7, (3, 4))
    now = T0 + draw(st.integers(0, 10**6))
    markets = tuple(
        replace(m, funding_index=draw(st.integers(-(1 << 40), 1 << 40))) for m in g.markets
    )
    series = []
    for j in range(MAX_SERIES):
        market, kind = draw(st.integers(0, 2)), draw(st.integers(0, 1))
        strike, expiry = draw(st.integers(1, 1 << 50)), T0 + draw(st.integers(1, 2 * 10**6))
        settled = expiry <= now and draw(st.booleans())
        cap = strike if kind == PUT else markets[market].price
        mark = 0 if settled else draw(st.integers(0, cap))
        price = draw(st.integers(1, 1 << 50)) if settled else 0
        series.append(SeriesState(j + 1, market, expiry, strike, kind, mark, price))
    g = replace(g, markets=markets, series=tuple(series), oracle_time=now)
    positions = tuple(
        Position(draw(st.integers(-(1 << 40), 1 << 40)), draw(st.integers(-(1 << 40), 1 << 40)))
        for _ in PARAMS.markets
    )
    slots = draw(st.lists(st.integers(0, MAX_SERIES - 1), max_size=OPTION_SLOTS, unique=True))
    options = [OptionPosition(j, draw(st.integers(-(1 << 39), 1 << 39)) or 1) for j in slots]
    options += [OptionPosition()] * (OPTION_SLOTS - len(options))
    account = Account(5, 6, 0, 0, draw(st.integers(-(1 << 90), 1 << 90)), positions,
                      options=tuple(options))  # fmt: skip
    return account, g


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_risk_views_equal_native_margin(world: tuple[Account, GlobalState]) -> None:
    account, g = world
    view, markets, series, now = account_views(account, g, PARAMS)
    assert risk.total_value(view, markets, series) == margin.total_value(account, g)
    assert risk.initial_risk(view, markets, series, now) == margin.initial_risk(account, g)
    assert risk.maintenance_risk(view, markets, series, now) == margin.maintenance_risk(account, g)
    # free collateral is what the protocol lets go: ≥ 0 exactly when initial margin is met
    # (long options' value left out), and negative exactly when it is not
    free = risk.free_collateral(view, markets, series, now)
    assert (free >= 0) == margin.meets_initial(account, g)


@settings(max_examples=20, deadline=None)
@given(worlds())
def test_risk_report_of_a_native_account(world: tuple[Account, GlobalState]) -> None:
    account, g = world
    report = risk_report(account, g, PARAMS, {1: 0.8})
    assert report["total_value"] == margin.total_value(account, g)
    assert report["liquidatable"] == margin.is_liquidatable(account, g)
    held = {k for k, p in enumerate(account.positions) if p.size}
    held |= {g.series[o.slot].market for o in account.options if o.size}
    assert {m["market"] for m in report["markets"]} == held
    assert isinstance(report["table"], str)
