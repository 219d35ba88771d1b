"""The settlement layer's SQLite store: one row per fact, every change in one write transaction.

Tables (WAL journal, ``synchronous=FULL``)::

    meta        key → msgpack value + checksum   (format, config, root, batches, vault, …)
    queue       id, kind, fields, batch, time, slack, fee, payer, sum   (pending requests)
    claimable   L1 address, quanta, sum
    forced      account, pending forced-withdrawal request id, sum
    nonces      account, the next forced-request nonce, sum
    escaped     account, sum
    batches     number, pubdata, new_root, proof, time, checksum

``transaction()`` opens ``BEGIN IMMEDIATE``: a second writer (thread or process) waits for the
first to commit and then reads its result, so no read-modify-write can lose another's update; any
exception rolls the whole operation back. Integers of any size are msgpack blobs
(``protocol.codec``).

Integrity (format 3).  Every row carries a SHA-256 of its table and columns (``sum``), checked
whenever the row is read; every meta record a SHA-256 of its key and value.  A changed row is
caught that way, a deleted or added one is not, so each of the five request and balance tables
has a *row digest* in meta (key ``rows.TABLE``): its row count and the sum of its rows' SHA-256
values mod 2^256, kept in the transaction that changes the table and recomputed from the table
when the store opens (a multiset hash: Clarke et al., "Incremental multiset hash functions and
their application to memory integrity checking", ASIACRYPT 2003).  Batches are numbered
0 .. batches − 1 (a batch row's checksum covers its number): the open checks that the table
holds exactly those rows, and that every meta record is there.  The digests carry no key: they
catch damage, a stray edit and a restored table, not someone who can rewrite the whole file (the
file stands for the contract's storage, which the settlement chain protects in production).
A missing or empty database is never silently recreated: ``create=True`` is the only way to
make one, and opening a store of another format or another genesis is refused.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from protocol.codec import pack, unpack
from protocol.errors import ProtocolError

#: 2: the meta records carry a checksum; 3: every row of every table too, row digests per table
L1_FORMAT: int = 3
#: says why a store of another format is refused (callers tell it apart from damage by it)
NO_CONVERSION: str = "stores of other formats are not converted"

#: the checksummed tables' columns, key column first, without the ``sum`` column
TABLES: dict[str, tuple[str, ...]] = {
    "queue": ("id", "kind", "fields", "batch", "time", "slack", "fee", "payer"),
    "claimable": ("address", "amount"),
    "forced": ("account", "request"),
    "nonces": ("account", "next"),
    "escaped": ("account",),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,
    fields BLOB NOT NULL, batch INTEGER NOT NULL, time REAL NOT NULL,
    slack INTEGER NOT NULL, fee BLOB NOT NULL, payer BLOB NOT NULL, sum BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS claimable (address BLOB PRIMARY KEY, amount BLOB NOT NULL,
    sum BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS forced (account INTEGER PRIMARY KEY, request INTEGER NOT NULL,
    sum BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (account INTEGER PRIMARY KEY, next INTEGER NOT NULL,
    sum BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS escaped (account INTEGER PRIMARY KEY, sum BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (number INTEGER PRIMARY KEY, pubdata BLOB NOT NULL,
    new_root BLOB NOT NULL, proof BLOB NOT NULL, time REAL NOT NULL, checksum BLOB NOT NULL);
"""


class StoreCorruptError(Exception):
    """The settlement store cannot be read: missing, truncated, corrupt or of another kind."""


def checksum(*blobs: bytes) -> bytes:
    """SHA-256 over the length-prefixed blobs (a row's columns)."""
    h = hashlib.sha256()
    for b in blobs:
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.digest()


_SUM = 32  #: the checksum's bytes (SHA-256)


class L1Store:
    """The SQLite file (or memory) of one settlement layer."""

    def __init__(self, path: str | Path | None, create: bool) -> None:
        self.path = path
        if path is not None:
            p = Path(path)
            exists = p.is_file() and p.stat().st_size > 0
            if not exists and not create:
                raise StoreCorruptError(f"no settlement store at {p} (create one with 'zkr init')")
            if exists and create:
                raise StoreCorruptError(f"{p} already holds a settlement store")
        self.db = sqlite3.connect(
            ":memory:" if path is None else str(path), isolation_level=None, timeout=60
        )
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            if create:
                self.db.executescript(SCHEMA)
            elif (found := self.get("format")) != L1_FORMAT:
                raise StoreCorruptError(
                    f"{path} is not a settlement store" if found is None else
                    f"{path} is a settlement store of format {found}, this zkrollup reads "
                    f"format {L1_FORMAT}: {NO_CONVERSION}"
                )  # fmt: skip
            else:
                self.verify()
        except sqlite3.DatabaseError as e:
            self.db.close()
            raise StoreCorruptError(f"settlement store {path}: {e}") from None
        except StoreCorruptError:
            self.db.close()
            raise

    def _corrupt(self, what: str) -> StoreCorruptError:
        return StoreCorruptError(
            f"settlement store {self.path}: {what} (the file was altered or damaged)"
        )

    def create_records(self) -> None:
        """The row digests of the empty tables (at deployment, in its transaction): a missing
        one is then damage, never an empty table."""
        for table in TABLES:
            self.put(f"rows.{table}", [0, 0])

    def verify(self) -> None:
        """Every meta record present, every row's checksum, each table's row digest and the
        batch numbering, in one read snapshot; StoreCorruptError naming the first that fails."""
        own = not self.db.in_transaction
        if own:
            self.query("BEGIN")
        try:
            keys = {key for (key,) in self.query("SELECT key FROM meta")}
            missing = sorted((REQUIRED | {f"rows.{t}" for t in TABLES}) - keys)
            if missing:
                raise self._corrupt(f"its {missing[0]!r} record is missing")
            for table in TABLES:
                rows = self._rows(table, "", ())
                total = sum(int.from_bytes(row_sum, "little") for _, row_sum in rows) % _MOD
                if [len(rows), total] != self._digest(table):
                    raise self._corrupt(f"its {table} table has lost, gained or changed rows")
            sql = "SELECT COUNT(*), MIN(number), MAX(number) FROM batches"
            count, low, high = self.query(sql)[0]
            n = self.get("batches")
            if count != n or (n and (low, high) != (0, n - 1)):
                held = f"{count} numbered {low}..{high}" if count else "none"
                raise self._corrupt(f"it records batches 0..{n - 1} and holds {held}")
        finally:
            if own:
                self.query("COMMIT")

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT), rolled back on any exception."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as e:
            raise StoreCorruptError(f"settlement store {self.path}: {e}") from None
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            raise StoreCorruptError(f"settlement store {self.path}: {e}") from None

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as e:
            raise StoreCorruptError(f"settlement store {self.path}: {e}") from None

    # -- meta ------------------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        """A meta record (root, batch count, vault, frozen …), its checksum checked."""
        rows = self.query("SELECT value FROM meta WHERE key = ?", (key,))
        if not rows:
            return None
        data = rows[0][0]
        blob, stored = data[:-_SUM], data[-_SUM:]
        if len(data) < _SUM or checksum(key.encode(), blob) != stored:
            raise StoreCorruptError(
                f"settlement store {self.path}: its {key!r} record fails its checksum (the file "
                "was altered or damaged, or is of an older format)"
            )
        try:
            return unpack(blob)
        except ProtocolError as e:
            raise StoreCorruptError(f"settlement store {self.path}: meta {key}: {e}") from None

    def put(self, key: str, value: Any) -> None:
        blob = pack(value)
        self.db.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, blob + checksum(key.encode(), blob))
        )

    # -- checksummed rows --------------------------------------------------------------------------
    def _digest(self, table: str) -> list[int]:
        """[row count, Σ row sums mod 2^256] of ``table`` as meta records it."""
        stored = self.get(f"rows.{table}")
        if stored is None:
            raise self._corrupt(f"its 'rows.{table}' record is missing")
        return list(stored)

    def _rows(self, table: str, where: str, args: tuple) -> list[tuple[tuple, bytes]]:
        """(columns, sum) of the rows of ``table`` matching ``where``, each row's sum checked."""
        columns = TABLES[table]
        rows = self.query(f"SELECT {', '.join(columns)}, sum FROM {table} {where}", args)
        out = []
        for *values, row_sum in rows:
            if row_sum != _row_sum(table, values):
                raise self._corrupt(
                    f"a row of its {table} table fails its checksum ({_key(table, values[0])})"
                )
            out.append((tuple(values), row_sum))
        return out

    def _insert(self, table: str, values: tuple) -> None:
        """Insert (or replace, by key) one row, its sum and the table's digest with it."""
        self._delete(table, f"WHERE {TABLES[table][0]} = ?", (values[0],))
        self._add(table, [values])

    def _add(self, table: str, rows: list[tuple]) -> None:
        """Insert rows whose keys are not in ``table``, and count them in its digest."""
        if not rows:
            return
        sums = [_row_sum(table, values) for values in rows]
        marks = ", ".join("?" * (len(rows[0]) + 1))
        self.db.executemany(
            f"INSERT INTO {table} VALUES ({marks})",
            [(*values, row_sum) for values, row_sum in zip(rows, sums, strict=True)],
        )
        count, total = self._digest(table)
        added = sum(int.from_bytes(row_sum, "little") for row_sum in sums)
        self.put(f"rows.{table}", [count + len(rows), (total + added) % _MOD])

    def _delete(self, table: str, where: str, args: tuple) -> list[tuple]:
        """Delete the rows of ``table`` matching ``where`` (checked first); their columns."""
        rows = self._rows(table, where, args)
        if rows:
            self.db.execute(f"DELETE FROM {table} {where}", args)
            count, total = self._digest(table)
            gone = sum(int.from_bytes(row_sum, "little") for _, row_sum in rows)
            self.put(f"rows.{table}", [count - len(rows), (total - gone) % _MOD])
        return [values for values, _ in rows]

    # -- claimable ---------------------------------------------------------------------------------
    def claimable(self, address: int) -> int:
        rows = self._rows("claimable", "WHERE address = ?", (pack(address),))
        return unpack(rows[0][0][1]) if rows else 0

    def credit(self, address: int, amount: int) -> None:
        if amount:
            total = self.claimable(address) + amount
            self._insert("claimable", (pack(address), pack(total)))

    def total_claimable(self) -> int:
        return sum(unpack(values[1]) for values, _ in self._rows("claimable", "", ()))

    def take_claimable(self, address: int) -> int:
        rows = self._delete("claimable", "WHERE address = ?", (pack(address),))
        return unpack(rows[0][1]) if rows else 0

    # -- queue -----------------------------------------------------------------------------------
    def queue(self) -> list[dict[str, Any]]:
        rows = self._rows("queue", "ORDER BY id", ())
        try:
            return [
                {"id": i, "kind": k, "fields": list(unpack(f)), "batch": b, "time": t,
                 "slack": s, "fee": unpack(fee), "payer": unpack(p)}
                for (i, k, f, b, t, s, fee, p), _ in rows
            ]  # fmt: skip
        except ProtocolError as e:
            raise StoreCorruptError(f"settlement store {self.path}: queue: {e}") from None

    def enqueue(self, rid: int, kind: int, fields: list[int], batch: int, time: float,
                fee: int, payer: int) -> None:  # fmt: skip
        if self.query("SELECT 1 FROM queue WHERE id = ?", (rid,)):
            raise StoreCorruptError(f"settlement store {self.path}: request {rid} is queued twice")
        t = float(time) + 0.0  # + 0.0: −0.0 reads back from SQLite as 0.0
        if not math.isfinite(t):
            raise ValueError(f"the settlement clock gave {time!r}, not a finite time")
        self._insert("queue", (rid, kind, pack(fields), batch, t, 0, pack(fee), pack(payer)))

    def serve(self, rid: int) -> None:
        """Remove request ``rid`` from the queue, and its account's pending forced request."""
        self._delete("queue", "WHERE id = ?", (rid,))
        self._delete("forced", "WHERE request = ?", (rid,))

    def add_slack(self, grace: int, number: int) -> None:
        """slack += 1 for every request queued at least ``grace`` batches before ``number``."""
        waiting = self._delete("queue", "WHERE batch + ? <= ?", (grace, number))
        self._add("queue", [(*values[:5], values[5] + 1, *values[6:]) for values in waiting])

    def clear_queue(self) -> None:
        """Drop every queued request and pending forced request (a freeze refunds them)."""
        self._delete("queue", "", ())
        self._delete("forced", "", ())

    # -- forced requests, nonces, escapes --------------------------------------------------------
    def forced_pending(self, account: int) -> bool:
        return bool(self._rows("forced", "WHERE account = ?", (account,)))

    def add_forced(self, account: int, rid: int, next_nonce: int) -> None:
        """Record ``account``'s pending forced request ``rid`` and its next nonce."""
        self._insert("forced", (account, rid))
        self._insert("nonces", (account, next_nonce))

    def next_nonce(self, account: int) -> int:
        rows = self._rows("nonces", "WHERE account = ?", (account,))
        return rows[0][0][1] if rows else 0

    def escaped(self, account: int) -> bool:
        return bool(self._rows("escaped", "WHERE account = ?", (account,)))

    def add_escaped(self, account: int) -> None:
        if self.escaped(account):
            raise StoreCorruptError(f"settlement store {self.path}: {account} escaped twice")
        self._insert("escaped", (account,))

    # -- batches ---------------------------------------------------------------------------------
    def add_batch(self, number: int, pubdata: list[int], new_root: int, proof: Any,
                  time: float) -> None:  # fmt: skip
        cols = (pack(pubdata), pack(new_root), pack(proof))
        self.db.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
            (number, *cols, time, checksum(pack(number), *cols)),
        )

    def batches(self) -> list[tuple[int, list[int], int, Any]]:
        """(number, pubdata, new_root, proof) of every published batch, checksums verified."""
        rows = self.query(
            "SELECT number, pubdata, new_root, proof, checksum FROM batches ORDER BY number"
        )
        out = []
        for n, p, r, proof, digest in rows:
            if checksum(pack(n), p, r, proof) != digest:
                raise StoreCorruptError(
                    f"settlement store {self.path}: batch {n} fails its checksum"
                )
            try:
                out.append((n, list(unpack(p)), unpack(r), unpack(proof)))
            except ProtocolError as e:
                raise StoreCorruptError(f"settlement store {self.path}: batch {n}: {e}") from None
        return out

    def close(self) -> None:
        self.db.close()


_MOD = 1 << 256  #: row digests add SHA-256 values mod 2^256

#: the meta records a deployed settlement always holds (``Settlement`` writes them at creation)
REQUIRED: frozenset[str] = frozenset((
    "format", "config", "root", "batches", "vault", "frozen", "frozen_at", "next_id",
    "last_batch_time", "vk",
))  # fmt: skip


def _key(table: str, key: Any) -> str:
    """A row's key for a message: the L1 address of a claimable row, else the column as is."""
    if table == "claimable" and isinstance(key, bytes):
        try:
            return f"L1 address {unpack(key)}"
        except ProtocolError:
            return "an unreadable L1 address"
    return f"{TABLES[table][0]} {key}"


def _row_sum(table: str, values: tuple | list) -> bytes:
    """SHA-256 of a row: its table and its columns (msgpack each, length-prefixed)."""
    return checksum(table.encode(), *[pack(v) for v in values])
