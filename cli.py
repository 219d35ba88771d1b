"""``zkr`` — the command line, wiring the Python API together (no logic of its own).

Verbs mirror snarkjs's so iden3 users feel at home::

    zkr groth16 setup CIRCUIT.r1cs [KEYDIR] [--zkey OUT.zkey]   # INSECURE single-party setup
    zkr groth16 prove KEY WITNESS.wtns --proof proof.json --public public.json  # KEY: .zkey/KEYDIR
    zkr groth16 verify verification_key.json public.json proof.json   # OK / INVALID
    zkr groth16 demo                           # setup + prove + verify on a shipped circuit
    zkr init / account new / account show / deposit / withdraw / transfer / claim /
        force-withdraw                         # ``cli_rollup``, ``cli_trading``
    zkr order [place] / order cancel / order list / oracle / series list / series show / risk /
        liquidate / deleverage / settle-options # ``cli_trading``
    zkr batch [--all] / prove / settle / status / rebuild / freeze / escape / export / demo
    zkr node                                   # long-running: seal, prove, settle, HTTP API
    zkr bench groth16 [ARGS...]                # python -m benchmarks.groth16 (--out DIR)

Human units (``rollup.node.units``): amounts, transfers and fees in USD; sizes in whole units of
the underlying; prices, premiums and strikes in USD per whole unit; funding rates as a fraction
per hour (or ``<n>u`` in the protocol's 2^-32 per second); times as UTC dates or seconds; each
converted exactly or refused with the nearest exact values. Read verbs (``status``, ``account
show``, ``order list``, ``series show``, ``risk``, ``export``) take ``--json`` (keys:
``rollup.node.report``, ``rollup.node.views``).

Exit codes — one mapping for every verb (``EXIT_CODES``, applied by ``mapped_errors``); each
failure is one line on stderr, never a traceback:

    0   success (``groth16 verify``: the proof is valid)
    1   ``groth16 verify`` only: the proof is INVALID
    2   malformed or missing input: usage, unreadable files, values that do not convert exactly,
        genesis parameters out of range,
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


import cli_rollup  # noqa: E402, F401  (registers the rollup verbs on ``zkr``)
import cli_trading  # noqa: E402, F401  (registers the trading and options verbs)

if __name__ == "__main__":
    from cli import main as entry  # the registered group lives in the module ``cli``

    entry()
