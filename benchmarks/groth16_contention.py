"""Proving while another CPU-bound process holds a core: does the prover collapse?

    python -m benchmarks.groth16_contention [--circuit merkle_n16_d16] [--rounds 6] [--out DIR]

Each round proves once with the machine as it is and once with a busy-loop process
(``python -c "while True: pass"``) running beside it, in alternation so a drift in the machine's
load hits both. Our ``prove`` runs in this process after one warm-up call (numba caches loaded),
its threads as :mod:`prover.threads` chooses (``ZKR_THREADS`` overrides). The bar: the median
with the busy loop within 2× of the median without, no sample worse than 3×. JSON (every sample)
and PNG in ``--out`` (default ``bench_out``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import OUT_DIR, groth16_vector, plot, write_json

HOG = [sys.executable, "-c", "while True: pass"]


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(zkey: Path, wtns: Path, rounds: int) -> dict:
    from prover.iden3 import read_wtns_limbs
    from prover.prove import prove
    from prover.threads import worker_count
    from prover.zkey import read_zkey

    pk, z = read_zkey(zkey), read_wtns_limbs(wtns)
    prove(pk, z)  # warm-up: numba caches, key pages
    idle, busy = [], []
    for _ in range(rounds):
        idle.append(_timed(lambda: prove(pk, z)))
        hog = subprocess.Popen(HOG)
        try:
            time.sleep(0.3)
            busy.append(_timed(lambda: prove(pk, z)))
        finally:
            hog.kill()
            hog.wait()
    med = statistics.median(idle)
    return {
        "threads": worker_count(),
        "idle_s": idle,
        "busy_s": busy,
        "median_idle_s": med,
        "median_busy_s": statistics.median(busy),
        "median_ratio": statistics.median(busy) / med,
        "worst_ratio": max(busy) / med,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--circuit", default="merkle_n16_d16")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    try:
        d = groth16_vector(args.circuit)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    load = os.getloadavg()
    result = {
        "circuit": args.circuit,
        **run(d / "circuit_final.zkey", d / "witness.wtns", args.rounds),
    }
    result["loadavg_before_after"] = [load, os.getloadavg()]
    path = write_json(f"groth16_contention_{args.circuit}", result, args.out)
    plot(
        f"groth16_contention_{args.circuit}",
        {
            "machine as is": list(enumerate(result["idle_s"], start=1)),
            "with a busy-loop process": list(enumerate(result["busy_s"], start=1)),
        },
        xlabel="round",
        ylabel="prove (s)",
        title=f"{args.circuit}: prove beside a CPU-bound process ({result['threads']} threads)",
        logx=False,
        logy=False,
        out_dir=args.out,
    )
    print(
        f"{args.circuit}: median {result['median_idle_s']:.3f} s as is, "
        f"{result['median_busy_s']:.3f} s beside a busy loop: {result['median_ratio']:.2f}x "
        f"(worst {result['worst_ratio']:.2f}x); load {load} -> {os.getloadavg()}; JSON {path}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
