"""``zkr``'s trading and options verbs: orders (place, cancel, list), the oracle, option series,
liquidations, deleverages, the settlement sweep, forced withdrawals and the risk report.

Each verb is one call of the ``rollup.node`` API; this module parses, converts human units
(``rollup.node.units``) and prints. An INSTRUMENT is a market (index or name, e.g. ``BTC-PERP``)
or an option series ``series:ID`` (also ``sID``); option sizes are contracts in whole units of
the underlying and premiums, strikes and marks are USD per whole unit of it. ``cli`` adds
``COMMANDS`` to ``zkr``; exit codes are ``rollup.node.commands.base``'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from rollup.node.commands.base import InputError, json_option
from rollup.node.commands.rollup_verbs import describer, dir_option, echo_json, open_rollup


def use_instrument(node: Any, text: str) -> tuple[int, Any]:
    """(instrument, the underlying market's spec); refusals described in its units."""
    from rollup.node.units import parse_instrument

    instrument = parse_instrument(node.params.markets, text)
    market = node.underlying(instrument)
    click.get_current_context().meta["zkr.describe"] = describer(node.params, market)
    return instrument, node.params.markets[market]


class PlaceByDefault(click.Group):
    """``zkr order ACCOUNT ...`` is ``zkr order place ACCOUNT ...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["place", *args]
        return super().parse_args(ctx, args)


@click.group(cls=PlaceByDefault)
def order() -> None:
    """Orders: place (the default), cancel, list."""


@order.command("place")
@dir_option
@click.argument("account_index", type=int)
@click.argument("instrument")
@click.argument("side", type=click.Choice(["buy", "sell"]))
@click.argument("size")
@click.argument("price")
@click.option("--max-fee", default="0", show_default=True, help="USD, for the whole size.")
@click.option("--expiry", help="UTC date/time or seconds (default: a week from now).")
@json_option
def order_place(data_dir: Path, account_index: int, instrument: str, side: str, size: str,
                price: str, max_fee: str, expiry: str | None, as_json: bool) -> None:  # fmt: skip
    """Sign an order for SIZE units of INSTRUMENT at limit PRICE USD per unit (order id from
    the book); fill it against resting orders and rest the remainder."""
    from rollup.node.units import (
        base_to_size,
        exact,
        fee_to_value,
        parse_expiry,
        price_to_units,
        size_to_base,
    )  # fmt: skip

    fee = fee_to_value(max_fee)
    until = None if expiry is None else parse_expiry(expiry)
    with open_rollup(data_dir) as node:
        inst, spec = use_instrument(node, instrument)
        out = node.order(account_index, inst, 0 if side == "buy" else 1, size_to_base(size, spec),
                         price_to_units(price, spec), fee, until)  # fmt: skip
    if as_json:
        for t in out["trades"]:
            t["quantity"] = exact(base_to_size(t["quantity"], spec))
            t["price"] = str(t["price"])
        echo_json(out | {"filled": exact(base_to_size(out["filled"], spec))})
        return
    for t in out["trades"]:
        q = exact(base_to_size(t["quantity"], spec))
        click.echo(f"filled {q} against account {t['maker']}'s order {t['maker_order_id']} "
                   f"(mempool #{t['mempool']})")  # fmt: skip
    left = exact(base_to_size(int(size_to_base(size, spec)) - out["filled"], spec))
    state = f"resting ({left} left)" if out["resting"] else "filled"
    click.echo(f"order {out['order_id']} of account {account_index}: {state}")


@order.command("cancel")
@dir_option
@click.argument("account_index", type=int)
@click.argument("order_id", type=int)
def order_cancel(data_dir: Path, account_index: int, order_id: int) -> None:
    """Cancel ACCOUNT's resting order ORDER_ID (signed by the account's key)."""
    with open_rollup(data_dir) as node:
        node.cancel(account_index, order_id)
    click.echo(f"order {order_id} of account {account_index} cancelled")


@order.command("list")
@dir_option
@click.option("--account", "account_index", type=int, help="Only this account's orders.")
@json_option
def order_list(data_dir: Path, account_index: int | None, as_json: bool) -> None:
    """Resting orders with what they filled and have left."""
    from rollup.node.text import order_lines
    from rollup.node.views import orders_view

    with open_rollup(data_dir, write=False) as node:
        rows = orders_view(node, account_index)
    if as_json:
        echo_json(rows)
    else:
        click.echo("\n".join(order_lines(rows)))


@click.command()
@dir_option
@click.argument("prices", nargs=-1, required=True)
@click.option(
    "--rate",
    "rates",
    multiple=True,
    help="Funding rate per market, fraction per hour (or <n>u); default 0.",
)
@click.option("--iv", "ivs", multiple=True, help="SERIES=VOL: implied volatility of a series.")
@click.option("--timestamp", help="UTC date/time or seconds (default: now).")
@json_option
def oracle(data_dir: Path, prices: tuple[str, ...], rates: tuple[str, ...], ivs: tuple[str, ...],
           timestamp: str | None, as_json: bool) -> None:  # fmt: skip
    """Sign index PRICES (USD per unit, one per market) and funding rates with the oracle key;
    listed series get marks (Black-76 at their iv) and, once expired, settlement prices (TWAP)."""
    from rollup.node.units import parse_expiry, price_to_units, rate_to_units

    vols: dict[int, float] = {}
    for item in ivs:
        sid, _, vol = item.partition("=")
        try:
            vols[int(sid)] = float(vol)
        except ValueError:
            raise InputError(f"--iv {item!r}: give SERIES=VOL, e.g. 1=0.65") from None
    ts = None if timestamp is None else parse_expiry(timestamp, "timestamp")
    with open_rollup(data_dir) as node:
        markets = node.params.markets
        if len(prices) != len(markets) or (rates and len(rates) != len(markets)):
            raise InputError(f"give {len(markets)} prices and 0 or {len(markets)} --rate")
        units = tuple(price_to_units(p, m) for p, m in zip(prices, markets, strict=True))
        r = tuple(rate_to_units(x) for x in rates) if rates else None
        out = node.oracle(units, r, ts, vols)
    if as_json:
        echo_json({k: ({str(a): str(b) for a, b in v.items()} if isinstance(v, dict) else v)
                   for k, v in out.items()})  # fmt: skip
        return
    click.echo(f"oracle update at {out['timestamp']} queued (mempool #{out['mempool']})")
    if out["marks_mempool"] is not None:
        settled = ", ".join(str(s) for s in out["settled"]) or "none"
        click.echo(f"marks of {len(out['marks'])} live series queued (mempool "
                   f"#{out['marks_mempool']}); settled now: {settled}")  # fmt: skip


@click.group()
def series() -> None:
    """Option series: list one (operator key), show them."""


@series.command("list")
@dir_option
@click.argument("market")
@click.argument("expiry")
@click.argument("strike")
@click.argument("kind", type=click.Choice(["call", "put"]))
@click.option("--iv", type=float, help="Implied volatility the oracle marks it at (default 0.5).")
def series_list(data_dir: Path, market: str, expiry: str, strike: str, kind: str,
                iv: float | None) -> None:  # fmt: skip
    """List a cash-settled European KIND on MARKET, strike STRIKE USD per unit, expiring at
    EXPIRY (UTC date/time or seconds)."""
    from rollup.node.units import market_index, parse_expiry, price_to_units

    with open_rollup(data_dir) as node:
        m = market_index(node.params.markets, market)
        k = price_to_units(strike, node.params.markets[m], "strike")
        out = node.list_series(m, parse_expiry(expiry), k, 0 if kind == "call" else 1, iv)
    click.echo(f"series {out['series_id']} (slot {out['slot']}) listing queued "
               f"(mempool #{out['mempool']}); trade it as series:{out['series_id']}")  # fmt: skip


@series.command("show")
@dir_option
@json_option
def series_show(data_dir: Path, as_json: bool) -> None:
    """Every listed series: strike, expiry, mark, settlement price, open interest, iv."""
    from rollup.node.text import series_lines
    from rollup.node.views import series_view

    with open_rollup(data_dir, write=False) as node:
        rows = series_view(node)
    if as_json:
        echo_json(rows)
    else:
        click.echo("\n".join(series_lines(rows)))


@click.command()
@dir_option
@click.argument("liquidator", type=int)
@click.argument("liquidated", type=int)
@click.argument("instrument")
@click.argument("size")
@click.argument("price")
@click.option("--fee", default="0", show_default=True, help="Liquidator's fee, USD.")
def liquidate(data_dir: Path, liquidator: int, liquidated: int, instrument: str, size: str,
              price: str, fee: str) -> None:  # fmt: skip
    """LIQUIDATOR takes SIZE units of LIQUIDATED's position in INSTRUMENT at PRICE USD per unit
    (a shortfall is drawn from the insurance fund in proportion to the risk closed)."""
    from rollup.node.units import fee_to_value, price_to_units, size_to_base

    with open_rollup(data_dir) as node:
        inst, spec = use_instrument(node, instrument)
        seq = node.liquidate(liquidator, liquidated, inst, size_to_base(size, spec),
                             price_to_units(price, spec), fee_to_value(fee))  # fmt: skip
    click.echo(f"liquidation queued (mempool #{seq})")


@click.command()
@dir_option
@click.argument("deleveraged", type=int)
@click.argument("deleverager", type=int)
@click.argument("instrument")
@click.argument("size")
def deleverage(data_dir: Path, deleveraged: int, deleverager: int, instrument: str,
               size: str) -> None:  # fmt: skip
    """Close SIZE units of bankrupt DELEVERAGED's position in INSTRUMENT against DELEVERAGER's
    opposite position at the bankruptcy price (when the insurance fund cannot cover it)."""
    from rollup.node.units import size_to_base

    with open_rollup(data_dir) as node:
        inst, spec = use_instrument(node, instrument)
        seq = node.deleverage(deleveraged, deleverager, inst, size_to_base(size, spec))
    click.echo(f"deleverage queued (mempool #{seq})")


@click.command("settle-options")
@dir_option
@click.argument("account_index", type=int, required=False)
def settle_options(data_dir: Path, account_index: int | None) -> None:
    """Sweep positions in settled series into collateral (ACCOUNT, or every account)."""
    with open_rollup(data_dir) as node:
        done = node.settle_options(account_index)
    accounts = ", ".join(str(a) for a, _ in done) or "none"
    click.echo(f"settlement sweep queued for accounts: {accounts}")


@click.command("force-withdraw")
@dir_option
@click.argument("account_index", type=int)
@click.option("--l1-address", type=int, help="Default: from the account's public key.")
@click.option("--expiry", help="Request valid until (UTC date/time or seconds; default 1 day).")
def force_withdraw(data_dir: Path, account_index: int, l1_address: int | None,
                   expiry: str | None) -> None:  # fmt: skip
    """Ask L1 to withdraw ACCOUNT's free collateral (signed with its next forced nonce, proven
    against the settled state); the operator must serve it or the rollup can be frozen."""
    from rollup.node.units import parse_expiry

    until = None if expiry is None else parse_expiry(expiry)
    with open_rollup(data_dir) as node:
        nonce = node.forced_nonce(account_index)
        rid = node.force_withdrawal(account_index, l1_address, until)
    click.echo(f"forced withdrawal queued on L1 as priority request #{rid} (nonce {nonce})")


@click.command()
@dir_option
@click.argument("account_index", type=int)
@json_option
def risk(data_dir: Path, account_index: int, as_json: bool) -> None:
    """ACCOUNT's Greeks per underlying (delta, gamma, vega, theta at each series' iv), margin
    used and free, liquidation price of each underlying, P&L of ±10 % and ±25 % moves."""
    from rollup.node.views import risk_view

    with open_rollup(data_dir, write=False) as node:
        report = risk_view(node, account_index)
    if as_json:
        echo_json({k: v for k, v in report.items() if k != "table"})
    else:
        click.echo(f"account {account_index}")
        click.echo(report["table"])


#: the verbs this module adds to ``zkr``
COMMANDS: tuple[click.Command, ...] = (
    order,
    oracle,
    series,
    liquidate,
    deleverage,
    settle_options,
    force_withdraw,
    risk,
)
