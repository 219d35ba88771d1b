"""``zkr demo``: the whole rollup from nothing, on a small shape, told in human units.

The story (acts in ``rollup.node.demo_acts``):

1. accounts deposit on L1; perpetual trades with oracle prices and funding rates; every batch is
   proven (Groth16 over the batch circuit, INSECURE single-party setup, keys cached per shape)
   and settled in order; a tampered batch (a withdrawal amount changed) is rejected;
2. bankruptcy: BTC falls and two leveraged longs go under water; the first is liquidated at the
   oracle price and its shortfall drawn from the insurance fund; the fund cannot cover the second,
   so it is deleveraged against a profitable short at the bankruptcy price;
3. options: the operator lists a BTC call and put, the oracle marks them (Black-76 at an implied
   volatility), a call and a put trade, an account's Greeks and margin are printed (``zkr
   risk``), the index rises and the short call's writer is liquidated; the series expire, the
   oracle's settlement price is the TWAP of its recorded index, positions are swept into
   collateral, and the L1 root equals the sequencer's; a batch whose settlement price was changed
   in its pubdata (nothing re-signed) is refused by the proof check;
4. the operator stops: a forced withdrawal stays unserved past the deadline, anyone freezes the
   rollup, users rebuild the state from L1 data alone and escape.

Deterministic: a seeded rng (keys, rollup id, setup) and a demo clock that starts at
``DEMO_START`` and moves forward by the story's steps, never with the wall clock. Shape: B = 3
slots, D = 8, M = 2 (BTC, ETH perpetuals) — small, so the proofs take about half a minute on 2
cores: 118,218 constraints fit a 2^17 evaluation domain, where B = 4 (153,996) needs 2^18 and costs
an eighth more per slot (witness + prove 2.8 s per batch vs 1.9 s with the key loaded, ``python -m
benchmarks.batch --slots 3 4 --depth 8 --markets 2``), and the story's batches are seldom full.
Production defaults are B = 8, D = 16, M = 4.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rollup.node import pipeline
from rollup.node.facade import Rollup
from rollup.node.text import account_lines
from rollup.node.units import genesis_prices

Progress = Callable[[str, int, int], None]
DEMO_SHAPE = {"depth": 8, "batch_slots": 3, "n_markets": 2}
DEMO_START = 1_800_000_000  #: the demo clock's start (seconds; 2027-01-15 08:00 UTC)
DEMO_SEED = 2718
DEADLINE = 3600  #: seconds a priority request may wait before anyone can freeze


class DemoClock:
    """The clock of the demo's rollup and settlement layer; the story moves it forward."""

    def __init__(self, start: float = DEMO_START) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class DemoReport:
    ok: bool = True
    timings: dict[str, float] = field(default_factory=dict)
    constraints: int = 0
    failures: list[str] = field(default_factory=list)

    def check(self, condition: bool, what: str) -> None:
        """Record an outcome the story expects; a wrong one makes the demo fail."""
        if not condition:
            self.ok = False
            self.failures.append(what)


@dataclass
class Demo:
    """What the acts share: the rollup, its clock, the names, the printer and the report."""

    node: Rollup
    clock: DemoClock
    echo: Callable[[str], None]
    report: DemoReport
    progress: Progress | None
    workers: int
    names: dict[str, int] = field(default_factory=dict)

    def account(self, name: str, heading: str = "") -> None:
        """Print the account view of ``name`` (``zkr account show``)."""
        from rollup.node.report import account_report

        if heading:
            self.echo(heading)
        for line in account_lines(account_report(self.node, self.names[name])):
            self.echo("    " + line)

    def prove_and_settle(self, what: str) -> list[int]:
        """Prove the sealed batches and settle them in order; the settled numbers."""
        run = self.node.prove(workers=self.workers, progress=self.progress)
        self.report.timings[f"prove ({what})"] = run.seconds
        self.report.check(not run.failures, f"{what}: every batch proven ({run.failures})")
        t = time.perf_counter()
        settled = self.node.settle()
        self.report.timings[f"settle ({what})"] = time.perf_counter() - t
        same = self.node.l1.root == self.node.seq.state.root
        self.echo(f"  proven and settled batches {settled}; L1 root {short(self.node.l1.root)} "
                  f"= sequencer root: {same}")  # fmt: skip
        self.report.check(same, f"{what}: L1 root = sequencer root")
        return settled


def short(root: int) -> str:
    return f"{root:#066x}"[:18] + "…"


def run_demo(
    keys_root: str | Path,
    echo: Callable[[str], None] = print,
    progress: Progress | None = None,
    workers: int = 1,
    seed: int = DEMO_SEED,
) -> DemoReport:
    """Run the story in a temporary directory; proving keys are cached under ``keys_root``."""
    with tempfile.TemporaryDirectory(prefix="zkr-demo-") as tmp:
        return _story(Path(tmp), Path(keys_root), echo, progress, workers, seed)


def _story(
    tmp: Path, keys_root: Path, echo: Callable[[str], None], progress: Progress | None,
    workers: int, seed: int,
) -> DemoReport:  # fmt: skip
    from prover.kernels import precompile
    from rollup.node import demo_acts

    # A cold numba cache: the Poseidon kernels the acts need compile in a second process while
    # this one builds the circuit and runs the setup (nothing is started when they are cached).
    precompile.start("poseidon")
    report, clock, t = DemoReport(), DemoClock(), time.perf_counter()
    echo(f"shape: B = {DEMO_SHAPE['batch_slots']} slots, D = {DEMO_SHAPE['depth']}, "
         f"M = {DEMO_SHAPE['n_markets']} markets (small, for the demo)")  # fmt: skip
    node = Rollup.init(
        tmp / "rollup", keys_root=keys_root, max_pending_seconds=DEADLINE,
        rng=random.Random(seed), progress=progress, clock=clock,
        prices=genesis_prices(2, ("10000", "5000")), **DEMO_SHAPE,
    )  # fmt: skip
    precompile.start("prove")  # the G2 MSM kernels, beside the first act's sequencing
    report.constraints = pipeline.circuit_size(node.params)
    report.timings["init + setup (cached per shape)"] = time.perf_counter() - t
    c = node.l1.config
    echo(f"batch circuit: {report.constraints:,} constraints; keys in {node.keydir}")
    echo(f"chain id {c.chain_id}, rollup id {c.rollup_id:#042x}; genesis root "
         f"{short(node.l1.root)}")  # fmt: skip
    demo = Demo(node, clock, echo, report, progress, workers)
    try:
        for act in (demo_acts.perpetuals, demo_acts.bankruptcy, demo_acts.options,
                    demo_acts.tampered_settlement, demo_acts.exit_game):  # fmt: skip
            act(demo)
    finally:
        node.close()
    echo("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items()))
    for failure in report.failures:
        echo(f"UNEXPECTED: {failure}")
    return report
