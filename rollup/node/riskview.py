"""``rollup.risk``'s plain views built from the native state: ``zkr risk`` and its JSON.

``rollup.risk`` computes margin over plain views (``MarketView``, ``SeriesView``, ``AccountView``)
and a Greeks / scenario report; the native margin engine (``rollup.margin``) computes the same
integer margin over the state's own objects. This adapter builds the views of one account:

- markets: each market's name, base decimals, index price (the oracle price) and fractions;
- series: every series the account holds, with the implied volatility the oracle marks it at
  (``rollup.node.oracle``);
- account: collateral with pending funding settled (``collateral − Σ size·(F − f)``), the perp
  sizes and the option positions by series id;
- time: the state's oracle time (the protocol's now).

So ``rollup.risk``'s integer TV, IM and MM of these views equal ``rollup.margin``'s of the account
(a test pins it); the report's Greeks and scenarios are floats (display only).
"""

from __future__ import annotations

from typing import Any

from protocol.spec import PUT, RollupParams
from rollup import risk
from rollup.account import Account, GlobalState
from rollup.node.oracle import DEFAULT_IV

__all__ = ["account_views", "risk_report"]

Views = tuple[risk.AccountView, tuple[risk.MarketView, ...], tuple[risk.SeriesView, ...], int]


def account_views(
    account: Account, g: GlobalState, params: RollupParams, ivs: dict[int, float] | None = None
) -> Views:
    """(account, markets, series, now) views of ``account`` in global state ``g``."""
    ivs = ivs or {}
    markets = tuple(
        risk.MarketView(
            spec.name, spec.base_decimals, m.price, m.initial_fraction, m.maintenance_fraction,
            m.option_initial, m.option_floor, m.option_maintenance,
        )
        for spec, m in zip(params.markets, g.markets, strict=True)
    )  # fmt: skip
    collateral = account.collateral - sum(
        p.size * (m.funding_index - p.funding_index)
        for p, m in zip(account.positions, g.markets, strict=True)
    )
    perps = tuple((k, p.size) for k, p in enumerate(account.positions) if p.size)
    options, series = [], []
    for o in account.options:
        if not o.size:
            continue
        s = g.series[o.slot]
        options.append((s.series_id, o.size))
        series.append(
            risk.SeriesView(
                s.series_id, s.market, "put" if s.kind == PUT else "call", s.strike, s.expiry,
                s.mark, s.settlement_price, ivs.get(s.series_id, DEFAULT_IV),
            )
        )  # fmt: skip
    view = risk.AccountView(collateral, perps, tuple(options))
    return view, markets, tuple(series), g.oracle_time


def risk_report(
    account: Account, g: GlobalState, params: RollupParams, ivs: dict[int, float] | None = None
) -> dict[str, Any]:
    """``rollup.risk.risk_report`` of the account as JSON (``RiskReport.to_json``'s keys) plus
    ``"table"``: the terminal table."""
    view, markets, series, now = account_views(account, g, params, ivs)
    report = risk.risk_report(view, markets, series, now)
    out = report.to_json()
    out["table"] = report.format_table()
    return out
