"""Margin engine: TV/TR by hand, funding settlement preserves TV, and the margin report."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.spec import RollupParams
from rollup.account import Account, Position
from rollup.margin import (
    initial_risk,
    is_liquidatable,
    maintenance_risk,
    margin_report,
    meets_initial,
    settle,
    total_value,
)
from tests.rollup.conftest import PRICE, genesis

G = genesis(RollupParams(depth=4))


def account(
    collateral: int, sizes: tuple[int, ...], cached: tuple[int, ...] = (0, 0, 0, 0)
) -> Account:
    return Account(
        1, 2, 0, 0, collateral, tuple(Position(s, f) for s, f in zip(sizes, cached, strict=True))
    )


def test_by_hand() -> None:
    a = account(1000 * PRICE, (10, -20, 0, 0))
    assert total_value(a, G) == 1000 * PRICE + 10 * PRICE - 20 * PRICE
    assert maintenance_risk(a, G) == 30 * PRICE * 50_000
    assert initial_risk(a, G) == 30 * PRICE * 100_000
    assert meets_initial(a, G) and not is_liquidatable(a, G)
    poor = account(-8 * PRICE, (10, 0, 0, 0))  # TV = 2·PRICE, TR = 0.5·PRICE, IR = 1·PRICE
    assert meets_initial(poor, G) and not is_liquidatable(poor, G)
    broke = account(-int(9.6 * PRICE), (10, 0, 0, 0))  # TV = 0.4·PRICE < 0.5·PRICE
    assert is_liquidatable(broke, G)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(-(2**60), 2**60),
    st.lists(st.integers(-(2**40), 2**40), min_size=4, max_size=4),
    st.lists(st.integers(-(2**50), 2**50), min_size=4, max_size=4),
    st.lists(st.integers(-(2**50), 2**50), min_size=4, max_size=4),
)
def test_settlement_preserves_value(collateral, sizes, cached, indices) -> None:
    g = replace(
        G,
        markets=tuple(replace(m, funding_index=f) for m, f in zip(G.markets, indices, strict=True)),
    )
    a = account(collateral, tuple(sizes), tuple(cached))
    s = settle(a, g)
    assert total_value(s, g) == total_value(a, g)
    assert all(p.funding_index == f for p, f in zip(s.positions, indices, strict=True))
    assert s.collateral == collateral - sum(
        sz * (f - c) for sz, f, c in zip(sizes, indices, cached, strict=True)
    )
    assert settle(s, g) == s


def test_report() -> None:
    a = account(-8 * PRICE, (10, 0, 0, 0))
    rep = margin_report(a, G)
    assert rep.total_value == 2 * PRICE and rep.maintenance_requirement == PRICE // 2
    assert rep.margin_ratio_ppm == 4_000_000 and not rep.liquidatable
    # long 10 with 8 borrowed: TV = 10p - 8P = 0.05·10p  →  p = 8P / 9.5
    assert rep.liquidation_prices[0] == 8 * PRICE * 10 // 95
    assert rep.liquidation_prices[1:] == (None, None, None)
    # uniform move: 1 + x = C / (R - N) = -8P / (0.5P - 10P)  →  x ≈ -15.8%
    assert rep.liquidation_move_ppm == -8 * 10**6 * 10**6 // (-95 * 10**5) - 10**6
    assert margin_report(account(5, (0, 0, 0, 0)), G).margin_ratio_ppm is None
