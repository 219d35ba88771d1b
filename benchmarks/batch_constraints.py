"""Constraints of the batch circuit per slot and per part.

Run: ``python -m benchmarks.batch_constraints [--depth 16] [--markets 4]`` (JSON on stdout).

Per slot = constraints(B = 2) − constraints(B = 1) at the same (D, M): the batch-level part (two
state-root hashes, the commitment sponge) cancels. Per part: the slot's rows grouped by their
namespace (``slot0/<part>/...``): the two signature checks, the two leaf updates (Merkle path,
leaf hashes, after-figures), fills (order terms, bands, messages), order records, margin figures
and rules, oracle, liquidation / bankruptcy, transfer family, forced withdrawal and refunds,
pubdata chunk, selectors. Every slot
carries all families (one circuit per shape), so the per-slot count is the cost of any tx.
Bar: ≤ 40k per slot at D = 16, M = 4 (Hermez ~47.6k per tx, Loopring 155k).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

from circuits.batch import BatchShape, compile_batch


def breakdown(depth: int, n_markets: int) -> dict:
    t0 = time.perf_counter()
    one = compile_batch(BatchShape(1, depth, n_markets))
    t1 = time.perf_counter()
    two = compile_batch(BatchShape(2, depth, n_markets))
    parts: Counter[str] = Counter()
    for name in one.constraint_names:
        head, _, rest = name.partition("/")
        if head == "slot0":
            part = rest.partition("/")[0] if "/" in rest else "slot (selectors, wiring)"
            parts[part] += 1
        else:
            parts["batch: " + head] += 1
    return {
        "depth": depth,
        "n_markets": n_markets,
        "batch_1": one.n_constraints,
        "batch_2": two.n_constraints,
        "per_slot": two.n_constraints - one.n_constraints,
        "compile_seconds_b1": round(t1 - t0, 1),
        "parts": dict(sorted(parts.items(), key=lambda kv: -kv[1])),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--markets", type=int, default=4)
    args = ap.parse_args()
    print(json.dumps(breakdown(args.depth, args.markets), indent=2))


if __name__ == "__main__":
    main()
