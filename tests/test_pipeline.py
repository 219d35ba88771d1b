"""End to end: seal → prove (Groth16, batch circuit) → settle, on a B = 2, D = 2, M = 1 rollup.

Positive: the settlement layer accepts the proven batches in order and its root follows the
sequencer's. Negative twins: a tampered proof, tampered pubdata or a wrong new root is rejected
with a precise reason and the settlement layer is unchanged; proofs made by 2 worker processes or
by a Dask ``LocalCluster`` settle in order, and out of order they are refused.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from rollup.node import Rollup
from rollup.parallel import prove_pending
from verifier.settlement import BatchRejected

SHAPE = {"depth": 2, "batch_slots": 2, "n_markets": 1}


@pytest.fixture(scope="module")
def keys_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


def make_node(tmp_path: Path, keys_root: Path) -> Rollup:
    """Two funded accounts (batch 0: deposits) and one trade with an oracle update (batch 1)."""
    rng = random.Random(7)
    node = Rollup.init(tmp_path / "r", keys_root=keys_root, rng=rng, **SHAPE)
    for _ in range(2):
        index, _ = node.new_account(rng)
        node.deposit(index, 10**6)
    assert node.seal().number == 0
    node.order(0, 0, 0, 1000, 100, fee=5)
    assert node.order(1, 0, 1, 1000, 100, fee=5)["matched"]
    node.oracle((101,), timestamp=10)
    assert node.seal().number == 1
    return node


def snapshot(node: Rollup) -> tuple:
    s = node.l1.status()
    return s["root"], s["batches"], s["vault"], s["queue"], node.l1.published_batches()


def test_prove_and_settle_advances_root(tmp_path: Path, keys_root: Path) -> None:
    node = make_node(tmp_path, keys_root)
    genesis = node.l1.root
    run = prove_pending(node)
    assert [p.number for p in run.proofs] == [0, 1] and run.backend == "local"
    for p in run.proofs:
        b = node.seq.store.batch(p.number)
        assert p.public == (b.old_root, b.new_root, b.commitment)
    assert node.settle() == [0, 1]
    assert node.l1.root == node.seq.state.root != genesis
    assert node.rebuild().root == node.l1.root
    assert node.status()["divergence"]["unsettled_batches"] == 0


def test_tampered_batches_are_rejected(tmp_path: Path, keys_root: Path) -> None:
    node = make_node(tmp_path, keys_root)
    prove_pending(node)
    batch, proof = node.seq.store.batch(0), node.seq.store.proof(0)
    before = snapshot(node)
    bad_proof = dict(proof, pi_a=proof["pi_c"])
    pubdata = list(batch.pubdata)
    no_proof = r"^batch 0: proof does not verify$"
    cases = [
        (pubdata, batch.new_root, bad_proof, no_proof),
        (pubdata, batch.old_root, proof, no_proof),
        (pubdata, batch.new_root, "not a proof", no_proof),
        ([*pubdata[:-1], pubdata[-1] + 1], batch.new_root, proof, r"^slot 1: priority request"),
        (pubdata[:-1], batch.new_root, proof, r"^pubdata must be 8 field elements$"),
    ]
    for data, root, p, reason in cases:
        with pytest.raises(BatchRejected, match=reason):
            node.l1.submit_batch(data, root, p)
        assert snapshot(node) == before
    node.l1.submit_batch(pubdata, batch.new_root, proof)
    assert node.l1.root == batch.new_root
    # batch 1 (oracle + trade): pubdata the L1 cannot check itself is bound by the proof alone
    b1, proof1 = node.seq.store.batch(1), node.seq.store.proof(1)
    before = snapshot(node)
    for k in range(len(b1.pubdata)):
        tampered = list(b1.pubdata)
        tampered[k] ^= 1 << 40
        reason = r"^(batch 1: proof does not verify|malformed pubdata: .+)$"
        with pytest.raises(BatchRejected, match=reason):
            node.l1.submit_batch(tampered, b1.new_root, proof1)
        assert snapshot(node) == before
    node.l1.submit_batch(list(b1.pubdata), b1.new_root, proof1)
    assert node.l1.root == node.seq.state.root


def test_two_workers_settle_in_order(tmp_path: Path, keys_root: Path) -> None:
    node = make_node(tmp_path, keys_root)
    run = prove_pending(node, workers=2)
    assert run.backend == "processes" and [p.number for p in run.proofs] == [0, 1]
    b1 = node.seq.store.batch(1)
    with pytest.raises(BatchRejected):  # batch 1 before batch 0: its old root is not the root
        node.l1.submit_batch(list(b1.pubdata), b1.new_root, node.seq.store.proof(1))
    assert node.l1.batch_count == 0
    assert node.settle() == [0, 1]
    assert node.l1.root == node.seq.state.root


def test_dask_local_cluster(tmp_path: Path, keys_root: Path) -> None:
    distributed = pytest.importorskip("distributed")
    node = make_node(tmp_path, keys_root)
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        run = prove_pending(node, scheduler=client)
    assert run.backend == "dask" and [p.number for p in run.proofs] == [0, 1]
    assert node.settle() == [0, 1]
    assert node.l1.root == node.seq.state.root


def test_settle_stops_at_missing_proof(tmp_path: Path, keys_root: Path) -> None:
    node = make_node(tmp_path, keys_root)
    prove_pending(node, numbers=[1])
    assert node.settle() == [] and node.l1.batch_count == 0  # batch 0 unproven: nothing moves
    prove_pending(node)
    assert node.settle() == [0, 1]


@pytest.mark.slow
def test_demo_story(tmp_path: Path) -> None:
    """``zkr demo``'s story end to end (B = 4, D = 8, M = 2): every outcome as expected."""
    from rollup.demo import run_demo

    lines: list[str] = []
    report = run_demo(tmp_path / "keys", echo=lines.append, seed=1)
    text = "\n".join(lines)
    assert report.ok, text
    assert "rejected: batch 3: proof does not verify" in text
    assert "frozen because request #4 is overdue" in text
