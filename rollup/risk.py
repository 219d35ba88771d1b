"""Margin of perpetuals and European options, and a Greeks / risk report, over plain views.

Margin is integer and is the reference for what the protocol proves. Units as in
``protocol.spec``: values in value units, risk in value units · 10^6, fractions in ppm; S is a
market's index, n a signed number of contracts (1 contract = 1 base quantum of the underlying)::

    TV       = collateral + Σ_m size_m·S_m + Σ_s n_s·mark'_s
    mark'_s  = max(P − K, 0) (call) or max(K − P, 0) (put) once settled at P ≠ 0, else
               max(mark_s, intrinsic), intrinsic = max(S − K, 0) (call) or max(K − S, 0)
               (put), long or short: a stale mark never values a position below what it
               settles at at the index (``rollup.options``)
    perp     = |size|·S·fraction                  (initial or maintenance fraction)
    short call, OTM = max(K − S, 0):
        IM = |n|·(max(α·S − 10^6·OTM, β·S) + 10^6·mark'),  MM = |n|·(γ·S + 10^6·mark')
    short put,  OTM = max(S − K, 0): as the call, each per-contract term capped at 10^6·K
    long options, and settled series: no requirement (a short keeps it after expiry until
    its series is settled, as ``rollup.options``)

The account is liquidatable iff ``TV·10^6 < MM``; the protocol lets it open risk iff
``(TV − LV)·10^6 ≥ IM`` with LV its long options' value (``rollup.margin``), and
``free_collateral`` below is what that lets it withdraw. The
α/β/γ rule (defaults 15 %, 10 %, 7.5 %) is Deribit's published option margin; the put cap is
the short put's largest loss, K per contract.

The report's Greeks and scenarios are floats: Black-76 (``rollup.pricing``; Black 1976, Hull's
chapter on Black's model) with each series' ``iv``, forward = index, zero rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace

from protocol.spec import COLLATERAL_BITS, FRACTION_SCALE, MARKET_BITS, SIZE_BITS, VALUE_SCALE
from rollup import pricing
from rollup.pricing import PRICE_MAX, TIME_MAX, checked_int

SIZE_MAX = (1 << SIZE_BITS) - 1
ID_MAX = (1 << 32) - 1  #: series ids
MARKET_MAX = (1 << MARKET_BITS) - 1
SCENARIO_MOVES_PCT: tuple[int, ...] = (-25, -10, 10, 25)
USD_PER_VALUE_UNIT = 1.0 / (VALUE_SCALE * 10**6)  #: a quantum is 1e-6 USD


@dataclass(frozen=True)
class MarketView:
    """An underlying: its index S and margin fractions (ppm); α ≥ β ≥ γ for the options."""

    name: str
    base_decimals: int  #: base quantum = 10^-base_decimals units of the asset
    index_price: int  #: value units per base quantum
    initial_fraction: int  #: perps, ppm
    maintenance_fraction: int  #: perps, ppm
    option_initial: int = 150_000  #: α
    option_floor: int = 100_000  #: β
    option_maintenance: int = 75_000  #: γ

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"market name must be a non-empty string, got {self.name!r}")
        n, one = self.name, FRACTION_SCALE
        checked_int(f"{n}: base_decimals", self.base_decimals, 0, 18)
        checked_int(f"{n}: index_price", self.index_price, 1, PRICE_MAX)
        checked_int(f"{n}: maintenance_fraction", self.maintenance_fraction, 1, one)
        checked_int(f"{n}: initial_fraction", self.initial_fraction, self.maintenance_fraction, one)
        checked_int(f"{n}: option_floor", self.option_floor, 0, one)
        checked_int(f"{n}: option_initial", self.option_initial, self.option_floor, one)
        checked_int(f"{n}: option_maintenance", self.option_maintenance, 0, self.option_floor)


@dataclass(frozen=True)
class SeriesView:
    """An option series on market ``market`` (its position in the markets sequence)."""

    series_id: int
    market: int
    kind: str  #: "call" or "put"
    strike: int  #: value units per base quantum
    expiry: int  #: seconds
    mark: int  #: value units per contract, signed by the oracle (a put's ≤ K)
    settlement_price: int  #: value units per base quantum; 0 = not settled
    iv: float  #: volatility for the report's Greeks and scenarios

    def __post_init__(self) -> None:
        sid = checked_int("series_id", self.series_id, 0, ID_MAX)
        checked_int(f"series {sid}: market", self.market, 0, MARKET_MAX)
        if self.kind not in pricing.KINDS:
            raise ValueError(f"series {sid}: kind must be 'call' or 'put', got {self.kind!r}")
        checked_int(f"series {sid}: strike", self.strike, 1, PRICE_MAX)
        checked_int(f"series {sid}: expiry", self.expiry, 0, TIME_MAX)
        top = self.strike if self.kind == "put" else PRICE_MAX
        checked_int(f"series {sid}: mark", self.mark, 0, top)
        checked_int(f"series {sid}: settlement_price", self.settlement_price, 0, PRICE_MAX)
        pricing.checked_float(f"series {sid}: iv", self.iv, positive=False)


@dataclass(frozen=True)
class AccountView:
    """Collateral (value units, funding settled) and signed sizes: perps ``(market, base
    quanta)``, options ``(series_id, contracts)``; each id at most once."""

    collateral: int
    perps: tuple[tuple[int, int], ...] = ()
    options: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        bound = (1 << COLLATERAL_BITS) - 1
        checked_int("collateral", self.collateral, -bound, bound)
        for name, high in (("perps", MARKET_MAX), ("options", ID_MAX)):
            pairs = getattr(self, name)
            if not isinstance(pairs, tuple):
                raise ValueError(f"{name} must be a tuple of (id, size) pairs, got {pairs!r}")
            for i, pair in enumerate(pairs):
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise ValueError(f"{name}: {pair!r} is not an (id, size) pair")
                key = checked_int(f"{name}: id", pair[0], 0, high)
                checked_int(f"{name} {key}: size", pair[1], -SIZE_MAX, SIZE_MAX)
                if key in (k for k, _ in pairs[:i]):
                    raise ValueError(f"{name}: id {key} appears twice")


Markets = Sequence[MarketView]
Series = Sequence[SeriesView]


def _series_map(account: AccountView, markets: Markets, series: Series) -> dict[int, SeriesView]:
    """The series by id, after checking every id the account and the series refer to."""
    by_id: dict[int, SeriesView] = {}
    for s in series:
        if s.series_id in by_id:
            raise ValueError(f"series {s.series_id} is given twice")
        if s.market >= len(markets):
            raise ValueError(f"series {s.series_id}: market {s.market} is not among the markets")
        by_id[s.series_id] = s
    if bad := [k for k, _ in account.perps if k >= len(markets)]:
        raise ValueError(f"perp market {bad[0]} is not among the {len(markets)} markets")
    for sid, _ in account.options:
        if sid not in by_id:
            raise ValueError(f"the account holds series {sid}, which is not among the series")
    return by_id


def option_value(s: SeriesView) -> int:
    """Payoff at the settlement price once settled, else the mark (value units per contract)."""
    return pricing.payoff(s.kind, s.settlement_price, s.strike) if s.settlement_price else s.mark


def marked_value(s: SeriesView, m: MarketView) -> int:
    """A contract's mark': the payoff once settled, else max(mark, intrinsic at S)."""
    if s.settlement_price:
        return option_value(s)
    return max(s.mark, pricing.payoff(s.kind, m.index_price, s.strike))


def position_value(s: SeriesView, m: MarketView, n: int) -> int:
    """n contracts, long or short: n·mark'."""
    return n * marked_value(s, m)


def option_risk(s: SeriesView, n: int, m: MarketView, now_s: int, *, initial: bool) -> int:
    """IM or MM of n contracts of s (value units · 10^6); see the module docstring."""
    if n >= 0 or s.settlement_price:
        return 0
    S, K = m.index_price, s.strike
    otm = max(K - S, 0) if s.kind == "call" else max(S - K, 0)
    if initial:
        per = max(m.option_initial * S - FRACTION_SCALE * otm, m.option_floor * S)
    else:
        per = m.option_maintenance * S
    per += FRACTION_SCALE * marked_value(s, m)
    return -n * (min(per, FRACTION_SCALE * K) if s.kind == "put" else per)


def _risk_by_market(
    account: AccountView, markets: Markets, series: Series, now_s: int, *, initial: bool
) -> dict[int, int]:
    """Risk (value units · 10^6) per market id the account holds."""
    now_s, by_id = checked_int("now_s", now_s, 0, TIME_MAX), _series_map(account, markets, series)
    if settled := [s for s in series if s.settlement_price and now_s < s.expiry]:
        raise ValueError(f"series {settled[0].series_id} is settled before its expiry")
    risk: dict[int, int] = {}
    for k, size in account.perps:
        m = markets[k]
        fraction = m.initial_fraction if initial else m.maintenance_fraction
        risk[k] = risk.get(k, 0) + abs(size) * m.index_price * fraction
    for sid, n in account.options:
        s = by_id[sid]
        r = option_risk(s, n, markets[s.market], now_s, initial=initial)
        risk[s.market] = risk.get(s.market, 0) + r
    return risk


def total_value(account: AccountView, markets: Markets, series: Series) -> int:
    """TV = collateral + Σ size·S + Σ n·value_s (value units)."""
    by_id = _series_map(account, markets, series)
    tv = account.collateral + sum(size * markets[k].index_price for k, size in account.perps)
    opts = (position_value(by_id[sid], markets[by_id[sid].market], n) for sid, n in account.options)
    return tv + sum(opts)


def initial_risk(account: AccountView, markets: Markets, series: Series, now_s: int) -> int:
    """IM: perps Σ |size|·S·initial_fraction plus the short options' IM (value units · 10^6)."""
    return sum(_risk_by_market(account, markets, series, now_s, initial=True).values())


def maintenance_risk(account: AccountView, markets: Markets, series: Series, now_s: int) -> int:
    """MM: perps Σ |size|·S·maintenance_fraction plus the short options' MM (value units·10^6)."""
    return sum(_risk_by_market(account, markets, series, now_s, initial=False).values())


def long_value(account: AccountView, markets: Markets, series: Series) -> int:
    """LV = Σ over long positions (n > 0) of n·mark'_s: not collateral (value units)."""
    by_id = _series_map(account, markets, series)
    return sum(
        position_value(by_id[sid], markets[by_id[sid].market], n)
        for sid, n in account.options
        if n > 0
    )


def free_collateral(account: AccountView, markets: Markets, series: Series, now_s: int) -> int:
    """floor(((TV − LV)·10^6 − IM) / 10^6) = TV − LV − ceil(IM / 10^6), value units: what a
    withdrawal may take (the protocol's initial margin leaves long options out); negative if
    short."""
    im = initial_risk(account, markets, series, now_s)
    free = total_value(account, markets, series) - long_value(account, markets, series)
    return (free * FRACTION_SCALE - im) // FRACTION_SCALE


def move_index(
    markets: Markets, series: Series, market: int, index: int, now_s: int
) -> tuple[tuple[MarketView, ...], tuple[SeriesView, ...]]:
    """The views with ``market``'s index at ``index`` and its unsettled series re-marked by
    ``option_mark(kind, index, K, now, expiry, iv, iv, iv)`` (Black-76 at their own iv)."""
    moved = tuple(
        replace(m, index_price=index) if k == market else m for k, m in enumerate(markets)
    )
    remarked = tuple(
        replace(s, mark=pricing.option_mark(s.kind, index, s.strike, now_s, s.expiry, *[s.iv] * 3))
        if s.market == market and s.settlement_price == 0
        else s
        for s in series
    )
    return moved, remarked


def _walk(start: int, end: int) -> Iterator[int]:
    """Integer prices stepping ~1 % (at least 1) from ``start`` towards ``end``, ``end`` last."""
    p = start
    while p != end:
        p = min(p + max(p // 100, 1), end) if end > p else max(p - max(p // 101, 1), end)
        yield p


def liquidation_price(
    account: AccountView, markets: Markets, series: Series, market: int, now_s: int
) -> int | None:
    """The liquidation index price L of ``market``, other prices and marks fixed.

    With h(P) = TV·10^6 − MM at index P (``move_index``: options on the market re-marked), L is
    an integer with h(L) < 0 ≤ h(L ± 1) for the neighbour towards the current index S: the first
    liquidatable price reached from S (the last, if the account is liquidatable at S). Each side
    is walked in ~1 % steps within [1, min(100·S, 2^64 − 1)] to the first change of sign of h
    (downwards no farther from S in ln P than the price found upwards), then the bracket is
    bisected to width 1; the side nearer to S in ln P wins. None if h keeps its sign on the
    whole walk. A sign change narrower than one step can be missed.
    """
    index = markets[checked_int("market", market, 0, len(markets) - 1)].index_price

    def healthy(p: int) -> bool:
        ms, ss = move_index(markets, series, market, p, now_s)
        tv = total_value(account, ms, ss)
        return tv * FRACTION_SCALE >= maintenance_risk(account, ms, ss, now_s)

    start, found = healthy(index), []
    for up in (True, False):
        lo, bottom = index, max(index * index // found[0], 1) if found else 1
        for p in _walk(index, min(100 * index, PRICE_MAX) if up else min(bottom, index)):
            if healthy(p) != start:
                hi = p
                while abs(hi - lo) > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if healthy(mid) == start else (lo, mid)
                found.append(hi if start else lo)
                break
            lo = p
    return min(found, key=lambda p: abs(math.log(p / index)), default=None)


@dataclass(frozen=True)
class Scenario:
    """Index moved by ``move_pct`` %: ``S' = max(floor(S·(100 + pct)/100), 1)``. Perps are
    linear and exact, ``size·(S' − S)``; options are re-priced, ``n·(V(S') − V(S))`` with V the
    Black-76 value at the series' iv (settled series do not move)."""

    move_pct: int
    index_price: int
    perp_pnl: int  #: value units, exact
    option_pnl: float  #: value units


@dataclass(frozen=True)
class MarketRisk:
    """One underlying: Greeks (floats, Black-76 with F = S), margin used, liquidation price.

    delta  perp size + Σ n·Δ_s (base quanta)           gamma  Σ n·Γ_s (base quanta per unit of S)
    vega   Σ n·vega_s (value units per unit of vol)     theta  Σ n·θ_s (value units per year)
    margins ceil(risk_m / 10^6) of this market's positions (value units).
    """

    market: int
    name: str
    base_decimals: int
    index_price: int
    perp_size: int
    delta: float
    gamma: float
    vega: float
    theta: float
    initial_margin: int
    maintenance_margin: int
    liquidation_price: int | None
    scenarios: tuple[Scenario, ...]

    def usd(self, price: int | None) -> float | None:
        """A price in USD per unit of the asset (10^base_decimals base quanta)."""
        return None if price is None else price * 10**self.base_decimals * USD_PER_VALUE_UNIT


_MARGINS = ("total_value", "initial_margin", "maintenance_margin", "free_collateral")


@dataclass(frozen=True)
class RiskReport:
    """An account's margin (value units: TV, ceil(IM/10^6), ceil(MM/10^6), free collateral)
    and its risk per underlying it holds (perps or options), by market id."""

    now_s: int
    total_value: int
    initial_margin: int
    maintenance_margin: int
    free_collateral: int
    liquidatable: bool
    markets: tuple[MarketRisk, ...]

    def to_json(self) -> dict[str, object]:
        """The fields in order (``markets`` a list of ``MarketRisk`` dicts, their ``scenarios``
        lists of ``Scenario`` dicts, a missing liquidation price null), then USD figures:
        ``<field>_usd`` for the four account figures, per market ``index_price_usd`` and
        ``liquidation_price_usd`` (per unit of the asset), ``initial_margin_usd`` and
        ``maintenance_margin_usd``, per scenario ``pnl_usd``. Integers are exact (they may
        exceed 2^53); USD = value units / (2^32 · 10^6)."""
        u, out = USD_PER_VALUE_UNIT, asdict(self)
        out["markets"] = [{**d, "scenarios": list(d["scenarios"])} for d in out["markets"]]
        for m, d in zip(self.markets, out["markets"], strict=True):
            for c, dc in zip(m.scenarios, d["scenarios"], strict=True):
                dc["pnl_usd"] = (c.perp_pnl + c.option_pnl) * u
            d["index_price_usd"] = m.usd(m.index_price)
            d["liquidation_price_usd"] = m.usd(m.liquidation_price)
            d["initial_margin_usd"] = m.initial_margin * u
            d["maintenance_margin_usd"] = m.maintenance_margin * u
        return out | {f"{key}_usd": getattr(self, key) * u for key in _MARGINS}

    def format_table(self) -> str:
        """A terminal table in USD: delta in units of the asset, gamma as the P&L of its term at
        a 1 % move (Γ·(S/100)²/2), vega per vol point, theta per day, scenario P&L by move."""
        u = USD_PER_VALUE_UNIT
        head = "   ".join(f"{k.replace('_', ' ')} {getattr(self, k) * u:,.2f}" for k in _MARGINS)
        cols = ["index", "delta", "gamma 1%", "vega 1%", "theta 1d", "IM", "MM", "liquidation"]
        cols += [f"{p:+d}%" for p in SCENARIO_MOVES_PCT]
        lines = [head + " USD" + ("   LIQUIDATABLE" if self.liquidatable else "")]
        lines.append(f"{'market':<10}" + "".join(f"{c:>13}" for c in cols))
        for m in self.markets:
            s = m.index_price
            row = [m.usd(s), m.delta / 10**m.base_decimals, 0.5 * m.gamma * (s / 100) ** 2 * u]
            row += [m.vega * u / 100, m.theta * u / 365, m.initial_margin * u]
            row += [m.maintenance_margin * u, m.usd(m.liquidation_price)]
            row += [(c.perp_pnl + c.option_pnl) * u for c in m.scenarios]
            cells = [f"{'-':>13}" if x is None else f"{x:>13,.2f}" for x in row]
            cells[1] = f"{row[1]:>13,.6f}"
            lines.append(f"{m.name:<10}" + "".join(cells))
        return "\n".join(lines)


def _market_risk(
    account: AccountView, markets: Markets, series: Series, k: int, now_s: int, risk: list[int]
) -> MarketRisk:
    """Greeks, scenarios and liquidation price of market k; ``risk`` its [IM, MM]."""
    m, size = markets[k], dict(account.perps).get(k, 0)
    by_id = _series_map(account, markets, series)
    held = [(n, by_id[sid]) for sid, n in account.options]
    open_ = [(n, s, max(s.expiry - now_s, 0) / pricing.SECONDS_PER_YEAR) for n, s in held
             if s.market == k and s.settlement_price == 0]  # fmt: skip
    gs = [(n, pricing.greeks(s.kind, m.index_price, s.strike, t, s.iv)) for n, s, t in open_]
    scenarios = []
    for pct in SCENARIO_MOVES_PCT:
        p = max(m.index_price * (100 + pct) // 100, 1)
        values = [pricing.black76(s.kind, p, s.strike, t, s.iv) for _, s, t in open_]
        pnl = sum((n * (v - g.price) for (n, g), v in zip(gs, values, strict=True)), 0.0)
        scenarios.append(Scenario(pct, p, size * (p - m.index_price), pnl))
    delta, gamma, vega, theta = (
        sum((n * getattr(g, greek) for n, g in gs), 0.0)
        for greek in ("delta", "gamma", "vega", "theta")
    )
    return MarketRisk(
        k, m.name, m.base_decimals, m.index_price, size, size + delta, gamma, vega, theta,
        *(-(-r // FRACTION_SCALE) for r in risk),  # ceil(IM / 10^6), ceil(MM / 10^6)
        liquidation_price(account, markets, series, k, now_s), tuple(scenarios),
    )  # fmt: skip


def risk_report(account: AccountView, markets: Markets, series: Series, now_s: int) -> RiskReport:
    """Margin, Greeks, liquidation price and scenarios of every underlying the account holds.

    Settled series carry no Greeks; unsettled ones use Black-76 with t = max(expiry − now, 0)
    in 365-day years (the intrinsic limits at t = 0, see ``pricing.greeks``).
    """
    im = _risk_by_market(account, markets, series, now_s, initial=True)
    mm = _risk_by_market(account, markets, series, now_s, initial=False)
    tv = total_value(account, markets, series)
    im_total, mm_total = sum(im.values()), sum(mm.values())
    free = tv - long_value(account, markets, series)
    # TV, ceil(IM / 10^6), ceil(MM / 10^6), free = floor(((TV − LV)·10^6 − IM) / 10^6), liquidatable
    return RiskReport(
        now_s, tv, -(-im_total // FRACTION_SCALE), -(-mm_total // FRACTION_SCALE),
        (free * FRACTION_SCALE - im_total) // FRACTION_SCALE, tv * FRACTION_SCALE < mm_total,
        tuple(_market_risk(account, markets, series, k, now_s, [im[k], mm[k]]) for k in sorted(im)),
    )  # fmt: skip
