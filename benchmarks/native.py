"""Native rollup throughput: trades applied per second with Merkle root updates, D = 16 and 32.

    python -m benchmarks.native [--trades 400] [--accounts 64] [--out bench_out]

Orders are signed up front; the mempool admits each trade by verifying both EdDSA signatures
(measured as ``admission``), which fills the state machine's signature cache; then ``apply``
measures ``RollupState.apply`` on every trade — all checks, funding settlement, margin, two leaf
updates with full Merkle paths, the global-state hash, the per-slot witness and the pubdata chunk.
``sealed`` measures the same trades sealed into B = 8 slot batches through the SQLite store
(one SQL transaction per batch).  Writes bench_out/native.json and bench_out/native.png.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from circuits.primitives.eddsa import derive_public_key
from rollup.account import GlobalState
from rollup.hashing import path_nodes
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


def fund(state: RollupState, keys: list[bytes]) -> list[Deposit]:
    return [Deposit(i, *derive_public_key(k), 10**9, 1) for i, k in enumerate(keys)]


def run(depth: int, n_trades: int, n_accounts: int) -> dict:
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
    t0 = time.perf_counter()
    for tr in trades:
        state.apply(tr)
    apply = time.perf_counter() - t0

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
    # the same run's cost of one Poseidon(2) inside a Merkle path call (the per-trade floor is
    # 2·D of them: each trade writes two leaves and records both full paths for the witness)
    siblings = list(state.tree.empty[:depth])
    t0 = time.perf_counter()
    for i in range(50):
        path_nodes(i, i, siblings)
    poseidon2 = (time.perf_counter() - t0) / (50 * depth)
    return {
        "depth": depth,
        "poseidon2_in_path_us": poseidon2 * 1e6,
        "path_hash_floor_trades_per_s": 1 / (2 * depth * poseidon2),
        "trades": n_trades,
        "accounts": n_accounts,
        "admission_signatures_per_s": 2 * n_trades / admission,
        "apply_trades_per_s": n_trades / apply,
        "sealed_trades_per_s": n_trades / sealed,
    }


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    labels = [f"D = {r['depth']}" for r in results]
    width = 0.35
    xs = range(len(results))
    ax.bar(
        [x - width / 2 for x in xs],
        [r["apply_trades_per_s"] for r in results],
        width,
        label="apply",
    )
    ax.bar([x + width / 2 for x in xs], [r["sealed_trades_per_s"] for r in results], width,
           label="sealed into batches (SQLite)")  # fmt: skip
    ax.axhline(2000, color="grey", linestyle="--", label="goal 2,000 trades/s")
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("trades per second")
    ax.set_title("Native rollup throughput (root updates, witness, pubdata)")
    ax.legend()
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
