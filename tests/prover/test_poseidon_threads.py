"""The Poseidon kernels' threading policy: threads from numba's configuration and the cores other
processes leave free; the measurement of those cores."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from numba import get_num_threads

from prover import poseidon_engine
from prover.poseidon_engine import CpuElsewhere, threads_for


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(poseidon_engine, "_cores", lambda: 2)
    monkeypatch.setattr(poseidon_engine, "get_num_threads", lambda: 2)


@pytest.mark.parametrize(
    ("units", "elsewhere", "threads"),
    [(8, 0.0, 2), (8, 0.25, 2), (8, 0.3, 1), (8, 1.0, 1), (8, 2.0, 1), (1, 0.0, 1), (0, 0.0, 1)],
)
def test_policy_on_two_cores(two_cores, units: int, elsewhere: float, threads: int) -> None:
    """Both cores while others use at most a quarter of one; one thread as soon as they use
    more (a thread waiting for a time slice stalls its partner at every barrier); never more
    threads than pieces of work, never fewer than one."""
    assert threads_for(units, elsewhere) == threads


def test_policy_never_exceeds_numba_threads() -> None:
    assert 1 <= threads_for(1000, 0.0) <= get_num_threads()


def test_fast_backends_take_threads_from_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """threads=None asks the policy (one call per kernel call); an explicit count does not."""
    from prover import poseidon_fast

    asked: list[int] = []

    def policy(units: int, elsewhere: float | None = None) -> int:
        asked.append(units)
        return 1

    monkeypatch.setattr(poseidon_fast, "threads_for", policy)
    rows = [[i, i + 1] for i in range(8)]
    poseidon_fast.many(rows, kind="scalar")
    assert asked == [4]
    poseidon_fast.many(rows, threads=2, kind="scalar")
    assert asked == [4]


def test_a_busy_process_is_seen_elsewhere() -> None:
    """A CPU-bound child process shows up as (at least most of) a core busy elsewhere."""
    monitor = CpuElsewhere(period=0.3)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        monitor()  # starts a window with the hog running
        time.sleep(0.6)
        assert monitor() >= 0.6
    finally:
        hog.kill()
        hog.wait()


def _stat(path: Path, busy: int, idle: int) -> None:
    """A /proc/stat first line: user nice system idle iowait irq softirq steal (ticks)."""
    path.write_text(f"cpu  {busy} 0 0 {idle} 7 0 0 0 0 0\ncpu0 ...\n")


def test_elsewhere_is_busy_time_minus_this_process(tmp_path: Path, monkeypatch) -> None:
    """elsewhere = (Δ busy − Δ own CPU time) / Δ wall, from a window at least ``period`` old;
    this process's own busy time is not elsewhere (negative twin), idle and iowait are not
    busy, and a window younger than the period keeps the last value."""
    clock = {"wall": 100.0, "own": 5.0}
    monkeypatch.setattr(time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(time, "process_time", lambda: clock["own"])
    stat = tmp_path / "stat"
    ticks = os.sysconf("SC_CLK_TCK")
    _stat(stat, busy=1000, idle=5000)
    monitor = CpuElsewhere(period=0.5, stat=str(stat))
    clock["wall"] += 1.0  # one second: 1.5 cores busy, 0.4 of them this process
    clock["own"] += 0.4
    _stat(stat, busy=1000 + int(1.5 * ticks), idle=5000 + int(0.5 * ticks))
    assert monitor() == pytest.approx(1.1)
    clock["wall"] += 0.1  # too young a window: unchanged
    _stat(stat, busy=1000 + int(1.7 * ticks), idle=5000 + int(0.5 * ticks))
    assert monitor() == pytest.approx(1.1)
    clock["wall"] += 0.9  # this process was the only busy one
    clock["own"] += 0.2
    _stat(stat, busy=1000 + int(1.7 * ticks), idle=5000 + int(2.3 * ticks))
    assert monitor() == pytest.approx(0.0)


def test_unreadable_proc_stat_means_nothing_elsewhere(tmp_path: Path) -> None:
    monitor = CpuElsewhere(period=0.0, stat=str(tmp_path / "missing"))
    assert monitor() == 0.0
