"""Batch-proving benchmark: ``python -m benchmarks.batch [--quick]``, ``zkr bench batch``.

For each batch size B (default 1, 2, 4, 8 at D = 16, M = 4; ``--quick``: B = 1, 2 at D = 4,
M = 1) a batch of B trades (2B funded accounts, one trade per slot) is sealed by the native
sequencer and proven against ``circuits.batch.BatchCircuit((B, D, M))``:

- constraints of the batch circuit;
- witness time (``batch_assignment`` + the circuit's solver), prove time (``prover.prove``),
  verify time (``verifier.groth16.verify`` through the settlement checker);
- the solver alone, the numba one (``circuits.solver_fast``, what proving uses) beside its twin
  on Python ints (``circuits.solver.run_program``), interleaved, best of 2, and the encoding of
  the program for the numba one (once per circuit and process);
- peak resident memory of the case's own process (each case runs in a subprocess: ``os.wait4``);
- proofs per minute with 1 worker (K batches in turn) and 2 worker processes (K batches in a
  ``ProcessPoolExecutor(2)``, spawned, each worker warmed up by one proof), K = 2.

The proving key comes from an INSECURE seeded setup (timed separately, cached per shape under
``<out>/keys``). Output: ``<out>/batch.json`` and ``<out>/batch.png`` (``--out``, default
``./bench_out``). Bar on a 2-core
machine: B = 8 trades at D = 16 proven in ≤ 30 s, witness included. Timings on a shared machine
are noisy; the JSON records the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from benchmarks.common import OUT_DIR, out_option, plot, run_measured, self_peak_rss_mib, write_json

PRICE_QUANTA = 100
K = 2  #: batches per proofs-per-minute measurement


def _trade_batches(depth: int, slots: int, markets: int, tmp: Path) -> list[Any]:
    """K sealed batches of ``slots`` trades each (after the deposit batches)."""
    from protocol.eddsa import derive_public_key
    from protocol.messages import domain
    from protocol.spec import BUY, DEFAULT_MARKETS, DEPOSIT, SELL, VALUE_SCALE, RollupParams
    from rollup.account import GlobalState
    from rollup.sequencer import Sequencer
    from rollup.tx import Order, Trade

    params = RollupParams(depth, slots, DEFAULT_MARKETS[:markets])
    price = PRICE_QUANTA * VALUE_SCALE
    dom, now = domain(1, 2), 1_000_000
    oracle_pk = derive_public_key(b"o" * 32)
    genesis = GlobalState.genesis(params, oracle_pk, (price,) * markets, now, dom)
    seq = Sequencer.open(str(tmp / "seq.db"), params, genesis)
    keys = [i.to_bytes(2, "big") * 16 for i in range(1, 2 * slots + 1)]
    queue = [
        {"id": i, "kind": DEPOSIT, "fields": [i, *derive_public_key(k), 10**6, 1]}
        for i, k in enumerate(keys)
    ]
    while seq.seal_batch(queue) is not None and seq.store.get("priority_consumed") < len(queue):
        pass
    batches = []
    for round_ in range(K):
        for s in range(slots):
            maker, taker = 2 * s, 2 * s + 1
            oid, expiry = round_ + 1, now + 10**6
            m = Order(maker, 0, BUY, 10, price, 5, oid, expiry).sign(keys[maker], dom)
            t = Order(taker, 0, SELL, 10, price, 5, oid, expiry).sign(keys[taker], dom)
            seq.submit(Trade(m, t, 10, price, 1, 1))
        batches.append(seq.seal_batch(queue))
    return batches


def run_case(depth: int, slots: int, markets: int, out: Path = OUT_DIR) -> dict[str, Any]:
    """One shape, in this process: the measurements of the module docstring."""
    from circuits.batch import BatchShape, compile_batch
    from prover.setup import SeededRandom
    from rollup.circuit_input import batch_assignment
    from rollup.node.pipeline import prove_assignment, setup_shape, verifying_key_json
    from verifier.checker import groth16_checker

    shape = BatchShape(slots, depth, markets)
    t0 = time.perf_counter()
    compiled = compile_batch(shape)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    keydir = setup_shape(shape, out / "keys", SeededRandom(1))
    setup_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        batches = _trade_batches(depth, slots, markets, Path(tmp))
    jobs = [(shape, str(keydir), b.number, batch_assignment(b, shape)) for b in batches]
    prove_assignment(*jobs[0])  # warm-up: numba caches, key pages, the program's encoding
    solver = {"numba": compiled.solve, "python": compiled.solve_python}
    solver_s = {name: float("inf") for name in solver}
    for _ in range(2):
        for name, solve in solver.items():
            t0 = time.perf_counter()
            solve(jobs[0][3])
            solver_s[name] = min(solver_s[name], time.perf_counter() - t0)
    from circuits.solver_fast import encode

    t0 = time.perf_counter()
    encode(compiled.program, compiled.r1cs.n_wires)
    encode_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    proofs = [prove_assignment(*job) for job in jobs]
    one_worker_s = time.perf_counter() - t0
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        list(pool.map(prove_assignment, *zip(jobs[0], jobs[0], strict=True)))  # warm-up
        t0 = time.perf_counter()
        list(pool.map(prove_assignment, *zip(*jobs, strict=True)))
        two_workers_s = time.perf_counter() - t0
    check = groth16_checker(verifying_key_json(keydir))
    t0 = time.perf_counter()
    ok = check(proofs[0].public, proofs[0].proof)
    verify_s = time.perf_counter() - t0
    witness_s = min(p.witness_seconds for p in proofs)
    prove_s = min(p.prove_seconds for p in proofs)
    return {
        "B": slots,
        "D": depth,
        "M": markets,
        "constraints": compiled.n_constraints,
        "constraints_per_slot": compiled.n_constraints // slots,
        "compile_s": compile_s,
        "setup_s": setup_s,
        "witness_s": witness_s,
        "prove_s": prove_s,
        "witness_plus_prove_s": witness_s + prove_s,
        "solver_numba_s": solver_s["numba"],
        "solver_python_s": solver_s["python"],
        "solver_encode_s": encode_s,
        "verify_s": verify_s,
        "verified": ok,
        "proofs_per_minute_1_worker": 60 * K / one_worker_s,
        "proofs_per_minute_2_workers": 60 * K / two_workers_s,
        "peak_rss_mib": self_peak_rss_mib(),
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.batch", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--quick", action="store_true", help="B = 1, 2 at D = 4, M = 1")
    ap.add_argument("--slots", type=int, nargs="*", help="batch sizes (default 1 2 4 8)")
    ap.add_argument("--depth", type=int, help="tree depth (default 16)")
    ap.add_argument("--markets", type=int, help="markets (default 4)")
    ap.add_argument("--case", type=int, nargs=3, metavar=("D", "B", "M"), help=argparse.SUPPRESS)
    out_option(ap)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case, out=args.out)))
        return 0
    depth = args.depth or (4 if args.quick else 16)
    markets = args.markets or (1 if args.quick else 4)
    slots = args.slots or ([1, 2] if args.quick else [1, 2, 4, 8])
    results = []
    for b in slots:
        case = ["--case", str(depth), str(b), str(markets), "--out", str(args.out)]
        m = run_measured([sys.executable, "-m", "benchmarks.batch", *case])
        if m.returncode != 0:
            print(f"B = {b}: failed\n{m.stderr[-2000:]}", file=sys.stderr)
            return 1
        row = json.loads(m.stdout.strip().splitlines()[-1])
        row["process_peak_rss_mib"] = m.peak_rss_mib
        results.append(row)
        print(
            f"B = {b}, D = {depth}, M = {markets}: {row['constraints']:,} constraints, "
            f"witness {row['witness_s']:.2f} s (solver {row['solver_numba_s']:.2f} s vs Python "
            f"{row['solver_python_s']:.2f} s), prove {row['prove_s']:.2f} s, verify "
            f"{row['verify_s']:.2f} s, {row['proofs_per_minute_1_worker']:.1f} / "
            f"{row['proofs_per_minute_2_workers']:.1f} proofs/min (1 / 2 workers), peak "
            f"{m.peak_rss_mib:.0f} MiB",
            flush=True,
        )
    bar = next((r for r in results if r["B"] == 8 and r["D"] == 16), None)
    summary = {"bar_B8_D16_le_30s": None if bar is None else bar["witness_plus_prove_s"] <= 30}
    path = write_json("batch", {"cases": results, **summary}, args.out)
    png = plot(
        "batch",
        {
            "witness + prove (s)": [(r["B"], r["witness_plus_prove_s"]) for r in results],
            "verify (s)": [(r["B"], r["verify_s"]) for r in results],
        },
        xlabel="batch slots B",
        ylabel="seconds",
        title=f"batch proving, D = {depth}, M = {markets}",
        out_dir=args.out,
    )
    print(f"wrote {path} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
