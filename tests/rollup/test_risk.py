"""The integer margin of perps and options by hand, the risk report's Greeks, liquidation prices
and scenarios, and every malformed view refused with a one-line ValueError.

Hand-computed cases use an index S = 1000 value units per base quantum (risk is value units ·
10^6): α·S = 150·10^6, β·S = 100·10^6, γ·S = 75·10^6.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rollup.pricing import SECONDS_PER_YEAR, black76, greeks, option_mark
from rollup.risk import (
    AccountView,
    MarketView,
    SeriesView,
    free_collateral,
    initial_risk,
    liquidation_price,
    maintenance_risk,
    move_index,
    risk_report,
    total_value,
)

NOW, EXPIRY = 1_000_000, 1_000_000 + 30 * 86_400
S = 1000
X = MarketView("X", 0, S, 100_000, 50_000)
Y = MarketView("Y", 2, 40 * S, 200_000, 100_000)
MARKETS = (X, Y)
M6 = 10**6


def series(
    sid: int, kind: str, strike: int, mark: int, settled: int = 0, market: int = 0
) -> SeriesView:
    return SeriesView(sid, market, kind, strike, EXPIRY, mark, settled, 0.8)


def margins(
    account: AccountView, views: tuple[SeriesView, ...], now: int = NOW
) -> tuple[int, int, int]:
    return (
        total_value(account, MARKETS, views),
        initial_risk(account, MARKETS, views, now),
        maintenance_risk(account, MARKETS, views, now),
    )


# --- margin by hand -------------------------------------------------------------------------------

#: (kind, strike, mark, contracts, IM, MM): short options on X at S = 1000
CASES = [
    ("call", 900, 150, 3, 0, 0),  # long: nothing
    ("put", 1100, 120, 3, 0, 0),
    ("call", 900, 150, -2, 2 * (150 + 150) * M6, 2 * (75 + 150) * M6),  # ITM: OTM = 0
    ("call", 1020, 60, -1, (150 - 20 + 60) * M6, (75 + 60) * M6),  # OTM 20: α·S − OTM > β·S
    ("call", 1100, 30, -2, 2 * (100 + 30) * M6, 2 * (75 + 30) * M6),  # OTM 100: β·S floor
    ("put", 900, 20, -1, (100 + 20) * M6, (75 + 20) * M6),  # OTM 100
    ("put", 1100, 120, -1, (150 + 120) * M6, (75 + 120) * M6),  # ITM
    ("put", 90, 1, -3, 3 * 90 * M6, 3 * (75 + 1) * M6),  # IM capped at K, MM not
    ("put", 50, 0, -4, 4 * 50 * M6, 4 * 50 * M6),  # both capped at K
]


@pytest.mark.parametrize(("kind", "strike", "mark", "n", "im", "mm"), CASES)
def test_option_margin_by_hand(kind: str, strike: int, mark: int, n: int, im: int, mm: int) -> None:
    account = AccountView(10**6, options=((7, n),))
    views = (series(7, kind, strike, mark),)
    assert margins(account, views) == (10**6 + n * mark, im, mm)
    # a long's value is not collateral: free = TV − LV − ceil(IM / 10^6)
    free = 10**6 + min(n, 0) * mark - math.ceil(im / M6)
    assert free_collateral(account, MARKETS, views, NOW) == free


def test_expired_series_keep_their_requirement_until_settled() -> None:
    """After expiry an unsettled short keeps its requirement (worth its mark, still owing the
    payoff); once settled it needs nothing and is worth its payoff at the settlement price."""
    account = AccountView(10**6, options=((1, -2), (2, -3)))
    open_ = (series(1, "call", 900, 150), series(2, "put", 900, 20))
    before = margins(account, open_, EXPIRY - 1)
    assert before[0] == 10**6 - 300 - 60 and before[1] > 0
    for now in (EXPIRY, EXPIRY + 1):
        assert margins(account, open_, now) == before
    settled = (series(1, "call", 900, 150, settled=1200), series(2, "put", 900, 20, settled=1200))
    assert margins(account, settled, EXPIRY) == (10**6 - 2 * 300 - 3 * 0, 0, 0)
    put_itm = (series(1, "call", 900, 0, settled=850), series(2, "put", 900, 50, settled=850))
    assert margins(account, put_itm, EXPIRY) == (10**6 - 0 - 3 * 50, 0, 0)


def test_perps_and_options_add_up() -> None:
    account = AccountView(-5000, perps=((0, 10), (1, -3)), options=((1, -2),))
    views = (series(1, "call", 1100, 30),)
    tv, im, mm = margins(account, views)
    assert tv == -5000 + 10 * S - 3 * 40 * S - 2 * 30
    assert im == 10 * S * 100_000 + 3 * 40 * S * 200_000 + 2 * (100 + 30) * M6
    assert mm == 10 * S * 50_000 + 3 * 40 * S * 100_000 + 2 * (75 + 30) * M6


# --- Greeks and scenarios -------------------------------------------------------------------------


def test_perp_delta_is_its_size() -> None:
    report = risk_report(AccountView(10**9, perps=((0, -17), (1, 5))), MARKETS, (), NOW)
    assert [(m.name, m.delta, m.gamma, m.vega, m.theta) for m in report.markets] == [
        ("X", -17.0, 0.0, 0.0, 0.0),
        ("Y", 5.0, 0.0, 0.0, 0.0),
    ]


BOOK = (
    series(1, "call", 1100, 30),
    series(2, "put", 900, 20),
    series(3, "call", 950, 80),
    SeriesView(4, 1, "put", 42_000, EXPIRY + 86_400, 2000, 0, 0.5),
    SeriesView(5, 0, "call", 900, NOW - 1, 0, 1200, 0.8),  # expired and settled at 1200
)


def test_portfolio_greeks_are_sums() -> None:
    t = (EXPIRY - NOW) / SECONDS_PER_YEAR
    legs = ((1, -4), (2, 3), (3, 2))
    report = risk_report(AccountView(10**9, ((0, 7),), legs), MARKETS, BOOK, NOW)
    (x,) = report.markets
    parts = [greeks(BOOK[sid - 1].kind, S, BOOK[sid - 1].strike, t, 0.8) for sid, _ in legs]
    assert x.delta == pytest.approx(
        7 + sum(n * g.delta for (_, n), g in zip(legs, parts, strict=True))
    )
    for greek in ("gamma", "vega", "theta"):
        expected = sum(n * getattr(g, greek) for (_, n), g in zip(legs, parts, strict=True))
        assert getattr(x, greek) == pytest.approx(expected, rel=1e-12)
    # the report of a combined book is the sum of the reports of its parts
    one = risk_report(AccountView(10**9, options=legs[:1]), MARKETS, BOOK, NOW).markets[0]
    two = risk_report(AccountView(10**9, ((0, 7),), legs[1:]), MARKETS, BOOK, NOW).markets[0]
    for greek in ("delta", "gamma", "vega", "theta"):
        total = getattr(one, greek) + getattr(two, greek)
        assert getattr(x, greek) == pytest.approx(total, rel=1e-12, abs=1e-15)


def test_settled_series_carry_no_greeks() -> None:
    report = risk_report(AccountView(10**9, options=((5, 10),)), MARKETS, BOOK, NOW)
    (x,) = report.markets
    assert (x.delta, x.gamma, x.vega, x.theta) == (0.0, 0.0, 0.0, 0.0)
    assert all(c.perp_pnl == 0 and c.option_pnl == 0.0 for c in x.scenarios)


@settings(max_examples=30, deadline=None)
@given(st.integers(-(10**6), 10**6), st.integers(1, 10**9))
def test_perp_scenarios_are_exactly_linear(size: int, twentieths: int) -> None:
    index = 20 * twentieths  # S·(100 ± 10)/100 and S·(100 ± 25)/100 are integers
    market = MarketView("Z", 0, index, 100_000, 50_000)
    report = risk_report(AccountView(10**28, ((0, size),)), (market,), (), NOW)
    scenarios = report.markets[0].scenarios
    assert [c.move_pct for c in scenarios] == [-25, -10, 10, 25]
    assert [c.perp_pnl for c in scenarios] == [size * index * p // 100 for p in (-25, -10, 10, 25)]
    assert [c.index_price - index for c in scenarios] == [
        index * p // 100 for p in (-25, -10, 10, 25)
    ]
    assert all(c.option_pnl == 0.0 for c in scenarios)


def test_option_scenarios_reprice_by_black76() -> None:
    report = risk_report(AccountView(10**9, options=((1, -4), (4, 2))), MARKETS, BOOK, NOW)
    x, y = report.markets
    t = (EXPIRY - NOW) / SECONDS_PER_YEAR
    for c in x.scenarios:
        v = black76("call", c.index_price, 1100, t, 0.8) - black76("call", S, 1100, t, 0.8)
        assert c.option_pnl == pytest.approx(-4 * v, rel=1e-12)
    up = y.scenarios[-1]
    ty = (EXPIRY + 86_400 - NOW) / SECONDS_PER_YEAR
    v = black76("put", 50_000, 42_000, ty, 0.5) - black76("put", 40_000, 42_000, ty, 0.5)
    assert (up.index_price, up.option_pnl) == (50_000, pytest.approx(2 * v, rel=1e-12))


# --- liquidation price ----------------------------------------------------------------------------


def health(account: AccountView, views: tuple[SeriesView, ...], market: int, price: int) -> int:
    """h(P) = TV·10^6 − MM with the market's index at P and its series re-marked."""
    ms, ss = move_index(MARKETS, views, market, price, NOW)
    return total_value(account, ms, ss) * M6 - maintenance_risk(account, ms, ss, NOW)


def assert_boundary(account: AccountView, views: tuple[SeriesView, ...], market: int) -> int:
    """L is liquidatable and its neighbour towards S (away from S if liquidatable at S) is not."""
    index = MARKETS[market].index_price
    price = liquidation_price(account, MARKETS, views, market, NOW)
    assert price is not None
    towards = 1 if price < index else -1
    if health(account, views, market, index) < 0:
        towards = -towards
    assert (
        health(account, views, market, price) < 0 <= health(account, views, market, price + towards)
    )
    return price


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 10**6), st.integers(-(10**9), 10**9))
@example(1, -500)  # L = 526 < S
@example(1, -960)  # liquidatable at S, recovers above L = 1010
@example(1, -(10**6))  # recovers only beyond 100·S
@example(1, 5)  # never liquidatable
def test_perp_liquidation_price_is_exact(size: int, collateral: int) -> None:
    """Long perp: h(P) = C·10^6 + P·q·(10^6 − mf) < 0 iff P < −C·10^6 / (q·(10^6 − mf)), so
    L = ⌈−C·10^6 / slope⌉ − 1 = (−C·10^6 − 1) // slope, if that lies in [1, S)."""
    account = AccountView(collateral, perps=((0, size),))
    slope = size * (M6 - X.maintenance_fraction)
    expected = (-collateral * M6 - 1) // slope
    price = liquidation_price(account, MARKETS, (), 0, NOW)
    if 1 <= expected < S:
        assert price == expected == assert_boundary(account, (), 0)
    elif expected >= S:  # liquidatable now: the last liquidatable price before recovery
        assert price == (expected if expected < 100 * S else None)
        assert price is None or price == assert_boundary(account, (), 0)
    else:
        assert price is None


#: up to three legs on X (series 1: call 1100, 2: put 900, 3: call 950), at most once each
LEGS = st.lists(
    st.tuples(st.sampled_from([1, 2, 3]), st.integers(-5, 5)), max_size=3, unique_by=lambda x: x[0]
)


@settings(max_examples=25, deadline=None)
@given(st.integers(-2000, 5000), st.integers(-3, 3), LEGS)
def test_liquidation_price_is_a_boundary(
    collateral: int, size: int, legs: list[tuple[int, int]]
) -> None:
    """Whenever a price is found it is a width-1 bracket of the sign change of TV·10^6 − MM;
    when none is, the sign is the same at 1, S and 100·S."""
    views = BOOK[:3]
    account = AccountView(collateral, ((0, size),), tuple(legs))
    price = liquidation_price(account, MARKETS, views, 0, NOW)
    if price is not None:
        assert_boundary(account, views, 0)
    else:
        signs = {health(account, views, 0, p) >= 0 for p in (1, S, 100 * S)}
        assert len(signs) == 1


def marked(sid: int, kind: str, strike: int) -> SeriesView:
    """A series on X marked by Black-76 at its iv (80 %), as ``move_index`` re-marks it."""
    mark = option_mark(kind, S, strike, NOW, EXPIRY, 0.8, 0.8, 0.8)
    return SeriesView(sid, 0, kind, strike, EXPIRY, mark, 0, 0.8)


def test_short_call_liquidates_upwards() -> None:
    views, account = (marked(1, "call", 1100),), AccountView(300, options=((1, -1),))
    assert health(account, views, 0, S) >= 0
    assert assert_boundary(account, views, 0) > S


def test_short_straddle_takes_the_nearer_side() -> None:
    views = (marked(1, "call", S), marked(2, "put", S))
    account = AccountView(400, perps=((0, 1),), options=((1, -1), (2, -1)))
    price = assert_boundary(account, views, 0)
    assert price < S and health(account, views, 0, S * S // price) >= 0  # the upside is farther


def test_liquidatable_now_recovers() -> None:
    """h(P) = −960·10^6 + P·950,000: negative at S, non-negative from P = 1011 on."""
    account = AccountView(-960, perps=((0, 1),))
    assert assert_boundary(account, (), 0) == 1010 and health(account, (), 0, S) < 0


def test_no_liquidation_price() -> None:
    account = AccountView(10**6, options=((3, 5),))
    assert liquidation_price(account, MARKETS, BOOK, 0, NOW) is None
    short = AccountView(200 * S, perps=((0, -1),))  # h(P) = 200·S·10^6 − P·1.05·10^6: P > 100·S
    assert liquidation_price(short, MARKETS, (), 0, NOW) is None


# --- report output --------------------------------------------------------------------------------


def test_to_json_and_table() -> None:
    account = AccountView(10**9, ((0, 7), (1, -2)), ((1, -4), (4, 2)))
    report = risk_report(account, MARKETS, BOOK, NOW)
    out = report.to_json()
    assert json.loads(json.dumps(out)) == out
    assert list(out) == [
        "now_s", "total_value", "initial_margin", "maintenance_margin", "free_collateral",
        "liquidatable", "markets", "total_value_usd", "initial_margin_usd",
        "maintenance_margin_usd", "free_collateral_usd",
    ]  # fmt: skip
    assert list(out["markets"][0]) == [
        "market", "name", "base_decimals", "index_price", "perp_size", "delta", "gamma", "vega",
        "theta", "initial_margin", "maintenance_margin", "liquidation_price", "scenarios",
        "index_price_usd", "liquidation_price_usd", "initial_margin_usd", "maintenance_margin_usd",
    ]  # fmt: skip
    assert list(out["markets"][0]["scenarios"][0]) == [
        "move_pct", "index_price", "perp_pnl", "option_pnl", "pnl_usd"
    ]  # fmt: skip
    tv, im, mm = margins(account, BOOK)
    assert (out["total_value"], out["initial_margin"]) == (tv, -(-im // M6))
    assert out["maintenance_margin"] == -(-mm // M6) and out["liquidatable"] is False
    assert out["free_collateral"] == free_collateral(account, MARKETS, BOOK, NOW)
    assert out["markets"][1]["index_price_usd"] == pytest.approx(40 * S * 100 / 2**32 / 1e6)
    lines = report.format_table().splitlines()
    assert len(lines) == 4 and lines[2].startswith("X ") and lines[3].startswith("Y ")


# --- negative twins -------------------------------------------------------------------------------


BAD_VIEWS = [
    (lambda: MarketView("", 0, S, 1, 1), "market name must be a non-empty string, got ''"),
    (lambda: MarketView("X", 0, 0, 1, 1), "X: index_price must be an integer in [1, "),
    (lambda: MarketView("X", 0, S, 1, 2), "X: initial_fraction must be an integer in [2, 1000000]"),
    (
        lambda: MarketView("X", 0, S, 2, 1, 100, 200),
        "X: option_initial must be an integer in [200,",
    ),
    (
        lambda: MarketView("X", 0, S, 2, 1, 3, 2, 5),
        "X: option_maintenance must be an integer in [0, 2]",
    ),
    (
        lambda: SeriesView(1, 0, "straddle", 10, 0, 0, 0, 0.5),
        "series 1: kind must be 'call' or 'put'",
    ),
    (
        lambda: SeriesView(1, 0, "put", 10, 0, 11, 0, 0.5),
        "series 1: mark must be an integer in [0, 10]",
    ),
    (lambda: SeriesView(1, 0, "put", True, 0, 0, 0, 0.5), "series 1: strike must be an integer in"),
    (
        lambda: SeriesView(1, 0, "put", 10, 0, 0, -1, 0.5),
        "series 1: settlement_price must be an inte",
    ),
    (
        lambda: SeriesView(1, 0, "call", 10, 0, 0, 0, math.nan),
        "series 1: iv must be a finite number >=",
    ),
    (lambda: SeriesView(-1, 0, "call", 10, 0, 0, 0, 0.5), "series_id must be an integer in [0, "),
    (lambda: AccountView(1.5), "collateral must be an integer in ["),
    (lambda: AccountView(0, [(0, 1)]), "perps must be a tuple of (id, size) pairs, got [(0, 1)]"),
    (lambda: AccountView(0, ((0, 1, 2),)), "perps: (0, 1, 2) is not an (id, size) pair"),
    (lambda: AccountView(0, ((0, 1), (0, 2))), "perps: id 0 appears twice"),
    (lambda: AccountView(0, (), ((3, 1 << 48),)), "options 3: size must be an integer in [-28147"),
]


@pytest.mark.parametrize(("make", "message"), BAD_VIEWS)
def test_malformed_views(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError) as err:
        make()
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


BAD_BOOKS = [
    (AccountView(0, options=((9, -1),)), BOOK, "the account holds series 9, which is not among"),
    (AccountView(0, ((2, 1),)), (), "perp market 2 is not among the 2 markets"),
    (
        AccountView(0),
        (series(1, "call", 10, 0), series(1, "put", 10, 0)),
        "series 1 is given twice",
    ),
    (AccountView(0), (series(1, "call", 10, 0, market=5),), "series 1: market 5 is not among the"),
    (
        AccountView(0),
        (series(1, "call", 10, 0, settled=12),),
        "series 1 is settled before its expiry",
    ),
]


@pytest.mark.parametrize(("account", "views", "message"), BAD_BOOKS)
def test_malformed_books(account: AccountView, views: tuple[SeriesView, ...], message: str) -> None:
    with pytest.raises(ValueError) as err:
        risk_report(account, MARKETS, views, NOW)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_bad_arguments() -> None:
    for call, message in (
        (lambda: maintenance_risk(AccountView(0), MARKETS, (), -1), "now_s must be an integer in"),
        (
            lambda: liquidation_price(AccountView(0), MARKETS, (), 2, NOW),
            "market must be an integer",
        ),
    ):
        with pytest.raises(ValueError, match="^" + message.replace("[", r"\[")):
            call()


def test_a_position_is_valued_and_margined_at_max_of_mark_and_intrinsic() -> None:
    """``rollup.options``' rule: a position at mark' = max(mark, intrinsic) — a stale mark below
    the intrinsic value flatters neither a short's TV nor its requirement, nor undervalues a
    long."""
    stale = (series(1, "call", 900, 50),)  # intrinsic 100 at S = 1000
    tv, im, mm = margins(AccountView(10**6, options=((1, -3),)), stale)
    assert tv == 10**6 - 3 * 100
    assert (im, mm) == (3 * (150_000 * S + M6 * 100), 3 * (75_000 * S + M6 * 100))
    assert total_value(AccountView(10**6, options=((1, 3),)), MARKETS, stale) == 10**6 + 3 * 100
    fresh = (series(1, "call", 900, 120),)  # the mark above intrinsic: the mark
    assert total_value(AccountView(10**6, options=((1, 3),)), MARKETS, fresh) == 10**6 + 3 * 120
    put = (series(2, "put", 1200, 150),)  # intrinsic 200 > mark; the cap 10^6·K still applies
    tv, im, mm = margins(AccountView(10**6, options=((2, -1),)), put)
    assert (tv, im, mm) == (10**6 - 200, 150_000 * S + M6 * 200, 75_000 * S + M6 * 200)
    deep = (series(3, "put", 400, 10, market=0),)  # OTM: intrinsic 0, mark' = mark
    assert margins(AccountView(10**6, options=((3, -1),)), deep)[0] == 10**6 - 10
