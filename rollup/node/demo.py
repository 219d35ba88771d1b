"""``zkr demo``: the whole rollup from nothing, on a small shape, in about a minute.

The story (DESIGN §4–§7): four accounts deposit on L1; a round of trades with oracle updates, a
funding tick, a transfer, a withdrawal and a liquidation of an over-leveraged long; every batch is
proven (Groth16 over the batch circuit, INSECURE single-party setup, keys cached per shape) and
settled in order; a tampered batch is rejected. Then the operator stops serving: a forced
withdrawal stays unserved past the deadline, anyone freezes the rollup, and a user rebuilds the
state from the settlement layer's published data alone and escapes with their funds.

Shape: B = 4 slots, D = 8 (256 accounts), M = 2 markets (BTC, ETH perpetuals), chosen so that the
demo fits in about a minute on 2 cores; production defaults are B = 8, D = 16, M = 4.
Amounts are in USD and sizes in whole coins, converted exactly by ``rollup.node.units``.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from circuits.batch import compile_batch
from protocol.spec import BUY, SELL, VALUE_SCALE
from rollup.circuit_input import shape_of
from rollup.margin import total_value
from rollup.node.facade import Rollup
from rollup.node.units import (
    amount_to_quanta,
    exact,
    fee_to_value,
    genesis_prices,
    price_to_units,
    quanta_to_usd,
    size_to_base,
    usd_to_value,
)
from verifier.settlement import BatchRejected

Progress = Callable[[str, int, int], None]
DEMO_SHAPE = {"depth": 8, "batch_slots": 4, "n_markets": 2}
NAMES = ("alice", "bob", "carol", "dave")
DEADLINE = 3600  #: seconds a priority request may wait before anyone can freeze


class DemoClock:
    """The settlement layer's clock; the demo moves it forward instead of waiting an hour."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class DemoReport:
    ok: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    constraints: int = 0


def run_demo(
    keys_root: str | Path,
    echo: Callable[[str], None] = print,
    progress: Progress | None = None,
    workers: int = 1,
    seed: int | None = None,
) -> DemoReport:
    """Run the story in a temporary directory; proving keys are cached under ``keys_root``."""
    with tempfile.TemporaryDirectory(prefix="zkr-demo-") as tmp:
        return _story(Path(tmp), Path(keys_root), echo, progress, workers, seed)


def _story(
    tmp: Path,
    keys_root: Path,
    echo: Callable[[str], None],
    progress: Progress | None,
    workers: int,
    seed: int | None,
) -> DemoReport:
    report = DemoReport()
    rng = None if seed is None else random.Random(seed)
    clock = DemoClock()
    t = time.perf_counter()
    echo(
        f"shape: B = {DEMO_SHAPE['batch_slots']} slots, D = {DEMO_SHAPE['depth']}, "
        f"M = {DEMO_SHAPE['n_markets']} markets (small, for the demo)"
    )
    node = Rollup.init(
        tmp / "rollup",
        keys_root=keys_root,
        max_pending_seconds=DEADLINE,
        rng=rng,
        progress=progress,
        clock=clock,
        prices=genesis_prices(2, ("10000", "5000")),
        **DEMO_SHAPE,
    )
    report.constraints = compile_batch(shape_of(node.params)).n_constraints
    report.timings["init + setup (cached per shape)"] = time.perf_counter() - t
    echo(
        f"batch circuit: {report.constraints:,} constraints "
        f"({report.constraints // DEMO_SHAPE['batch_slots']:,} per slot); keys in {node.keydir}"
    )
    echo(f"genesis root {_short(node.l1.root)}")
    try:
        _trading(node, echo)
        _prove_and_settle(node, echo, progress, workers, report)
        _tampered(node, echo, progress, report)
        _exit_game(node, clock, echo, report)
    finally:
        node.close()
    echo("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items()))
    return report


def _short(root: int) -> str:
    return f"{root:#066x}"[:18] + "…"


def _usd(quanta: int) -> str:
    return exact(quanta_to_usd(quanta))


class Trader:
    """The demo's calls in human units (USD, whole coins) on top of the protocol-unit API."""

    def __init__(self, node: Rollup) -> None:
        self.node = node
        self.btc, self.eth = node.params.markets[:2]

    def prices(self, btc: str, eth: str) -> tuple[int, int]:
        return price_to_units(btc, self.btc), price_to_units(eth, self.eth)

    def order(self, account: int, market: int, side: int, size: str, price: str) -> None:
        spec = self.node.params.markets[market]
        self.node.order(account, market, side, size_to_base(size, spec),
                        price_to_units(price, spec), fee_to_value("5"))  # fmt: skip


def _trading(node: Rollup, echo: Callable[[str], None]) -> None:
    t = Trader(node)
    alice, bob, carol, dave = (node.new_account()[0] for _ in NAMES)
    amounts = ("1000", "10000", "10000", "5000")
    for index, amount in zip((alice, bob, carol, dave), amounts, strict=True):
        node.deposit(index, amount_to_quanta(amount))
    echo(f"L1 deposits: {', '.join(NAMES)} ({' / '.join(amounts)} USD)")
    node.seal()
    node.oracle(t.prices("10000", "5000"), timestamp=100)
    t.order(alice, 0, BUY, "0.9", "10000")  # 9,000 USD of BTC on 1,000 USD: 9x leverage
    t.order(bob, 0, SELL, "0.9", "10000")
    t.order(dave, 1, BUY, "2", "5000")
    t.order(carol, 1, SELL, "2", "5000")
    node.funding((1000, -1000), timestamp=100)
    node.seal()
    echo(
        "batch 1: oracle BTC 10,000 / ETH 5,000 USD, alice buys 0.9 BTC from bob, dave buys "
        "2 ETH from carol (fees up to 5 USD a side), funding tick"
    )
    node.oracle(t.prices("9300", "5000"), timestamp=200)
    node.liquidate(carol, alice, 0, size_to_base("0.45", t.btc), price_to_units("9300", t.btc))
    node.transfer(bob, dave, usd_to_value("100"))
    node.withdraw(dave, amount_to_quanta("50"))
    node.seal()
    echo(
        "batch 2: oracle BTC 9,300 USD — alice falls below maintenance; carol liquidates 0.45 BTC "
        "of alice's long at 9,300; bob transfers 100 USD to dave; dave withdraws 50 USD"
    )


def _prove_and_settle(
    node: Rollup,
    echo: Callable[[str], None],
    progress: Progress | None,
    workers: int,
    report: DemoReport,
) -> None:
    run = node.prove(workers=workers, progress=progress)
    report.timings[f"prove {len(run.proofs)} batches"] = run.seconds
    report.ok &= not run.failures
    for p in sorted(run.proofs, key=lambda p: p.number):
        echo(
            f"  batch {p.number}: witness {p.witness_seconds:.1f} s, prove {p.prove_seconds:.1f} s"
        )
    t = time.perf_counter()
    settled = node.settle()
    report.timings["settle (py_ecc verify)"] = time.perf_counter() - t
    echo(
        f"settled batches {settled}; L1 root {_short(node.l1.root)} = sequencer root: "
        f"{node.l1.root == node.seq.state.root}; L1 claimable "
        f"{_usd(node.l1.total_claimable())} USD"
    )
    report.ok &= node.l1.root == node.seq.state.root and settled == [0, 1, 2]


def _tampered(
    node: Rollup, echo: Callable[[str], None], progress: Progress | None, report: DemoReport
) -> None:
    node.withdraw(1, amount_to_quanta("500"))
    batch = node.seal()
    node.prove(progress=progress)
    proof = node.proof(batch.number)
    tampered = list(batch.pubdata)
    tampered[0] += 1 << 36  # the withdrawal amount + 1 quantum, same proof
    try:
        node.l1.submit_batch(tampered, batch.new_root, proof)
        report.ok = False
        echo("tampered batch ACCEPTED — this is a bug")
    except BatchRejected as e:
        echo(f"tampered batch {batch.number} (bob's withdrawal 500 → 500.000001 USD) rejected: {e}")
    report.ok &= node.settle() == [batch.number]
    paid = node.claim(1)
    echo(f"genuine batch {batch.number} settled; bob claims {_usd(paid)} USD on L1")
    report.ok &= paid == amount_to_quanta("500")


def _exit_game(
    node: Rollup, clock: DemoClock, echo: Callable[[str], None], report: DemoReport
) -> None:
    echo("the operator stops serving.")
    rid = node.force_withdrawal(3)
    echo(f"dave requests a forced withdrawal on L1 (request #{rid}); it is never served")
    clock.now += DEADLINE
    late = node.freeze()
    echo(f"{DEADLINE} s later anyone may freeze: frozen because request #{late['id']} is overdue")
    t = time.perf_counter()
    state = node.rebuild()
    report.timings["rebuild from L1"] = time.perf_counter() - t
    echo(
        f"bob rebuilds the state from L1 pubdata alone: root {_short(state.root)} = L1 root: "
        f"{state.root == node.l1.root}"
    )
    report.ok &= state.root == node.l1.root
    for index in (1, 3):
        value = total_value(state.account(index), state.global_state) // VALUE_SCALE
        paid = node.escape(index)
        echo(f"{NAMES[index]} escapes with {_usd(paid)} USD (total value {_usd(value)} USD)")
        report.ok &= paid == value
    echo(f"L1 vault {_usd(node.l1.vault)} USD, claimable {_usd(node.l1.total_claimable())} USD")
