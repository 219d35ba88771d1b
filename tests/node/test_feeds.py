"""The oracle and series feeds refuse bad arguments before anything is written, and an oracle
update reaches the mempool with its marks or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rollup import errors
from rollup.node import Rollup
from rollup.node.errors import InvalidArgument
from rollup.node.units import price_to_units
from rollup.store import Store
from rollup.tx import Marks, OraclePrice


@pytest.fixture
def node(rollup_dir: Path):
    n = Rollup(rollup_dir)
    yield n
    n.close()


def _listed(node: Rollup) -> int:
    m = node.params.markets[0]
    return node.list_series(0, node.now() + 3600, price_to_units("30000", m), 0)["series_id"]


@pytest.mark.parametrize("iv", [-1.0, 0.0, float("nan"), float("inf"), 1e400, "x"])
def test_a_listing_with_a_bad_iv_is_refused_and_nothing_is_listed(node: Rollup, iv) -> None:
    m = node.params.markets[0]
    before, log = len(node.seq.pending), (node.path / "oracle.json").read_text()
    with pytest.raises(InvalidArgument, match="iv must be a finite number > 0"):
        node.list_series(0, node.now() + 3600, price_to_units("30000", m), 0, iv=iv)
    assert len(node.seq.pending) == before
    assert (node.path / "oracle.json").read_text() == log
    assert _listed(node) == 1  # twin: the same listing without the bad iv


def test_a_refused_oracle_update_changes_no_iv(node: Rollup) -> None:
    sid = _listed(node)
    m = node.params.markets[0]
    price = (price_to_units("30100", m),)
    node.oracle(price, ivs={sid: 0.5})
    log = json.loads((node.path / "oracle.json").read_text())
    pending = len(node.seq.pending)
    with pytest.raises(errors.StaleTimestamp):  # a timestamp in the past, and a new iv
        node.oracle(price, timestamp=5, ivs={sid: 0.9})
    with pytest.raises(InvalidArgument, match="iv must be a finite number > 0"):
        node.oracle(price, ivs={sid: -0.5})
    assert json.loads((node.path / "oracle.json").read_text()) == log
    assert len(node.seq.pending) == pending
    out = node.oracle(price, ivs={sid: 0.9})  # twin: accepted, and the iv is remembered
    assert out["marks_mempool"] == out["mempool"] + 1 and node.oracle_log.iv(sid) == 0.9


def test_an_oracle_update_and_its_marks_are_one_transaction(node: Rollup, monkeypatch) -> None:
    """Both in one SQL transaction: a failure while writing them leaves neither (before, the
    price was committed first and a crash lost the marks)."""
    _listed(node)
    m = node.params.markets[0]
    calls: list[list[type]] = []
    accept_many = Store.accept_many

    def failing(self, txs):
        calls.append([type(tx) for tx in txs])
        raise OSError("disk gone")

    monkeypatch.setattr(Store, "accept_many", failing)
    pending = dict(node.seq.pending)
    with pytest.raises(OSError):
        node.oracle((price_to_units("30100", m),))
    assert calls == [[OraclePrice, Marks]] and node.seq.pending == pending
    assert Store(node.path / "sequencer.db").mempool() == list(pending.items())
    monkeypatch.setattr(Store, "accept_many", accept_many)
    out = node.oracle((price_to_units("30100", m),))  # twin
    assert {type(tx) for tx in node.seq.pending.values()} >= {OraclePrice, Marks}
    assert out["marks_mempool"] is not None
