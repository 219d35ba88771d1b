"""Benchmark of the numba arithmetic kernels: field multiplication, G1/G2 MSM, fixed-base batch mul.

``python -m benchmarks.kernels [--sizes 12,14,16,18] [--threads 1,2] [--batch-log 16]`` prints a
table and writes ``kernels.json`` into ``--out`` (default ``./bench_out``). Other benchmarks call
:func:`run`.

Every kernel is warmed up first (numba compilation / cache load is excluded). Each MSM figure is
the best of ``repeat`` runs, with wall time and process CPU time: on a shared 2-core machine the
CPU time of a single-threaded run is the steadier number, and ratios measured in the same run
(``g1_over_fr_mul``, …) are comparable across machines and load.
Bars: G1 MSM 2^16 ≤ 0.35 s, G2 MSM 2^16 ≤ 1.2 s.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from numba import njit
from py_ecc import optimized_bn128 as bn

from benchmarks.common import out_option, write_json
from prover.kernels import convert, field, fixed_base, msm


@njit(cache=True)
def _mul_chain(a, b, k):
    """k dependent Fr products (latency) interleaved with k independent Fq products."""
    x = field.u4(a)
    y = field.u4(b)
    for _ in range(k):
        x = field.fr_mul(x, a)
        y = field.fq_mul(y, b)
    return field.fr_add(x, y)


def field_mul_ns(k: int = 2_000_000) -> float:
    """Nanoseconds per Montgomery product (Fr and Fq, two independent chains)."""
    a = tuple(np.uint64(v) for v in field.FR_ONE)
    _mul_chain(a, a, 10)
    t = time.perf_counter()
    _mul_chain(a, a, k)
    return (time.perf_counter() - t) / (2 * k) * 1e9


def random_scalars(n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform canonical Fr scalars as an (n, 4) array."""
    raw = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    raw[:, 3] &= np.uint64((1 << 61) - 1)  # below 2^253 < r: uniform enough for timing
    return raw


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu


def _msm_rows(name, gen, batch_mul, msm_fn, sizes, threads, repeat, rng) -> list[dict[str, Any]]:
    bases = batch_mul(gen, random_scalars(1 << max(sizes), rng))
    rows = []
    for log_n in sizes:
        n = 1 << log_n
        sc = random_scalars(n, rng)
        for t in threads:
            wall, cpu = _timed(partial(msm_fn, bases[:n], sc, threads=t), repeat)
            rows.append({"curve": name, "log_n": log_n, "threads": t, "c": msm.window_size(n),
                         "wall_s": round(wall, 4), "cpu_s": round(cpu, 4)})  # fmt: skip
    return rows


def run(
    sizes: Sequence[int] = (12, 14, 16, 18),
    threads: Sequence[int] = (1, 2),
    batch_log: int = 16,
    repeat: int = 2,
    seed: int = 1,
) -> dict[str, Any]:
    """Time the kernels; sizes are log2 of the MSM lengths. Returns a JSON-ready dict."""
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"field_mul_ns": round(field_mul_ns(), 2), "msm": [], "batch_mul": []}
    g1 = convert.g1_from_ints([(1, 2)])[0]
    g2 = convert.g2_from_ints([convert.g2_from_py_ecc(bn.G2)])[0]
    curves = (
        ("G1", g1, fixed_base.batch_mul_g1, msm.msm_g1),
        ("G2", g2, fixed_base.batch_mul_g2, msm.msm_g2),
    )
    for name, gen, batch_mul, msm_fn in curves:
        small = batch_mul(gen, random_scalars(64, rng))  # warm-up: compile or load the cache
        for t in threads:
            msm_fn(small, random_scalars(64, rng), threads=t)
            batch_mul(gen, random_scalars(64, rng), threads=t)
            sc = random_scalars(1 << batch_log, rng)
            wall, cpu = _timed(partial(batch_mul, gen, sc, threads=t), 1)
            out["batch_mul"].append({"curve": name, "log_n": batch_log, "threads": t,
                                     "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)})  # fmt: skip
        out["msm"] += _msm_rows(name, gen, batch_mul, msm_fn, sizes, threads, repeat, rng)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="12,14,16,18", help="log2 MSM sizes")
    parser.add_argument("--threads", default="1,2", help="thread counts to time")
    parser.add_argument("--batch-log", type=int, default=16, help="log2 of the batch_mul size")
    parser.add_argument("--repeat", type=int, default=2)
    out_option(parser)
    args = parser.parse_args(argv)
    res = run(
        sizes=[int(s) for s in args.sizes.split(",")],
        threads=[int(t) for t in args.threads.split(",")],
        batch_log=args.batch_log,
        repeat=args.repeat,
    )
    print(f"field mul: {res['field_mul_ns']} ns")
    for row in res["batch_mul"]:
        print(
            f"batch_mul {row['curve']} 2^{row['log_n']}: {row['wall_s']} s (cpu {row['cpu_s']} s)"
        )
    for row in res["msm"]:
        print(f"msm {row['curve']} 2^{row['log_n']} c={row['c']} threads={row['threads']}: "
              f"{row['wall_s']} s (cpu {row['cpu_s']} s)")  # fmt: skip
    print("wrote", write_json("kernels", res, args.out))


if __name__ == "__main__":
    main()
