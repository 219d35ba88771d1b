"""Reports as text for people: ``zkr account show`` (the JSON form is ``rollup.node.report``'s).

Money is shown rounded to cents, prices to the cent (or more digits when below one USD); the
JSON form carries the exact figures.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["account_lines", "money"]


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
        f"account {r['account']} (nonce {r['nonce']}, at the sequencer head)",
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
        lines.append("  no open positions")
    if "proof" in r:
        lines.append(f"  settled root {r['proof']['root']}")
        lines.append(f"  Merkle proof: {len(r['proof']['siblings'])} siblings (use --json for it)")
    return lines
