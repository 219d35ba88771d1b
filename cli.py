"""``zkr`` — the command line, wiring the Python API together (no logic of its own).

Verbs mirror snarkjs's so iden3 users feel at home::

    zkr groth16 setup CIRCUIT.r1cs KEYDIR      # INSECURE single-party setup (+ verification key)
    zkr groth16 prove KEYDIR WITNESS.wtns --proof proof.json --public public.json
    zkr groth16 verify verification_key.json public.json proof.json   # OK / INVALID
    zkr demo                                   # setup + prove + verify on a shipped circuit
    zkr bench groth16 [ARGS...]                # python -m benchmarks.groth16

Exit codes: 0 success (``verify``: the proof is valid), 1 the proof is INVALID, 2 malformed or
missing input (one line on stderr, never a traceback). Long steps show a progress bar on stderr,
driven by the API's ``progress(step, done, total)`` callbacks; ``--quiet`` turns it off. The prover
is imported inside the commands that need it, so ``zkr groth16 verify`` stays light (py_ecc only).
The top-level group is where the rollup commands (``init``, ``deposit``, ``prove``, ``settle`` ...)
attach.
"""

from __future__ import annotations

import importlib
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
@click.argument("keydir", type=click.Path(path_type=Path))
@click.option("--seed", type=int, help="Deterministic toxic waste (tests only; even less secure).")
@quiet_option
def groth16_setup(circuit: Path, keydir: Path, seed: int | None, quiet: bool) -> None:
    """Circuit-specific setup: proving key + KEYDIR/verification_key.json (INSECURE)."""
    click.echo(SETUP_WARNING, err=True)
    with input_errors():
        from prover.iden3 import read_r1cs
        from prover.keys import save_proving_key
        from prover.setup import SeededRandom, setup

        r1cs = read_r1cs(circuit)
        rng = SeededRandom(seed) if seed is not None else None
        with progress_bar(quiet, "setup") as progress:
            pk = setup(r1cs, rng=rng, progress=progress)
        save_proving_key(pk, keydir)
    if not quiet:
        click.echo(f"proving key and verification_key.json written to {keydir}", err=True)


@groth16.command("prove")
@click.argument("keydir", type=click.Path(path_type=Path))
@click.argument("witness", type=click.Path(path_type=Path))
@click.option("--proof", "proof_path", type=click.Path(path_type=Path), default="proof.json")
@click.option("--public", "public_path", type=click.Path(path_type=Path), default="public.json")
@quiet_option
def groth16_prove(
    keydir: Path, witness: Path, proof_path: Path, public_path: Path, quiet: bool
) -> None:
    """Prove WITNESS.wtns with the key in KEYDIR; write snarkjs proof.json and public.json."""
    with input_errors():
        from prover.artifacts import proof_to_json, public_to_json, write_json
        from prover.iden3 import read_wtns
        from prover.keys import load_proving_key
        from prover.prove import prove

        pk = load_proving_key(keydir)
        values = read_wtns(witness)
        with progress_bar(quiet, "prove") as progress:
            proof = prove(pk, values, progress=progress)
        write_json(proof_to_json(proof), proof_path)
        write_json(public_to_json(values[1 : 1 + pk.n_public]), public_path)
    if not quiet:
        click.echo(f"proof written to {proof_path}, public signals to {public_path}", err=True)


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


@zkr.command()
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


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``zkr``): every error, click's usage errors too, is one line.

    Runs click in non-standalone mode so that a usage error prints ``Error: ... (see 'zkr ... -h')``
    instead of click's multi-line usage block; exit codes are click's (2 for usage errors).
    """
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
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
