"""Black-76 option pricing, Greeks and implied volatility; the oracle's option marks and TWAP.

Off-circuit only: this module uses floats, and its integer outputs (``option_mark``,
``settlement_price``) are what the oracle signs, never what the circuit computes.

Model (Black 1976, "The pricing of commodity contracts", J. Financial Economics 3; Hull,
"Options, Futures, and Other Derivatives", chapter on Black's model). A European option on the
index is priced on the forward ``F``; this rollup takes ``F = S`` (the index) and a zero rate, so
there is no discount factor and put–call parity reads ``C − P = F − K``. With total volatility
``s = σ·√t``::

    d1 = (ln(F/K) + s²/2) / s,      d2 = d1 − s
    C  = F·N(d1) − K·N(d2)
    P  = K·N(−d2) − F·N(−d1)

N is the standard normal CDF and n its density. At ``t = 0`` or ``σ = 0`` the value is the
intrinsic value ``max(F − K, 0)`` (call) or ``max(K − F, 0)`` (put).

Time is measured in 365-day years: ``t = seconds / (365 · 86400)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from protocol.spec import PRICE_BITS, TIME_BITS

SECONDS_PER_YEAR: int = 365 * 86_400  #: a 365-day year
KINDS: tuple[str, ...] = ("call", "put")
PRICE_MAX: int = (1 << PRICE_BITS) - 1  #: 0 < price ≤ PRICE_MAX (value units per base quantum)
TIME_MAX: int = (1 << TIME_BITS) - 1  #: 0 ≤ timestamp ≤ TIME_MAX (seconds)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_EPS = 2.0**-52


def norm_cdf(x: float) -> float:
    """N(x) = erfc(−x/√2)/2 (erfc keeps the lower tail accurate)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_pdf(x: float) -> float:
    """n(x) = exp(−x²/2)/√(2π)."""
    return math.exp(-0.5 * x * x) / _SQRT_2PI


def _kind(kind: object) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be 'call' or 'put', got {kind!r}")
    return str(kind)


def checked_float(name: str, value: object, *, positive: bool) -> float:
    """``value`` as a float if it is a finite int or float, > 0 (``positive``) or ≥ 0."""
    x = (
        float(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else math.nan
    )
    if not math.isfinite(x) or (x <= 0.0 if positive else x < 0.0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return x


def checked_int(name: str, value: object, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) in [low, high]; else a one-line ValueError."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return value


def _inputs(
    kind: object, forward: object, strike: object, t_years: object
) -> tuple[str, float, float, float]:
    return (
        _kind(kind),
        checked_float("forward", forward, positive=True),
        checked_float("strike", strike, positive=True),
        checked_float("t_years", t_years, positive=False),
    )


def intrinsic(kind: str, forward: float, strike: float) -> float:
    """max(F − K, 0) for a call, max(K − F, 0) for a put."""
    return max(forward - strike, 0.0) if _kind(kind) == "call" else max(strike - forward, 0.0)


def _price(kind: str, f: float, k: float, s: float) -> float:
    """Black-76 value at total volatility s = σ√t > 0 (inputs already checked)."""
    d1 = (math.log(f / k) + 0.5 * s * s) / s
    d2 = d1 - s
    if kind == "call":
        return max(f * norm_cdf(d1) - k * norm_cdf(d2), 0.0)
    return max(k * norm_cdf(-d2) - f * norm_cdf(-d1), 0.0)


def black76(kind: str, forward: float, strike: float, t_years: float, vol: float) -> float:
    """Undiscounted Black-76 value C = F·N(d1) − K·N(d2) or P = K·N(−d2) − F·N(−d1).

    Intrinsic value when ``t_years == 0`` or ``vol == 0``. Raises ValueError for an unknown kind,
    a non-positive forward or strike, or a negative (or non-finite) time or volatility.
    """
    kind, f, k, t = _inputs(kind, forward, strike, t_years)
    s = checked_float("vol", vol, positive=False) * math.sqrt(t)
    return intrinsic(kind, f, k) if s == 0.0 else _price(kind, f, k, s)


@dataclass(frozen=True)
class Greeks:
    """Black-76 value and sensitivities of one option (zero rate, F = S).

    price  C or P
    delta  ∂V/∂F = N(d1) (call), N(d1) − 1 (put)
    gamma  ∂²V/∂F² = n(d1) / (F·σ·√t)
    vega   ∂V/∂σ = F·n(d1)·√t, per unit of volatility (1.0 = 100 %)
    theta  ∂V/∂t in calendar time, per year: −F·n(d1)·σ / (2√t) = −∂V/∂τ for τ the time to
           expiry, so a long option decays (theta ≤ 0); equal for calls and puts at zero rate.
    """

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float


def greeks(kind: str, forward: float, strike: float, t_years: float, vol: float) -> Greeks:
    """Closed-form Black-76 Greeks (see ``Greeks``; Hull, chapter on Black's model).

    At ``t_years == 0`` or ``vol == 0`` the limits are returned: intrinsic price, delta 1 / 0
    (call in / out of the money; put −1 / 0) and ±1/2 at the money, gamma and theta 0, vega
    ``F·√t/√(2π)`` at the money (σ → 0 with t > 0) and 0 elsewhere. At the money gamma
    diverges in that limit; it is reported as 0.
    """
    kind, f, k, t = _inputs(kind, forward, strike, t_years)
    sigma = checked_float("vol", vol, positive=False)
    s = sigma * math.sqrt(t)
    if s == 0.0:
        call_delta = 1.0 if f > k else 0.0 if f < k else 0.5
        vega = f * math.sqrt(t) / _SQRT_2PI if f == k else 0.0
        delta = call_delta if kind == "call" else call_delta - 1.0
        return Greeks(intrinsic(kind, f, k), delta, 0.0, vega, 0.0)
    d1 = (math.log(f / k) + 0.5 * s * s) / s
    nd1 = norm_pdf(d1)
    delta = norm_cdf(d1) if kind == "call" else -norm_cdf(-d1)
    sqrt_t = math.sqrt(t)
    return Greeks(
        price=_price(kind, f, k, s),
        delta=delta,
        gamma=nd1 / (f * s),
        vega=f * nd1 * sqrt_t,
        theta=-f * nd1 * sigma / (2.0 * sqrt_t),
    )


def implied_vol(kind: str, price: float, forward: float, strike: float, t_years: float) -> float:
    """σ with ``black76(kind, F, K, t, σ) = price``: safeguarded Newton on a bracket.

    The value rises strictly in σ from the intrinsic value (σ = 0) towards F (call) or K (put),
    so a price in [intrinsic, upper) has one implied volatility; ``price == intrinsic`` gives 0.
    The bracket [lo, hi] starts at [0, 1] and doubles hi until it holds the root; each step is a
    Newton step σ − (V(σ) − price)/vega(σ), replaced by the bisection midpoint when it would leave
    the bracket. Stops when |V(σ) − price| ≤ 4·ε·max(F, K) (ε = 2^-52) or the bracket is
    ε-narrow.
    """
    kind, f, k, t = _inputs(kind, forward, strike, t_years)
    target = checked_float("price", price, positive=False)
    if t == 0.0:
        raise ValueError("t_years must be > 0 for an implied volatility, got 0")
    low_bound, high_bound = intrinsic(kind, f, k), f if kind == "call" else k
    if not low_bound <= target < high_bound:
        raise ValueError(
            f"price {target!r} is outside [{low_bound!r}, {high_bound!r}), the no-arbitrage "
            f"range of a {kind} with forward {f!r} and strike {k!r}"
        )
    if target == low_bound:
        return 0.0
    sqrt_t, tol = math.sqrt(t), 4.0 * _EPS * max(f, k)
    lo, hi = 0.0, 1.0
    while _price(kind, f, k, hi * sqrt_t) < target:
        if hi * sqrt_t > 64.0:
            raise ValueError(f"price {target!r} is too close to its upper bound {high_bound!r}")
        lo, hi = hi, 2.0 * hi
    sigma = 0.5 * (lo + hi)
    for _ in range(200):
        s = sigma * sqrt_t
        diff = _price(kind, f, k, s) - target
        if abs(diff) <= tol or hi - lo <= _EPS * hi:
            break
        if diff > 0.0:
            hi = sigma
        else:
            lo = sigma
        vega = f * norm_pdf((math.log(f / k) + 0.5 * s * s) / s) * sqrt_t
        step = sigma - diff / vega if vega > 0.0 else math.nan
        sigma = step if lo < step < hi else 0.5 * (lo + hi)
    return sigma


def payoff(kind: str, underlying: int, strike: int) -> int:
    """Integer payoff of one contract: max(P − K, 0) (call) or max(K − P, 0) (put)."""
    diff = underlying - strike
    return max(diff, 0) if _kind(kind) == "call" else max(-diff, 0)


def option_mark(
    kind: str,
    index_value_units: int,
    strike_value_units: int,
    now_s: int,
    expiry_s: int,
    iv: float,
    iv_floor: float,
    iv_cap: float,
) -> int:
    """The oracle's integer mark of one contract (value units), as it signs it.

    Before expiry: ``σ = min(max(iv, iv_floor), iv_cap)``, ``t = (expiry − now)/(365·86400)``,
    ``V = black76(kind, S, K, t, σ)`` with ``F = S`` the index, rounded half up to an integer and
    clamped to ``[intrinsic, S]`` (call) or ``[intrinsic, K]`` (put). These contain the bounds
    the circuit checks (0 ≤ call ≤ S, 0 ≤ put ≤ K); the intrinsic floor (Black-76 at zero rate
    is never below it) absorbs float rounding of deep in-the-money values. At or after expiry
    the mark is the intrinsic value, exactly: ``max(S − K, 0)`` or ``max(K − S, 0)``.
    """
    kind = _kind(kind)
    s = checked_int("index_value_units", index_value_units, 1, PRICE_MAX)
    k = checked_int("strike_value_units", strike_value_units, 1, PRICE_MAX)
    now = checked_int("now_s", now_s, 0, TIME_MAX)
    expiry = checked_int("expiry_s", expiry_s, 0, TIME_MAX)
    floor = checked_float("iv_floor", iv_floor, positive=False)
    cap = checked_float("iv_cap", iv_cap, positive=False)
    if floor > cap:
        raise ValueError(f"iv_floor {floor!r} exceeds iv_cap {cap!r}")
    sigma = min(max(checked_float("iv", iv, positive=False), floor), cap)
    lowest = payoff(kind, s, k)
    if now >= expiry:
        return lowest
    value = black76(kind, s, k, (expiry - now) / SECONDS_PER_YEAR, sigma)
    return min(max(math.floor(value + 0.5), lowest), s if kind == "call" else k)


def settlement_price(
    index_samples: Sequence[tuple[int, int]], expiry_s: int, window_s: int = 1800
) -> int:
    """Time-weighted average index over ``[expiry − window, expiry)``, floored to an integer.

    Samples are ``(time_s, index)`` with strictly increasing times. The index is a step function:
    each sample holds from its time until the next sample's (the last until expiry), so sample i
    weighs ``w_i = |[t_i, t_{i+1}) ∩ [E − W, E)|`` seconds and

        TWAP = floor(Σ_i index_i · w_i / W)        (W = window_s, E = expiry_s)

    Samples at or after E weigh nothing. A sample at or before E − W is required, so the
    window is covered; with a constant index the TWAP is that index, and min ≤ TWAP ≤ max.
    """
    expiry = checked_int("expiry_s", expiry_s, 1, TIME_MAX)
    window = checked_int("window_s", window_s, 1, expiry)
    start = expiry - window
    times, prices = [], []
    for i, sample in enumerate(index_samples):
        if not isinstance(sample, tuple) or len(sample) != 2:
            raise ValueError(f"sample {i} must be a (time_s, index) pair, got {sample!r}")
        times.append(checked_int(f"sample {i} time", sample[0], 0, TIME_MAX))
        prices.append(checked_int(f"sample {i} index", sample[1], 1, PRICE_MAX))
        if i and times[i] <= times[i - 1]:
            raise ValueError(f"sample times must increase strictly, sample {i} is at {times[i]}")
    if not times or times[0] > start:
        raise ValueError(f"no index sample at or before the window start {start}")
    total = 0
    ends = [*times[1:], expiry]
    for t0, t1, price in zip(times, ends, prices, strict=True):
        total += price * max(min(t1, expiry) - max(t0, start), 0)
    return total // window
