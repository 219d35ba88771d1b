"""Shared helpers for the benchmarks (``python -m benchmarks.<name>``): not timed tests.

- ``groth16_vector(name)`` — the folder of a circom/snarkjs circuit: ``prover/vectors/groth16``
  (the small ones, shipped), else ``shared/vectors/groth16`` beside the repository (the 64 MB
  ``merkle_n16_d16``);
- ``write_json(name, data)`` — ``bench_out/<name>.json`` (in the current directory) with the
  machine's description attached;
- ``plot(name, series, ...)`` — ``bench_out/<name>.png`` with matplotlib's Agg backend (no display);
- ``find_snarkjs()`` — the command running snarkjs: the pinned copy in ``tests/interop`` first
  (``npm ci --prefix tests/interop``), else a ``snarkjs`` on PATH, else None;
- ``warm_up(fn, ...)`` / ``best_of(fn, ...)`` — one untimed call (numba JIT, caches), then timings;
- ``run_measured(cmd)`` — a subprocess's wall time and peak resident memory (``os.wait4``'s rusage).

Timings on a shared 2-core machine are noisy: compare ratios measured in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = Path("bench_out")
SNARKJS_CLI = REPO / "tests" / "interop" / "node_modules" / "snarkjs" / "build" / "cli.cjs"
SHIPPED_GROTH16 = REPO / "prover" / "vectors" / "groth16"
SHARED_GROTH16 = REPO.parent / "shared" / "vectors" / "groth16"


def groth16_vector(name: str) -> Path:
    """The folder of circom circuit ``name`` (shipped, else beside the repository), or
    FileNotFoundError naming where it was looked for."""
    for base in (SHIPPED_GROTH16, SHARED_GROTH16):
        if (base / name).is_dir():
            return base / name
    raise FileNotFoundError(f"vector {name} not found in {SHIPPED_GROTH16} or {SHARED_GROTH16}")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg": os.getloadavg(),
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def out_option(parser: Any) -> None:
    """``--out DIR`` on a benchmark's argparse parser: where its JSON and PNG go (default
    ``./bench_out`` in the current directory — never the installed source tree)."""
    parser.add_argument(
        "--out", type=Path, default=OUT_DIR, help="output folder (default ./bench_out)"
    )


def write_json(name: str, data: Mapping[str, Any], out_dir: Path = OUT_DIR) -> Path:
    """Write ``{"machine": ..., **data}`` to ``out_dir/<name>.json`` and return the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=1) + "\n")
    return path


def plot(
    name: str,
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    logx: bool = True,
    logy: bool = True,
    out_dir: Path = OUT_DIR,
) -> Path:
    """One line per series of (x, y) points, saved to ``out_dir/<name>.png``; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", label=label)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = out_dir / f"{name}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def find_snarkjs() -> list[str] | None:
    """Command prefix for snarkjs: the pinned local copy, else ``snarkjs`` on PATH, else None."""
    node = shutil.which("node")
    if node and SNARKJS_CLI.is_file():
        return [node, str(SNARKJS_CLI)]
    on_path = shutil.which("snarkjs")
    return [on_path] if on_path else None


def warm_up(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """Call ``fn`` once to compile and fill caches (numba JIT); return how long that took."""
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def best_of(
    fn: Callable[..., Any], *args: Any, repeat: int = 3, **kwargs: Any
) -> tuple[Any, float]:
    """(last result, best seconds) over ``repeat`` calls — the least noisy figure on a busy box."""
    best, result = float("inf"), None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return result, best


@dataclass(frozen=True)
class Measured:
    """A finished subprocess: exit code, wall seconds, peak RSS in MiB, captured output."""

    returncode: int
    seconds: float
    peak_rss_mib: float
    stdout: str
    stderr: str


def run_measured(
    cmd: Sequence[str], *, cwd: str | Path | None = None, env: Mapping[str, str] | None = None
) -> Measured:
    """Run ``cmd`` to completion; its own peak RSS comes from ``os.wait4`` (ru_maxrss)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode,
            seconds,
            _mib(usage.ru_maxrss),
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
        )


def self_peak_rss_mib() -> float:
    """Peak RSS of the current process so far, in MiB."""
    return _mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _mib(ru_maxrss: int) -> float:
    """ru_maxrss is KiB on Linux, bytes on macOS."""
    return ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else ru_maxrss / 1024
