"""``zkr`` — the command line, wiring the Python API together (no logic of its own).

Verbs mirror snarkjs's so iden3 users feel at home::

    zkr groth16 setup CIRCUIT.r1cs [KEYDIR] [--zkey OUT.zkey]   # INSECURE single-party setup
    zkr groth16 prove KEY WITNESS.wtns --proof proof.json --public public.json  # KEY: .zkey/KEYDIR
    zkr groth16 verify verification_key.json public.json proof.json   # OK / INVALID
    zkr groth16 demo                           # setup + prove + verify on a shipped circuit
    zkr init / account new / deposit / order / oracle / funding / withdraw / transfer
    zkr batch / prove / settle / status / rebuild / freeze / escape / export / demo
    zkr bench groth16 [ARGS...]                # python -m benchmarks.groth16

Exit codes: 0 success (``verify``: the proof is valid), 1 the proof is INVALID, 2 malformed or
missing input (one line on stderr, never a traceback). Long steps show a progress bar on stderr,
driven by the API's ``progress(step, done, total)`` callbacks; ``--quiet`` turns it off. The prover
is imported inside the commands that need it, so ``zkr groth16 verify`` stays light (py_ecc only).
The top-level group is where the rollup commands (``init``, ``deposit``, ``prove``, ``settle`` ...)
attach.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

EXIT_INVALID = 1
EXIT_MALFORMED = 2
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


@contextmanager
def input_errors() -> Iterator[None]:
    """Turn the packages' error hierarchies (and file errors) into one-line exit-2 failures."""
    from verifier.errors import VerifierError

    try:
        yield
    except VerifierError as e:
        raise InputError(str(e)) from None
    except OSError as e:
        raise InputError(f"{e.filename or ''}: {e.strerror or e}".lstrip(": ")) from None
    except Exception as e:
        prover_errors = sys.modules.get("prover.errors")
        if prover_errors is not None and isinstance(e, prover_errors.ProverError):
            raise InputError(str(e)) from None
        raise


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    with input_errors():
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
    with input_errors(), no_cyclic_gc():
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
    with input_errors():
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
    with input_errors():
        from benchmarks.groth16_demo import run_demo

        lines: list[str] = []
        with progress_bar(quiet, "demo") as progress:
            report = run_demo(out, progress=progress, echo=lines.append)
        click.echo("\n".join(lines))
    if not report.ok:
        raise click.ClickException("the demo's verification outcomes are wrong (see above)")


@zkr.group()
def bench() -> None:
    """Benchmarks (JSON + PNG in bench_out/)."""


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
    """Call ``main()`` of a benchmarks module as if run with ``python -m`` (sys.argv = ARGS)."""
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


# --- the rollup (rollup/node.py: every verb is a Rollup method; this only parses and prints) ---

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
def rollup_errors() -> Iterator[None]:
    """Rollup, settlement, circuit, prover and verifier refusals: one line, exit code 1."""
    from circuits.errors import CircuitError
    from prover.errors import ProverError
    from rollup.errors import RollupError
    from verifier.errors import VerifierError
    from verifier.settlement import SettlementError

    try:
        yield
    except (RollupError, SettlementError, CircuitError, ProverError, VerifierError) as e:
        raise click.ClickException(f"{type(e).__name__}: {e}") from None
    except (OSError, ValueError) as e:
        raise click.ClickException(str(e)) from None


@contextmanager
def open_rollup(data_dir: Path) -> Iterator:
    """The ``Rollup`` of ``data_dir`` inside ``rollup_errors``, closed afterwards."""
    with rollup_errors():
        from rollup.node import Rollup

        node = Rollup(data_dir)
        try:
            yield node
        finally:
            node.close()


def _seeded(seed: int | None):
    import random

    return None if seed is None else random.Random(seed)


@zkr.command()
@dir_option
@click.option("--depth", type=int, default=8, show_default=True, help="Accounts tree depth D.")
@click.option("--slots", type=int, default=2, show_default=True, help="Batch slots B.")
@click.option("--markets", type=int, default=2, show_default=True, help="Markets M (1..4).")
@click.option("--price", "prices", type=int, multiple=True, help="Genesis price per market.")
@click.option("--keys", type=click.Path(path_type=Path), help="Key cache (default DIR/keys).")
@click.option("--max-pending-batches", type=int, default=8, show_default=True)
@click.option("--max-pending-seconds", type=int, default=86_400, show_default=True)
@click.option("--seed", type=int, help="Deterministic keys and setup (tests only).")
@quiet_option
def init(data_dir: Path, depth: int, slots: int, markets: int, prices: tuple[int, ...],
         keys: Path | None, max_pending_batches: int, max_pending_seconds: int,
         seed: int | None, quiet: bool) -> None:  # fmt: skip
    """Genesis: markets, oracle key, proving key of the shape (INSECURE setup, cached)."""
    click.echo(SETUP_WARNING, err=True)
    with rollup_errors(), progress_bar(quiet, "setup") as progress:
        from rollup.node import Rollup

        node = Rollup.init(data_dir, depth, slots, markets, prices or None, keys,
                           max_pending_batches, max_pending_seconds, _seeded(seed),
                           progress)  # fmt: skip
        click.echo(f"rollup initialised in {data_dir}: B = {slots}, D = {depth}, M = {markets}")
        click.echo(f"genesis root {node.l1.root}")
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


@zkr.command()
@dir_option
@click.argument("account_index", type=int)
@click.argument("amount", type=int)
@click.option("--l1-address", type=int, help="Refund address (default from the public key).")
def deposit(data_dir: Path, account_index: int, amount: int, l1_address: int | None) -> None:
    """Deposit AMOUNT quanta on L1 for ACCOUNT (queued as a priority request)."""
    with open_rollup(data_dir) as node:
        rid = node.deposit(account_index, amount, l1_address)
    click.echo(f"deposit queued on L1 as priority request #{rid}")


@zkr.command()
@dir_option
@click.argument("account_index", type=int)
@click.argument("market", type=int)
@click.argument("side", type=click.Choice(["buy", "sell"]))
@click.argument("size", type=int)
@click.argument("price", type=int)
@click.option("--fee", type=int, default=0, show_default=True, help="Max fee, value units.")
@click.option("--expiry", type=int, help="Valid while the oracle time ≤ this.")
def order(data_dir: Path, account_index: int, market: int, side: str, size: int, price: int,
          fee: int, expiry: int | None) -> None:  # fmt: skip
    """Sign an order (limit PRICE in quanta per base quantum); match it or let it rest."""
    with open_rollup(data_dir) as node:
        out = node.order(account_index, market, 0 if side == "buy" else 1, size, price, fee, expiry)
    if out["matched"]:
        click.echo(f"matched account {out['maker']}'s order: trade of {out['quantity']} "
                   f"(mempool #{out['mempool']})")  # fmt: skip
    else:
        click.echo(f"order resting (nonce {out['nonce']})")


@zkr.command()
@dir_option
@click.argument("prices", type=int, nargs=-1, required=True)
@click.option("--timestamp", type=int)
def oracle(data_dir: Path, prices: tuple[int, ...], timestamp: int | None) -> None:
    """Sign one price per market (quanta per base quantum) with the oracle key."""
    with open_rollup(data_dir) as node:
        seq = node.oracle(prices, timestamp)
    click.echo(f"oracle update queued (mempool #{seq})")


@zkr.command()
@dir_option
@click.argument("rates", type=int, nargs=-1, required=True)
@click.option("--timestamp", type=int, help="Default: the last oracle time.")
def funding(data_dir: Path, rates: tuple[int, ...], timestamp: int | None) -> None:
    """Funding tick: one rate per market (units 2^-32 per second)."""
    with open_rollup(data_dir) as node:
        seq = node.funding(rates, timestamp)
    click.echo(f"funding tick queued (mempool #{seq})")


@zkr.command()
@dir_option
@click.argument("account_index", type=int)
@click.argument("amount", type=int, required=False)
@click.option("--l1-address", type=int)
@click.option("--forced", is_flag=True, help="Forced withdrawal of all free collateral via L1.")
def withdraw(data_dir: Path, account_index: int, amount: int | None, l1_address: int | None,
             forced: bool) -> None:  # fmt: skip
    """Withdraw AMOUNT quanta to L1 (or --forced: request it on L1, no AMOUNT)."""
    with open_rollup(data_dir) as node:
        if forced:
            rid = node.force_withdrawal(account_index, l1_address)
            click.echo(f"forced withdrawal queued on L1 as priority request #{rid}")
            return
        if amount is None:
            raise click.UsageError("AMOUNT is required unless --forced")
        seq = node.withdraw(account_index, amount, l1_address)
    click.echo(f"withdrawal queued (mempool #{seq})")


@zkr.command()
@dir_option
@click.argument("sender", type=int)
@click.argument("recipient", type=int)
@click.argument("amount", type=int)
def transfer(data_dir: Path, sender: int, recipient: int, amount: int) -> None:
    """Transfer AMOUNT quanta of collateral from SENDER to RECIPIENT."""
    with open_rollup(data_dir) as node:
        seq = node.transfer(sender, recipient, amount)
    click.echo(f"transfer queued (mempool #{seq})")


@zkr.command("batch")
@dir_option
def seal_batch(data_dir: Path) -> None:
    """Seal the next batch (priority requests first, then the mempool)."""
    with open_rollup(data_dir) as node:
        batch = node.seal()
        if batch is None:
            raise click.ClickException("nothing to seal: the L1 queue and the mempool are empty")
        rejected = node.seq.store.rejected(batch.number)
    click.echo(f"batch {batch.number} sealed: new root {batch.new_root}")
    for seq, reason in rejected:
        click.echo(f"  dropped mempool #{seq}: {reason}")


@zkr.command("prove")
@dir_option
@click.option("--workers", type=int, default=1, show_default=True, help="Local processes.")
@click.option("--scheduler", help="Dask scheduler address tcp://HOST:PORT.")
@quiet_option
def prove_batches(data_dir: Path, workers: int, scheduler: str | None, quiet: bool) -> None:
    """Prove every sealed batch that has no proof yet."""
    with open_rollup(data_dir) as node, progress_bar(quiet, "prove") as progress:
        from rollup.parallel import prove_pending

        run = prove_pending(node, workers=workers, scheduler=scheduler, progress=progress)
    for p in run.proofs:
        click.echo(f"batch {p.number}: witness {p.witness_seconds:.2f} s, "
                   f"prove {p.prove_seconds:.2f} s")  # fmt: skip
    click.echo(f"{len(run.proofs)} proofs in {run.seconds:.1f} s ({run.backend})")


@zkr.command()
@dir_option
def settle(data_dir: Path) -> None:
    """Submit every proven batch, in order, to the settlement layer."""
    with open_rollup(data_dir) as node:
        done = node.settle()
        root = node.l1.root
    click.echo(f"settled batches {done}; L1 root {root}" if done else "nothing to settle")


@zkr.command()
@dir_option
def status(data_dir: Path) -> None:
    """Roots, L1 queue, divergence between the head and the settled state."""
    with open_rollup(data_dir) as node:
        s = node.status()
    for key in ("head_root", "settled_root", "unproven", "resting_orders"):
        click.echo(f"{key}: {s[key]}")
    for group in ("l1", "divergence"):
        for key, value in s[group].items():
            click.echo(f"{group}.{key}: {value}")


@zkr.command()
@dir_option
def rebuild(data_dir: Path) -> None:
    """Recompute the settled state from the settlement layer's published data alone."""
    with open_rollup(data_dir) as node:
        state = node.rebuild()
    click.echo(f"rebuilt {len(state.accounts)} accounts; root {state.root} matches L1")


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
    with open_rollup(data_dir) as node:
        amount = node.escape(account_index, l1_address)
    click.echo(f"account {account_index} escaped: {amount} quanta claimable on L1")


@zkr.command()
@dir_option
@click.argument("number", type=int)
@click.option("--out", type=click.Path(path_type=Path), default=Path("."), show_default=True)
def export(data_dir: Path, number: int, out: Path) -> None:
    """Write verification_key.json, proof.json, public.json (snarkjs) of batch NUMBER."""
    with open_rollup(data_dir) as node:
        files = node.export(number, out)
    click.echo("written: " + ", ".join(str(f) for f in files))


@zkr.command("demo")
@click.option("--keys", type=click.Path(path_type=Path), default=DEFAULT_DIR / "keys",
              show_default=True, help="Proving-key cache per shape.")  # fmt: skip
@click.option("--workers", type=int, default=1, show_default=True)
@quiet_option
def rollup_demo(keys: Path, workers: int, quiet: bool) -> None:
    """The whole rollup from nothing: trades, proofs, settlement, freeze and escape."""
    click.echo(SETUP_WARNING, err=True)
    with rollup_errors(), progress_bar(quiet, "demo") as progress:
        from rollup.demo import run_demo

        report = run_demo(keys, echo=click.echo, progress=progress, workers=workers)
    if not report.ok:
        raise click.ClickException("the demo's outcomes are wrong (see above)")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``zkr``): every error, click's usage errors too, is one line.

    Runs click in non-standalone mode so that a usage error prints ``Error: ... (see 'zkr ... -h')``
    instead of click's multi-line usage block; exit codes are click's (2 for usage errors).
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
