"""Concurrent writers and SIGKILL on every write path of the application layer.

Two processes write the same rollup directory at once, many times (the counts are asserted):
nothing either was told is committed may be missing, nothing may be duplicated, every file still
reads back. Then a writer is killed (SIGKILL) at random instants in its write loop: the files
still read back whole and hold every write it reported."""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from rollup.node import Rollup
from rollup.node.keystore import Keystore
from rollup.node.orders import OrderBook
from rollup.rebuild import rebuild
from tests.node.conftest import REPO, child_env, zkr_command

WORKER = ["-m", "tests.node.worker"]


def start(kind: str, d: Path, n: int) -> subprocess.Popen:
    import sys

    child = subprocess.Popen([sys.executable, *WORKER, kind, str(d), str(n)], cwd=REPO,
                             env=child_env(), stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdout is not None and child.stdout.readline().strip() == "READY"
    return child


def finish(child: subprocess.Popen, kill_after: float | None = None) -> list[str]:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(child.stdout))  # type: ignore[arg-type]
    reader.start()
    if kill_after is not None:  # after its first write, at a random instant of the loop
        deadline = time.monotonic() + 120
        while not lines and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(kill_after)
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=600)
    reader.join()
    out = [ln.strip() for ln in lines if ln.strip()]
    assert not [ln for ln in out if ln.startswith("E ")], out
    return out


def reported(lines: list[str], tag: str) -> list[tuple[int, ...]]:
    return [tuple(int(x) for x in ln.split()[1:]) for ln in lines if ln.startswith(tag + " ")]


def check_transfers(d: Path, accepted: list[int]) -> None:
    """Every accepted transaction is in the mempool or in exactly one batch (or dropped with its
    reason), and the stored state replays to the head root."""
    with Rollup(d, lock=False) as node:
        store = node.seq.store
        in_mempool = {seq for seq, _ in store.mempool()}
        in_batches = store.batch_mempool_seqs()
        dropped = {seq for n in range(store.head()) for seq, _ in store.rejected(n)}
        assert set(accepted) <= in_mempool | in_batches | dropped
        assert not in_mempool & in_batches
        replayed = rebuild(store.params(), store.genesis(), store.batches())
        assert replayed.root == node.seq.state.root


def test_two_processes_add_accounts(rollup_dir: Path) -> None:
    workers = [start("accounts", rollup_dir, 40) for _ in range(2)]
    got = [reported(finish(w), "K") for w in workers]
    indices = [i for g in got for (i,) in g]
    assert len(indices) == 80 and len(set(indices)) == 80  # 80 trials: none lost, none shared
    assert Keystore(rollup_dir).accounts() == sorted({0, 1, *indices})


def test_two_processes_place_orders(rollup_dir: Path) -> None:
    workers = [start("orders", rollup_dir, 25) for _ in range(2)]
    got = [o for w in workers for o in reported(finish(w), "O")]
    assert len(got) == 50 and len(set(got)) == 50  # 50 trials: every (account, order id) once
    book = {(o.order.account, o.order.order_id) for o in OrderBook(rollup_dir).load()}
    assert book == set(got)


def test_two_processes_submit_and_seal(rollup_dir: Path) -> None:
    workers = [start("transfers", rollup_dir, 30) for _ in range(2)]
    lines = [ln for w in workers for ln in finish(w)]
    accepted = [seq for (seq,) in reported(lines, "A")]
    assert len(accepted) == 60 and len(set(accepted)) == 60  # 60 trials
    check_transfers(rollup_dir, accepted)


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
@pytest.mark.parametrize("kind", ["accounts", "orders", "transfers"])
def test_sigkill_during_writes(rollup_dir: Path, kind: str, seed: int) -> None:
    rng = random.Random(seed)
    lines = finish(start(kind, rollup_dir, 0), kill_after=rng.uniform(0.0, 2.0))
    assert lines, "killed before its first write"
    if kind == "accounts":
        indices = {i for (i,) in reported(lines, "K")}
        assert indices <= set(Keystore(rollup_dir).accounts())  # parses whole, holds them all
    elif kind == "orders":
        book = {(o.order.account, o.order.order_id) for o in OrderBook(rollup_dir).load()}
        assert set(reported(lines, "O")) <= book
    else:
        check_transfers(rollup_dir, [seq for (seq,) in reported(lines, "A")])
    with Rollup(rollup_dir, lock_wait=1):  # the kernel dropped the dead writer's lock
        pass


@pytest.fixture(scope="module")
def proven_template(funded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Batches 0 and 1 sealed and proven, none settled (proofs made once for the module)."""
    import shutil

    from rollup.node.units import usd_to_value

    d = tmp_path_factory.mktemp("proven") / "r"
    shutil.copytree(funded_template, d)
    with Rollup(d) as node:
        node.transfer(0, 1, usd_to_value("1"))
        assert node.seal().number == 1
        assert not node.prove().failures and node.unproven() == []
    return d


def settle_trials(proven_template: Path, tmp_path: Path, trials: int) -> int:
    """``trials`` rounds of two processes settling the same two proven batches at once; the
    number of batches settled twice or not at all (must be 0)."""
    import shutil

    lost = 0
    for trial in range(trials):
        d = tmp_path / f"t{trial}"
        shutil.copytree(proven_template, d)
        workers = [start("settle", d, 1) for _ in range(2)]
        settled = sorted(n for w in workers for (n,) in reported(finish(w), "T"))
        lost += len({0, 1} ^ set(settled)) + len(settled) - len(set(settled))
        with Rollup(d, lock=False) as node:
            assert node.settled_root == node.seq.state.root and node.l1.batch_count == 2
    return lost


def test_two_processes_settle_at_once(proven_template: Path, tmp_path: Path) -> None:
    assert settle_trials(proven_template, tmp_path, 1) == 0


@pytest.mark.slow
def test_two_processes_settle_at_once_many_trials(proven_template: Path, tmp_path: Path) -> None:
    assert settle_trials(proven_template, tmp_path, 20) == 0


@pytest.mark.parametrize("seed", [1, *(pytest.param(k, marks=pytest.mark.slow) for k in (2, 3))])
def test_sigkill_during_settle_then_settle_again(
    proven_template: Path, tmp_path: Path, seed: int
) -> None:
    import shutil

    d = tmp_path / "r"
    shutil.copytree(proven_template, d)
    child = start("settle", d, 1)
    finish(child, kill_after=random.Random(seed).uniform(0.0, 0.6))
    with Rollup(d) as node:  # whatever the kill left: consistent, and settling carries on
        done = node.settle()
        assert node.l1.batch_count == 2 and node.settled_root == node.seq.state.root
        assert set(done) <= {0, 1}


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sigkill_during_init_leaves_nothing_or_a_whole_rollup(
    funded_template: Path, tmp_path: Path, seed: int
) -> None:
    keys = funded_template.parent / "keys"
    args = ["init", "--dir", tmp_path / "new", "--depth", 2, "--slots", 2, "--markets", 1,
            "--keys", keys, "--seed", 3, "-q"]  # fmt: skip
    child = subprocess.Popen(zkr_command(*args), cwd=REPO, env=child_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(random.Random(seed).uniform(1.0, 4.0))
    child.send_signal(signal.SIGKILL)
    child.wait()
    if (tmp_path / "new").exists():
        with Rollup(tmp_path / "new", lock=False) as node:
            assert node.head() == 0
    assert not (tmp_path / "new").exists() or (tmp_path / "new" / "rollup.json").exists()
