"""Crash safety: a sequencer process killed with SIGKILL at random points loses no
accepted transaction and never leaves a half-applied batch; reopened, it carries on."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import rollup.store
from rollup.rebuild import rebuild
from rollup.sequencer import Sequencer
from rollup.store import Store
from rollup.tree import SparseMerkleTree

ROOT = Path(__file__).resolve().parents[2]


def run_and_kill(path: Path, delay: float) -> list[str]:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.rollup.crash_worker", str(path)],
        stdout=subprocess.PIPE, cwd=ROOT, env=env, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    first = child.stdout.readline()
    assert first.strip() == "READY", first
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout))  # until EOF
    reader.start()
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    reader.join()
    lines = [line.strip() for line in lines]
    return [line for line in lines if line and line[0] in "AS" and line[-1].isdigit()]


def check_consistent(path: Path, reported: list[str]) -> None:
    store = Store(path)
    accepted = {int(line[2:]) for line in reported if line.startswith("A ")}
    sealed = {int(line[2:]) for line in reported if line.startswith("S ")}
    batches = store.batches()
    assert [n for n, _, _ in batches] == list(range(store.head()))
    assert sealed <= set(range(store.head()))
    in_mempool = {seq for seq, _ in store.mempool()}
    in_batches = store.batch_mempool_seqs()
    dropped = {seq for n in range(store.head()) for seq, _ in store.rejected(n)}
    assert accepted <= in_mempool | in_batches | dropped  # nothing accepted was lost
    assert not in_mempool & in_batches
    state = store.load_state()
    params = store.params()
    # the stored tree, accounts and global state are exactly those after the last whole batch
    replayed = rebuild(params, store.genesis(), batches)
    assert state.root == replayed.root == (batches[-1][2] if batches else state.root)
    assert state.accounts == replayed.accounts
    fresh = SparseMerkleTree(params.depth, state.empty_account.leaf())
    for index, account in state.accounts.items():
        fresh.update(index, account.leaf())
    assert fresh.root == state.tree.root and fresh.nodes == state.tree.nodes
    assert store.head() - store.get("compacted") < 3  # the worker compacts every 3 batches
    store.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_random_points(tmp_path: Path, seed: int, monkeypatch) -> None:
    monkeypatch.setattr(rollup.store, "COMPACT_EVERY", 3)  # as in the worker (its last seal too)
    rng = random.Random(seed)
    path = tmp_path / "sequencer.db"
    reported = run_and_kill(path, rng.uniform(0.3, 2.0))
    assert any(line.startswith("A ") for line in reported)  # it was killed mid-work
    check_consistent(path, reported)
    reported += run_and_kill(path, rng.uniform(0.3, 1.0))  # a second life on the same file
    check_consistent(path, reported)
    seq = Sequencer(Store(path))  # reopened, it carries on
    before = len(seq.store.mempool())
    if before:
        seq.seal_batch()
        assert len(seq.store.mempool()) < before
    check_consistent(path, reported)
