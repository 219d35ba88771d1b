"""Human units (rollup.node.units): exact round trips, and refusals for anything that does not
land on a protocol integer or leaves the protocol's widths — each with the nearest exact values."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.spec import DEFAULT_MARKETS, PRICE_BITS, SIZE_BITS, VALUE_SCALE
from rollup.errors import InsufficientMargin, LimitPriceViolated
from rollup.node.errors import UnitError
from rollup.node.units import (
    DEFAULT_PRICES_USD,
    amount_to_quanta,
    base_to_size,
    describe_error,
    exact,
    genesis_prices,
    market_index,
    parse_decimal,
    price_to_units,
    quanta_to_usd,
    size_to_base,
    units_to_price,
    usd_to_value,
    value_to_usd,
)

BTC, ETH, SOL, DOGE = DEFAULT_MARKETS


def test_known_values() -> None:
    assert amount_to_quanta("1000") == 10**9 and amount_to_quanta("0.000001") == 1
    assert usd_to_value("1") == 10**6 * VALUE_SCALE
    assert size_to_base("0.5", BTC) == 5 * 10**7 and size_to_base("3", DOGE) == 300
    assert price_to_units("30000", BTC) == 300 * VALUE_SCALE  # 30,000 USD = 300 quanta per sat
    assert price_to_units("100", SOL) == 100 * VALUE_SCALE
    assert price_to_units("0.1", DOGE) == 1000 * VALUE_SCALE
    assert genesis_prices(4) == tuple(
        price_to_units(p, m) for p, m in zip(DEFAULT_PRICES_USD, DEFAULT_MARKETS, strict=True)
    )


def test_exact_prints_every_protocol_integer_exactly() -> None:
    assert (
        exact(Fraction(1, 8)) == "0.125" and exact(-3) == "-3" and exact(Fraction(-1, 2)) == "-0.5"
    )
    assert exact(value_to_usd(1)) == "0.00000000000000023283064365386962890625"
    with pytest.raises(ValueError, match="no finite decimal"):
        exact(Fraction(1, 3))


@given(st.integers(1, (1 << 63) - 1))
def test_amount_round_trip(quanta: int) -> None:
    assert amount_to_quanta(exact(quanta_to_usd(quanta))) == quanta


@given(st.integers(1, (1 << SIZE_BITS) - 1), st.sampled_from(DEFAULT_MARKETS))
def test_size_round_trip(base: int, market) -> None:
    assert size_to_base(exact(base_to_size(base, market)), market) == base


@given(st.integers(1, (1 << PRICE_BITS) - 1), st.sampled_from(DEFAULT_MARKETS))
def test_price_round_trip(price: int, market) -> None:
    assert price_to_units(exact(units_to_price(price, market)), market) == price


@given(st.integers(1, (1 << 95) - 1))
def test_value_round_trip(value: int) -> None:
    usd = exact(value_to_usd(value))
    if Fraction(usd) * 10**6 * VALUE_SCALE == value and (value % VALUE_SCALE == 0):
        assert usd_to_value(usd) == value


def test_inexact_values_are_refused_with_their_neighbours() -> None:
    with pytest.raises(UnitError, match=r"30001 USD is not a multiple of .* 30000\.9999"):
        price_to_units("30001", BTC)
    with pytest.raises(
        UnitError, match=r"the nearest exact values are 0\.12345678 and 0\.12345679"
    ):
        size_to_base("0.123456789", BTC)
    with pytest.raises(UnitError, match=r"multiple of 0\.000001 USD"):
        amount_to_quanta("0.0000001")


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: amount_to_quanta("0"), "must be in [0.000001"),
        (lambda: amount_to_quanta("-5"), "must be in [0.000001"),
        (lambda: amount_to_quanta("1e30"), "must be in [0.000001"),
        (lambda: size_to_base("3000000", BTC), "size must be in [0.00000001, 2814749.76710655]"),
        (lambda: price_to_units("0", BTC), "price must be in"),
        (lambda: amount_to_quanta("ten"), "is not a decimal number"),
        (lambda: amount_to_quanta("NaN"), "not a finite number"),
        (lambda: amount_to_quanta(1.5), "give a decimal string"),
        (lambda: market_index(DEFAULT_MARKETS, "XRP"), "unknown market 'XRP'"),
        (lambda: genesis_prices(2, ("1",)), "give 2 genesis prices"),
    ],
)
def test_refusals(call, fragment: str) -> None:
    with pytest.raises(UnitError) as e:
        call()
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_market_by_index_or_name() -> None:
    assert market_index(DEFAULT_MARKETS, "eth-perp") == 1 == market_index(DEFAULT_MARKETS, "1")
    assert parse_decimal(" 1.50 ", "x") == Fraction(3, 2)


def test_refusals_of_the_state_machine_speak_usd() -> None:
    e = InsufficientMargin(account=3, total_value=-5 * 10**6 * VALUE_SCALE, required=7 << 32)
    assert "total value -5.00 USD" in describe_error(e, DEFAULT_MARKETS)
    assert "value units" in str(e)  # negative twin: the state machine's own message
    limit = LimitPriceViolated(
        account=1, price=301 * VALUE_SCALE, side="buy", limit=300 * VALUE_SCALE
    )
    assert "price 30100 USD violates its buy limit 30000 USD" in describe_error(
        limit, DEFAULT_MARKETS, 0
    )


# -- funding rates, instruments, times ------------------------------------------------------------
def test_funding_rates_per_hour() -> None:
    from rollup.node.units import rate_to_units

    step = Fraction(3600, 1 << 32)  # one protocol unit, per hour
    assert rate_to_units(exact(step)) == 1 and rate_to_units(exact(-7 * step)) == -7
    assert rate_to_units("4295u") == 4295 and rate_to_units("-3u") == -3
    with pytest.raises(UnitError, match=r"nearest exact values are 0\.0000997446"):
        rate_to_units("0.0001")
    with pytest.raises(UnitError, match="below 2"):
        rate_to_units(f"{1 << 32}u")
    with pytest.raises(UnitError, match="not an integer followed by u"):
        rate_to_units("1.5u")


def test_instruments() -> None:
    from protocol.spec import OPTION_BASE
    from rollup.node.units import parse_instrument

    assert parse_instrument(DEFAULT_MARKETS, "eth-perp") == 1
    assert parse_instrument(DEFAULT_MARKETS, "3") == 3
    assert parse_instrument(DEFAULT_MARKETS, "series:12") == OPTION_BASE + 12
    assert parse_instrument(DEFAULT_MARKETS, "S7") == OPTION_BASE + 7
    for bad in ("series:0", "XRP", "series:x"):
        with pytest.raises(UnitError):
            parse_instrument(DEFAULT_MARKETS, bad)


def test_times() -> None:
    from rollup.node.units import parse_expiry

    assert parse_expiry("1800000000") == 1_800_000_000
    assert parse_expiry("2027-01-15") == 1_800_000_000 - 8 * 3600
    assert parse_expiry("2027-01-15T08:00Z") == parse_expiry("2027-01-15 08:00:00") == 1_800_000_000
    with pytest.raises(UnitError, match="neither seconds nor a UTC date"):
        parse_expiry("next week")


def test_bankruptcy_refusals_speak_usd() -> None:
    """The insurance, liquidation and deleverage refusals print USD, never value units."""
    from protocol.spec import DEFAULT_MARKETS
    from rollup import errors
    from rollup.node.units import describe_error

    q = 1 << 32
    cases = {
        errors.InsuranceExhausted(account=4, fund=15 * 10**6 * q, shortfall=45 * 10**6 * q): (
            "15.00 USD cannot cover a shortfall of 45.00 USD"
        ),
        errors.FundCovers(account=1, fund=20 * 10**6 * q, deficit=10**6 * q): "20.00 USD covers",
        errors.NotBankrupt(account=2, total_value=10**6 * q): "total value 1.00 USD",
        errors.LiquidationNotImproving(account=3, tv_before=10**6 * q, tv_after=5 * 10**5 * q): (
            "1.00 USD → 0.50 USD"
        ),
    }
    for error, fragment in cases.items():
        text = describe_error(error, DEFAULT_MARKETS)
        assert fragment in text and "value units" not in text
        assert "value units" in str(error)  # negative twin: the raw message
