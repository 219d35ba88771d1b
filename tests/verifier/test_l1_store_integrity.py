"""The settlement store's integrity: a row changed, deleted or added behind the settlement's back
(a restored table, a hand edit, a damaged page) is refused with one line naming the table,
both when the row is read and when the store opens; a store only the settlement wrote opens
and reads back exactly (``verifier.l1_store``)."""

from __future__ import annotations

import sqlite3

import pytest

from protocol.codec import pack
from protocol.eddsa import sign
from rollup.tx import Withdraw, escape_message
from tests.rollup.conftest import DOMAIN, echo_checker, public_key
from tests.verifier.test_settlement import account_proof, forced, frozen_system, snapshot
from verifier.l1_store import TABLES, L1Store, StoreCorruptError, _row_sum
from verifier.settlement import Settlement, SettlementError


def busy_store(tmp_path):
    """A settlement whose five checksummed tables all hold rows: an escape (escaped, claimable),
    a queued deposit and forced request (queue, forced, nonces) made before the freeze."""
    system = frozen_system(tmp_path)
    l1 = system.l1
    preimage, path, g = account_proof(system, 0)
    l1.escape(0, 700, sign(system.keys[0], escape_message(DOMAIN, 0, 700)), preimage, path, g)
    with l1.store.transaction():  # a pending request as an unfrozen rollup would hold it
        l1.store.enqueue(99, 1, [5, 1, 2, 3, 4], 0, 1.5, 7, 55)
        l1.store.add_forced(2, 99, 1)
    for table in TABLES:
        assert l1.store.query(f"SELECT COUNT(*) FROM {table}")[0][0] > 0, table
    return system


def reopen(system) -> Settlement:
    return Settlement(system.l1.config, echo_checker, system.path / "l1.db", clock=system.clock)


def edit(system, sql: str, args: tuple = ()) -> None:
    """Change the closed store's file with another connection (as a hand edit would)."""
    system.l1.close()
    db = sqlite3.connect(system.path / "l1.db")
    with db:
        db.execute(sql, args)
    db.close()


def test_a_store_the_settlement_wrote_opens_and_reads_back(tmp_path) -> None:
    system = busy_store(tmp_path)
    before = snapshot(system.l1)
    queue, claimable = system.l1.queue(), system.l1.total_claimable()
    system.l1.close()
    again = reopen(system)
    assert snapshot(again) == before
    assert again.queue() == queue and again.total_claimable() == claimable
    assert again.forced_nonce(2) == 1 and again.escaped(0) and not again.escaped(1)
    again.store.verify()


@pytest.mark.parametrize("table", list(TABLES))
def test_a_deleted_row_is_refused_at_open(tmp_path, table) -> None:
    system = busy_store(tmp_path)
    key = TABLES[table][0]
    edit(system, f"DELETE FROM {table} WHERE {key} = (SELECT MAX({key}) FROM {table})")
    with pytest.raises(SettlementError, match=f"its {table} table has lost, gained or changed"):
        reopen(system)


@pytest.mark.parametrize("table", list(TABLES))
def test_a_changed_row_is_refused(tmp_path, table) -> None:
    """The last column of one row changed (an amount, a nonce, a slack …; the escaped table's
    account): the row's own checksum fails."""
    system = busy_store(tmp_path)
    column = TABLES[table][-1]
    key = TABLES[table][0]
    value = pack(123_456) if table in ("claimable",) else 123_456
    edit(system, f"UPDATE {table} SET {column} = ? WHERE {key} = (SELECT MAX({key}) FROM {table})",
         (value,))  # fmt: skip
    with pytest.raises(SettlementError, match=f"a row of its {table} table fails its checksum"):
        reopen(system)


def test_a_changed_row_is_refused_when_read(tmp_path) -> None:
    """Changed while the settlement has the store open: the next read of that row fails."""
    system = busy_store(tmp_path)
    l1 = system.l1
    other = sqlite3.connect(system.path / "l1.db")
    with other:
        other.execute(
            "UPDATE claimable SET amount = ? WHERE address = ?", (pack(10**12), pack(700))
        )
    other.close()
    with pytest.raises(SettlementError, match="a row of its claimable table fails its checksum"):
        l1.claimable(700)
    assert l1.claimable(55) == 9  # positive twin: the untouched row


def test_a_forged_row_with_a_valid_checksum_is_refused_at_open(tmp_path) -> None:
    """A row added with its own checksum right (a copied or forged claim): the table's row
    digest has not counted it."""
    system = busy_store(tmp_path)
    row = (pack(4242), pack(10**9))
    edit(system, "INSERT INTO claimable VALUES (?, ?, ?)", (*row, _row_sum("claimable", row)))
    with pytest.raises(SettlementError, match="its claimable table has lost, gained or changed"):
        reopen(system)


def test_a_deleted_batch_is_refused_at_open(tmp_path) -> None:
    system = busy_store(tmp_path)
    n = system.l1.batch_count
    edit(system, "DELETE FROM batches WHERE number = ?", (n - 1,))
    with pytest.raises(SettlementError, match=rf"records batches 0\.\.{n - 1} and holds {n - 1} "):
        reopen(system)


def test_swapped_batch_numbers_are_refused(tmp_path) -> None:
    """Two batch rows with their numbers swapped: each row's checksum covers its number."""
    system = busy_store(tmp_path)
    edit(system, "UPDATE batches SET number = -1 WHERE number = 0")
    db = sqlite3.connect(system.path / "l1.db")
    with db:
        db.execute("UPDATE batches SET number = 0 WHERE number = 1")
        db.execute("UPDATE batches SET number = 1 WHERE number = -1")
    db.close()
    with pytest.raises(SettlementError, match="batch 0 fails its checksum"):
        reopen(system).published_batches()


@pytest.mark.parametrize("table", list(TABLES))
def test_an_emptied_table_with_its_digest_record_deleted_is_refused(tmp_path, table) -> None:
    """The table's rows and its row digest both deleted (plain SQL, no hashing needed): every
    digest record exists from the deployment on, so a missing one is damage."""
    system = busy_store(tmp_path)
    edit(system, f"DELETE FROM {table}")
    db = sqlite3.connect(system.path / "l1.db")
    with db:
        db.execute("DELETE FROM meta WHERE key = ?", (f"rows.{table}",))
    db.close()
    with pytest.raises(SettlementError, match=f"its 'rows.{table}' record is missing"):
        reopen(system)


@pytest.mark.parametrize("key", ["batches", "vault", "root"])
def test_a_missing_meta_record_is_refused_at_open(tmp_path, key) -> None:
    system = busy_store(tmp_path)
    edit(system, "DELETE FROM meta WHERE key = ?", (key,))
    with pytest.raises(SettlementError, match=f"its '{key}' record is missing"):
        reopen(system)


def test_the_clock_gives_a_time_the_store_reads_back(tmp_path) -> None:
    """−0.0 is stored as 0.0 (SQLite reads it back so: the row's checksum would fail); a clock
    that is not finite is refused before anything is written."""
    from tests.rollup.conftest import make_system

    system = make_system(tmp_path)
    l1 = system.l1
    system.clock.now = -0.0
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    l1.close()
    again = reopen(system)
    assert again.queue()[-1]["time"] == 0.0
    system.clock.now = float("nan")
    before = snapshot(again)
    with pytest.raises(ValueError, match="the settlement clock gave nan, not a finite time"):
        again.deposit(5, public_key(b"\x05" * 32), 9, 55)
    assert snapshot(again) == before


def test_the_row_digests_follow_every_operation(tmp_path) -> None:
    """Deposits, forced requests, served batches with slack and payouts, claims, a freeze with its
    refunds and escapes: after each, the tables match their digests."""
    from tests.rollup.conftest import make_system

    system = make_system(tmp_path, max_batches=1)
    l1 = system.l1
    l1.store.verify()
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    l1.request_forced_withdrawal(*forced(system, 1, 901))
    l1.store.verify()
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0))
    system.settle_all()
    l1.store.verify()
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 5, 900, 1))  # same address
    l1.request_forced_withdrawal(*forced(system, 1, 902, nonce=1))  # the nonce row replaced
    system.settle_all()
    l1.store.verify()
    assert l1.claimable(900) == 15 and l1.forced_nonce(1) == 2
    assert l1.withdraw(900) == 15
    l1.store.verify()
    l1.deposit(6, public_key(b"\x06" * 32), 4, 56)
    system.clock.now += 10**6
    l1.freeze()
    l1.store.verify()
    preimage, path, g = account_proof(system, 0)
    l1.escape(0, 700, sign(system.keys[0], escape_message(DOMAIN, 0, 700)), preimage, path, g)
    l1.store.verify()
    l1.close()
    reopen(system).close()


def test_a_store_of_the_previous_format_is_refused(tmp_path) -> None:
    system = busy_store(tmp_path)
    with system.l1.store.transaction():  # the format record as a format-2 store holds it
        system.l1.store.put("format", 2)
    system.l1.close()
    with pytest.raises(SettlementError, match="is a settlement store of format 2, this zkrollup"):
        reopen(system)
    with pytest.raises(StoreCorruptError, match="no settlement store at"):
        L1Store(tmp_path / "nothing.db", create=False)
