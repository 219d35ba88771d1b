"""``Sequencer.seal_all`` (the pipelined sealer: tree of batch k on a hasher thread while batch
k + 1 is staged) seals exactly what a loop of ``seal_batch`` seals — batches, roots, witnesses,
rejections, store contents — and on an error keeps the batches written before it, returns to
the store's head and restores the numba thread count and the switch interval."""

from __future__ import annotations

import shutil
import sys

import numba
import pytest

import rollup.store as store_module
from rollup.errors import MempoolRejected, StoreError
from rollup.sequencer import Sequencer
from rollup.store import Store
from rollup.tx import Transfer, Withdraw
from tests.rollup.conftest import make_system, public_key


def fill_mempool(system) -> None:
    """Transfers in a ring, a withdrawal, and a replayed one that fails its nonce."""
    seq, keys = system.seq, system.keys
    nonces = [seq.state.account(i).nonce for i in range(3)]
    for step in range(9):
        sender = step % 3
        tx = Transfer.signed(keys[sender], sender, (sender + 1) % 3, 1 + step, nonces[sender])
        seq.submit(tx)
        nonces[sender] += 1
    w = Withdraw.signed(keys[2], 2, 10, 900, nonces[2])
    seq.submit(w)
    seq.submit(w)  # admitted (signature fine), rejected when staged: nonce already used


def store_rows(path) -> dict:
    store = Store(path)
    out = {
        table: list(store.db.execute(f"SELECT * FROM {table} ORDER BY 1"))
        for table in ("batches", "accounts", "nodes", "mempool", "meta")
    }
    store.close()
    return out


def twin_systems(tmp_path):
    """Two identical systems (the second a copy of the first's files) with a full mempool and
    two deposits queued on L1."""
    (tmp_path / "a").mkdir()
    a = make_system(tmp_path / "a", slots=2)
    for index in (3, 4):
        a.l1.deposit(index, public_key(bytes([index]) * 32), 7, 600 + index)
    fill_mempool(a)
    a.seq.store.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    a.seq = Sequencer(Store(tmp_path / "a" / "sequencer.db"))
    b = Sequencer(Store(tmp_path / "b" / "sequencer.db"))
    return a, b


def test_seal_all_equals_seal_batch_loop(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "COMPACT_EVERY", 3)  # a compaction mid-pipeline too
    a, b = twin_systems(tmp_path)
    queue = a.l1.queue()
    one_by_one = []
    while (batch := a.seq.seal_batch(queue)) is not None:
        one_by_one.append(batch)
    threads, interval = numba.get_num_threads(), sys.getswitchinterval()
    pipelined = b.seal_all(queue)
    assert (numba.get_num_threads(), sys.getswitchinterval()) == (threads, interval)
    assert len(pipelined) == len(one_by_one) >= 6
    assert pipelined == one_by_one  # witnesses, roots, pubdata, commitments
    assert b.state.root == a.seq.state.root == pipelined[-1].new_root
    assert b.pending == a.seq.pending == {}
    assert [b.store.rejected(n) for n in range(b.store.head())] == [
        a.seq.store.rejected(n) for n in range(a.seq.store.head())
    ]
    assert any(b.store.rejected(n) for n in range(b.store.head()))  # the replay was dropped
    assert b.seal_all(queue) == []  # nothing left
    a.seq.store.close()
    b.store.close()
    assert store_rows(tmp_path / "a" / "sequencer.db") == store_rows(
        tmp_path / "b" / "sequencer.db"
    )


def test_seal_all_max_batches(tmp_path) -> None:
    a, b = twin_systems(tmp_path)
    queue = a.l1.queue()
    first = b.seal_all(queue, max_batches=2)
    assert [x.number for x in first] == [2, 3] and b.store.head() == 4
    rest = b.seal_all(queue)
    expected = []
    while (batch := a.seq.seal_batch(queue)) is not None:
        expected.append(batch)
    assert first + rest == expected


def test_a_failed_write_keeps_the_written_batches_and_returns_to_the_head(
    tmp_path, monkeypatch
) -> None:
    a, b = twin_systems(tmp_path)
    queue = a.l1.queue()
    written = []
    real = Store.write_batch

    def failing(self, batch, *args):
        if len(written) == 2:
            raise StoreError(detail="disk full (injected)")
        real(self, batch, *args)
        written.append(batch.number)

    monkeypatch.setattr(Store, "write_batch", failing)
    threads, interval = numba.get_num_threads(), sys.getswitchinterval()
    with pytest.raises(StoreError, match="disk full"):
        b.seal_all(queue)
    assert (numba.get_num_threads(), sys.getswitchinterval()) == (threads, interval)
    assert b.store.head() == 4 and written == [2, 3]
    assert b.state.root == b.store.load_state().root == b.store.batches()[-1][2]
    assert b.pending == dict(b.store.mempool())  # nothing staged after the head is lost
    monkeypatch.setattr(Store, "write_batch", real)
    rest = b.seal_all(queue)
    expected = []
    while (batch := a.seq.seal_batch(queue)) is not None:
        expected.append(batch)
    assert [x.number for x in expected][:2] == [2, 3]
    assert rest == expected[2:]


def test_a_staging_error_while_hashing_returns_to_the_head(tmp_path) -> None:
    """A priority request out of order in batch k + 1, found while the hasher runs batch k:
    batch k is not written either (it is written after k + 1 is staged); nothing is lost."""
    a, b = twin_systems(tmp_path)
    queue = a.l1.queue()
    assert len(queue) == 2 == b.params.batch_slots  # the first batch takes both
    skipped = [*queue, dict(queue[1], id=queue[1]["id"] + 5)]  # the next one skips ids
    head, root = b.store.head(), b.state.root
    with pytest.raises(MempoolRejected, match="out of order"):
        b.seal_all(skipped)
    assert (b.store.head(), b.state.root) == (head, root)
    assert b.pending == dict(b.store.mempool()) and len(b.pending) == 11
    assert b.seal_all(queue) == a.seq.seal_all(queue)
