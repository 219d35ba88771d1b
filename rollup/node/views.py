"""Views of the book, the option series and an account's risk in human units (``zkr order list``,
``zkr series show``, ``zkr risk``, ``--json`` and the HTTP API), JSON-ready with stable keys.

``series`` keys: ``series_id``, ``slot``, ``market``, ``name`` (the underlying's), ``kind``
("call", "put"), ``strike_usd``, ``expiry`` (seconds), ``expiry_utc``, ``mark_usd`` (per whole
unit of the underlying), ``settlement_price_usd`` (null until settled), ``open_interest`` (whole
units), ``iv`` (the oracle's implied volatility for it), ``status`` ("live", "expired",
"settled").

``orders`` keys: ``account``, ``order_id``, ``instrument`` (a market's name or ``series:ID``),
``side`` ("buy", "sell"), ``size``, ``filled``, ``remaining`` (whole units), ``limit_price_usd``,
``max_fee_usd`` (for the whole size), ``expiry`` (seconds).

``risk`` keys: ``rollup.risk.RiskReport.to_json``'s (integers in protocol units, ``*_usd`` floats
for display) plus ``account`` and ``table`` (the text form).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from protocol.spec import OPTION_BASE
from rollup.node.orders import instrument_name
from rollup.node.riskview import risk_report
from rollup.node.units import base_to_size, exact, units_to_price, value_to_usd

if TYPE_CHECKING:
    from rollup.node.facade import Rollup

__all__ = ["orders_view", "risk_view", "series_view"]


def series_view(node: Rollup) -> list[dict[str, Any]]:
    out = []
    for r in node.series():
        m = node.params.markets[r["market"]]
        price = lambda v, m=m: exact(units_to_price(v, m))  # noqa: E731
        out.append({
            "series_id": r["series_id"],
            "slot": r["slot"],
            "market": r["market"],
            "name": m.name,
            "kind": r["kind"],
            "strike_usd": price(r["strike"]),
            "expiry": r["expiry"],
            "expiry_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r["expiry"])),
            "mark_usd": price(r["mark"]),
            "settlement_price_usd": (
                price(r["settlement_price"]) if r["settlement_price"] else None
            ),
            "open_interest": exact(base_to_size(r["open_interest"], m)),
            "iv": r["iv"],
            "status": r["status"],
        })  # fmt: skip
    return out


def _underlying(node: Rollup, instrument: int) -> Any:
    if instrument < OPTION_BASE:
        return node.params.markets[instrument]
    g = node.pending_state().global_state
    slot = g.series_by_id(instrument - OPTION_BASE)
    return node.params.markets[0 if slot is None else g.series[slot].market]


def orders_view(node: Rollup, account: int | None = None) -> list[dict[str, Any]]:
    names = tuple(m.name for m in node.params.markets)
    out = []
    for r in node.orders(account):
        m = _underlying(node, r["instrument"])
        size = lambda v, m=m: exact(base_to_size(v, m))  # noqa: E731
        out.append({
            "account": r["account"],
            "order_id": r["order_id"],
            "instrument": instrument_name(r["instrument"], names),
            "side": "sell" if r["side"] else "buy",
            "size": size(r["size"]),
            "filled": size(r["filled"]),
            "remaining": size(r["remaining"]),
            "limit_price_usd": exact(units_to_price(r["limit_price"], m)),
            "max_fee_usd": exact(value_to_usd(r["max_fee"])),
            "expiry": r["expiry"],
        })  # fmt: skip
    return out


def risk_view(node: Rollup, account: int) -> dict[str, Any]:
    """The risk report of ``account`` at the sequencer head."""
    state = node.seq.state
    report = risk_report(state.existing(account), state.global_state, node.params,
                         node.oracle_log.read().iv)  # fmt: skip
    return {"account": account, **report}
