"""Every benchmark module imports and has a ``main``; a missing vector is a one-line error.

The benchmarks themselves never run here (they are timed, and heavy): this only pins that each
one can start, so a rename in a shared helper cannot leave a benchmark broken unnoticed."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import benchmarks

#: helpers, not benchmarks: shared code, and the body of ``zkr groth16 demo``
LIBRARIES = ("common", "groth16_demo")
MODULES = sorted(
    m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name not in LIBRARIES
)


def test_every_benchmark_is_listed() -> None:
    assert {"vs_rapidsnark", "groth16_contention", "native", "batch", "verify"} <= set(MODULES)
    assert callable(importlib.import_module("benchmarks.groth16_demo").run_demo)


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_imports_and_has_main(name: str) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(module.main)


def test_unknown_circuit_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Negative twin: the vector lookup refuses a name it cannot find, in one line, exit 2."""
    from benchmarks import groth16_contention

    assert groth16_contention.main(["--circuit", "no_such_circuit", "--rounds", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "vector no_such_circuit not found" in err


def test_start_up_floor_process_runs() -> None:
    """The floor ``vs_rapidsnark`` times runs to exit 0; a broken one fails, not a silent 0 s."""
    import subprocess
    import sys

    from benchmarks.vs_rapidsnark import FLOOR

    ok = subprocess.run([sys.executable, "-c", FLOOR], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr[-300:]
    broken = FLOOR.replace("fr_mul_array", "no_such_kernel")
    bad = subprocess.run([sys.executable, "-c", broken], capture_output=True, text=True)
    assert bad.returncode != 0 and "no_such_kernel" in bad.stderr
