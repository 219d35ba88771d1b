"""The rollup verbs of ``zkr`` through click's CliRunner, on a B = 2, D = 2, M = 1 rollup.

Positive: init → accounts → deposits → batch → orders (matched into a trade) → oracle → batch →
prove → settle → status / rebuild / export, then a forced withdrawal, freeze and escape.
Negative twins: bad arguments, values that do not convert exactly to protocol units, a missing
directory, insufficient margin, a stale oracle timestamp, nothing to seal or to export, a frozen
rollup — each one line with its documented exit code (``cli`` module docstring), no traceback,
and the state is unchanged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import SETUP_WARNING, main, zkr


def run(*args: str) -> Result:
    return CliRunner().invoke(zkr, [str(a) for a in args])


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output


def fails(*args: str, code: int = 3) -> str:
    result = run(*args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip() and ln != SETUP_WARNING]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def usage_fails(capsys: pytest.CaptureFixture, *args: object) -> str:
    """Through ``cli.main`` (what the ``zkr`` script runs): usage errors are one line, exit 2."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    assert e.value.code == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    return lines[0]


@pytest.fixture(scope="module")
def funded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rollup with accounts 0 and 1 funded (batch 0 sealed, not proven)."""
    d = tmp_path_factory.mktemp("cli") / "r"
    keys = d.parent / "keys"
    ok("init", "--dir", d, "--depth", 2, "--slots", 2, "--markets", 1, "--keys", keys,
       "--max-pending-seconds", 0, "--seed", 5, "--quiet")  # fmt: skip
    for seed in (1, 2):
        assert ok("account", "new", "--dir", d, "--seed", seed).startswith("account ")
    ok("deposit", "--dir", d, 0, 1000)
    ok("deposit", "--dir", d, 1, 1000)
    assert "batch 0 sealed" in ok("batch", "--dir", d)
    return d


@pytest.fixture
def rollup_dir(funded: Path, tmp_path: Path) -> Path:
    d = tmp_path / "r"
    shutil.copytree(funded, d)
    return d


def test_keystore_is_labelled(rollup_dir: Path) -> None:
    store = json.loads((rollup_dir / "keystore.json").read_text())["body"]
    assert "unencrypted" in store["note"] and set(store["accounts"]) == {"0", "1"}
    assert (rollup_dir / "keystore.json").stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_full_flow(rollup_dir: Path, tmp_path: Path) -> None:
    d = rollup_dir
    assert "resting" in ok("order", "--dir", d, 0, "BTC-PERP", "buy", "0.01", 30000, "--fee", 1)
    assert "trade of 0.01 BTC-PERP" in ok("order", "--dir", d, 1, 0, "sell", "0.01", 30000)
    ok("oracle", "--dir", d, 30100, "--timestamp", 10)
    ok("funding", "--dir", d, 100)
    assert "batch 1 sealed" in ok("batch", "--dir", d)
    assert "2 proofs" in ok("prove", "--dir", d, "--quiet")
    assert "settled batches [0, 1]" in ok("settle", "--dir", d)
    status = ok("status", "--dir", d)
    assert "divergence.unsettled_batches: 0" in status
    shown = json.loads(ok("account", "show", "--dir", d, 0, "--json", "--proof"))
    assert shown["positions"][0]["size"] == "0.01" and shown["proof"]["root"] in status
    assert "matches L1" in ok("rebuild", "--dir", d)
    ok("export", "--dir", d, 1, "--out", tmp_path / "x")
    assert "OK" in ok("groth16", "verify", *(tmp_path / "x" / f for f in
                      ("verification_key.json", "public.json", "proof.json")))  # fmt: skip
    assert "priority request #2" in ok("withdraw", "--dir", d, 0, "--forced")
    assert "overdue" in ok("freeze", "--dir", d)
    assert "escaped" in ok("escape", "--dir", d, 1)
    assert "already escaped" in fails("escape", "--dir", d, 1, code=4)
    assert "the rollup is frozen since" in fails("order", "--dir", d, 0, 0, "buy", "0.01", 30000)
    assert "claimed" in ok("claim", "--dir", d, 1)
    assert "nothing claimable" in fails("claim", "--dir", d, 1, code=4)


def test_bad_arguments(rollup_dir: Path, capsys: pytest.CaptureFixture) -> None:
    assert "'hold'" in usage_fails(capsys, "order", "--dir", rollup_dir, 0, 0, "hold", 1, 100)
    assert "'zero'" in usage_fails(capsys, "deposit", "--dir", rollup_dir, "zero", 10)
    assert "must be in [0.000001" in fails("deposit", "--dir", rollup_dir, 0, 0, code=2)
    assert "not a decimal number" in fails("deposit", "--dir", rollup_dir, 0, "ten", code=2)
    assert "multiple of 0.000001 USD" in fails("deposit", "--dir", rollup_dir, 0, "1e-7", code=2)
    assert "no key for account 9" in fails("deposit", "--dir", rollup_dir, 9, 10)
    assert "workers must be" in fails("prove", "--dir", rollup_dir, "--workers", 0, "--quiet")
    assert "unknown market 'XRP'" in fails("order", "--dir", rollup_dir, 0, "XRP", "buy", 1, 1,
                                           code=2)  # fmt: skip
    assert "nearest exact values are 30000.9999" in fails(
        "order", "--dir", rollup_dir, 0, 0, "buy", 1, 30001, code=2
    )


def test_missing_directory(tmp_path: Path) -> None:
    line = fails("status", "--dir", tmp_path / "nowhere", code=2)
    assert "is not a rollup directory" in line
    assert not (tmp_path / "nowhere").exists()


def test_init_twice_refused(rollup_dir: Path) -> None:
    assert "already exists and is not empty" in fails("init", "--dir", rollup_dir, "--quiet")


def status_of(d: Path) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in ok("status", "--dir", d).splitlines())


def test_insufficient_margin(rollup_dir: Path) -> None:
    before = status_of(rollup_dir)
    ok("order", "--dir", rollup_dir, 0, 0, "buy", 1, 30000)
    line = fails("order", "--dir", rollup_dir, 1, 0, "sell", 1, 30000)
    assert "InsufficientMargin: account 0: total value 1000.00 USD is below the initial" in line
    assert "margin requirement 3000.00 USD" in line
    after = status_of(rollup_dir)
    assert after["divergence.mempool"] == before["divergence.mempool"] == "0"
    assert after["head_root"] == before["head_root"] and after["resting_orders"] == "1"


def test_stale_oracle_and_nothing_to_do(rollup_dir: Path) -> None:
    ok("oracle", "--dir", rollup_dir, 30100, "--timestamp", 10)
    assert "StaleTimestamp" in fails("oracle", "--dir", rollup_dir, 30200, "--timestamp", 10)
    assert "no proof" in fails("export", "--dir", rollup_dir, 0)
    assert "the rollup is not frozen" in fails("escape", "--dir", rollup_dir, 0, code=4)


def test_exit_code_table(rollup_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each kind of failure has its documented code; a bug is one line with 70, not a traceback
    (and ZKR_DEBUG=1 lets the traceback through)."""
    from cli import EXIT_BUSY, EXIT_CODES, EXIT_INTERNAL
    from rollup.node.facade import Rollup
    from rollup.node.files import DirectoryLock

    assert EXIT_CODES == {"malformed": 2, "refused": 3, "l1_refused": 4, "corrupt": 5, "busy": 6}
    with DirectoryLock(rollup_dir, "another zkr", wait=0):
        defaults = Rollup.__init__.__defaults__
        monkeypatch.setattr(Rollup.__init__, "__defaults__", (*defaults[:-1], 0.2))  # wait 0.2 s
        line = fails("batch", "--dir", rollup_dir, code=EXIT_BUSY)
        assert "another zkr (pid" in line
    monkeypatch.undo()

    def bug(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(Rollup, "seal_all", bug)
    assert "internal error: RuntimeError: boom" in fails(
        "batch", "--dir", rollup_dir, "--all", code=EXIT_INTERNAL
    )
    monkeypatch.setenv("ZKR_DEBUG", "1")
    result = run("batch", "--dir", rollup_dir, "--all")
    assert isinstance(result.exception, RuntimeError)
