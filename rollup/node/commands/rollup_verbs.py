"""``zkr``'s rollup verbs (``rollup.node``): every verb is one API call; this module parses
arguments, converts human units (``rollup.node.units``) and prints. ``cli`` adds ``COMMANDS`` to
``zkr``; the exit codes and the error mapping are ``rollup.node.commands.base``'s.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from rollup.node.commands.base import (
    EXIT_INTERNAL,
    EXIT_REFUSED,
    SETUP_WARNING,
    Failure,
    json_option,
    progress_bar,
    quiet_option,
)

# --- the rollup (rollup.node: every verb is an API call; this parses, converts units, prints) ---

DEFAULT_DIR = Path("zkr-data")
dir_option = click.option(
    "--dir",
    "data_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="The rollup directory.",
)


@contextmanager
def open_rollup(data_dir: Path, write: bool = True) -> Iterator[Any]:
    """The ``Rollup`` of ``data_dir`` (holding its lock when ``write``), closed afterwards."""
    from rollup.node import Rollup

    node = Rollup(data_dir, lock=write, holder=f"zkr {' '.join(sys.argv[1:2]) or 'verb'}")
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta["zkr.describe"] = describer(node.params)
    try:
        yield node
    finally:
        node.close()


def describer(params: Any, market: int | None = None) -> Callable[[BaseException], str]:
    """Refusals of the state machine in USD and whole units (``units.describe_error``)."""
    from rollup.node.units import describe_error

    return lambda e: describe_error(e, params.markets, market)


def use_market(node: Any, market: str) -> int:
    """A market given by index or name; refusals about it are described in its units."""
    from rollup.node.units import market_index

    m = market_index(node.params.markets, market)
    click.get_current_context().meta["zkr.describe"] = describer(node.params, m)
    return m


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=1, sort_keys=True))


def _seeded(seed: int | None):
    import random

    return None if seed is None else random.Random(seed)


@click.command()
@dir_option
@click.option("--depth", type=int, default=8, show_default=True, help="Accounts tree depth D.")
@click.option("--slots", type=int, default=2, show_default=True, help="Batch slots B.")
@click.option("--markets", type=int, default=2, show_default=True, help="Markets M (1..4).")
@click.option("--price", "prices", multiple=True, help="Genesis price per market, USD per unit.")
@click.option("--keys", type=click.Path(path_type=Path), help="Key cache (default DIR/keys).")
@click.option(
    "--chain-id",
    type=int,
    default=31337,
    show_default=True,
    help="The settlement chain's id (part of every signed message's domain).",
)
@click.option(
    "--rollup-id", type=int, help="The rollup's 160-bit id on that chain (default: random)."
)
@click.option(
    "--priority-fee",
    default="0",
    show_default=True,
    help="USD paid with every L1 priority request (deposit, forced withdrawal).",
)
@click.option(
    "--operator-address",
    type=int,
    help="L1 address credited with the priority fees (default: the operator key's).",
)
@click.option(
    "--max-pending-batches",
    type=int,
    default=8,
    show_default=True,
    help="N: a request skipped N times with room to spare lets anyone freeze.",
)
@click.option(
    "--max-pending-seconds",
    type=int,
    default=86_400,
    show_default=True,
    help="T: a request waiting T s while no batch came for T s lets anyone freeze.",
)
@click.option("--seed", type=int, help="Deterministic keys, rollup id and setup (tests only).")
@quiet_option
def init(data_dir: Path, depth: int, slots: int, markets: int, prices: tuple[str, ...],
         keys: Path | None, chain_id: int, rollup_id: int | None, priority_fee: str,
         operator_address: int | None, max_pending_batches: int, max_pending_seconds: int,
         seed: int | None, quiet: bool) -> None:  # fmt: skip
    """Genesis: markets, domain, oracle and operator keys, proving key of the shape (INSECURE
    setup, cached); the genesis oracle time is now."""
    from rollup.node import Rollup
    from rollup.node.genesis import shape_params
    from rollup.node.units import amount_to_quanta, exact, genesis_prices, quanta_to_usd

    shape_params(depth, slots, markets)  # every argument checked before the warning
    units = genesis_prices(markets, prices)
    fee = amount_to_quanta(priority_fee, "priority fee", low=0)
    click.echo(SETUP_WARNING, err=True)
    with progress_bar(quiet, "setup") as progress:
        node = Rollup.init(
            data_dir, depth, slots, markets, units, keys, max_pending_batches,
            max_pending_seconds, _seeded(seed), progress, chain_id=chain_id,
            rollup_id=rollup_id, priority_fee=fee, operator_address=operator_address,
        )  # fmt: skip
    c = node.settlement_config
    click.echo(f"rollup initialised in {data_dir}: B = {slots}, D = {depth}, M = {markets}")
    click.echo(f"chain id {c.chain_id}, rollup id {c.rollup_id:#042x}, priority fee "
               f"{exact(quanta_to_usd(c.priority_fee))} USD to L1 address "
               f"{c.operator_address}")  # fmt: skip
    click.echo(f"genesis root {node.settled_root}")
    node.close()


@click.group()
def account() -> None:
    """Accounts (keys in the directory's development keystore, unencrypted)."""


@account.command("new")
@dir_option
@click.option("--seed", type=int, help="Deterministic key (tests only).")
def account_new(data_dir: Path, seed: int | None) -> None:
    """A new key pair: prints the account index and public key."""
    with open_rollup(data_dir) as node:
        index, pk = node.new_account(_seeded(seed))
    click.echo(f"account {index} public key ({pk[0]}, {pk[1]})")
    click.echo(f"private key stored in {data_dir / 'keystore.json'} (development keystore, "
               "unencrypted)", err=True)  # fmt: skip


@account.command("show")
@dir_option
@click.argument("account_index", type=int)
@click.option("--proof", is_flag=True, help="Merkle proof against the last settled root.")
@json_option
def account_show(data_dir: Path, account_index: int, proof: bool, as_json: bool) -> None:
    """Collateral, positions, P&L, funding, margin, liquidation prices of ACCOUNT."""
    from rollup.node.report import account_report
    from rollup.node.text import account_lines

    with open_rollup(data_dir, write=False) as node:
        report = account_report(node, account_index, proof)
    if as_json:
        echo_json(report)
    else:
        click.echo("\n".join(account_lines(report)))


@click.command()
@dir_option
@click.argument("account_index", type=int)
@click.argument("amount")
@click.option("--l1-address", type=int, help="Refund address (default from the public key).")
def deposit(data_dir: Path, account_index: int, amount: str, l1_address: int | None) -> None:
    """Deposit AMOUNT USD on L1 for ACCOUNT (queued as a priority request)."""
    from rollup.node.units import amount_to_quanta

    quanta = amount_to_quanta(amount, "deposit")
    with open_rollup(data_dir) as node:
        rid = node.deposit(account_index, quanta, l1_address)
    click.echo(f"deposit of {amount} USD queued on L1 as priority request #{rid}")


@click.command()
@dir_option
@click.argument("account_index", type=int)
@click.argument("amount")
@click.option("--l1-address", type=int, help="Default: from the account's public key.")
def withdraw(data_dir: Path, account_index: int, amount: str, l1_address: int | None) -> None:
    """Withdraw AMOUNT USD to L1 (claim it once its batch is settled; 'zkr force-withdraw'
    asks L1 instead)."""
    from rollup.node.units import amount_to_quanta

    quanta = amount_to_quanta(amount, "withdrawal")
    with open_rollup(data_dir) as node:
        seq = node.withdraw(account_index, quanta, l1_address)
    click.echo(f"withdrawal of {amount} USD queued (mempool #{seq}); claim it once settled")


@click.command()
@dir_option
@click.argument("sender", type=int)
@click.argument("recipient", type=int)
@click.argument("amount")
def transfer(data_dir: Path, sender: int, recipient: int, amount: str) -> None:
    """Transfer AMOUNT USD of collateral from SENDER to RECIPIENT."""
    from rollup.node.units import usd_to_value

    value = usd_to_value(amount, "transfer")
    with open_rollup(data_dir) as node:
        seq = node.transfer(sender, recipient, value)
    click.echo(f"transfer of {amount} USD queued (mempool #{seq})")


@click.command()
@dir_option
@click.argument("account_index", type=int, required=False)
@click.option("--l1-address", type=int, help="Claim for this L1 address instead.")
def claim(data_dir: Path, account_index: int | None, l1_address: int | None) -> None:
    """Pay out on L1 what the settled withdrawals, refunds and escapes credited to ACCOUNT's
    L1 address (or --l1-address)."""
    from rollup.node.units import exact, quanta_to_usd

    with open_rollup(data_dir) as node:
        amount = node.claim(account_index, l1_address)
    click.echo(f"claimed {exact(quanta_to_usd(amount))} USD on L1")


@click.command("batch")
@dir_option
@click.option("--all", "seal_all", is_flag=True, help="Seal until nothing is left.")
def seal_batch(data_dir: Path, seal_all: bool) -> None:
    """Seal the next batch (priority requests first, then the mempool)."""
    with open_rollup(data_dir) as node:
        batches = node.seal_all() if seal_all else [b for b in [node.seal()] if b is not None]
        if not batches:
            from rollup.node.errors import NodeError

            raise NodeError(detail="nothing to seal: the L1 queue and the mempool are empty")
        for batch in batches:
            click.echo(f"batch {batch.number} sealed: new root {batch.new_root}")
            for seq, reason in node.rejected(batch.number):
                click.echo(f"  dropped mempool #{seq}: {reason}")


def _scheduler(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A Dask scheduler address: tcp://HOST:PORT (or HOST:PORT), 0 < PORT < 65536."""
    if value is None:
        return None
    m = re.fullmatch(r"(?:tcp://)?([^:/\s]+):(\d{1,5})", value)
    if m is None or not 0 < int(m.group(2)) < 65536:
        raise click.BadParameter(f"{value!r} is not a scheduler address tcp://HOST:PORT")
    return value


def _seconds(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise click.BadParameter(f"{value} is not a finite number of seconds > 0")
    return value


@click.command("prove")
@dir_option
@click.option("--workers", type=int, default=1, show_default=True, help="Local processes.")
@click.option("--scheduler", callback=_scheduler, help="Dask scheduler address tcp://HOST:PORT.")
@quiet_option
def prove_batches(data_dir: Path, workers: int, scheduler: str | None, quiet: bool) -> None:
    """Prove every sealed, unsettled batch without a proof (each stored as it finishes)."""
    with open_rollup(data_dir, write=False) as node, progress_bar(quiet, "prove") as progress:
        run = node.prove(workers=workers, scheduler=scheduler, progress=progress)
    for p in sorted(run.proofs, key=lambda p: p.number):
        click.echo(f"batch {p.number}: witness {p.witness_seconds:.2f} s, "
                   f"prove {p.prove_seconds:.2f} s")  # fmt: skip
    click.echo(f"{len(run.proofs)} proofs in {run.seconds:.1f} s ({run.backend})")
    if run.failures:
        detail = "; ".join(f"batch {n}: {reason}" for n, reason in run.failures)
        raise Failure(f"{len(run.failures)} batches could not be proven: {detail}", EXIT_REFUSED)


@click.command()
@dir_option
def settle(data_dir: Path) -> None:
    """Submit every proven batch, in order, to the settlement layer."""
    with open_rollup(data_dir) as node:
        done = node.settle()
        root = node.settled_root
    click.echo(f"settled batches {done}; L1 root {root}" if done else "nothing to settle")


@click.command()
@dir_option
@json_option
def status(data_dir: Path, as_json: bool) -> None:
    """Roots, L1 queue, divergence between the head and the settled state."""
    with open_rollup(data_dir, write=False) as node:
        s = node.status()
    if as_json:
        echo_json(s)
        return
    for key, value in s.items():
        if isinstance(value, dict):
            for k, v in value.items():
                click.echo(f"{key}.{k}: {v}")
        else:
            click.echo(f"{key}: {'n/a' if value is None else value}")


@click.command()
@dir_option
@click.option("--force", is_flag=True, help="Replace an intact store with the settled state.")
def rebuild(data_dir: Path, force: bool) -> None:
    """Recompute the settled state from L1 data alone; restore a lost or damaged sequencer.db."""
    from rollup.node.recovery import rebuild_or_restore

    r = rebuild_or_restore(data_dir, force=force)
    if r["restored"]:
        click.echo(f"sequencer.db restored from L1: {r['batches']} settled batches, "
                   f"{r['accounts']} accounts, root {r['root']}")  # fmt: skip
        if r["moved_aside"]:
            click.echo(f"the damaged store was kept as {r['moved_aside']}")
    else:
        click.echo(f"rebuilt {r['accounts']} accounts; root {r['root']} matches L1")


@click.command()
@dir_option
def freeze(data_dir: Path) -> None:
    """Freeze the rollup (allowed once a priority request is overdue)."""
    with open_rollup(data_dir) as node:
        late = node.freeze()
    click.echo(f"frozen: priority request #{late['id']} is overdue")


@click.command()
@dir_option
@click.argument("account_index", type=int)
@click.option("--l1-address", type=int)
def escape(data_dir: Path, account_index: int, l1_address: int | None) -> None:
    """Exit a frozen rollup with the account's total value (proof from the rebuilt state)."""
    from rollup.node.units import exact, quanta_to_usd

    with open_rollup(data_dir) as node:
        amount = node.escape(account_index, l1_address)
    click.echo(f"account {account_index} escaped: {exact(quanta_to_usd(amount))} USD "
               "claimable on L1 ('zkr claim')")  # fmt: skip


@click.command()
@dir_option
@click.argument("number", type=int)
@click.option("--out", type=click.Path(path_type=Path), default=Path("."), show_default=True)
@json_option
def export(data_dir: Path, number: int, out: Path, as_json: bool) -> None:
    """Write verification_key.json, proof.json, public.json (snarkjs) of batch NUMBER."""
    with open_rollup(data_dir, write=False) as node:
        files = node.export(number, out)
    if as_json:
        echo_json({"batch": number, "files": [str(f) for f in files]})
    else:
        click.echo("written: " + ", ".join(str(f) for f in files))


@click.command("node")
@dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8700, show_default=True,
              help="0: any free port.")  # fmt: skip
@click.option("--batch-seconds", type=float, default=10.0, show_default=True, callback=_seconds,
              help="Seal a non-full batch after this long.")  # fmt: skip
@click.option("--workers", type=int, default=1, show_default=True, help="Proving processes.")
@click.option("--scheduler", callback=_scheduler, help="Dask scheduler address tcp://HOST:PORT.")
def run_node(data_dir: Path, host: str, port: int, batch_seconds: float, workers: int,
             scheduler: str | None) -> None:  # fmt: skip
    """Run the node: seal by size or time, prove in the background, settle in order, and serve
    the HTTP API and status page until SIGTERM or Ctrl-C (graceful: nothing accepted is lost)."""
    from rollup.node.service import NodeConfig, serve

    config = NodeConfig(host, port, batch_seconds, workers, scheduler)
    serve(data_dir, config, echo=lambda line: click.echo(line, err=True))


@click.command("demo")
@click.option("--keys", type=click.Path(path_type=Path), default=DEFAULT_DIR / "keys",
              show_default=True, help="Proving-key cache per shape.")  # fmt: skip
@click.option("--workers", type=int, default=1, show_default=True)
@quiet_option
def rollup_demo(keys: Path, workers: int, quiet: bool) -> None:
    """The whole rollup from nothing: trades, proofs, settlement, freeze and escape."""
    click.echo(SETUP_WARNING, err=True)
    from rollup.node.demo import run_demo

    with progress_bar(quiet, "demo") as progress:
        report = run_demo(keys, echo=click.echo, progress=progress, workers=workers)
    if not report.ok:
        raise Failure("the demo's outcomes are wrong (see above)", EXIT_INTERNAL)


#: the verbs this module adds to ``zkr``
COMMANDS: tuple[click.Command, ...] = (
    init,
    account,
    deposit,
    withdraw,
    transfer,
    claim,
    seal_batch,
    prove_batches,
    settle,
    status,
    rebuild,
    freeze,
    escape,
    export,
    run_node,
    rollup_demo,
)
