"""Native rollup throughput: trades applied per second with Merkle root updates, D = 16 and 32.

    python -m benchmarks.native [--trades 400] [--accounts 64] [--out bench_out]

Orders are signed up front; the mempool admits each trade by verifying both EdDSA signatures
(measured as ``admission``), which fills the state machine's signature cache; then ``apply``
measures ``RollupState.apply`` on every trade — all checks, funding settlement, margin, two leaf
updates with full Merkle paths, the global-state hash, the per-slot witness and the pubdata chunk.
``sealed`` measures the same trades sealed into B = 8 slot batches through the SQLite store
(one SQL transaction per batch).  Writes bench_out/native.json and bench_out/native.png.

Measured in the same run, for comparison on a shared machine: one Montgomery product
(``prover.kernels.field.fr_mul`` in a dependent chain), one Poseidon(2) inside a Merkle path call,
and the per-trade hash floor: 2·D path hashes plus the leaf hashes of both accounts (positions
t = 2M + 1, leaf t = 6), the global hash (t = M + 6: the fee pool changes) and the state root
(t = 3), timed through the same Python entry points the state machine uses.  ``load_average``
is the 1-minute load at the start and end of each depth's run (2 cores); ``apply_trades_per_cpu_s``
divides by the process's CPU time (``time.process_time``) instead of wall time: on a loaded machine
it leaves out the time spent waiting for a core (not cache or frequency effects).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import njit

from circuits.primitives.eddsa import derive_public_key
from prover.kernels.field import fr_mul, load, store
from rollup.account import GlobalState
from rollup.hashing import path_nodes, poseidon
from rollup.params import BUY, SELL, VALUE_SCALE, RollupParams
from rollup.sequencer import Sequencer
from rollup.state import RollupState
from rollup.tx import Deposit, Order, Trade

PRICE = 100 * VALUE_SCALE
ORACLE_KEY = b"benchmark-oracle".ljust(32, b"\0")


def make_trades(keys: list[bytes], n_trades: int) -> list[Trade]:
    """Account 2i trades with 2i+1, alternating direction, so positions stay small."""
    nonces = [0] * len(keys)
    trades = []
    for t in range(n_trades):
        a = (2 * t) % len(keys)
        b = a + 1
        side = BUY if (t // (len(keys) // 2)) % 2 == 0 else SELL
        mk = Order(a, t % 4, side, 10, PRICE, 5, nonces[a], 10**9).sign(keys[a])
        tk = Order(b, t % 4, 1 - side, 10, PRICE, 5, nonces[b], 10**9).sign(keys[b])
        nonces[a] += 1
        nonces[b] += 1
        trades.append(Trade(mk, tk, 10, PRICE, 1, 1))
    return trades


@njit(cache=True)
def _mul_chain(arr: np.ndarray, n: int) -> None:
    a, b = load(arr, 0), load(arr, 1)
    for _ in range(n):
        a = fr_mul(a, b)
    store(arr, 0, a)


def fr_mul_ns(n: int = 200_000) -> float:
    """One Montgomery product in a dependent chain (ns), best of 3."""
    arr = np.full((2, 4), 3, dtype=np.uint64)
    _mul_chain(arr, 10)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        _mul_chain(arr, n)
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e9


def hash_floor_us(state: RollupState, depth: int, reps: int = 20) -> tuple[float, float]:
    """(one Poseidon(2) in a path call, all hashes of one trade) in µs, through the rollup's own
    entry points: 2 paths of D, 2 × (positions, leaf), global hash, state root."""
    siblings = list(state.tree.empty[:depth])
    n_m = state.params.n_markets
    t0 = time.perf_counter()
    for i in range(reps):
        path_nodes(i, i, siblings)
    p2 = (time.perf_counter() - t0) / (reps * depth)
    t0 = time.perf_counter()
    for i in range(reps):
        for _ in range(2):
            path_nodes(i, i, siblings)
            poseidon([i, 5, i, 7, poseidon(list(range(i, i + 2 * n_m)))])
        poseidon(list(range(i, i + n_m + 5)))
        poseidon([i, 9])
    return p2 * 1e6, (time.perf_counter() - t0) / reps * 1e6


def fund(state: RollupState, keys: list[bytes]) -> list[Deposit]:
    return [Deposit(i, *derive_public_key(k), 10**9, 1) for i, k in enumerate(keys)]


def run(depth: int, n_trades: int, n_accounts: int) -> dict:
    load_start = os.getloadavg()[0]
    params = RollupParams(depth=depth, batch_slots=8)
    genesis = GlobalState.genesis(params, derive_public_key(ORACLE_KEY), (PRICE,) * 4)
    keys = [i.to_bytes(4, "big").rjust(32, b"\1") for i in range(n_accounts)]
    state = RollupState(params, genesis)
    deposits = fund(state, keys)
    for d in deposits:
        state.apply(d)
    trades = make_trades(keys, n_trades)
    check = state.verify_signature
    t0 = time.perf_counter()
    for tr in trades:
        for o in (tr.maker, tr.taker):
            key = state.account(o.order.account).pubkey
            assert check(key, o.order.message(), o.signature)
    admission = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    for tr in trades:
        state.apply(tr)
    apply, apply_cpu = time.perf_counter() - t0, time.process_time() - c0

    with tempfile.TemporaryDirectory() as tmp:
        seq = Sequencer.open(str(Path(tmp) / "bench.db"), params, genesis)
        seq.state.verify_signature = check  # admission already verified these signatures
        queue = [
            {"id": i, "kind": 1, "fields": [d.account, d.pubkey_x, d.pubkey_y, d.amount, 1]}
            for i, d in enumerate(deposits)
        ]
        while seq.seal_batch(queue) is not None and seq.store.get("priority_consumed") < len(queue):
            pass
        for tr in trades:
            seq.store.accept(tr)
        t0 = time.perf_counter()
        while seq.seal_batch(queue) is not None:
            pass
        sealed = time.perf_counter() - t0
        seq.store.close()
    poseidon2, floor = hash_floor_us(state, depth)
    return {
        "depth": depth,
        "trades": n_trades,
        "accounts": n_accounts,
        "admission_signatures_per_s": 2 * n_trades / admission,
        "apply_trades_per_s": n_trades / apply,
        "apply_trades_per_cpu_s": n_trades / apply_cpu,
        "sealed_trades_per_s": n_trades / sealed,
        "fr_mul_ns": fr_mul_ns(),
        "poseidon2_in_path_us": poseidon2,
        "hashes_per_trade_us": floor,
        "hash_floor_trades_per_s": 1e6 / floor,
        "hash_share_of_apply": floor * 1e-6 * n_trades / apply,
        "load_average": [load_start, os.getloadavg()[0]],
        "cores": os.cpu_count(),
    }


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    series = [
        ("apply_trades_per_s", "apply"),
        ("sealed_trades_per_s", "sealed into batches (SQLite)"),
        ("hash_floor_trades_per_s", "hashing alone (same run)"),
    ]
    width = 0.27
    for k, (key, label) in enumerate(series):
        xs = [x + (k - 1) * width for x in range(len(results))]
        ax.bar(xs, [r[key] for r in results], width, label=label)
    ax.axhline(2000, color="grey", linestyle="--", label="goal 2,000 trades/s")
    ax.set_xticks(list(range(len(results))), [f"D = {r['depth']}" for r in results])
    ax.set_ylabel("trades per second")
    load = max(max(r["load_average"]) for r in results)
    ax.set_title(f"Native rollup throughput (root updates, witness, pubdata); load ≤ {load:.1f}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=400)
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run(16, 16, 8)  # warm-up (numba JIT, caches)
    results = [run(depth, args.trades, args.accounts) for depth in (16, 32)]
    for r in results:
        print(json.dumps(r))
    (args.out / "native.json").write_text(json.dumps(results, indent=2))
    plot(results, args.out / "native.png")


if __name__ == "__main__":
    main()
