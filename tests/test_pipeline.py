"""End to end: seal → prove (Groth16, batch circuit) → settle, on a B = 2, D = 2, M = 1 rollup.

Real proofs: these tests need the batch circuit of protocol v2 (``circuits.batch``).

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
from rollup.node.units import amount_to_quanta, fee_to_value, price_to_units, size_to_base
from verifier.settlement import BatchRejected

SHAPE = {"depth": 2, "batch_slots": 2, "n_markets": 1}


@pytest.fixture(scope="module")
def keys_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


def make_node(tmp_path: Path, keys_root: Path) -> Rollup:
    """Two funded accounts (batch 0: deposits) and one trade with an oracle update (batch 1)."""
    rng = random.Random(7)
    node = Rollup.init(tmp_path / "r", keys_root=keys_root, rng=rng, **SHAPE)
    btc = node.params.markets[0]
    for _ in range(2):
        index, _ = node.new_account(rng)
        node.deposit(index, amount_to_quanta("1000"))
    assert node.seal().number == 0
    size, price, fee = size_to_base("0.01", btc), price_to_units("30000", btc), fee_to_value("1")
    node.order(0, 0, 0, size, price, fee)
    assert node.order(1, 0, 1, size, price, fee)["filled"] == size
    node.oracle((price_to_units("30100", btc),), (100,))
    assert node.seal().number == 1
    return node


def snapshot(node: Rollup) -> tuple:
    s = node.l1.status()
    return s["root"], s["batches"], s["vault"], s["queue"], node.l1.published_batches()


def test_prove_and_settle_advances_root(tmp_path: Path, keys_root: Path) -> None:
    node = make_node(tmp_path, keys_root)
    genesis = node.l1.root
    run = node.prove()
    assert sorted(p.number for p in run.proofs) == [0, 1] and run.backend == "local"
    for p in run.proofs:
        b = node.batch(p.number)
        assert p.public == (b.old_root, b.new_root, b.commitment)
    assert node.settle() == [0, 1]
    assert node.l1.root == node.seq.state.root != genesis
    assert node.rebuild().root == node.l1.root
    assert node.status()["divergence"]["unsettled_batches"] == 0


def test_proving_key_loads_once_per_process_and_again_after_a_new_setup(
    tmp_path: Path, keys_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch proof reuses this process's proving key (loading it hashes the whole circuit);
    negative twins: a header file replaced by a new setup is loaded afresh, and a key is still
    refused for another circuit after it was cached."""
    import prover.keys as keys
    from circuits.batch import BatchShape, compile_batch
    from prover.errors import KeyMismatchError
    from rollup.circuit_input import shape_of
    from rollup.node import pipeline

    node = make_node(tmp_path, keys_root)
    loads: list[str] = []
    real = keys.load_proving_key
    monkeypatch.setattr(
        keys, "load_proving_key", lambda d, *a, **k: loads.append(d) or real(d, *a, **k)
    )
    pipeline._KEY.clear()
    r1cs = compile_batch(shape_of(node.params)).r1cs
    first = pipeline.proving_key(node.keydir, r1cs)
    assert pipeline.proving_key(node.keydir, r1cs) is first and len(loads) == 1
    header = Path(node.keydir) / keys.HEADER
    data = header.read_bytes()
    header.unlink()
    header.write_bytes(data)  # what a setup run again does: a new file
    again = pipeline.proving_key(node.keydir, r1cs)
    assert again is not first and len(loads) == 2
    other = compile_batch(BatchShape(2, 3, 1)).r1cs
    with pytest.raises(KeyMismatchError, match="proving key is for circuit"):
        pipeline.proving_key(node.keydir, other)
    assert len(loads) == 2


def test_tampered_batches_are_rejected(tmp_path: Path, keys_root: Path) -> None:
    node = make_node(tmp_path, keys_root)
    node.prove()
    batch, proof = node.batch(0), node.proof(0)
    before = snapshot(node)
    bad_proof = dict(proof, pi_a=proof["pi_c"])
    pubdata = list(batch.pubdata)
    no_proof = r"^batch 0: proof does not verify$"
    mismatch = r"priority request.*does not match queue head"
    cases = [
        (pubdata, batch.new_root, bad_proof, no_proof),
        (pubdata, batch.old_root, proof, no_proof),
        (pubdata, batch.new_root, "not a proof", no_proof),
        ([*pubdata[:-1], pubdata[-1] + 1], batch.new_root, proof, mismatch),
        (pubdata[:-1], batch.new_root, proof, r"^pubdata must be 8 field elements$"),
    ]
    for data, root, p, reason in cases:
        with pytest.raises(BatchRejected, match=reason):
            node.submit_batch(data, root, p)
        assert snapshot(node) == before
    node.submit_batch(pubdata, batch.new_root, proof)
    assert node.l1.root == batch.new_root
    # batch 1 (oracle + trade): pubdata the L1 cannot check itself is bound by the proof alone
    # (or, where the flipped bit lies outside every field, refused by the strict decoding)
    b1, proof1 = node.batch(1), node.proof(1)
    before = snapshot(node)
    refused = r"^(batch 1: proof does not verify|malformed pubdata: .* outside its fields)$"
    for k in range(len(b1.pubdata)):
        tampered = list(b1.pubdata)
        tampered[k] ^= 1 << 40
        with pytest.raises(BatchRejected, match=refused):
            node.submit_batch(tampered, b1.new_root, proof1)
        assert snapshot(node) == before
    node.submit_batch(list(b1.pubdata), b1.new_root, proof1)
    assert node.l1.root == node.seq.state.root


def test_two_workers_settle_in_order(tmp_path: Path, keys_root: Path) -> None:
    node = make_node(tmp_path, keys_root)
    run = node.prove(workers=2)
    assert run.backend == "processes" and sorted(p.number for p in run.proofs) == [0, 1]
    b1 = node.batch(1)
    with pytest.raises(BatchRejected):  # batch 1 before batch 0: its old root is not the root
        node.submit_batch(list(b1.pubdata), b1.new_root, node.proof(1))
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
        run = node.prove(scheduler=client)
    assert run.backend == "dask" and sorted(p.number for p in run.proofs) == [0, 1]
    assert node.settle() == [0, 1]
    assert node.l1.root == node.seq.state.root


def test_settle_stops_at_missing_proof(tmp_path: Path, keys_root: Path) -> None:
    node = make_node(tmp_path, keys_root)
    node.prove(numbers=[1])
    assert node.settle() == [] and node.l1.batch_count == 0  # batch 0 unproven: nothing moves
    node.prove()
    assert node.settle() == [0, 1]


def test_unprovable_batch_does_not_hold_back_the_others(tmp_path: Path, keys_root: Path) -> None:
    """Batch 0's stored witness is damaged: it is reported, batch 1's proof is still stored."""
    import sqlite3

    node = make_node(tmp_path, keys_root)
    db = sqlite3.connect(tmp_path / "r" / "sequencer.db")
    (blob,) = db.execute("SELECT witness FROM batches WHERE number = 0").fetchone()
    damaged = blob[:-1] + bytes([blob[-1] ^ 1])  # a flipped bit (a fixed byte may be the same)
    db.execute("UPDATE batches SET witness = ? WHERE number = 0", (damaged,))
    db.commit()
    db.close()
    run = node.prove()
    assert [p.number for p in run.proofs] == [1]
    ((number, reason),) = run.failures
    assert number == 0 and "batch 0's witness fails its checksum" in reason
    assert node.proof(1) is not None and node.unproven() == [0]
    assert node.settle() == []  # batch 0 first: nothing moves, and nothing is lost


@pytest.mark.slow
def test_killed_prover_keeps_the_proofs_it_finished(tmp_path: Path, keys_root: Path) -> None:
    """``zkr prove`` killed (SIGKILL) once two of three proofs are stored keeps both; the next
    run proves only the third."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from rollup.store import Store

    node = make_node(tmp_path, keys_root)
    node.transfer(0, 1, 1 << 32)
    assert node.seal().number == 2
    node.close()
    path = tmp_path / "r"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    code = "import sys; from cli import main; sys.argv = ['zkr', *sys.argv[1:]]; main()"
    args = [sys.executable, "-c", code, "prove", "--dir", str(path), "-q"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    child = subprocess.Popen(args, env=env, **quiet)
    deadline = time.monotonic() + 300
    proven: set[int] = set()
    while len(proven) < 2 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
        store = Store(path / "sequencer.db")
        proven = store.proven()
        store.close()
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert proven == {0, 1}, proven  # killed before the third proof
    node = Rollup(path)
    assert node.unproven() == [2] and node.proof(0) and node.proof(1)
    run = node.prove()
    assert [p.number for p in run.proofs] == [2]
    assert node.settle() == [0, 1, 2] and node.l1.root == node.seq.state.root


@pytest.mark.slow
def test_demo_story(tmp_path: Path) -> None:
    """``zkr demo``'s story end to end (B = 3, D = 8, M = 2): every outcome as expected."""
    from rollup.node.demo import run_demo

    lines: list[str] = []
    report = run_demo(tmp_path / "keys", echo=lines.append, seed=1)
    text = "\n".join(lines)
    assert report.ok, text
    assert "rejected: batch 4: proof does not verify" in text and "bob claims 500 USD" in text
    assert "settlement price raised in its pubdata" in text
    assert "frozen because request #6 is overdue" in text
