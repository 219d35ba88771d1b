"""The rollup verbs of ``zkr`` through click's CliRunner, on a B = 2, D = 2, M = 1 rollup.

Positive: init (domain, priority fee) → accounts → deposits → batch → orders (a partial fill, the
rest resting, a cancel) → oracle with funding rates → batch → prove → settle → status / account /
rebuild / export; options: series list / show, marks at an implied volatility, option orders,
risk, settlement at expiry and the sweep; then a forced withdrawal, freeze and escape. Negative
twins: bad arguments, values that do not convert exactly to protocol units, genesis parameters
out of range, a missing directory, an order that could never fill, a stale oracle timestamp,
nothing to seal or to export, a frozen rollup — each one line with its documented exit code
(``cli`` module docstring), no traceback, and the state unchanged. Batch proofs are the binding
stand-in of ``tests.node.standin`` (``ZKR_REAL_PROOFS=1``: Groth16 over the batch circuit).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli import SETUP_WARNING, main, zkr
from tests.node import standin


@pytest.fixture(scope="module", autouse=True)
def standin_proofs():
    if not standin.enabled():
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        standin.install(mp.setattr)
        yield


def run(*args: object) -> Result:
    return CliRunner().invoke(zkr, [str(a) for a in args])


def ok(*args: object) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output


def fails(*args: object, code: int = 3) -> str:
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
    """A rollup with accounts 0 and 1 funded with 1,000 USD (batch 0 sealed, not proven)."""
    d = tmp_path_factory.mktemp("cli") / "r"
    keys = d.parent / "keys"
    out = ok("init", "--dir", d, "--depth", 2, "--slots", 2, "--markets", 1, "--keys", keys,
             "--max-pending-seconds", 1, "--seed", 5, "--quiet", "--chain-id", 7,
             "--priority-fee", "0.25")  # fmt: skip
    assert "chain id 7" in out and "priority fee 0.25 USD" in out
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


def status_of(d: Path) -> dict:
    return json.loads(ok("status", "--dir", d, "--json"))


def test_keystore_is_labelled(rollup_dir: Path) -> None:
    store = json.loads((rollup_dir / "keystore.json").read_text())["body"]
    assert "unencrypted" in store["note"] and set(store["accounts"]) == {"0", "1"}
    assert len(store["operator"]) == 64 and store["operator"] != store["oracle"]
    assert (rollup_dir / "keystore.json").stat().st_mode & 0o777 == 0o600


def test_perpetuals_flow(rollup_dir: Path, tmp_path: Path) -> None:
    d = rollup_dir
    assert "order 1 of account 0: resting (0.01 left)" in ok(
        "order", "--dir", d, 0, "BTC-PERP", "buy", "0.01", 30000, "--max-fee", 1)  # fmt: skip
    out = ok("order", "place", "--dir", d, 1, 0, "sell", "0.004", 30000)
    assert "filled 0.004 against account 0's order 1" in out
    [resting] = json.loads(ok("order", "list", "--dir", d, "--json"))
    assert (resting["filled"], resting["remaining"], resting["max_fee_usd"]) == ("0.004", "0.006",
                                                                                "1")  # fmt: skip
    assert "withdrawal of 5 USD queued" in ok("withdraw", "--dir", d, 0, 5)  # no nonce taken
    assert "cancelled" in ok("order", "cancel", "--dir", d, 0, 1)
    assert "no resting orders" in ok("order", "list", "--dir", d)
    ok("oracle", "--dir", d, 30100, "--rate", "4295u", "--timestamp", int(time.time()) + 5)
    assert "batch 1 sealed" in ok("batch", "--dir", d)
    assert "2 proofs" in ok("prove", "--dir", d, "--quiet")
    assert "settled batches [0, 1]" in ok("settle", "--dir", d)
    s = status_of(d)
    assert s["divergence"]["unsettled_batches"] == 0 and s["chain_id"] == 7
    assert s["insurance_fund_usd"] == "0.4" and s["priority_fee_usd"] == "0.25"
    shown = json.loads(ok("account", "show", "--dir", d, 0, "--json", "--proof"))
    assert shown["positions"][0]["size"] == "0.004" and shown["proof"]["root"] == s["settled_root"]
    assert shown["nonce"] == 1 and shown["options"] == []
    assert "matches L1" in ok("rebuild", "--dir", d)
    ok("export", "--dir", d, 1, "--out", tmp_path / "x")
    assert "priority request #2 (nonce 0)" in ok("force-withdraw", "--dir", d, 0)
    time.sleep(1.1)  # T = 1 s
    assert "overdue" in ok("freeze", "--dir", d)
    assert "escaped" in ok("escape", "--dir", d, 1)
    assert "already escaped" in fails("escape", "--dir", d, 1, code=4)
    assert "the rollup is frozen since" in fails("order", "--dir", d, 0, 0, "buy", "0.01", 30000)
    assert "claimed" in ok("claim", "--dir", d, 1)
    assert "nothing claimable" in fails("claim", "--dir", d, 1, code=4)


def test_options_flow(rollup_dir: Path) -> None:
    d, now = rollup_dir, int(time.time())
    expiry = now + 3600
    assert "series 1 (slot 0) listing queued" in ok(
        "series", "list", "--dir", d, "BTC-PERP", expiry, 30000, "call", "--iv", "0.7"
    )
    assert "marks of 1 live series" in ok("oracle", "--dir", d, 30000, "--timestamp", now + 10)
    [series] = json.loads(ok("series", "show", "--dir", d, "--json"))
    assert (series["kind"], series["strike_usd"], series["iv"], series["status"]) == (
        "call", "30000", 0.7, "live")  # fmt: skip
    mark = series["mark_usd"]
    ok("order", "--dir", d, 0, "series:1", "buy", "0.01", 800, "--max-fee", "0.1")
    assert "filled 0.01" in ok("order", "--dir", d, 1, "s1", "sell", "0.01", 800)
    ok("batch", "--all", "--dir", d)
    view = json.loads(ok("account", "show", "--dir", d, 1, "--json"))
    [held] = view["options"]
    assert (held["series_id"], held["size"], held["mark_usd"]) == (1, "-0.01", mark)
    report = json.loads(ok("risk", "--dir", d, 1, "--json"))
    [btc] = report["markets"]
    assert btc["delta"] < 0 and btc["vega"] < 0 and btc["theta"] > 0 and report["account"] == 1
    assert "theta 1d" in ok("risk", "--dir", d, 1)
    out = ok("oracle", "--dir", d, 31000, "--timestamp", expiry + 5)
    assert "settled now: 1" in out
    assert "accounts: 0, 1" in ok("settle-options", "--dir", d)
    ok("batch", "--all", "--dir", d)
    assert json.loads(ok("account", "show", "--dir", d, 0, "--json"))["options"] == []
    [settled] = json.loads(ok("series", "show", "--dir", d, "--json"))
    assert settled["status"] == "settled" and settled["settlement_price_usd"] is not None
    assert "holds no position in a settled series" in fails("settle-options", "--dir", d, 0)


def test_bad_arguments(rollup_dir: Path, capsys: pytest.CaptureFixture) -> None:
    d = rollup_dir
    assert "'hold'" in usage_fails(capsys, "order", "--dir", d, 0, 0, "hold", 1, 100)
    assert "'zero'" in usage_fails(capsys, "deposit", "--dir", d, "zero", 10)
    assert "must be in [0.000001" in fails("deposit", "--dir", d, 0, 0, code=2)
    assert "not a decimal number" in fails("deposit", "--dir", d, 0, "ten", code=2)
    assert "multiple of 0.000001 USD" in fails("deposit", "--dir", d, 0, "1e-7", code=2)
    assert "no key for account 9" in fails("deposit", "--dir", d, 9, 10)
    assert "workers must be" in fails("prove", "--dir", d, "--workers", 0, "--quiet")
    assert "unknown market 'XRP'" in fails("order", "--dir", d, 0, "XRP", "buy", 1, 1, code=2)
    assert "option series 4 is not listed" in fails("order", "--dir", d, 0, "series:4", "buy",
                                                    1, 1)  # fmt: skip
    assert "nearest exact values are 30000.9999" in fails(
        "order", "--dir", d, 0, 0, "buy", 1, 30001, code=2
    )
    assert "the nearest exact values are 0.0000997" in fails(
        "oracle", "--dir", d, 30000, "--rate", "0.0001", code=2
    )
    assert "neither seconds nor a UTC date" in fails(
        "order", "--dir", d, 0, 0, "buy", 1, 30000, "--expiry", "tomorrow", code=2
    )
    assert "give SERIES=VOL" in fails("oracle", "--dir", d, 30000, "--iv", "x", code=2)
    assert "give 1 prices" in fails("oracle", "--dir", d, 30000, 2000, code=2)
    assert "order expiry" in fails("order", "--dir", d, 0, 0, "buy", "0.01", 30000,
                                   "--expiry", "2020-01-01")  # fmt: skip
    assert status_of(d)["divergence"]["mempool"] == 0 and status_of(d)["resting_orders"] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--chain-id", -1], "chain id must be an integer"),
        (["--rollup-id", 1 << 160], "rollup id must be an integer"),
        (["--markets", 9], "markets must be in 1..4"),
        (["--depth", 0], "depth must be an integer"),
        (["--max-pending-batches", 0], "max_pending_batches must be"),
        (["--priority-fee", "-1"], "priority fee must be in [0"),
        (["--operator-address", 1 << 160], "operator address must be"),
        (["--price", "0"], "price must be in"),
    ],
)
def test_genesis_parameters_are_checked(tmp_path: Path, args: list, message: str) -> None:
    line = fails("init", "--dir", tmp_path / "r", "--markets", 1, "--quiet", *args, code=2)
    assert message in line
    assert not (tmp_path / "r").exists()


def test_missing_directory(tmp_path: Path) -> None:
    line = fails("status", "--dir", tmp_path / "nowhere", code=2)
    assert "is not a rollup directory" in line
    assert not (tmp_path / "nowhere").exists()


def test_init_twice_refused(rollup_dir: Path) -> None:
    assert "already exists and is not empty" in fails("init", "--dir", rollup_dir, "--quiet")


def test_an_order_that_could_never_fill_does_not_rest(rollup_dir: Path) -> None:
    before = status_of(rollup_dir)
    line = fails("order", "--dir", rollup_dir, 0, 0, "buy", 1, 30000)
    assert "InsufficientMargin: account 0: total value 1000.00 USD is below the initial" in line
    assert "margin requirement 3000.00 USD" in line
    after = status_of(rollup_dir)
    assert after["divergence"]["mempool"] == before["divergence"]["mempool"] == 0
    assert after["head_root"] == before["head_root"] and after["resting_orders"] == 0


def test_stale_oracle_and_nothing_to_do(rollup_dir: Path) -> None:
    ts = int(time.time()) + 10
    ok("oracle", "--dir", rollup_dir, 30100, "--timestamp", ts)
    assert "StaleTimestamp" in fails("oracle", "--dir", rollup_dir, 30200, "--timestamp", ts)
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


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("prove", "--scheduler", "garbage"), "not a scheduler address"),
        (("prove", "--scheduler", "tcp://host:0"), "not a scheduler address"),
        (("node", "--port", "99999"), "not in the range 0<=x<=65535"),
        (("node", "--port", "-1"), "not in the range 0<=x<=65535"),
        (("node", "--batch-seconds", "nan"), "not a finite number of seconds > 0"),
        (("node", "--batch-seconds", "inf"), "not a finite number of seconds > 0"),
        (("node", "--batch-seconds", "-1"), "not a finite number of seconds > 0"),
    ],
)
def test_bad_node_and_prove_options_are_usage_errors(
    capsys: pytest.CaptureFixture, tmp_path: Path, args, fragment
) -> None:
    """One line, exit 2, before the directory is even opened (they were an internal error, or
    taken as given: a nan batch interval never sealed a batch that was not full)."""
    assert fragment in usage_fails(capsys, *args, "--dir", tmp_path)


@pytest.mark.parametrize("args", [("--depth", 99), ("--markets", 0), ("--priority-fee", "-1")])
def test_init_refuses_bad_arguments_before_its_setup_warning(tmp_path: Path, args) -> None:
    """The insecure-setup warning is printed only once there will be a setup: a refused init is
    its one error line, and no directory is left."""
    result = run("init", "--dir", tmp_path / "r", *args)
    assert result.exit_code == 2 and SETUP_WARNING not in result.output, result.output
    assert not (tmp_path / "r").exists()
