"""The sequencer store's integrity: every stored blob is checksummed and checked on read, a missing,
empty, truncated or overwritten file is a one-line StoreError (never a fresh store), and
``Store.restore`` writes a store from a state that reopens to exactly that state."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from rollup.errors import StoreError
from rollup.rebuild import rebuild
from rollup.store import BATCH_BLOBS, Store
from rollup.tx import Transfer, Withdraw
from tests.rollup.conftest import DOMAIN, make_system


def flip(path: Path, sql: str, column: str, args: tuple = ()) -> None:
    """Flip one bit in the middle of ``column`` of the row ``sql`` selects (by rowid)."""
    db = sqlite3.connect(path)
    rowid, blob = db.execute(sql.format(column=column), args).fetchone()
    blob = bytearray(blob)
    blob[len(blob) // 2] ^= 0x10
    table = sql.split(" FROM ")[1].split()[0]
    db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (bytes(blob), rowid))
    db.commit()
    db.close()


@pytest.fixture
def sealed(tmp_path: Path):
    """A store with three batches (two of deposits, one transfer + withdrawal), a proof and a
    mempool transaction."""
    system = make_system(tmp_path)
    seq = system.seq
    seq.submit(Transfer.signed(system.keys[0], DOMAIN, 0, 1, 5, 0))
    seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0))
    seq.seal_batch()
    seq.store.put_proof(2, {"pi_a": ["1", "2", "1"]})
    seq.submit(Transfer.signed(system.keys[1], DOMAIN, 1, 0, 7, 0))
    seq.store.close()
    system.l1.close()
    return tmp_path / "sequencer.db"


def test_every_blob_reads_back(sealed: Path) -> None:
    """Positive twin of the corruption cases: an untouched store reads every blob."""
    store = Store(sealed)
    assert store.head() == 3 and len(store.batches()) == 3
    assert store.batch(2).number == 2 and store.rejected(2) == []
    assert store.proof(2) == {"pi_a": ["1", "2", "1"]} and len(store.mempool()) == 1
    state = store.load_state()
    assert state.root == store.batches()[-1][2]
    assert state.root == rebuild(store.params(), store.genesis(), store.batches()).root
    store.close()


BATCH_ROW = "SELECT rowid, {column} FROM batches WHERE number = 2"


@pytest.mark.parametrize("column", BATCH_BLOBS)
def test_flipped_batch_blob_names_the_batch(sealed: Path, column: str) -> None:
    flip(sealed, BATCH_ROW, column)
    store = Store(sealed)
    readers = {
        "new_root": store.load_state,
        "pubdata": store.batches,
        "witness": lambda: store.batch(2),
        "rejected": lambda: store.rejected(2),
        "mempool_seqs": store.batch_mempool_seqs,
        "delta": store.load_state,
    }
    with pytest.raises(
        StoreError, match=f"batch 2's {column.replace('_', ' ')} fails its checksum"
    ):
        readers[column]()
    store.close()


def test_flipped_proof_and_mempool_row(sealed: Path) -> None:
    flip(sealed, "SELECT rowid, {column} FROM proofs WHERE number = 2", "proof")
    flip(sealed, "SELECT rowid, {column} FROM mempool", "tx")
    store = Store(sealed)
    with pytest.raises(StoreError, match="batch 2's proof fails its checksum"):
        store.proof(2)
    with pytest.raises(StoreError, match=r"mempool transaction #\d+ fails its checksum"):
        store.mempool()
    store.close()


def test_altered_state_tables_refused_at_load(sealed: Path) -> None:
    """The state assembled from the tables must give the last batch's stored root."""
    store = Store(sealed)
    store.compact()
    store.close()
    flip(sealed, "SELECT rowid, {column} FROM meta WHERE key = 'global'", "value")
    with pytest.raises(StoreError):  # either undecodable or a different root
        Store(sealed).load_state()


@pytest.mark.parametrize("damage", ["missing", "empty", "truncated", "garbage", "not-a-store"])
def test_damaged_file_is_one_line_error_and_untouched(sealed: Path, damage: str) -> None:
    store = Store(sealed)
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    size = sealed.stat().st_size
    if damage == "missing":
        sealed.unlink()
    elif damage == "empty":
        sealed.write_bytes(b"")
    elif damage == "truncated":
        sealed.write_bytes(sealed.read_bytes()[: size // 3])
    elif damage == "garbage":
        sealed.write_bytes(b"\x00garbage" * 512)
    else:
        sealed.unlink()
        sqlite3.connect(sealed).execute("CREATE TABLE other (x)").connection.commit()
    before = sealed.read_bytes() if sealed.exists() else None
    with pytest.raises(StoreError) as e:
        Store(sealed).load_state()
    assert "\n" not in str(e.value) and str(sealed) in str(e.value)
    assert (sealed.read_bytes() if sealed.exists() else None) == before  # nothing created


def test_restore_writes_a_store_that_reopens_to_the_state(sealed: Path, tmp_path: Path) -> None:
    store = Store(sealed)
    params, genesis, batches = store.params(), store.genesis(), store.batches()
    store.close()
    state = rebuild(params, genesis, batches)
    target = tmp_path / "restored.db"
    Store.restore(target, state, genesis, head=3, priority_consumed=3).close()
    again = Store(target)
    loaded = again.load_state()
    assert loaded.root == state.root and loaded.accounts == state.accounts
    assert loaded.tree.nodes == state.tree.nodes
    assert again.head() == 3 and again.batches() == [] and again.get("priority_consumed") == 3
    again.close()
    with pytest.raises(StoreError, match="exists"):  # negative twin: never over an existing one
        Store.restore(target, state, genesis, head=3, priority_consumed=3)
    shutil.copy(target, tmp_path / "copy.db")


def test_load_state_reads_one_snapshot_while_another_process_commits(sealed: Path) -> None:
    """A reader loading the state while the sequencer commits a batch used to read the tables
    before the commit and the head after it, and called the store damaged ("run zkr rebuild").
    Another connection commits in the middle of ``load_state`` (after the tables are read):
    the load still sees one consistent snapshot; outside one, the next read sees the commit."""
    reader, writer = Store(sealed), Store(sealed)
    assemble = reader._assemble

    def commit_meanwhile(backend):
        state = assemble(backend)
        with writer.db:
            writer.db.execute("BEGIN IMMEDIATE")
            writer._put("head", writer.head() + 1)  # what a sealed batch's commit moves
        return state

    reader._assemble = commit_meanwhile  # type: ignore[method-assign]
    state = reader.load_state()
    assert state.root == reader.batches()[-1][2]
    assert reader.head() == 4  # twin: a read outside the snapshot sees the other commit
    with pytest.raises(StoreError, match="batch 3 is missing"):
        reader.load_state()  # (the head moved without a batch: the store is now inconsistent)
    reader.close()
    writer.close()


@pytest.mark.parametrize("key", ["priority_consumed", "head", "compacted", "global"])
def test_a_flipped_record_is_refused_by_its_checksum(sealed: Path, key: str) -> None:
    """The store's records are checksummed too: a flipped ``priority_consumed`` used to make
    the sequencer skip a queued L1 deposit in silence (no root covers it)."""
    assert Store(sealed).get(key) is not None  # positive twin: it reads back
    flip(sealed, f"SELECT rowid, {{column}} FROM meta WHERE key = '{key}'", "value")
    with pytest.raises(StoreError, match=f"its '{key}' record fails its checksum"):
        Store(sealed).get(key)
