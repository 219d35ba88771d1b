"""Child process of the concurrency and kill tests: ``python -m tests.node.worker KIND DIR N``.

Each kind repeats one write path of the application layer ``N`` times (``N`` = 0: forever),
opening the rollup directory afresh each time as a CLI verb does, and prints one line per write
*after* it returned (so the line means "committed"):

- ``accounts``: ``K <index>`` per new keystore account (the keystore's write path under the
  directory lock, as ``Rollup.new_account`` takes it, without the tree's capacity limit);
- ``orders``: ``O <account> <order id>`` per resting order (buys far below the market, never
  matched);
- ``transfers``: ``A <seq>`` per transaction accepted into the mempool, ``S <n>`` per sealed batch;
- ``settle``: ``T <n>`` per batch this process settled, then ``DONE``.

It prints ``READY`` first; errors end it with ``E <kind>: <message>`` and exit code 1.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from rollup.node import Rollup
from rollup.node.files import DirectoryLock
from rollup.node.keystore import Keystore
from rollup.node.units import price_to_units, size_to_base, usd_to_value
from tests.node import standin


def main(kind: str, path: str, n: int) -> int:
    if standin.enabled():
        standin.install()
    d = Path(path)
    print("READY", flush=True)
    steps = itertools.count() if n == 0 else range(n)
    try:
        for step in steps:
            if kind == "accounts":
                with DirectoryLock(d, "worker accounts", wait=120):
                    print(f"K {Keystore(d).add(1 << 20)[0]}", flush=True)
                continue
            with Rollup(d, holder=f"worker {kind}", lock_wait=120) as node:
                if kind == "orders":
                    account = step % 2
                    btc = node.params.markets[0]
                    price = price_to_units(str(28500 + 25 * (step % 40)), btc)
                    out = node.order(account, 0, 0, size_to_base("0.001", btc), price)
                    print(f"O {account} {out['order_id']}", flush=True)
                elif kind == "transfers":
                    sender = step % 2
                    seq = node.transfer(sender, 1 - sender, usd_to_value("0.01"))
                    print(f"A {seq}", flush=True)
                    if step % 3 == 2:
                        batch = node.seal()
                        if batch is not None:
                            print(f"S {batch.number}", flush=True)
                elif kind == "settle":
                    for number in node.settle():
                        print(f"T {number}", flush=True)
                    break
        print("DONE", flush=True)
        return 0
    except Exception as e:
        print(f"E {type(e).__name__}: {e}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
