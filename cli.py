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
import importlib
import os
import sys
from pathlib import Path

import click

from rollup.node.commands import COMMANDS
from rollup.node.commands.base import (  # noqa: F401  (re-exported: the CLI's public names)
    EXIT_BUSY,
    EXIT_CODES,
    EXIT_CORRUPT,
    EXIT_INTERNAL,
    EXIT_INVALID,
    EXIT_L1_REFUSED,
    EXIT_MALFORMED,
    EXIT_REFUSED,
    SETUP_WARNING,
    SKIP_TEARDOWN,
    Failure,
    InputError,
    ZkrGroup,
    json_option,
    mapped_errors,
    no_cyclic_gc,
    progress_bar,
    quiet_option,
)


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


for _command in COMMANDS:  # the rollup, trading and options verbs (``rollup.node.commands``)
    zkr.add_command(_command)

if __name__ == "__main__":
    from cli import main as entry  # the registered group lives in the module ``cli``

    entry()
