"""``zkr`` — the command line, wiring the Python API together (no logic of its own).

Verbs mirror snarkjs's so iden3 users feel at home::

    zkr groth16 setup CIRCUIT.r1cs [KEYDIR] [--zkey OUT.zkey]   # INSECURE single-party setup
    zkr groth16 prove KEY WITNESS.wtns --proof proof.json --public public.json  # KEY: .zkey/KEYDIR
    zkr groth16 verify verification_key.json public.json proof.json   # OK / INVALID
    zkr groth16 demo                           # setup + prove + verify on a shipped circuit
    zkr init / account new / account show / deposit / order / cancel / oracle / funding /
        withdraw / transfer / liquidate / claim
    zkr batch [--all] / prove / settle / status / rebuild / freeze / escape / export / demo
    zkr node                                   # long-running: seal, prove, settle, HTTP API
    zkr bench groth16 [ARGS...]                # python -m benchmarks.groth16 (--out DIR)

Human units (``rollup.node.units``): amounts, transfers and fees in USD; sizes in whole units of
the market's underlying; prices in USD per whole unit; each converted exactly or refused. Funding
rates stay in the protocol's unit (2^-32 per second). Read verbs (``status``, ``account show``,
``export``) take ``--json`` (keys: ``rollup.node.report``).

Exit codes — one mapping for every verb (``EXIT_CODES``, applied by ``mapped_errors``); each
failure is one line on stderr, never a traceback:

    0   success (``groth16 verify``: the proof is valid)
    1   ``groth16 verify`` only: the proof is INVALID
    2   malformed or missing input: usage, unreadable files, values that do not convert exactly,
        malformed proofs/keys/witnesses (VerifierError, ProverError, CircuitError, ProtocolError),
        a directory that is not a rollup
    3   refused by the rollup: a transaction the state machine rejects (margin, nonce, signature
        ...), nothing to do, a frozen rollup, a batch that cannot be proven (RollupError)
    4   refused by the settlement layer (SettlementError: batch, request, freeze, escape, claim)
    5   a store or file of the directory is damaged or missing (CorruptFile, StoreError); the
        message says how to recover (e.g. ``zkr rebuild``)
    6   busy: another process (another verb, or a running ``zkr node``) holds the directory
    70  an internal error (a bug): one line; ``ZKR_DEBUG=1`` shows the traceback

Long steps show a progress bar on stderr, driven by the API's ``progress(step, done, total)``
callbacks; ``--quiet`` turns it off. The prover is imported inside the commands that need it, so
``zkr groth16 verify`` stays light (py_ecc only).
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

EXIT_INVALID = 1
EXIT_MALFORMED = 2
EXIT_REFUSED = 3
EXIT_L1_REFUSED = 4
EXIT_CORRUPT = 5
EXIT_BUSY = 6
EXIT_INTERNAL = 70
SETUP_WARNING = (
    "WARNING: INSECURE single-party setup — whoever ran it could forge proofs. "
    "For development and tests only."
)


#: Set by verbs whose process should end without the interpreter's teardown once their outputs
#: are written (``main`` only; in-process callers are unaffected): freeing numba's compiled code
#: and a proving key's arrays object by object takes 0.5–2 s, a third of a whole ``prove`` here.
SKIP_TEARDOWN: list[bool] = []


class InputError(click.ClickException):
    """Malformed or missing input: one line on stderr, exit code 2."""

    exit_code = EXIT_MALFORMED


class Failure(click.ClickException):
    """A mapped failure: one line on stderr with its exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


#: the exit code of each kind of failure (``rollup.node.errors.classify``)
EXIT_CODES: dict[str, int] = {
    "malformed": EXIT_MALFORMED,
    "refused": EXIT_REFUSED,
    "l1_refused": EXIT_L1_REFUSED,
    "corrupt": EXIT_CORRUPT,
    "busy": EXIT_BUSY,
}


def exit_code_of(error: BaseException) -> int | None:
    """The exit code of an error of one of the packages (``EXIT_CODES``), None for others."""
    from rollup.node.errors import classify

    kind = classify(error)
    return None if kind is None else EXIT_CODES[kind]


def message_of(error: BaseException) -> str:
    """One line: the error's message, with the refusal's kind where the message lacks it."""
    from rollup.errors import TransactionError
    from verifier.settlement import SettlementError

    if isinstance(error, OSError):
        return f"{error.filename or ''}: {error.strerror or error}".lstrip(": ")
    describe = click.get_current_context(silent=True)
    describe = describe.meta.get("zkr.describe") if describe is not None else None
    text = describe(error) if describe is not None else str(error)
    if isinstance(error, (TransactionError, SettlementError)) or type(error).__name__ in (
        "MempoolRejected",
        "BatchError",
    ):
        text = f"{type(error).__name__}: {text}"
    return " ".join(text.split())


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Every package's errors as one-line ``Failure``s with the documented exit codes."""
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
        raise
    except Exception as e:
        code = exit_code_of(e)
        if code is None:
            if os.environ.get("ZKR_DEBUG"):
                raise
            raise Failure(
                f"internal error: {type(e).__name__}: {e} (ZKR_DEBUG=1 shows the traceback)",
                EXIT_INTERNAL,
            ) from None
        raise Failure(message_of(e), code) from None


class ZkrGroup(click.Group):
    """The top-level group: every subcommand runs inside ``mapped_errors``."""

    def invoke(self, ctx: click.Context) -> Any:
        with mapped_errors():
            return super().invoke(ctx)


@contextmanager
def progress_bar(quiet: bool, label: str) -> Iterator[Callable[[str, int, int], None] | None]:
    """A ``progress(step, done, total)`` callback drawing click progress bars on stderr.

    A new bar starts whenever the API starts a new sequence of steps (``done`` goes back or
    ``total`` changes), e.g. setup then prove in the demo.
    """
    if quiet:
        yield None
        return
    bars: list = []

    def finish() -> None:
        if bars:
            bar = bars.pop()
            bar.update(bar.length - bar.pos, current_item="done")
            bar.__exit__(None, None, None)

    def progress(step: str, done: int, total: int) -> None:
        if bars and (done < bars[-1].pos or total != bars[-1].length):
            finish()
        if not bars:
            bar = click.progressbar(
                length=max(total, 1),
                label=label,
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda item: item,
            )
            bar.__enter__()
            bars.append(bar)
        bars[-1].update(max(0, done - bars[-1].pos), current_item=step)

    try:
        yield progress
    finally:
        finish()


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (loading numba's cached kernels allocates many
    small objects and triggers full collections: ~5–10 % of a short ``prove``); restored after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress display.")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON.")


@click.group(cls=ZkrGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zkrollup", prog_name="zkr")
def zkr() -> None:
    """zkrollup: a ZK validity rollup with a numba Groth16 prover over BN254."""


@zkr.group()
def groth16() -> None:
    """Groth16 over BN254 with snarkjs-compatible artifacts."""


@groth16.command("setup")
@click.argument("circuit", type=click.Path(path_type=Path))
@click.argument("keydir", type=click.Path(path_type=Path), required=False)
@click.option("--zkey", "zkey_path", type=click.Path(path_type=Path), help="Also write a .zkey.")
@click.option("--vk", "vk_path", type=click.Path(path_type=Path),
              help="verification_key.json (default: KEYDIR's, or beside the .zkey).")  # fmt: skip
@click.option("--seed", type=int, help="Deterministic toxic waste (tests only; even less secure).")
@quiet_option
def groth16_setup(
    circuit: Path,
    keydir: Path | None,
    zkey_path: Path | None,
    vk_path: Path | None,
    seed: int | None,
    quiet: bool,
) -> None:
    """Circuit-specific setup: KEYDIR and/or --zkey, plus verification_key.json (INSECURE)."""
    if keydir is None and zkey_path is None:
        raise click.UsageError("give KEYDIR, --zkey PATH or both")
    click.echo(SETUP_WARNING, err=True)
    from prover.artifacts import vk_to_json, write_json
    from prover.iden3 import read_r1cs
    from prover.keys import save_proving_key
    from prover.setup import SeededRandom, setup
    from prover.zkey import write_zkey

    r1cs = read_r1cs(circuit)
    rng = SeededRandom(seed) if seed is not None else None
    with progress_bar(quiet, "setup") as progress:
        pk = setup(r1cs, rng=rng, progress=progress)
    if keydir is not None:
        save_proving_key(pk, keydir)
    if zkey_path is not None:
        write_zkey(pk, zkey_path)
    if vk_path is None and keydir is None:
        vk_path = zkey_path.with_name("verification_key.json")  # type: ignore[union-attr]
    if vk_path is not None:
        write_json(vk_to_json(pk.vk), vk_path)
    if not quiet:
        written = [str(p) for p in (keydir, zkey_path, vk_path) if p is not None]
        click.echo(f"written: {', '.join(written)}", err=True)
    SKIP_TEARDOWN.append(True)


@groth16.command("prove")
@click.argument("key", type=click.Path(path_type=Path))
@click.argument("witness", type=click.Path(path_type=Path))
@click.option("--proof", "proof_path", type=click.Path(path_type=Path), default="proof.json")
@click.option("--public", "public_path", type=click.Path(path_type=Path), default="public.json")
@quiet_option
def groth16_prove(
    key: Path, witness: Path, proof_path: Path, public_path: Path, quiet: bool
) -> None:
    """Prove WITNESS.wtns with KEY (a snarkjs .zkey or a KEYDIR); write proof.json, public.json."""
    with no_cyclic_gc():
        from prover.artifacts import proof_to_json, public_to_json, write_json
        from prover.iden3 import read_wtns_limbs
        from prover.prove import prove
        from prover.r1cs import limbs_to_ints
        from prover.zkey import load_key

        pk = load_key(key)
        z = read_wtns_limbs(witness)
        with progress_bar(quiet, "prove") as progress:
            proof = prove(pk, z, progress=progress)
        write_json(proof_to_json(proof), proof_path)
        write_json(public_to_json(limbs_to_ints(z[1 : 1 + pk.n_public])), public_path)
    if not quiet:
        click.echo(f"proof written to {proof_path}, public signals to {public_path}", err=True)
    SKIP_TEARDOWN.append(True)


@groth16.command("verify")
@click.argument("verification_key", type=click.Path(path_type=Path))
@click.argument("public", type=click.Path(path_type=Path))
@click.argument("proof", type=click.Path(path_type=Path))
def groth16_verify(verification_key: Path, public: Path, proof: Path) -> None:
    """Print OK (exit 0) or INVALID (exit 1); malformed input exits 2."""
    from verifier.groth16 import load_proof, load_public_inputs, load_verification_key, verify

    valid = verify(
        load_verification_key(verification_key), load_public_inputs(public), load_proof(proof)
    )
    click.echo("OK" if valid else "INVALID")
    if not valid:
        sys.exit(EXIT_INVALID)


@groth16.command("demo")
@click.option("--out", type=click.Path(path_type=Path), help="Keep the artifacts in this folder.")
@quiet_option
def demo(out: Path | None, quiet: bool) -> None:
    """Groth16 on a shipped circom circuit: setup, prove, verify, with timings."""
    click.echo(SETUP_WARNING, err=True)
    from benchmarks.groth16_demo import run_demo

    lines: list[str] = []
    with progress_bar(quiet, "demo") as progress:
        report = run_demo(out, progress=progress, echo=lines.append)
    click.echo("\n".join(lines))
    if not report.ok:
        raise Failure("the demo's verification outcomes are wrong (see above)", EXIT_INTERNAL)


@zkr.group()
def bench() -> None:
    """Benchmarks (JSON + PNG in ./bench_out, or --out DIR)."""


@bench.command("groth16", context_settings={"ignore_unknown_options": True}, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_groth16(args: tuple[str, ...]) -> None:
    """Run python -m benchmarks.groth16 with ARGS (--help lists them)."""
    run_benchmark("benchmarks.groth16", args)


@bench.command("batch", context_settings={"ignore_unknown_options": True}, add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def bench_batch(args: tuple[str, ...]) -> None:
    """Run python -m benchmarks.batch with ARGS (--quick; --help lists them)."""
    run_benchmark("benchmarks.batch", args)


def run_benchmark(module_name: str, args: tuple[str, ...]) -> None:
    """Call ``main()`` of a benchmarks module as if run with ``python -m`` (sys.argv = ARGS);
    its output goes to ./bench_out in the current directory unless ARGS give --out."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        raise InputError(f"{module_name} is not available in this checkout") from None
    sys.argv = [f"python -m {module_name}", *args]
    result = module.main()
    if isinstance(result, int) and result:
        sys.exit(result)


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


@zkr.command()
@dir_option
@click.option("--depth", type=int, default=8, show_default=True, help="Accounts tree depth D.")
@click.option("--slots", type=int, default=2, show_default=True, help="Batch slots B.")
@click.option("--markets", type=int, default=2, show_default=True, help="Markets M (1..4).")
@click.option("--price", "prices", multiple=True, help="Genesis price per market, USD per unit.")
@click.option("--keys", type=click.Path(path_type=Path), help="Key cache (default DIR/keys).")
@click.option("--max-pending-batches", type=int, default=8, show_default=True)
@click.option("--max-pending-seconds", type=int, default=86_400, show_default=True)
@click.option("--seed", type=int, help="Deterministic keys and setup (tests only).")
@quiet_option
def init(data_dir: Path, depth: int, slots: int, markets: int, prices: tuple[str, ...],
         keys: Path | None, max_pending_batches: int, max_pending_seconds: int,
         seed: int | None, quiet: bool) -> None:  # fmt: skip
    """Genesis: markets, oracle key, proving key of the shape (INSECURE setup, cached)."""
    from rollup.node import Rollup
    from rollup.node.units import genesis_prices

    click.echo(SETUP_WARNING, err=True)
    units = genesis_prices(markets, prices)
    with progress_bar(quiet, "setup") as progress:
        node = Rollup.init(data_dir, depth, slots, markets, units, keys, max_pending_batches,
                           max_pending_seconds, _seeded(seed), progress)  # fmt: skip
    click.echo(f"rollup initialised in {data_dir}: B = {slots}, D = {depth}, M = {markets}")
    click.echo(f"genesis root {node.settled_root}")
    node.close()


@zkr.group()
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


@zkr.command()
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


@zkr.command()
@dir_option
@click.argument("account_index", type=int)
@click.argument("market")
@click.argument("side", type=click.Choice(["buy", "sell"]))
@click.argument("size")
@click.argument("price")
@click.option("--fee", default="0", show_default=True, help="Maximum fee, USD.")
@click.option("--expiry", type=int, help="Valid while the oracle time ≤ this (seconds).")
def order(data_dir: Path, account_index: int, market: str, side: str, size: str, price: str,
          fee: str, expiry: int | None) -> None:  # fmt: skip
    """Sign an order: SIZE whole units of MARKET (index or name) at limit PRICE USD per unit;
    match it against a resting order or let it rest."""
    from rollup.node.units import fee_to_value, price_to_units, size_to_base

    with open_rollup(data_dir) as node:
        m = use_market(node, market)
        spec = node.params.markets[m]
        out = node.order(account_index, m, 0 if side == "buy" else 1, size_to_base(size, spec),
                         price_to_units(price, spec), fee_to_value(fee), expiry)  # fmt: skip
        if out["matched"]:
            from rollup.node.units import base_to_size, exact

            q = exact(base_to_size(out["quantity"], spec))
            click.echo(f"matched account {out['maker']}'s order: trade of {q} {spec.name} "
                       f"(mempool #{out['mempool']})")  # fmt: skip
        else:
            click.echo(f"order resting (nonce {out['nonce']})")


@zkr.command()
@dir_option
@click.argument("account_index", type=int)
@click.argument("nonce", type=int)
def cancel(data_dir: Path, account_index: int, nonce: int) -> None:
    """Remove ACCOUNT's resting order NONCE from the book."""
    with open_rollup(data_dir) as node:
        node.cancel(account_index, nonce)
    click.echo(f"order {nonce} of account {account_index} cancelled")


@zkr.command()
@dir_option
@click.argument("prices", nargs=-1, required=True)
@click.option("--timestamp", type=int)
def oracle(data_dir: Path, prices: tuple[str, ...], timestamp: int | None) -> None:
    """Sign one price per market (USD per whole unit) with the oracle key."""
    from rollup.node.units import price_to_units

    with open_rollup(data_dir) as node:
        if len(prices) != node.params.n_markets:
            raise InputError(f"give {node.params.n_markets} prices, one per market")
        units = tuple(
            price_to_units(p, m) for p, m in zip(prices, node.params.markets, strict=True)
        )
        seq = node.oracle(units, timestamp)
    click.echo(f"oracle update queued (mempool #{seq})")


@zkr.command()
@dir_option
@click.argument("rates", type=int, nargs=-1, required=True)
@click.option("--timestamp", type=int, help="Default: the last oracle time.")
def funding(data_dir: Path, rates: tuple[int, ...], timestamp: int | None) -> None:
    """Funding tick: one rate per market (protocol units: 2^-32 per second)."""
    with open_rollup(data_dir) as node:
        seq = node.funding(rates, timestamp)
    click.echo(f"funding tick queued (mempool #{seq})")


@zkr.command()
@dir_option
@click.argument("account_index", type=int)
@click.argument("amount", required=False)
@click.option("--l1-address", type=int)
@click.option("--forced", is_flag=True, help="Forced withdrawal of all free collateral via L1.")
def withdraw(data_dir: Path, account_index: int, amount: str | None, l1_address: int | None,
             forced: bool) -> None:  # fmt: skip
    """Withdraw AMOUNT USD to L1 (or --forced: request it on L1, no AMOUNT)."""
    from rollup.node.units import amount_to_quanta

    if not forced and amount is None:
        raise click.UsageError("AMOUNT is required unless --forced")
    with open_rollup(data_dir) as node:
        if forced:
            rid = node.force_withdrawal(account_index, l1_address)
            click.echo(f"forced withdrawal queued on L1 as priority request #{rid}")
            return
        seq = node.withdraw(account_index, amount_to_quanta(amount, "withdrawal"), l1_address)
    click.echo(f"withdrawal of {amount} USD queued (mempool #{seq}); claim it once settled")


@zkr.command()
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


@zkr.command()
@dir_option
@click.argument("liquidator", type=int)
@click.argument("liquidated", type=int)
@click.argument("market")
@click.argument("size")
@click.argument("price")
@click.option("--fee", default="0", show_default=True, help="Liquidation fee, USD.")
def liquidate(data_dir: Path, liquidator: int, liquidated: int, market: str, size: str,
              price: str, fee: str) -> None:  # fmt: skip
    """LIQUIDATOR takes SIZE units of LIQUIDATED's position in MARKET at PRICE USD per unit."""
    from rollup.node.units import fee_to_value, price_to_units, size_to_base

    with open_rollup(data_dir) as node:
        m = use_market(node, market)
        spec = node.params.markets[m]
        seq = node.liquidate(liquidator, liquidated, m, size_to_base(size, spec),
                             price_to_units(price, spec), fee_to_value(fee))  # fmt: skip
    click.echo(f"liquidation queued (mempool #{seq})")


@zkr.command()
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


@zkr.command("batch")
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


@zkr.command("prove")
@dir_option
@click.option("--workers", type=int, default=1, show_default=True, help="Local processes.")
@click.option("--scheduler", help="Dask scheduler address tcp://HOST:PORT.")
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


@zkr.command()
@dir_option
def settle(data_dir: Path) -> None:
    """Submit every proven batch, in order, to the settlement layer."""
    with open_rollup(data_dir) as node:
        done = node.settle()
        root = node.settled_root
    click.echo(f"settled batches {done}; L1 root {root}" if done else "nothing to settle")


@zkr.command()
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


@zkr.command()
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


@zkr.command()
@dir_option
def freeze(data_dir: Path) -> None:
    """Freeze the rollup (allowed once a priority request is overdue)."""
    with open_rollup(data_dir) as node:
        late = node.freeze()
    click.echo(f"frozen: priority request #{late['id']} is overdue")


@zkr.command()
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


@zkr.command()
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


@zkr.command("node")
@dir_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8700, show_default=True, help="0: any free port.")
@click.option("--batch-seconds", type=float, default=10.0, show_default=True,
              help="Seal a non-full batch after this long.")  # fmt: skip
@click.option("--workers", type=int, default=1, show_default=True, help="Proving processes.")
@click.option("--scheduler", help="Dask scheduler address tcp://HOST:PORT.")
def run_node(data_dir: Path, host: str, port: int, batch_seconds: float, workers: int,
             scheduler: str | None) -> None:  # fmt: skip
    """Run the node: seal by size or time, prove in the background, settle in order, and serve
    the HTTP API and status page until SIGTERM or Ctrl-C (graceful: nothing accepted is lost)."""
    from rollup.node.service import NodeConfig, serve

    config = NodeConfig(host, port, batch_seconds, workers, scheduler)
    serve(data_dir, config, echo=lambda line: click.echo(line, err=True))


@zkr.command("demo")
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


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``zkr``): every error, click's usage errors too, is one line.

    Runs click in non-standalone mode so that a usage error prints ``Error: ... (see 'zkr ... -h')``
    instead of click's multi-line usage block; exit codes are ``EXIT_CODES``'s (2 for usage).
    """
    SKIP_TEARDOWN.clear()  # only a verb run by this call may end the process early
    try:
        code = zkr.main(args=argv, prog_name="zkr", standalone_mode=False)
    except click.UsageError as e:
        hint = f" (see '{e.ctx.command_path} -h')" if e.ctx is not None else ""
        click.echo(f"Error: {e.format_message()}{hint}", err=True)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        click.echo(f"Error: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    except click.Abort:
        click.echo("Error: aborted", err=True)
        sys.exit(1)
    code = code if isinstance(code, int) else 0
    if SKIP_TEARDOWN:  # outputs written and closed: run atexit hooks, flush, skip the teardown
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
