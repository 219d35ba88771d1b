"""The settlement layer's SQLite store: one row per fact, every change in one write transaction.

Tables (WAL journal, ``synchronous=FULL``)::

    meta        key → msgpack value   (format, config, root, batches, vault, frozen, next_id, …)
    queue       id, kind, fields, batch, time, slack, fee, payer      (pending priority requests)
    claimable   L1 address → quanta
    forced      account → pending forced-withdrawal request id
    nonces      account → the next forced-request nonce
    escaped     account
    batches     number, pubdata, new_root, proof, time, checksum

``transaction()`` opens ``BEGIN IMMEDIATE``: a second writer (thread or process) waits for the
first to commit and then reads its result, so no read-modify-write can lose another's update; any
exception rolls the whole operation back. Integers of any size are msgpack blobs
(``protocol.codec``); each published batch row carries a SHA-256 of its columns, checked on read.
A missing or empty database is never silently recreated: ``create=True`` is the only way to make
one, and opening a store of another format or another genesis is refused.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from protocol.codec import pack, unpack
from protocol.errors import ProtocolError

L1_FORMAT: int = 2  #: 2: the meta records (root, vault, frozen …) carry a checksum

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,
    fields BLOB NOT NULL, batch INTEGER NOT NULL, time REAL NOT NULL,
    slack INTEGER NOT NULL, fee BLOB NOT NULL, payer BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS claimable (address BLOB PRIMARY KEY, amount BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS forced (account INTEGER PRIMARY KEY, request INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (account INTEGER PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS escaped (account INTEGER PRIMARY KEY);
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
            elif self.get("format") != L1_FORMAT:
                raise StoreCorruptError(f"{path} is not a settlement store of format {L1_FORMAT}")
        except sqlite3.DatabaseError as e:
            self.db.close()
            raise StoreCorruptError(f"settlement store {path}: {e}") from None
        except StoreCorruptError:
            self.db.close()
            raise

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

    # -- claimable ---------------------------------------------------------------------------------
    def claimable(self, address: int) -> int:
        rows = self.query("SELECT amount FROM claimable WHERE address = ?", (pack(address),))
        return unpack(rows[0][0]) if rows else 0

    def credit(self, address: int, amount: int) -> None:
        if amount:
            total = self.claimable(address) + amount
            self.db.execute(
                "INSERT OR REPLACE INTO claimable VALUES (?, ?)", (pack(address), pack(total))
            )

    def total_claimable(self) -> int:
        return sum(unpack(a) for (a,) in self.query("SELECT amount FROM claimable"))

    def take_claimable(self, address: int) -> int:
        amount = self.claimable(address)
        self.db.execute("DELETE FROM claimable WHERE address = ?", (pack(address),))
        return amount

    # -- queue -----------------------------------------------------------------------------------
    def queue(self) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT id, kind, fields, batch, time, slack, fee, payer FROM queue ORDER BY id"
        )
        try:
            return [
                {"id": i, "kind": k, "fields": list(unpack(f)), "batch": b, "time": t,
                 "slack": s, "fee": unpack(fee), "payer": unpack(p)}
                for i, k, f, b, t, s, fee, p in rows
            ]  # fmt: skip
        except ProtocolError as e:
            raise StoreCorruptError(f"settlement store {self.path}: queue: {e}") from None

    def enqueue(self, rid: int, kind: int, fields: list[int], batch: int, time: float,
                fee: int, payer: int) -> None:  # fmt: skip
        self.db.execute(
            "INSERT INTO queue VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            (rid, kind, pack(fields), batch, time, pack(fee), pack(payer)),
        )

    # -- batches ---------------------------------------------------------------------------------
    def add_batch(self, number: int, pubdata: list[int], new_root: int, proof: Any,
                  time: float) -> None:  # fmt: skip
        cols = (pack(pubdata), pack(new_root), pack(proof))
        self.db.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
            (number, *cols, time, checksum(*cols)),
        )

    def batches(self) -> list[tuple[int, list[int], int, Any]]:
        """(number, pubdata, new_root, proof) of every published batch, checksums verified."""
        rows = self.query(
            "SELECT number, pubdata, new_root, proof, checksum FROM batches ORDER BY number"
        )
        out = []
        for n, p, r, proof, digest in rows:
            if checksum(p, r, proof) != digest:
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
