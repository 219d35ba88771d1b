"""Black-76 against textbook values, parity, finite differences and monotonicity; implied vol
round trips; the oracle's integer marks and TWAP settlement price; every bad input refused.

Tolerances (F, K of order 100, so absolute figures are relative to 100):
parity and monotonicity 1e-12·max(F, K); Greeks against central differences: delta, vega and
theta 1e-6, gamma 1e-4 relative, plus the differences' own rounding error (see the test);
implied vol: price round trip 1e-12·max(F, K), vol round trip 1e-7 where vega ≥ 1e-3·F.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rollup.pricing import (
    SECONDS_PER_YEAR,
    black76,
    greeks,
    implied_vol,
    option_mark,
    settlement_price,
)

KINDS = st.sampled_from(["call", "put"])
FORWARDS = st.floats(50.0, 200.0)
TIMES = st.floats(0.02, 3.0)
VOLS = st.floats(0.05, 1.5)
K = 100.0
U = 1 << 32  #: value units per quantum: an index of 100·U is 100 quanta per base quantum


# --- textbook values ------------------------------------------------------------------------------


def test_hull_black76_futures_put() -> None:
    """Hull's futures put: F = K = 20, r = 9 %, T = 4 months, σ = 25 % → 1.1166 (discounted)."""
    put = black76("put", 20.0, 20.0, 4 / 12, 0.25)
    assert put * math.exp(-0.09 * 4 / 12) == pytest.approx(1.1166, abs=5e-5)
    assert black76("call", 20.0, 20.0, 4 / 12, 0.25) == pytest.approx(put, abs=1e-12)


def test_haug_black76_call() -> None:
    """Haug's Black-76 example: F = K = 19, T = 0.75, r = 10 %, σ = 28 % → 1.7011 (discounted)."""
    call = black76("call", 19.0, 19.0, 0.75, 0.28)
    assert call * math.exp(-0.1 * 0.75) == pytest.approx(1.7011, abs=5e-5)


def test_at_the_money_by_hand() -> None:
    """F = K = 100, σ = 20 %, t = 1: d1 = 0.1, N(0.1) = 0.5398278, C = 100·(2·N(0.1) − 1)."""
    assert black76("call", 100.0, 100.0, 1.0, 0.2) == pytest.approx(7.965567, abs=1e-6)
    g = greeks("call", 100.0, 100.0, 1.0, 0.2)
    assert g.delta == pytest.approx(0.5398278, abs=1e-7)
    assert g.vega == pytest.approx(100 * 0.3969525, abs=1e-5)  # F·n(0.1)·√t
    assert g.gamma == pytest.approx(0.3969525 / 20, abs=1e-8)  # n(0.1)/(F·σ·√t)
    assert g.theta == pytest.approx(-100 * 0.3969525 * 0.2 / 2, abs=1e-5)


@pytest.mark.parametrize(("kind", "forward", "value"), [("call", 120, 20), ("put", 80, 20)])
def test_degenerate_is_intrinsic(kind: str, forward: float, value: float) -> None:
    for t, vol in ((0.0, 0.3), (1.0, 0.0)):
        assert black76(kind, forward, K, t, vol) == value
        g = greeks(kind, forward, K, t, vol)
        assert (g.price, abs(g.delta), g.gamma, g.vega, g.theta) == (value, 1.0, 0.0, 0.0, 0.0)
    out = black76(kind, 200 - forward, K, 0.0, 0.3)
    assert out == 0.0 and greeks(kind, 200 - forward, K, 0.0, 0.3).delta == 0.0
    atm = greeks(kind, K, K, 1.0, 0.0)
    assert abs(atm.delta) == 0.5 and atm.vega == pytest.approx(K / math.sqrt(2 * math.pi))


# --- laws -----------------------------------------------------------------------------------------


@given(FORWARDS, st.floats(50.0, 200.0), TIMES, VOLS)
def test_put_call_parity(f: float, k: float, t: float, vol: float) -> None:
    """Zero rate: C − P = F − K."""
    c, p = black76("call", f, k, t, vol), black76("put", f, k, t, vol)
    assert abs((c - p) - (f - k)) <= 1e-12 * max(f, k)


@given(KINDS, FORWARDS, TIMES, VOLS)
def test_greeks_match_central_differences(kind: str, f: float, t: float, vol: float) -> None:
    """Each Greek within ``rel·|Greek| + δ·c/h^k`` of its central difference quotient of order k
    with step h, δ = 1e-14·max(F, K) bounding the rounding error of one ``black76`` value and c
    the quotient's sum of |weights| (delta 1e-6, gamma 1e-4, vega and theta 1e-6 relative)."""
    g = greeks(kind, f, K, t, vol)
    assert g.price == black76(kind, f, K, t, vol)
    rnd, s = 1e-14 * max(f, K), vol * math.sqrt(t)

    def v(df: float = 0.0, dt: float = 0.0, dv: float = 0.0) -> float:
        return black76(kind, f + df, K, t + dt, vol + dv)

    hf, hg, ht, hv = 1e-5 * f * s, 1e-3 * f * s, 1e-5 * t, 1e-5 * vol  # F·σ√t: V's scale in F
    delta = (v(hf) - v(-hf)) / (2 * hf)
    gamma = (v(hg) - 2 * v() + v(-hg)) / hg**2
    vega = (v(dv=hv) - v(dv=-hv)) / (2 * hv)
    theta = -(v(dt=ht) - v(dt=-ht)) / (2 * ht)  # calendar time runs against time to expiry
    assert abs(g.delta - delta) <= 1e-6 * abs(g.delta) + rnd / hf
    assert abs(g.gamma - gamma) <= 1e-4 * g.gamma + 4 * rnd / hg**2
    assert abs(g.vega - vega) <= 1e-6 * g.vega + rnd / hv
    assert abs(g.theta - theta) <= 1e-6 * abs(g.theta) + rnd / ht
    assert g.gamma >= 0.0 and g.vega >= 0.0 and g.theta <= 0.0


@given(KINDS, FORWARDS, st.floats(1.001, 1.5), TIMES, VOLS)
def test_monotone(kind: str, f: float, up: float, t: float, vol: float) -> None:
    """Calls rise in F and fall in K, puts the reverse; every option rises in σ and in t (up to
    float rounding, 1e-12·max(F, K), where the time value is below the intrinsic value's ulp)."""
    sign, tol = (1 if kind == "call" else -1), 1e-12 * max(f * up, K * up)
    base = black76(kind, f, K, t, vol)
    assert sign * (black76(kind, f * up, K, t, vol) - base) >= -tol
    assert sign * (black76(kind, f, K * up, t, vol) - base) <= tol
    assert black76(kind, f, K, t, vol * up) >= base - tol
    assert black76(kind, f, K, t * up, vol) >= base - tol


@given(KINDS, FORWARDS, TIMES, VOLS)
def test_implied_vol_round_trip(kind: str, f: float, t: float, vol: float) -> None:
    price = black76(kind, f, K, t, vol)
    intrinsic = max(f - K, 0.0) if kind == "call" else max(K - f, 0.0)
    assume(price - intrinsic > 1e-9 * f)
    iv = implied_vol(kind, price, f, K, t)
    assert abs(black76(kind, f, K, t, iv) - price) <= 1e-12 * max(f, K)
    if greeks(kind, f, K, t, vol).vega >= 1e-3 * f:
        assert abs(iv - vol) <= 1e-7


def test_implied_vol_edges() -> None:
    assert implied_vol("call", 20.0, 120.0, K, 1.0) == 0.0  # exactly intrinsic
    high = black76("call", 100.0, K, 0.01, 40.0)  # σ√t = 4: the bracket must grow
    assert implied_vol("call", high, 100.0, K, 0.01) == pytest.approx(40.0, rel=1e-9)


# --- oracle marks ---------------------------------------------------------------------------------


def test_mark_is_rounded_black76() -> None:
    s, k, month = 100 * U, 110 * U, 30 * 86_400
    mark = option_mark("call", s, k, 0, month, 0.6, 0.3, 1.0)
    exact = black76("call", s, k, month / SECONDS_PER_YEAR, 0.6)
    assert isinstance(mark, int) and abs(mark - exact) <= 0.5 + 1e-6 * exact
    assert mark == option_mark("call", s, k, 5, month + 5, 0.6, 0.3, 1.0)  # only Δt counts


def test_mark_clamps_iv() -> None:
    s, k, t = 100 * U, 100 * U, 86_400 * 7
    floor, cap = (
        option_mark("put", s, k, 0, t, 0.3, 0.3, 0.3),
        option_mark("put", s, k, 0, t, 1.0, 1.0, 1.0),
    )
    assert option_mark("put", s, k, 0, t, 0.01, 0.3, 1.0) == floor
    assert option_mark("put", s, k, 0, t, 9.0, 0.3, 1.0) == cap
    assert floor < option_mark("put", s, k, 0, t, 0.5, 0.3, 1.0) < cap


def test_mark_bounds() -> None:
    """0 ≤ call ≤ S and 0 ≤ put ≤ K even at absurd volatility; never below intrinsic."""
    s, k, year = 100 * U, 100 * U, SECONDS_PER_YEAR
    assert option_mark("call", s, k, 0, 100 * year, 50.0, 0.0, 50.0) == s
    assert option_mark("put", s, k, 0, 100 * year, 50.0, 0.0, 50.0) == k
    top = (1 << 64) - 1  # float rounds S − K up to 2^64 here: the clamp keeps the mark ≤ S
    assert top - 1 <= option_mark("call", top, 1, 0, year, 1.0, 0.0, 2.0) <= top
    assert top - 1 <= option_mark("put", 1, top, 0, year, 1.0, 0.0, 2.0) <= top
    assert option_mark("call", s, 10 * k, 0, 60, 0.5, 0.0, 1.0) == 0


@pytest.mark.parametrize("now", [1000, 1001, 5000])
def test_mark_at_expiry_is_intrinsic(now: int) -> None:
    assert option_mark("call", 130, 100, now, 1000, 0.5, 0.1, 1.0) == 30
    assert option_mark("put", 130, 100, now, 1000, 0.5, 0.1, 1.0) == 0
    assert option_mark("put", 70, 100, now, 1000, 0.5, 0.1, 1.0) == 30
    assert option_mark("put", 70, 100, 999, 1000, 0.5, 0.1, 1.0) >= 30  # one second left


# --- settlement price -----------------------------------------------------------------------------


def test_twap_constant() -> None:
    assert settlement_price([(0, 777)], 10_000) == 777
    assert settlement_price([(t, 777) for t in range(0, 10_000, 7)], 10_000) == 777


def test_twap_step() -> None:
    """100 until E − 600, then 400: (1200·100 + 600·400) / 1800 = 200."""
    e = 10_000
    assert settlement_price([(0, 100), (e - 600, 400)], e) == 200
    assert settlement_price([(0, 100), (e - 600, 400), (e, 10**9)], e) == 200  # after E: ignored
    assert settlement_price([(0, 100), (e - 600, 401)], e) == 200  # floor of 200.33
    assert settlement_price([(e - 1800, 100), (e - 1, 1900)], e) == 101  # last second: 1800/1800


def test_twap_irregular() -> None:
    """Samples before the window count from the window start; weights are the held seconds."""
    e, w = 1000, 100
    samples = [(850, 10), (905, 20), (930, 40), (931, 80), (990, 5)]
    # 10 on [900, 905), 20 on [905, 930), 40 on [930, 931), 80 on [931, 990), 5 on [990, 1000)
    expected = (10 * 5 + 20 * 25 + 40 * 1 + 80 * 59 + 5 * 10) // 100
    assert settlement_price(samples, e, w) == expected == 53


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(1, 10**6)), min_size=1, max_size=30))
def test_twap_between_extremes(steps: list[tuple[int, int]]) -> None:
    t, samples = 0, []
    for gap, price in steps:
        samples.append((t, price))
        t += gap
    twap = settlement_price(samples, t, t)
    assert min(p for _, p in steps) <= twap <= max(p for _, p in steps)


# --- negative twins -------------------------------------------------------------------------------

BAD = [
    (black76, ("straddle", 100, 100, 1, 0.2), "kind must be 'call' or 'put', got 'straddle'"),
    (black76, ("call", 0, 100, 1, 0.2), "forward must be a finite number > 0, got 0"),
    (black76, ("call", 100, -5, 1, 0.2), "strike must be a finite number > 0, got -5"),
    (black76, ("put", 100, 100, -1, 0.2), "t_years must be a finite number >= 0, got -1"),
    (black76, ("put", 100, 100, 1, math.nan), "vol must be a finite number >= 0, got nan"),
    (greeks, ("put", math.inf, 100, 1, 0.2), "forward must be a finite number > 0, got inf"),
    (greeks, ("put", 100, 100, 1, True), "vol must be a finite number >= 0, got True"),
    (implied_vol, ("call", 1.0, 100, 100, 0), "t_years must be > 0 for an implied volatility"),
    (implied_vol, ("call", 19.0, 120, 100, 1), "price 19.0 is outside [20.0, 120.0)"),
    (implied_vol, ("put", 100.0, 120, 100, 1), "price 100.0 is outside [0.0, 100.0)"),
    (option_mark, ("call", 0, 1, 0, 1, 0.5, 0.1, 1), "index_value_units must be an integer in"),
    (option_mark, ("call", 1, 1 << 64, 0, 1, 0.5, 0.1, 1), "strike_value_units must be an integ"),
    (option_mark, ("call", 1, 1, 0.5, 1, 0.5, 0.1, 1), "now_s must be an integer in [0, "),
    (option_mark, ("put", 1, 1, 0, 1, 0.5, 0.9, 0.2), "iv_floor 0.9 exceeds iv_cap 0.2"),
    (option_mark, ("put", 1, 1, 0, 1, -0.1, 0.1, 1), "iv must be a finite number >= 0, got -0.1"),
    (settlement_price, ([], 9000), "no index sample at or before the window start"),
    (settlement_price, ([(50, 1)], 100, 60), "no index sample at or before the window start 40"),
    (settlement_price, ([(0, 1), (0, 2)], 100), "window_s must be an integer in [1, 100], got 18"),
    (settlement_price, ([(0, 1), (0, 2)], 9000), "sample times must increase strictly, sample 1"),
    (settlement_price, ([(0, 0)], 9000), "sample 0 index must be an integer in [1, "),
    (settlement_price, ([(0, 1, 2)], 9000), "sample 0 must be a (time_s, index) pair"),
]


@pytest.mark.parametrize(("fn", "args", "message"), BAD)
def test_bad_inputs(fn: Callable[..., object], args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError) as err:
        fn(*args)
    text = str(err.value)
    assert text.startswith(message) and "\n" not in text
