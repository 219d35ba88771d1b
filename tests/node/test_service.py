"""The long-running node (``zkr node``) as a real process: the HTTP API through ``NodeClient``,
its refusals as JSON with their status, the CLI pointed at the API while it runs, sealing by size
and time, background proving and settlement, and a graceful SIGTERM that loses nothing."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rollup.node import Rollup
from rollup.node.client import NodeClient, NodeUnreachable, RemoteError
from rollup.node.keystore import Keystore
from rollup.node.units import price_to_units, size_to_base, usd_to_value
from tests.node.conftest import REPO, RunningNode, child_env, zkr_command


@pytest.fixture
def running(rollup_dir: Path) -> Iterator[RunningNode]:
    node = RunningNode(rollup_dir, "--batch-seconds", 3600)
    yield node
    if node.process.poll() is None:
        node.stop()


def test_api_orders_transfers_and_refusals(running: RunningNode, rollup_dir: Path) -> None:
    client, keys = NodeClient(running.url), Keystore(rollup_dir)
    btc = Rollup(rollup_dir, lock=False).params.markets[0]
    size, price = size_to_base("0.01", btc), price_to_units("30000", btc)
    first = client.order(keys.key(0), 0, 0, 0, size, price)
    assert first == {"account": 0, "order_id": 1, "filled": 0, "resting": True, "trades": []}
    assert [o["order_id"] for o in client.orders(0)] == [1]
    matched = client.order(keys.key(1), 1, 0, 1, size, price)
    [trade] = matched["trades"]
    assert matched["filled"] == size and not matched["resting"]
    assert (trade["maker"], trade["maker_order_id"], int(trade["quantity"])) == ("0", "1", size)
    assert client.orders() == []  # filled: it left the book
    seq = client.transfer(keys.key(1), 1, 0, usd_to_value("2"))
    assert seq > int(trade["mempool"])  # the trade and the transfer fill a batch: sealed (size)
    # a signed cancel by order id; a cancel signed by another key is refused
    resting = client.order(keys.key(0), 0, 0, 0, size, price_to_units("29000", btc))
    with pytest.raises(RemoteError, match="signature does not verify"):
        client.cancel(keys.key(1), 0, resting["order_id"])
    client.cancel(keys.key(0), 0, resting["order_id"])
    assert client.orders(0) == []
    with pytest.raises(RemoteError, match="order id 1 of account 0 is used"):
        client.order(keys.key(0), 0, 0, 0, size, price, order_id=1)
    # negative twins: a wrong key, a malformed body, an unknown account — JSON, never a page
    with pytest.raises(RemoteError) as e:
        client.transfer(keys.key(0), 1, 0, usd_to_value("2"))
    assert e.value.status == 409 and e.value.kind == "refused" and "signature" in str(e.value)
    req = urllib.request.Request(running.url + "/api/withdrawals", data=b"{not json", method="POST")
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(req)
    assert http.value.code == 400 and json.loads(http.value.read())["kind"] == "malformed"
    for amount in (b"1e999", b"2.5"):  # not an integer: malformed (400), not a refusal (409)
        body = b'{"withdraw": [0, ' + amount + b', 1, 0, ["1", "2", "3"]]}'
        req = urllib.request.Request(running.url + "/api/withdrawals", data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as http:
            urllib.request.urlopen(req)
        assert http.value.code == 400 and "is not an integer" in http.value.read().decode()
    with pytest.raises(RemoteError, match="is not an integer"):
        client._request("GET", "/api/accounts/x")
    # the CLI's writing verbs are pointed at the API; its read verbs still work
    cli = subprocess.run(zkr_command("deposit", "--dir", rollup_dir, 0, 5), cwd=REPO,
                         env=child_env(), capture_output=True, text=True)  # fmt: skip
    assert cli.returncode == 6 and "served by a running node" in cli.stderr
    assert cli.stderr.count("\n") == 1 and "Traceback" not in cli.stderr
    status = subprocess.run(zkr_command("status", "--dir", rollup_dir, "--json"), cwd=REPO,
                            env=child_env(), capture_output=True, text=True)  # fmt: skip
    assert status.returncode == 0 and json.loads(status.stdout)["head_batch"] >= 1


def test_sigterm_loses_nothing_and_restart_carries_on(rollup_dir: Path) -> None:
    node = RunningNode(rollup_dir, "--batch-seconds", 3600)
    client, keys = NodeClient(node.url), Keystore(rollup_dir)
    accepted = [
        client.transfer(keys.key(k % 2), k % 2, 1 - k % 2, usd_to_value("1")) for k in range(3)
    ]
    before = client.status()
    while before["divergence"]["mempool"] != 1:  # two fill batch 1 (sealed by size), one waits
        time.sleep(0.1)
        before = client.status()
    assert node.stop() == 0
    assert any("stopped" in line for line in node.lines)
    with pytest.raises(NodeUnreachable):
        client.status()
    with Rollup(rollup_dir) as again:  # the lock is free and the state intact
        sealed = again.seq.store.batch_mempool_seqs()
        assert [seq for seq, _ in again.seq.store.mempool()] == accepted[2:]
        assert set(accepted[:2]) <= sealed and again.head() == 2
        assert str(again.seq.state.root) == before["head_root"]
    restarted = RunningNode(rollup_dir, "--batch-seconds", 3600)
    try:
        assert NodeClient(restarted.url).status()["divergence"]["mempool"] == 1
    finally:
        assert restarted.stop() == 0


@pytest.mark.slow
def test_node_seals_by_size_and_time_proves_and_settles(rollup_dir: Path) -> None:
    node = RunningNode(rollup_dir, "--batch-seconds", 2)
    try:
        client, keys = NodeClient(node.url), Keystore(rollup_dir)
        for k in range(3):  # 2 fill a batch at once (size), the third waits (time)
            client.transfer(keys.key(k % 2), k % 2, 1 - k % 2, usd_to_value("1"))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            s = client.status()
            if s["settled_batches"] == 3 and s["divergence"]["mempool"] == 0:
                break
            time.sleep(1)
        assert s["head_batch"] == s["settled_batches"] == 3, s
        assert s["head_root"] == s["settled_root"] and not s["unproven"]
        assert len(client.history()) >= 2 and client.batches()[-1]["settled"]
        assert client.proof(2)["public"][1] == s["head_root"]
    finally:
        assert node.stop() == 0


def test_the_node_sweeps_settled_options(rollup_dir: Path) -> None:
    """Once settlement prices are in, the loop sweeps the accounts' settled positions (Settle)
    before sealing; with nothing settled it sweeps nothing (negative twin)."""
    from protocol.spec import BUY, OPTION_BASE, SELL
    from rollup.node.service import NodeConfig, NodeService

    service = NodeService(rollup_dir, NodeConfig(batch_seconds=3600))
    try:

        def trade_an_option() -> int:
            node = service.node
            btc = node.params.markets[0]
            expiry = node.now() + 600
            sid = node.list_series(0, expiry, price_to_units("30000", btc), 0)["series_id"]
            node.oracle((price_to_units("30000", btc),))
            q, p = size_to_base("0.01", btc), price_to_units("500", btc)
            node.order(0, OPTION_BASE + sid, BUY, q, p)
            node.order(1, OPTION_BASE + sid, SELL, q, p)
            node.seal_all()
            return expiry

        expiry = service.run(trade_an_option)
        service.run(service.tick)
        assert not any("swept" in e for e in service.events)
        prices = (price_to_units("31000", service.node.params.markets[0]),)
        service.run(lambda: service.node.oracle(prices, None, expiry + 1))
        service.run(service.tick)
        assert [e for e in service.events if "swept" in e] == [
            "account 0: settled options swept",
            "account 1: settled options swept",
        ]
    finally:
        service.close()


def test_a_backlog_is_sealed_as_one_group_and_a_short_one_waits(rollup_dir: Path) -> None:
    """One tick seals a backlog that fills several batches in one transaction (each batch as
    ``seal`` would make it); the negative twin: work short of a batch, not yet due, waits."""
    from rollup.node.service import NodeConfig, NodeService

    service = NodeService(rollup_dir, NodeConfig(batch_seconds=3600))
    try:
        node = service.node
        B = node.params.batch_slots
        head = service.run(node.head)
        service.run(lambda: node.transfer(0, 1, usd_to_value("1")))
        if B > 1:
            service.run(service.tick)
            assert service.run(node.head) == head and service.run(node.pending_work) == 1
        for k in range(3 * B - 1):  # three batches' worth in all
            service.run(lambda k=k: node.transfer(k % 2, 1 - k % 2, usd_to_value("1")))
        service.run(service.tick)
        sealed = [e for e in service.events if e.endswith(" sealed")]
        assert sealed == [f"batch {head + k} sealed" for k in range(3)]
        assert service.run(node.head) == head + 3 and service.run(node.pending_work) == 0
    finally:
        service.close()
