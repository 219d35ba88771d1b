"""Reports as text for people: ``zkr account show`` (the JSON form is ``rollup.node.report``'s).

Money is shown rounded to cents, prices to the cent (or more digits when below one USD); the
JSON form carries the exact figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["account_lines", "money", "order_lines", "series_lines"]


def money(value: str | None, places: int = 2) -> str:
    """A decimal string rounded to ``places`` for display, with thousands separators; n/a."""
    if value is None:
        return "n/a"
    d = Decimal(value)
    if 0 < abs(d) < 1 and places == 2:
        places = 6
    return f"{d:,.{places}f}"


def account_lines(r: dict[str, Any]) -> list[str]:
    """The account report as aligned lines."""
    if not r["exists"]:
        return [f"account {r['account']} is empty (no deposit has created it)"]
    lines = [
        f"account {r['account']} (nonce {r['nonce']}, order floor {r['order_floor']}, at the "
        "sequencer head)",
        f"  collateral            {money(r['collateral_usd']):>18} USD",
        f"  unrealised P&L        {money(r['unrealised_pnl_usd']):>18} USD",
        f"  funding pending       {money(r['funding_pending_usd']):>18} USD (positive: owed)",
        f"  funding paid          {money(r['funding_paid_usd']):>18} USD",
        f"  total value           {money(r['total_value_usd']):>18} USD",
        f"  initial requirement   {money(r['initial_requirement_usd']):>18} USD",
        f"  maintenance req.      {money(r['maintenance_requirement_usd']):>18} USD",
        f"  free collateral       {money(r['free_collateral_usd']):>18} USD",
        f"  leverage              {money(r['leverage']):>18}x",
        f"  liquidatable          {'YES' if r['liquidatable'] else 'no':>18}",
        f"  claimable on L1       {money(r.get('claimable_usd')):>18} USD "
        f"(L1 address {r.get('l1_address')})",
    ]
    held = [p for p in r["positions"] if Decimal(p["size"]) != 0]
    if held:
        lines.append(
            "  market       size          mark       entry   unrealised   funding    liq. price"
        )
    for p in held:
        lines.append(
            f"  {p['name']:<10} {p['size']:>8} {money(p['mark_price_usd']):>12} "
            f"{money(p['entry_price_usd']):>11} {money(p['unrealised_pnl_usd']):>12} "
            f"{money(p['funding_pending_usd']):>9} {money(p['liquidation_price_usd']):>13}"
        )
    if not held:
        lines.append("  no open perpetual positions")
    if r["options"]:
        lines.append(
            "  series  kind  underlying     strike    expiry          size        mark"
            "         value  status"
        )
    for o in r["options"]:
        lines.append(
            f"  {o['series_id']:>6}  {o['kind']:<4}  {o['name']:<10} {money(o['strike_usd']):>10} "
            f"{utc(o['expiry']):>16} {o['size']:>8} {money(o['mark_usd']):>11} "
            f"{money(o['value_usd']):>13}  {o['status']}"
        )
    if r["options"]:
        lines.append(f"  options value         {money(r['options_value_usd']):>18} USD")
    if "proof" in r:
        lines.append(f"  settled root {r['proof']['root']}")
        lines.append(f"  Merkle proof: {len(r['proof']['siblings'])} siblings (use --json for it)")
    return lines


def utc(seconds: int) -> str:
    """A timestamp as ``YYYY-MM-DD HH:MM`` UTC."""
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(seconds))


def series_lines(rows: list[dict[str, Any]]) -> list[str]:
    """``zkr series show``: one line per listed series (the JSON form's keys)."""
    if not rows:
        return ["no option series listed"]
    lines = ["series slot  underlying  kind     strike  expiry (UTC)           mark  settlement"
             "      open interest  iv     status"]  # fmt: skip
    for r in rows:
        lines.append(
            f"{r['series_id']:>6} {r['slot']:>4}  {r['name']:<10}  {r['kind']:<4} "
            f"{money(r['strike_usd']):>10}  {utc(r['expiry']):<16} {money(r['mark_usd']):>10}  "
            f"{money(r['settlement_price_usd']):>10}  {r['open_interest']:>17}  {r['iv']:<5}  "
            f"{r['status']}"
        )
    return lines


def order_lines(rows: list[dict[str, Any]]) -> list[str]:
    """``zkr order list``: resting orders (the JSON form's keys)."""
    if not rows:
        return ["no resting orders"]
    lines = ["account  order  instrument    side      size   filled  remaining       limit"
             "    max fee  expiry (UTC)"]  # fmt: skip
    for r in rows:
        lines.append(
            f"{r['account']:>7} {r['order_id']:>6}  {r['instrument']:<12}  {r['side']:<4} "
            f"{r['size']:>9} {r['filled']:>8} {r['remaining']:>10} "
            f"{money(r['limit_price_usd']):>11} {money(r['max_fee_usd']):>10}  {utc(r['expiry'])}"
        )
    return lines
