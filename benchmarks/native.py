"""Native rollup throughput: trades applied per second with Merkle root updates, D = 16 and 32.

    python -m benchmarks.native [--trades 400] [--accounts 64] [--slots 8] [--repeat 3]
        [--depths 16,32] [--patterns adjacent,random,spread]
        [--ways batched,one_by_one,sealed,grouped]
        [--instruments perp,option] [--backend NAME[,NAME…]] [--busy N] [--out bench_out]

Orders are signed up front; the mempool admits each trade by verifying both EdDSA signatures
(measured as ``admission``), which fills the state machine's signature cache.  Then, on fresh
states, four ways of applying the same trades — every check, funding settlement, margin, both
leaf writes, the per-slot witness (siblings of every write at its turn) and pubdata:

* ``batched`` — what ``Sequencer.seal_batch`` does without SQLite: stage B = ``--slots`` trades,
  ``flush`` (all leaves and the tree hashed at once, on the threads the backend's policy
  allows: `prover.poseidon_engine.threads_for`), then the state root;
* ``one_by_one`` — ``RollupState.apply`` per trade (a flush and its hashing per trade);
* ``sealed`` — through the SQLite store, B-slot batches (one SQL transaction each, fsync);
* ``grouped`` — the same batches, ``Sequencer.seal_batches``: up to ``GROUP`` batches per SQL
  transaction (one fsync per group), what ``zkr batch --all`` and the node do with a backlog.

Three placements of the active accounts, since which node versions must be hashed depends on them:
``adjacent`` (account 2i trades with 2i + 1, indices 0..N−1), ``random`` (seeded random pairs of
indices 0..N−1: the sequencer allocates indices in order, so this is the common case) and
``spread`` (N indices spread evenly over the whole 2^D range, random pairs: every write's path is
its own up to the top levels — the worst case).  Hashing runs on the Poseidon backend
``--backend`` names (default: the best this machine has, `prover.poseidon_engine`); several
names (``--backend ifma,avx2``: IFMA on and off on a machine that has it) run each
configuration on each backend in turn, so their figures come from the same minutes.  Also
recorded: one Montgomery product (``fr_mul``, dependent chain), one Poseidon(2) on each
available backend (``many`` over 2,000 pairs, one thread), the 1-minute load average before and
after, the core count, the cores other processes kept busy and the threads the policy allowed
at the end of each configuration.  ``--busy N`` runs N CPU-bound processes (``while True:
pass``) while timing: the contended measurement.  Writes bench_out/native.json and
bench_out/native.png.  Each way is timed ``--repeat`` times on fresh states; the JSON has the
median (``*_trades_per_s``, plotted), the best and every sample.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from numba import get_num_threads, njit

from benchmarks.ab_native import busy_cores
from protocol.eddsa import derive_public_key
from protocol.messages import domain
from protocol.spec import BUY, CALL, OPTION_BASE, PUT, SELL, VALUE_SCALE, RollupParams
from prover.kernels.field import fr_mul, load, store
from prover.poseidon_engine import (
    CPU_ELSEWHERE,
    BackendUnavailableError,
    available_backends,
    get_backend,
    threads_for,
)
from rollup.account import GlobalState
from rollup.sequencer import GROUP, Sequencer
from rollup.state import RollupState
from rollup.tx import Deposit, ListSeries, Marks, Order, Trade

PRICE = 100 * VALUE_SCALE
PATTERNS = ("adjacent", "random", "spread")
WAYS = ("batched", "one_by_one", "sealed", "grouped")
INSTRUMENTS = ("perp", "option")
ORACLE_KEY = b"benchmark-oracle".ljust(32, b"\0")
OPERATOR_KEY = b"benchmark-operator".ljust(32, b"\0")
GENESIS_TIME = 1_000_000
DOMAIN = domain(31337, 0xBE4C)
SERIES = 4  #: option series listed (strikes 90 / 100 / 110 / 100, calls and puts)
MARK = PRICE // 20  #: every series' mark and the option trades' premium per base quantum


def genesis_state(params: RollupParams) -> GlobalState:
    return GlobalState.genesis(
        params, derive_public_key(ORACLE_KEY), (PRICE,) * params.n_markets, GENESIS_TIME,
        DOMAIN, derive_public_key(OPERATOR_KEY),
    )  # fmt: skip


def option_setup(params: RollupParams) -> list:
    """The operator lists ``SERIES`` series of market 0 expiring in a week (slots 0.., ids 1..),
    then the oracle marks them all at ``MARK``."""
    expiry = GENESIS_TIME + 7 * 86_400
    strikes = (9 * PRICE // 10, PRICE, 11 * PRICE // 10, PRICE)
    txs: list = [
        ListSeries.signed(OPERATOR_KEY, DOMAIN, j, j + 1, 0, expiry, strikes[j], (CALL, PUT)[j % 2])
        for j in range(SERIES)
    ]
    marks = tuple(MARK if j < SERIES else 0 for j in range(8))
    txs.append(Marks.signed(ORACLE_KEY, DOMAIN, GENESIS_TIME, marks))
    return txs


def placement(pattern: str, n_accounts: int, depth: int) -> list[int]:
    """The account indices of a pattern (see the module docstring)."""
    if pattern == "spread":
        return [i * ((1 << depth) // n_accounts) for i in range(n_accounts)]
    return list(range(n_accounts))


def make_trades(
    keys: list[bytes], indices: list[int], n_trades: int, pattern: str, seed: int = 7,
    instrument: str = "perp",
) -> list[Trade]:  # fmt: skip
    """Signed trades between pairs of the given accounts, alternating direction per pair so
    positions stay small; pairs are (2i, 2i+1) for ``adjacent``, seeded random otherwise; on
    perpetual market t mod 4 at the index price, or (``instrument="option"``) on option series
    t mod 4 + 1 at its mark (a short opened here carries the short-option margin)."""
    rng = random.Random(seed)
    nonces = [0] * len(keys)
    trades = []
    for t in range(n_trades):
        if pattern == "adjacent":
            a = (2 * t) % len(keys)
            b = a + 1
        else:
            a, b = rng.sample(range(len(keys)), 2)
        side = BUY if t % 2 == 0 else SELL
        if instrument == "perp":
            where, price = t % 4, PRICE
        else:
            where, price = OPTION_BASE + t % SERIES + 1, MARK
        nonces[a] += 1
        nonces[b] += 1
        mk = Order(indices[a], where, side, 10, price, 5, nonces[a], 10**9).sign(keys[a], DOMAIN)
        tk = Order(indices[b], where, 1 - side, 10, price, 5, nonces[b], 10**9)
        trades.append(Trade(mk, tk.sign(keys[b], DOMAIN), 10, price, 1, 1))
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


def poseidon2_us(backend: str | None = None, n: int = 2000) -> float:
    """One Poseidon(2) in µs on ``backend`` (default the best): ``many`` over n pairs on one
    thread, best of 3."""
    many = get_backend(backend).many
    rows = [[i, i + 1] for i in range(n)]
    many(rows[:8], threads=1)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        many(rows, threads=1)
        best = min(best, time.perf_counter() - t0)
    return best / n * 1e6


def funded_state(
    params: RollupParams, genesis: GlobalState, keys, indices, backend: str | None = None,
    setup: tuple = (),
) -> RollupState:  # fmt: skip
    """The accounts funded, then the ``setup`` transactions applied."""
    state = RollupState(params, genesis, backend=backend)
    for i, k in zip(indices, keys, strict=True):
        state.stage(Deposit(i, *derive_public_key(k), 10**9, 1))
    state.flush()
    for tx in setup:
        state.apply(tx)
    return state


def _time_batched(state: RollupState, trades: list[Trade], slots: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    root = 0
    for i in range(0, len(trades), slots):
        for tr in trades[i : i + slots]:
            state.stage(tr)
        state.flush()
        root = state.root
    return time.perf_counter() - t0, root


def _time_one_by_one(state: RollupState, trades: list[Trade]) -> tuple[float, int]:
    t0 = time.perf_counter()
    for tr in trades:
        state.apply(tr)
    return time.perf_counter() - t0, state.root


def _time_sealed(
    params, genesis, keys, indices, trades, check, backend: str | None = None, setup: tuple = (),
    group: int = 1,
) -> tuple[float, int]:  # fmt: skip
    """Seconds to seal ``trades`` (already in the mempool), ``group`` batches per SQL
    transaction, and the final root."""
    with tempfile.TemporaryDirectory() as tmp:
        seq = Sequencer.open(str(Path(tmp) / "bench.db"), params, genesis, backend)
        seq.state.verify_signature = check  # admission already verified these signatures
        queue = [
            {"id": n, "kind": 1, "fields": [i, *derive_public_key(k), 10**9, 1]}
            for n, (i, k) in enumerate(zip(indices, keys, strict=True))
        ]
        while seq.store.get("priority_consumed") < len(queue):
            seq.seal_batch(queue)
        for tx in setup:
            seq.submit(tx)
        while seq.pending:
            seq.seal_batch(queue)
        for tr in trades:
            seq.submit(tr)  # persisted (one SQL transaction each, not timed)
        t0 = time.perf_counter()
        while seq.seal_batches(queue, group):
            pass
        elapsed = time.perf_counter() - t0
        root = seq.state.root
        seq.store.close()
    return elapsed, root


def run(
    depth: int,
    n_trades: int,
    n_accounts: int,
    slots: int,
    pattern: str,
    repeat: int = 1,
    backend: str | None = None,
    ways: tuple[str, ...] = WAYS,
    instrument: str = "perp",
) -> dict:
    """One configuration; each of ``ways`` is timed ``repeat`` times on fresh states (median
    and best reported: the machine is shared, single samples vary by ±30 %)."""
    load_start = os.getloadavg()[0]
    params = RollupParams(depth=depth, batch_slots=slots)
    genesis = genesis_state(params)
    setup = tuple(option_setup(params)) if instrument == "option" else ()
    keys = [i.to_bytes(4, "big").rjust(32, b"\1") for i in range(n_accounts)]
    indices = placement(pattern, n_accounts, depth)
    trades = make_trades(keys, indices, n_trades, pattern, instrument=instrument)
    state = funded_state(params, genesis, keys, indices, backend, setup)
    check = state.verify_signature
    t0 = time.perf_counter()
    for tr in trades:
        for o in (tr.maker, tr.taker):
            message = o.order.message(DOMAIN)
            assert check(state.account(o.order.account).pubkey, message, o.signature)
    admission = time.perf_counter() - t0

    def funded() -> RollupState:
        fresh = funded_state(params, genesis, keys, indices, backend, setup)
        fresh.verify_signature = check
        return fresh

    timers = {
        "batched": lambda: _time_batched(funded(), trades, slots),
        "one_by_one": lambda: _time_one_by_one(funded(), trades),
        "sealed": lambda: _time_sealed(
            params, genesis, keys, indices, trades, check, backend, setup
        ),
        "grouped": lambda: _time_sealed(
            params, genesis, keys, indices, trades, check, backend, setup, GROUP
        ),
    }
    times: dict[str, list[float]] = {way: [] for way in ways}
    roots = set()
    for _ in range(repeat):
        for way in ways:
            elapsed, root = timers[way]()
            times[way].append(elapsed)
            roots.add(root)
    assert len(roots) == 1  # same trades, same root, every way and every repeat
    out = {
        "backend": get_backend(backend).name,
        "instrument": instrument,
        "depth": depth,
        "pattern": pattern,
        "trades": n_trades,
        "accounts": n_accounts,
        "slots": slots,
        "repeat": repeat,
        "admission_signatures_per_s": 2 * n_trades / admission,
    }
    for way, ts in times.items():
        out[f"{way}_trades_per_s"] = n_trades / statistics.median(ts)
        out[f"{way}_trades_per_s_best"] = n_trades / min(ts)
        out[f"{way}_trades_per_s_all"] = [round(n_trades / t) for t in ts]
    out["load_average"] = [load_start, os.getloadavg()[0]]
    out["cores_busy_elsewhere"] = round(CPU_ELSEWHERE(), 2)
    out["threads_allowed"] = threads_for(1 << 20)  #: the policy's choice at the end of the run
    return out


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    series = [
        ("batched_trades_per_s", "batched (B slots staged, one flush)"),
        ("one_by_one_trades_per_s", "one by one (flush per trade)"),
        ("sealed_trades_per_s", "sealed into SQLite batches"),
        ("grouped_trades_per_s", f"sealed, {GROUP} batches per SQL transaction"),
    ]
    width = 0.2
    for k, (key, label) in enumerate(series):
        if key not in results[0]:
            continue  # a way not run (--ways)
        xs = [x + (k - 1.5) * width for x in range(len(results))]
        ax.bar(xs, [r[key] for r in results], width, label=label)
    ax.axhline(2000, color="grey", linestyle="--", label="goal 2,000 perpetual trades/s (D = 16)")
    ax.axhline(1000, color="grey", linestyle=":", label="goal 1,000 option trades/s (D = 16)")
    labels = [f"{r['instrument']}\nD={r['depth']}\n{r['pattern']}\n{r['backend']}" for r in results]
    ax.set_xticks(list(range(len(results))), labels)
    ax.set_ylabel("trades per second")
    load = max(max(r["load_average"]) for r in results)
    ax.set_title(
        f"Native throughput, {results[0]['accounts']} accounts, B = {results[0]['slots']}"
        f" (root, witness, pubdata), median of {results[0]['repeat']}; load ≤ {load:.1f}"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=400)
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--depths", default="16,32")
    parser.add_argument("--patterns", default=",".join(PATTERNS))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per way (median)")
    parser.add_argument("--ways", default=",".join(WAYS), help="of " + ",".join(WAYS))
    parser.add_argument(
        "--instruments", default="perp", help="of perp,option (option series trades)"
    )
    parser.add_argument(
        "--backend", default=None, help="Poseidon backend(s), comma-separated (default: the best)"
    )
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes while timing")
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    args = parser.parse_args()
    ways = tuple(args.ways.split(","))
    if not set(ways) <= set(WAYS):
        parser.error(f"--ways takes some of {','.join(WAYS)}")
    instruments = tuple(args.instruments.split(","))
    if not set(instruments) <= set(INSTRUMENTS):
        parser.error(f"--instruments takes some of {','.join(INSTRUMENTS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        backends = [get_backend(name or None).name for name in (args.backend or "").split(",")]
    except (ValueError, BackendUnavailableError) as e:
        parser.error(str(e))
    for backend in backends:
        for instrument in instruments:  # warm-up (numba JIT)
            run(16, 16, 8, args.slots, "random", backend=backend, ways=ways, instrument=instrument)
    context = {
        "fr_mul_ns": fr_mul_ns(),
        "poseidon2_us": {name: poseidon2_us(name) for name in available_backends()[:-1]},
        "backend": ",".join(backends),
        "cores": os.cpu_count(),
        "numba_threads": get_num_threads(),
        "busy_processes": args.busy,
    }
    print(json.dumps(context))
    results = []
    with busy_cores(args.busy):
        for instrument in instruments:
            for depth in [int(d) for d in args.depths.split(",")]:
                for pattern in args.patterns.split(","):
                    for backend in backends:  # each configuration on each backend in turn
                        results.append(
                            run(depth, args.trades, args.accounts, args.slots, pattern,
                                args.repeat, backend, ways, instrument)
                        )  # fmt: skip
                        print(json.dumps(results[-1]))
    (args.out / "native.json").write_text(json.dumps({**context, "runs": results}, indent=2))
    plot(results, args.out / "native.png")


if __name__ == "__main__":
    main()
