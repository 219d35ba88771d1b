"""Groth16 benchmark: setup and prove time and peak memory, NTT sizes, kernels, ratio to snarkjs.

``python -m benchmarks.groth16 [--synthetic 12,14,16,18] [--ntt 12,14,16,18,20] [--vectors ...]``
prints a table and writes ``groth16.json`` and ``groth16.png`` into ``--out`` (default
``./bench_out`` in the current directory).

- Every circuit runs in fresh subprocesses (one for setup, one for prove) so that the peak resident
  memory (``ru_maxrss`` from ``os.wait4``) is that case's alone. The prove process first warms
  numba up on a tiny circuit, then times ``prove`` ``--repeat`` times on the memory-mapped key
  (best of); it also reports its whole-process time for one cold-ish proof (``zkr``-like).
- Circuits: the circom vectors in ``shared/vectors/groth16`` and synthetic R1CS with
  m = 2^k − 2 constraints (so the domain, with the public-input binding rows, is exactly 2^k):
  a chain s_i = (s_{i−1} + i)·(s_{i−1} + 3i + 1) and out = s_{m−1} (public); every wire is in A and
  B, the worst case for the G2 MSM. ``--chains 262144`` runs the chain with exactly that many
  constraints (2^18 constraints need the 2^19 domain).
- Where snarkjs is installed (``tests/interop/node_modules``, else PATH) it times
  ``snarkjs groth16 prove circuit_final.zkey witness.wtns`` on the same vector circuits in the same
  run and prints ours/snarkjs (warm in-process prove, and whole process vs whole process).
- Helper A's kernel figures (``benchmarks.kernels.run``) are included when that module is present.

Bars: prove 2^16 ≤ 3 s, 2^18 ≤ 12 s; setup 2^18 ≤ 3 min and ≤ 4 GiB; NTT 2^16 ≤ 20 ms;
prove ≤ 0.7× snarkjs. On a shared machine compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    find_snarkjs,
    groth16_vector,
    out_option,
    plot,
    run_measured,
    write_json,
)
from prover.fields import R
from prover.r1cs import R1CS, SparseMatrix

# ------------------------------------------------------------------ synthetic circuits


def chain_witness(m: int) -> list[int]:
    """Witness of :func:`chain_r1cs`: wires 1, out (public), x = s_0, s_1 … s_{m−1}."""
    s = [7]
    for i in range(1, m):
        prev = s[-1]
        s.append((prev + i) * (prev + 3 * i + 1) % R)
    return [1, s[-1], *s]


def chain_r1cs(m: int) -> R1CS:
    """m ≥ 2 constraints, 1 public output, 1 private input (see the module docstring)."""
    n_wires = 2 + m  # 1, out, s_0 … s_{m−1}
    a_rows, b_rows, c_rows = [], [], []
    for i in range(1, m):
        prev = 2 + i - 1  # wire of s_{i−1}
        a_rows.append([(prev, 1), (0, i)])
        b_rows.append([(prev, 1), (0, 3 * i + 1)])
        c_rows.append([(prev + 1, 1)])
    a_rows.append([(n_wires - 1, 1)])  # out = s_{m−1} · 1
    b_rows.append([(0, 1)])
    c_rows.append([(1, 1)])
    return R1CS(
        n_wires,
        1,
        0,
        1,
        SparseMatrix.from_rows(a_rows),
        SparseMatrix.from_rows(b_rows),
        SparseMatrix.from_rows(c_rows),
    )


def synthetic_r1cs(log_n: int) -> R1CS:
    """The chain with m = 2^log_n − 2 constraints: with 2 binding rows the domain is 2^log_n."""
    return chain_r1cs((1 << log_n) - 2)


def synthetic_witness(log_n: int) -> list[int]:
    return chain_witness((1 << log_n) - 2)


def _circuit(case: str) -> tuple[R1CS, list[int]]:
    kind, _, arg = case.partition(":")
    if kind == "synthetic":
        return synthetic_r1cs(int(arg)), synthetic_witness(int(arg))
    if kind == "chain":
        return chain_r1cs(int(arg)), chain_witness(int(arg))
    from prover.iden3 import read_r1cs, read_wtns

    d = groth16_vector(arg)
    return read_r1cs(d / "circuit.r1cs"), read_wtns(d / "witness.wtns")


def _witness(case: str) -> list[int]:
    kind, _, arg = case.partition(":")
    if kind == "synthetic":
        return synthetic_witness(int(arg))
    if kind == "chain":
        return chain_witness(int(arg))
    from prover.iden3 import read_wtns

    return read_wtns(groth16_vector(arg) / "witness.wtns")


# ------------------------------------------------------------------ child processes


def _warm_up() -> None:
    from prover.prove import prove
    from prover.setup import SeededRandom, setup

    pk = setup(synthetic_r1cs(6), SeededRandom(0))
    prove(pk, synthetic_witness(6), r=1, s=2)


def _child_setup(case: str, keydir: Path) -> dict[str, Any]:
    from prover.keys import save_proving_key
    from prover.setup import SeededRandom, setup

    _warm_up()
    t0 = time.perf_counter()
    r1cs, _ = _circuit(case)
    t1 = time.perf_counter()
    pk = setup(r1cs, SeededRandom(1))
    t2 = time.perf_counter()
    save_proving_key(pk, keydir)
    t3 = time.perf_counter()
    return {
        "constraints": r1cs.n_constraints,
        "wires": r1cs.n_wires,
        "log_domain": pk.matrices.log_domain,
        "build_s": round(t1 - t0, 3),
        "setup_s": round(t2 - t1, 3),
        "save_s": round(t3 - t2, 3),
    }


def _child_prove(case: str, keydir: Path, repeat: int) -> dict[str, Any]:
    from prover.keys import load_proving_key
    from prover.prove import prove

    _warm_up()
    t0 = time.perf_counter()
    pk = load_proving_key(keydir)
    t1 = time.perf_counter()
    witness = _witness(case)
    best = float("inf")
    for i in range(repeat):
        start = time.perf_counter()
        prove(pk, witness, r=3 + i, s=5 + i)
        best = min(best, time.perf_counter() - start)
    return {"load_s": round(t1 - t0, 3), "prove_s": round(best, 3)}


def _child_prove_once(case: str, keydir: Path) -> dict[str, Any]:
    """Like ``zkr groth16 prove``: load key, read witness, prove, write proof.json/public.json."""
    from prover.artifacts import proof_to_json, public_to_json, write_json
    from prover.keys import load_proving_key
    from prover.prove import prove

    pk = load_proving_key(keydir)
    witness = _witness(case)
    proof = prove(pk, witness)
    write_json(proof_to_json(proof), keydir / "proof.json")
    write_json(public_to_json(witness[1 : 1 + pk.n_public]), keydir / "public.json")
    return {}


def _run_child(*args: str) -> tuple[dict[str, Any], float, float]:
    res = run_measured([sys.executable, "-m", "benchmarks.groth16", "--child", *args])
    if res.returncode != 0:
        raise RuntimeError(f"child {args} failed: {res.stderr.strip().splitlines()[-1:]}")
    return json.loads(res.stdout.strip().splitlines()[-1]), res.seconds, res.peak_rss_mib


# ------------------------------------------------------------------ parent


def bench_case(case: str, repeat: int, snarkjs: list[str] | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="g16bench") as tmp:
        keydir = Path(tmp) / "key"
        setup_res, _, setup_rss = _run_child("setup", case, str(keydir))
        prove_res, _, prove_rss = _run_child("prove", case, str(keydir), str(repeat))
        _, once_s, once_rss = _run_child("prove-once", case, str(keydir))
    row: dict[str, Any] = {
        "case": case,
        **setup_res,
        "setup_peak_mib": round(setup_rss, 1),
        **prove_res,
        "prove_peak_mib": round(prove_rss, 1),
        "prove_process_s": round(once_s, 3),
        "prove_process_peak_mib": round(once_rss, 1),
    }
    kind, _, name = case.partition(":")
    if snarkjs and kind == "vector":
        d = groth16_vector(name)
        with tempfile.TemporaryDirectory(prefix="snarkjs") as tmp:
            best = float("inf")
            for _ in range(max(1, min(repeat, 2))):
                res = run_measured(
                    [
                        *snarkjs,
                        "groth16",
                        "prove",
                        str(d / "circuit_final.zkey"),
                        str(d / "witness.wtns"),
                        str(Path(tmp) / "proof.json"),
                        str(Path(tmp) / "public.json"),
                    ]
                )
                if res.returncode != 0:
                    raise RuntimeError(f"snarkjs failed on {name}: {res.stderr.strip()[-200:]}")
                best = min(best, res.seconds)
        row["snarkjs_prove_s"] = round(best, 3)
        row["ratio_vs_snarkjs"] = round(row["prove_s"] / best, 3)
        row["ratio_process_vs_snarkjs"] = round(row["prove_process_s"] / best, 3)
    return row


def bench_ntt(sizes: Sequence[int], repeat: int = 3) -> list[dict[str, Any]]:
    from prover.engine import get_engine

    eng = get_engine("fast")
    rng = np.random.default_rng(1)
    eng.ntt(np.zeros((16, 4), dtype=np.uint64))
    out = []
    for log_n in sizes:
        a = rng.integers(0, 2**63, size=(1 << log_n, 4), dtype=np.uint64)
        a[:, 3] >>= 4
        times = {}
        with eng.workspace():  # the transform alone: its tables are built once, untimed
            eng.ntt(a)
            eng.coset_intt(a, 7)
            for name, fn in (("ntt", eng.ntt), ("coset_intt", lambda x: eng.coset_intt(x, 7))):
                best = float("inf")
                for _ in range(repeat):
                    start = time.perf_counter()
                    fn(a)
                    best = min(best, time.perf_counter() - start)
                times[name] = round(best * 1000, 2)
        out.append({"log_n": log_n, "ntt_ms": times["ntt"], "coset_intt_ms": times["coset_intt"]})
    return out


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", default="12,14,16,18", help="log2 domain sizes")
    parser.add_argument(
        "--chains", default="", help="exact constraint counts (e.g. 262144: domain 2^19)"
    )
    parser.add_argument("--ntt", default="12,14,16,18,20", help="log2 NTT sizes")
    parser.add_argument("--vectors", default="poseidon2_tiny,merkle_n1_d16,merkle_n16_d16")
    parser.add_argument("--kernel-sizes", default="12,14,16", help="for benchmarks.kernels.run")
    parser.add_argument("--no-kernels", action="store_true")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    out_option(parser)
    args = parser.parse_args(argv)

    if args.child:
        what, case, keydir, *rest = args.child
        if what == "setup":
            res = _child_setup(case, Path(keydir))
        elif what == "prove":
            res = _child_prove(case, Path(keydir), int(rest[0]))
        else:
            res = _child_prove_once(case, Path(keydir))
        print(json.dumps(res))
        return

    start = time.perf_counter()
    _warm_up()
    print(f"warm-up (numba compile / cache load): {time.perf_counter() - start:.1f} s")
    snarkjs = find_snarkjs()
    print(f"snarkjs: {' '.join(snarkjs) if snarkjs else 'not found (no ratio)'}")

    ntt_rows = bench_ntt(_ints(args.ntt))
    for row in ntt_rows:
        ms, coset_ms = row["ntt_ms"], row["coset_intt_ms"]
        print(f"NTT 2^{row['log_n']:<2} {ms:9.2f} ms  coset iNTT {coset_ms:8.2f} ms")

    cases = [f"vector:{v}" for v in args.vectors.split(",") if v]
    cases += [f"synthetic:{k}" for k in _ints(args.synthetic)]
    cases += [f"chain:{m}" for m in _ints(args.chains)]
    rows = []
    for case in cases:
        row = bench_case(case, args.repeat, snarkjs)
        rows.append(row)
        extra = ""
        if "snarkjs_prove_s" in row:
            extra = (
                f"  snarkjs {row['snarkjs_prove_s']:.2f} s  ratio {row['ratio_vs_snarkjs']:.2f}"
                f" (process {row['ratio_process_vs_snarkjs']:.2f})"
            )
        print(
            f"{case:28} m={row['constraints']:>7}  setup {row['setup_s']:7.2f} s"
            f" ({row['setup_peak_mib']:.0f} MiB)  prove {row['prove_s']:6.2f} s"
            f" ({row['prove_peak_mib']:.0f} MiB)  process {row['prove_process_s']:.2f} s{extra}"
        )

    kernels = None
    if not args.no_kernels:
        try:
            from benchmarks import kernels as kernel_bench
        except ImportError:
            kernel_bench = None
        if kernel_bench is not None:
            kernels = kernel_bench.run(sizes=_ints(args.kernel_sizes), threads=(1, 2), repeat=1)
            print(f"kernels: field mul {kernels['field_mul_ns']} ns")

    data = {"ntt": ntt_rows, "cases": rows, "kernels": kernels}
    print(f"wrote {write_json('groth16', data, args.out)}")
    synth = [r for r in rows if r["case"].startswith(("synthetic", "chain"))]
    vec = [r for r in rows if r["case"].startswith("vector")]
    series = {
        "setup (synthetic)": [(r["constraints"], r["setup_s"]) for r in synth],
        "prove (synthetic)": [(r["constraints"], r["prove_s"]) for r in synth],
        "prove (circom vectors)": [(r["constraints"], r["prove_s"]) for r in vec],
        "snarkjs prove (vectors)": [
            (r["constraints"], r["snarkjs_prove_s"]) for r in vec if "snarkjs_prove_s" in r
        ],
        "NTT in ms (x = size)": [(1 << r["log_n"], r["ntt_ms"]) for r in ntt_rows],
    }
    path = plot(
        "groth16",
        series,
        xlabel="constraints (NTT: size)",
        ylabel="seconds (NTT: ms)",
        title="Groth16 over BN254: numba prover",
        out_dir=args.out,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
