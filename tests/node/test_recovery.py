"""``zkr rebuild`` restores a lost or damaged sequencer.db from L1 pubdata alone, and the rollup
carries on: it seals, proves and settles on top of the restored state."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import EXIT_CORRUPT, EXIT_REFUSED, zkr
from rollup.node import Rollup
from rollup.node.recovery import rebuild_or_restore
from rollup.node.units import amount_to_quanta, usd_to_value


def run(*args: object):
    return CliRunner().invoke(zkr, [str(a) for a in args])


@pytest.fixture(scope="module")
def lived(
    funded_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, int, dict]:
    """Batches 0 and 1 proven and settled, batch 2 sealed but not settled; with the settled root
    and the accounts after batch 1."""
    d = tmp_path_factory.mktemp("lived") / "r"
    shutil.copytree(funded_template, d)
    with Rollup(d) as node:
        node.transfer(0, 1, usd_to_value("5"))
        assert node.seal().number == 1
        assert not node.prove().failures and node.settle() == [0, 1]
        root, accounts = node.l1.root, dict(node.seq.state.accounts)
        node.withdraw(1, amount_to_quanta("1"))
        assert node.seal().number == 2  # not settled: lost with the store
    return d, root, accounts


def settled_life(lived: tuple[Path, int, dict], d: Path) -> tuple[int, dict]:
    shutil.rmtree(d)
    shutil.copytree(lived[0], d)
    return lived[1], lived[2]


@pytest.mark.parametrize("damage", ["deleted", "emptied", "overwritten"])
def test_lost_store_is_restored_and_the_rollup_carries_on(
    lived: tuple, rollup_dir: Path, damage: str
) -> None:
    root, accounts = settled_life(lived, rollup_dir)
    db = rollup_dir / "sequencer.db"
    if damage == "deleted":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    elif damage == "emptied":
        db.write_bytes(b"")
    else:
        db.write_bytes(b"\x00not sqlite" * 400)
    result = run("status", "--dir", rollup_dir)
    assert result.exit_code == EXIT_CORRUPT and "zkr rebuild" in result.output
    result = run("rebuild", "--dir", rollup_dir)
    assert result.exit_code == 0, result.output
    assert "sequencer.db restored from L1: 2 settled batches" in result.output
    assert ("kept as" in result.output) == (damage != "deleted")  # never deleted
    with Rollup(rollup_dir) as node:
        assert node.seq.state.root == root == node.l1.root and node.seq.state.accounts == accounts
        assert node.head() == 2 and node.unproven() == []
        node.withdraw(1, amount_to_quanta("2"))  # the nonce follows the settled state
        batch = node.seal()
        assert batch.number == 2 and batch.old_root == root
        if damage == "deleted":  # the rest is the same for every damage; prove once
            assert not node.prove().failures and node.settle() == [2]
            assert node.l1.root == node.seq.state.root
            assert node.rebuild().root == node.l1.root


def test_intact_store_is_checked_not_replaced(lived: tuple, rollup_dir: Path) -> None:
    root, _ = settled_life(lived, rollup_dir)
    before = (rollup_dir / "sequencer.db").stat().st_mtime_ns
    result = run("rebuild", "--dir", rollup_dir)
    assert result.exit_code == 0 and f"root {root} matches L1" in result.output
    assert (rollup_dir / "sequencer.db").stat().st_mtime_ns == before
    with Rollup(rollup_dir) as node:
        assert node.head() == 3  # the unsettled batch 2 is still there


def test_forced_restore_moves_the_old_store_aside(lived: tuple, rollup_dir: Path) -> None:
    root, _ = settled_life(lived, rollup_dir)
    r = rebuild_or_restore(rollup_dir, force=True)
    assert r["restored"] and r["moved_aside"] and Path(r["moved_aside"]).exists()
    with Rollup(rollup_dir) as node:
        assert node.head() == 2 and node.seq.state.root == root


def test_restore_refused_when_l1_does_not_replay(lived: tuple, rollup_dir: Path) -> None:
    settled_life(lived, rollup_dir)
    (rollup_dir / "sequencer.db").unlink()
    con = sqlite3.connect(rollup_dir / "settlement.db")
    (blob,) = con.execute("SELECT pubdata FROM batches WHERE number = 1").fetchone()
    con.execute("UPDATE batches SET pubdata = ? WHERE number = 1", (blob[:-2] + b"\x01\x02",))
    con.commit()
    con.close()
    result = run("rebuild", "--dir", rollup_dir)
    assert result.exit_code in (EXIT_REFUSED, EXIT_CORRUPT) and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (rollup_dir / "sequencer.db").exists()  # nothing half-written


class Killed(BaseException):
    """Stands for SIGKILL at a step of ``restore``: nothing after it runs (no cleanup either)."""


@pytest.mark.parametrize("step", ["moved aside", "new store written", "before the rename"])
def test_a_restore_killed_at_any_step_is_finished_by_the_next(
    lived: tuple, rollup_dir: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    from rollup.node import recovery
    from rollup.store import Store

    root, _ = settled_life(lived, rollup_dir)
    (rollup_dir / "sequencer.db").write_bytes(b"\x00damaged" * 100)
    real_aside, real_restore, real_rename = recovery._move_aside, Store.restore, os.rename

    def kill_after(real, when: str):
        def call(*args, **kwargs):
            out = real(*args, **kwargs)
            if when == step:
                raise Killed
            return out

        return call

    def kill_before_rename(src, dst):
        if Path(src).name.endswith(".restoring"):  # the new store's rename into place
            raise Killed
        return real_rename(src, dst)

    with monkeypatch.context() as mp:
        mp.setattr(recovery, "_move_aside", kill_after(real_aside, "moved aside"))
        mp.setattr(Store, "restore", staticmethod(kill_after(real_restore, "new store written")))
        if step == "before the rename":
            mp.setattr(recovery.os, "rename", kill_before_rename)
        with pytest.raises(Killed):
            rebuild_or_restore(rollup_dir)
    # the killed restore left no store at the target: the rollup refuses to start without one
    assert not (rollup_dir / "sequencer.db").exists()
    assert run("status", "--dir", rollup_dir).exit_code == EXIT_CORRUPT
    assert list(rollup_dir.glob("sequencer.db.damaged-*"))  # the damaged store is kept aside
    # the next rebuild finishes it, and the rollup carries on from the settled root
    assert rebuild_or_restore(rollup_dir)["restored"]
    assert not list(rollup_dir.glob(".sequencer.db.restoring*"))
    with Rollup(rollup_dir) as node:
        assert node.head() == 2 and node.seq.state.root == root == node.l1.root


def test_a_store_put_back_behind_the_settlement_layer_is_refused_then_restored(
    funded_template: Path, tmp_path: Path
) -> None:
    """A backup of sequencer.db taken before batches that then settled, put back: every command
    used to run on it (status exit 0 with "-3 unsettled batches", sealing settled transactions
    again, "nothing to settle"). It is now one line, exit 5, and ``zkr rebuild`` restores it."""
    d = tmp_path / "r"
    shutil.copytree(funded_template, d)
    with Rollup(d) as node:
        assert not node.prove().failures and node.settle() == [0]
    backup = tmp_path / "backup.db"
    shutil.copy(d / "sequencer.db", backup)  # head 1, batch 0 settled (the WAL was checkpointed)
    with Rollup(d) as node:
        node.transfer(0, 1, usd_to_value("5"))
        assert node.seal().number == 1
        assert not node.prove().failures and node.settle() == [1]
        root = node.l1.root
    for suffix in ("-wal", "-shm"):
        Path(f"{d / 'sequencer.db'}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, d / "sequencer.db")
    result = run("status", "--dir", d)
    assert result.exit_code == EXIT_CORRUPT, result.output
    assert "behind the settlement layer (head batch 1, 2 settled)" in result.output
    assert "zkr rebuild" in result.output and len(result.output.strip().splitlines()) == 1
    result = run("rebuild", "--dir", d)
    assert result.exit_code == 0, result.output
    assert "restored from L1: 2 settled batches" in result.output
    with Rollup(d) as node:  # twin: the restored store opens, at the settled root
        assert node.head() == 2 and node.seq.state.root == root == node.l1.root
