"""Human units at the edge: USD and whole units, converted exactly to protocol integers and back.

The protocol counts in integers (``protocol.spec``): collateral quanta (1 quantum = 10^-6 USD) on
L1, value units (2^-32 quantum) on L2, base quanta per market (1 base quantum = 10^-d whole units,
``d = Market.base_decimals``) and prices in value units per base quantum. People count in USD and
whole units. Every conversion here is exact — ``fractions.Fraction`` from ``decimal.Decimal`` text
— and a value that does not land on an integer is refused (``UnitError``) with the neighbouring
values that do, never rounded::

    amount  USD            → quanta          a · 10^6
    value   USD            → value units     v · 10^6 · 2^32            (transfers, fees)
    size    whole units    → base quanta     s · 10^d
    price   USD per unit   → value units / base quantum     p · 10^6 · 2^32 / 10^d
    rate    fraction per hour → 2^-32 per second              r · 2^32 / 3600

Option premiums, strikes and marks are prices of the underlying's unit (a contract is one base
quantum of it). Funding rates are a fraction of the notional per hour (0.0001 = 0.01 %/h): the
protocol's step is 3600 / 2^32 per hour, so most decimal rates are refused with their exact
neighbours; a protocol integer is also accepted as ``<n>u`` (e.g. ``4295u``). The price is the
awkward one: for d = 8 (BTC, ETH) one value unit per base quantum is
100 / 2^32 USD per unit, so a price is exact only if ``p · 2^32 / 100`` is an integer — e.g.
30000 and 30025 are, 30001 is not (its neighbours 30000.99999998... and 30001.00000000... are
printed exactly). Going back, every protocol integer has a finite decimal expansion (the
denominators are 2^a·5^b), so ``exact`` prints it without loss; ``show`` rounds for people
(display only).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction

from protocol.spec import (
    AMOUNT_BITS,
    FEE_BITS,
    PRICE_BITS,
    SIZE_BITS,
    TRANSFER_BITS,
    VALUE_SCALE,
    Market,
)
from rollup.node.errors import UnitError

__all__ = [
    "QUANTA_PER_USD",
    "VALUE_PER_USD",
    "amount_to_quanta",
    "base_to_size",
    "exact",
    "parse_decimal",
    "parse_expiry",
    "parse_instrument",
    "price_to_units",
    "quanta_to_usd",
    "rate_to_units",
    "show",
    "size_to_base",
    "units_to_price",
    "usd_to_value",
    "value_to_usd",
]

QUANTA_PER_USD: int = 10**6
VALUE_PER_USD: int = QUANTA_PER_USD * VALUE_SCALE

Number = str | int | Decimal | Fraction


def parse_decimal(text: Number, what: str) -> Fraction:
    """``text`` (e.g. "30000", "0.25", "1e-3") as an exact fraction; UnitError if not a finite
    decimal number."""
    if isinstance(text, Fraction):
        return text
    if isinstance(text, (bool, float)):
        raise UnitError(detail=f"{what}: give a decimal string, not {type(text).__name__}")
    try:
        d = Decimal(text.strip() if isinstance(text, str) else text)
    except (InvalidOperation, ValueError, TypeError):
        raise UnitError(detail=f"{what}: {text!r} is not a decimal number") from None
    if not d.is_finite():
        raise UnitError(detail=f"{what}: {text!r} is not a finite number")
    return Fraction(d)


def exact(x: Fraction | int) -> str:
    """The exact decimal expansion of ``x`` (its denominator must be 2^a·5^b), without trailing
    zeros: ``exact(Fraction(1, 8)) == "0.125"``."""
    x = Fraction(x)
    q = x.denominator
    a = b = 0
    while q % 2 == 0:
        q, a = q // 2, a + 1
    while q % 5 == 0:
        q, b = q // 5, b + 1
    if q != 1:
        raise ValueError(f"{x} has no finite decimal expansion")
    k = max(a, b)
    digits = abs(x.numerator) * 10**k // x.denominator
    sign = "-" if x < 0 else ""
    if k == 0:
        return f"{sign}{digits}"
    whole, frac = divmod(digits, 10**k)
    frac_text = str(frac).rjust(k, "0").rstrip("0")
    return f"{sign}{whole}" + (f".{frac_text}" if frac_text else "")


def show(x: Fraction | int, places: int = 2) -> str:
    """``x`` rounded half-even to ``places`` decimals, for people (display only)."""
    d = Decimal(Fraction(x).numerator) / Decimal(Fraction(x).denominator)
    return str(d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _to_int(x: Fraction, scale: Fraction, what: str, unit: str, step: str) -> int:
    scaled = x * scale
    if scaled.denominator != 1:
        low = Fraction(scaled.numerator // scaled.denominator) / scale
        high = low + 1 / scale
        raise UnitError(
            detail=f"{what} {exact(x)} {unit} is not a multiple of {step}; "
            f"the nearest exact values are {exact(low)} and {exact(high)}"
        )
    return scaled.numerator


def _bounded(value: int, low: int, high: int, what: str, back: Fraction, unit: str) -> int:
    if not low <= value <= high:
        raise UnitError(
            detail=f"{what} must be in [{exact(low / back)}, {exact(high / back)}] {unit}"
        )
    return value


# -- amounts --------------------------------------------------------------------------------------
def amount_to_quanta(text: Number, what: str = "amount", low: int = 1) -> int:
    """A USD amount (deposit, withdrawal: positive; ``low`` 0 for a fee) in collateral quanta
    (exact, < 2^63)."""
    q = _to_int(parse_decimal(text, what), Fraction(QUANTA_PER_USD), what, "USD", "0.000001 USD")
    return _bounded(q, low, (1 << AMOUNT_BITS) - 1, what, Fraction(QUANTA_PER_USD), "USD")


def quanta_to_usd(quanta: int) -> Fraction:
    return Fraction(quanta, QUANTA_PER_USD)


def usd_to_value(text: Number, what: str = "value", low: int = 1, bits: int = TRANSFER_BITS) -> int:
    """A USD value (transfer amount, fee) in value units (exact, within ``[low, 2^bits)``)."""
    v = _to_int(parse_decimal(text, what), Fraction(VALUE_PER_USD), what, "USD", "0.000001 USD")
    return _bounded(v, low, (1 << bits) - 1, what, Fraction(VALUE_PER_USD), "USD")


def fee_to_value(text: Number) -> int:
    """A maximum order fee in USD, in value units (0 allowed)."""
    return usd_to_value(text, "fee", low=0, bits=FEE_BITS)


def value_to_usd(value: int) -> Fraction:
    return Fraction(value, VALUE_PER_USD)


# -- sizes and prices -----------------------------------------------------------------------------
def _base_per_unit(market: Market) -> int:
    return 10**market.base_decimals


def size_to_base(text: Number, market: Market, what: str = "size") -> int:
    """A positive size in whole units of ``market``'s underlying, in base quanta (< 2^48)."""
    scale = Fraction(_base_per_unit(market))
    step = exact(1 / scale) + " " + market.name
    n = _to_int(parse_decimal(text, what), scale, what, market.name, step)
    return _bounded(n, 1, (1 << SIZE_BITS) - 1, what, scale, market.name)


def base_to_size(base: int, market: Market) -> Fraction:
    """Base quanta of ``market`` in whole units (signed)."""
    return Fraction(base, _base_per_unit(market))


def _price_scale(market: Market) -> Fraction:
    """Value units per base quantum for 1 USD per whole unit."""
    return Fraction(VALUE_PER_USD, _base_per_unit(market))


def price_to_units(text: Number, market: Market, what: str = "price") -> int:
    """A positive price in USD per whole unit, in value units per base quantum (< 2^64)."""
    scale = _price_scale(market)
    step = f"{exact(1 / scale)} USD ({market.name}'s price unit)"
    p = _to_int(parse_decimal(text, what), scale, what, "USD", step)
    return _bounded(p, 1, (1 << PRICE_BITS) - 1, what, scale, "USD")


def units_to_price(price: int, market: Market) -> Fraction:
    """A protocol price (value units per base quantum) in USD per whole unit."""
    return price / _price_scale(market)


# -- markets and genesis ---------------------------------------------------------------------------
#: Genesis prices of the default markets (BTC, ETH, SOL, DOGE), USD per whole unit; each exact.
DEFAULT_PRICES_USD: tuple[str, ...] = ("30000", "2000", "100", "0.1")


def market_index(markets: tuple[Market, ...], market: str | int) -> int:
    """A market given by index ("0") or name ("BTC-PERP", any case); UnitError if unknown."""
    text = str(market).strip()
    if text.isdigit() and int(text) < len(markets):
        return int(text)
    for k, m in enumerate(markets):
        if m.name.lower() == text.lower():
            return k
    names = ", ".join(f"{k} {m.name}" for k, m in enumerate(markets))
    raise UnitError(detail=f"unknown market {market!r} (markets: {names})")


def genesis_prices(n_markets: int, prices: tuple[str, ...] = ()) -> tuple[int, ...]:
    """Genesis prices in protocol units of the first ``n_markets`` default markets, from USD
    (``DEFAULT_PRICES_USD`` when none are given)."""
    from protocol.spec import DEFAULT_MARKETS

    if not 1 <= n_markets <= len(DEFAULT_MARKETS):
        raise UnitError(detail=f"markets must be in 1..{len(DEFAULT_MARKETS)}")
    prices = prices or DEFAULT_PRICES_USD[:n_markets]
    if len(prices) != n_markets:
        raise UnitError(detail=f"give {n_markets} genesis prices, one per market")
    return tuple(
        price_to_units(p, m, f"{m.name} price")
        for p, m in zip(prices, DEFAULT_MARKETS[:n_markets], strict=True)
    )


# -- refusals in human units ----------------------------------------------------------------------
def describe_error(error: Exception, markets: tuple[Market, ...], market: int | None = None) -> str:
    """The message of a state-machine refusal with its protocol integers in USD and whole units
    (``market``: the market the refused transaction traded, when there is one)."""
    f = getattr(error, "fields", {})
    usd = lambda v: f"{show(value_to_usd(v))} USD"  # noqa: E731
    m = markets[market] if market is not None and 0 <= market < len(markets) else None
    name = type(error).__name__
    if name == "InsufficientMargin":
        return (
            f"account {f['account']}: total value {usd(f['total_value'])} is below the initial "
            f"margin requirement {usd(f['required'])} (long options' value not counted) and the "
            "trade does not reduce its position at a TV/TR no worse"
        )
    if name == "InsuranceExhausted":
        return (
            f"account {f['account']}: the insurance fund {usd(f['fund'])} cannot cover a "
            f"shortfall of {usd(f['shortfall'])}: deleverage it"
        )
    if name == "LiquidationNotImproving":
        return (
            f"liquidation of account {f['account']} makes its TV/TR worse: total value "
            f"{usd(f['tv_before'])} → {usd(f['tv_after'])}"
        )
    if name == "NotBankrupt":
        return (
            f"deleverage of account {f['account']} refused: its total value "
            f"{usd(f['total_value'])} is not negative"
        )
    if name == "FundCovers":
        return (
            f"deleverage of account {f['account']} refused: the insurance fund {usd(f['fund'])} "
            f"covers its deficit {usd(f['deficit'])}: liquidate it"
        )
    if name == "NotLiquidatable":
        return (
            f"account {f['account']} is not liquidatable: total value {usd(f['total_value'])} "
            f"≥ maintenance requirement {usd(f['required'])}"
        )
    if name == "FeeExceeded":
        fee, limit = usd(f["fee"]), usd(f["max_fee"])
        return f"account {f['account']}: fee {fee} exceeds the signed maximum {limit}"
    if m is not None and name == "LimitPriceViolated":
        price, limit = (exact(units_to_price(f[k], m)) for k in ("price", "limit"))
        return (
            f"account {f['account']}: price {price} USD violates its {f['side']} limit {limit} USD"
        )
    if m is not None and name == "SizeExceeded":
        q, limit = (exact(base_to_size(f[k], m)) for k in ("quantity", "limit"))
        return f"account {f['account']}: quantity {q} {m.name} exceeds its {f['what']} {limit}"
    if name == "LiquidationPriceOutOfBounds" and 0 <= f["market"] < len(markets):
        lm = markets[f["market"]]
        p = {k: exact(units_to_price(f[k], lm)) for k in ("price", "low", "high", "oracle")}
        return (
            f"liquidation price {p['price']} USD outside [{p['low']}, {p['high']}] USD "
            f"(oracle {p['oracle']} USD, {lm.name})"
        )
    return str(error)


# -- funding rates, instruments, times --------------------------------------------------------
def rate_to_units(text: Number, what: str = "funding rate") -> int:
    """A signed funding rate per hour (a fraction of the notional), or ``<n>u`` in protocol
    units, as the protocol's 2^-32 per second (exact)."""
    from protocol.spec import RATE_BITS, RATE_SCALE

    raw = str(text).strip()
    if raw.endswith("u"):
        try:
            n = int(raw[:-1])
        except ValueError:
            raise UnitError(detail=f"{what}: {text!r} is not an integer followed by u") from None
    else:
        scale = Fraction(RATE_SCALE, 3600)
        n = _to_int(parse_decimal(text, what), scale, what, "per hour", f"{exact(1 / scale)}/h")
    if abs(n) >= 1 << RATE_BITS:
        raise UnitError(detail=f"{what}: |{n}u| must be below 2^{RATE_BITS}")
    return n


def parse_instrument(markets: tuple[Market, ...], text: str) -> int:
    """An order's instrument: a market by index or name, or ``series:ID`` (also ``sID``) —
    the protocol's m or OPTION_BASE + ID."""
    from protocol.spec import OPTION_BASE, SERIES_ID_BITS

    t = str(text).strip().lower()
    for prefix in ("series:", "s"):
        if t.startswith(prefix) and t[len(prefix) :].isdigit():
            sid = int(t[len(prefix) :])
            if not 0 < sid < 1 << SERIES_ID_BITS:
                raise UnitError(detail=f"series id {sid} is out of range")
            return OPTION_BASE + sid
    return market_index(markets, text)


def parse_expiry(text: str | int, what: str = "expiry") -> int:
    """A time: seconds since the epoch, or a UTC date / date-time (``2026-12-25``,
    ``2026-12-25T08:00``, ``2026-12-25 08:00:00``); a trailing ``Z`` is allowed."""
    import calendar
    import time as _time

    raw = str(text).strip()
    if raw.isdigit():
        return int(raw)
    raw = raw.removesuffix("Z").replace(" ", "T")
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return calendar.timegm(_time.strptime(raw, fmt))
        except ValueError:
            continue
    raise UnitError(
        detail=f"{what}: {text!r} is neither seconds nor a UTC date/time like 2026-12-25T08:00"
    )
