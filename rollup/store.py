"""The sequencer's store: one SQLite file in WAL mode, blobs in msgpack.

Tables: ``meta`` (params, genesis, global state, head batch, priority requests consumed),
``mempool`` (accepted signed transactions, in arrival order), ``accounts`` (leaf preimages,
``codec.account_to_bytes``),
``nodes`` (non-default tree nodes, 32 bytes little-endian, keyed by the integer
``level << 32 | index``: the table's own rowid, so a write touches one B-tree), ``batches``
(sealed batches: roots, pubdata, witness, rejections, and the batch's *delta*: the accounts and
tree nodes it changed), ``proofs``.  ``accept`` commits one mempool row before returning, so an
accepted transaction survives a crash; ``write_batch`` writes a whole sealed batch — the batch
row with its delta, global state and the removal of its mempool rows — in one SQL transaction,
so a crash leaves either the whole batch or none; ``write_batches`` writes several consecutive
batches in one transaction the same way (one fsync for the group).

Integrity (format 6): every blob a later step trusts — a batch's new root, pubdata, witness,
rejections, mempool sequence numbers and delta, a proof, a mempool transaction — is stored with a
16-byte BLAKE2b digest personalised with its table, column and row key (so a blob moved to another
row fails too), and checked on every read: a bit flip is a ``StoreError`` naming the batch, never a
batch sealed on corrupted state or a proof that fails later. ``load_state`` also checks the state
it assembled against the last batch's stored root. A store is opened only if it exists: creating
one is explicit (``create=True``, at genesis or by ``restore``), so a lost or emptied file is an
error, never a silent fresh start; SQLite's own errors (a truncated or overwritten file) become
``StoreError`` too.

The ``accounts`` and ``nodes`` tables hold the state after batch ``compacted − 1`` (a meta key);
the deltas of batches ``compacted .. head − 1`` complete it (``load_state`` replays them).  Every
``COMPACT_EVERY`` batches, inside that batch's transaction, the pending deltas are merged (last
write wins) and written to the tables in key order, and ``compacted`` moves to the head.  A
batch therefore costs one row, not one row per changed node: the top levels of the tree, which
every batch rewrites, reach the table once per ``COMPACT_EVERY`` batches (at D = 16, a batch of
8 trades changes ~230 nodes; writing them as rows was a third of sealing).
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from protocol.spec import Market, RollupParams
from rollup.account import Account, GlobalState
from rollup.codec import (
    RowChanges,
    account_from_bytes,
    account_to_bytes,
    batch_from_list,
    batch_to_list,
    delta_merge,
    delta_to_bytes,
    felts_from_bytes,
    felts_to_bytes,
    pack,
    tx_from_bytes,
    tx_to_bytes,
    unpack,
)
from rollup.errors import StoreError
from rollup.hashing import PoseidonBackend
from rollup.state import RollupState
from rollup.tx import Tx
from rollup.witness import BatchWitness

#: 4: batch deltas, tx blobs; 5: protocol v2 leaf layouts; 6: checksums; 7: checksummed meta;
#: 8: oracle updates chained (their previous time in the transaction)
STORE_FORMAT: int = 8
COMPACT_EVERY: int = 64  #: batches between merges of the deltas into accounts / nodes
NODE_INDEX_BITS: int = 32  #: a node's row key is level << 32 | index (index < 2^depth ≤ 2^32)
NODE_INDEX_MASK: int = (1 << NODE_INDEX_BITS) - 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mempool (seq INTEGER PRIMARY KEY AUTOINCREMENT, tx BLOB NOT NULL,
                                    sum BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (key INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (number INTEGER PRIMARY KEY, new_root BLOB NOT NULL,
                                    pubdata BLOB NOT NULL, witness BLOB NOT NULL,
                                    rejected BLOB NOT NULL, mempool_seqs BLOB NOT NULL,
                                    delta BLOB NOT NULL, sums BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS proofs (number INTEGER PRIMARY KEY, proof BLOB NOT NULL,
                                   sum BLOB NOT NULL);
"""


#: the checksummed columns of a batch row, in the order of their digests in ``sums``
BATCH_BLOBS: tuple[str, ...] = (
    "new_root",
    "pubdata",
    "witness",
    "rejected",
    "mempool_seqs",
    "delta",
)
DIGEST_SIZE: int = 16

T = TypeVar("T")

#: one batch's ``write_batch`` arguments: (batch, accounts, global state, nodes, mempool
#: sequence numbers used, rejected (seq, reason), priority requests consumed)
BatchWrite = tuple[
    BatchWitness,
    dict[int, Account | None],
    GlobalState,
    dict[tuple[int, int], int | None],
    list[int],
    list[tuple[int, str]],
    int,
]


def digest(table: str, column: str, key: int, blob: bytes) -> bytes:
    """BLAKE2b-128 of ``blob`` personalised with where it is stored (table, column, row key)."""
    h = hashlib.blake2b(blob, digest_size=DIGEST_SIZE, person=f"zkr.{table}"[:16].encode())
    h.update(f"|{column}|{key}".encode())
    return h.digest()


def _guard(method: Callable[..., T]) -> Callable[..., T]:
    """SQLite's errors (a truncated, overwritten or unreadable file) as one-line StoreErrors."""

    @functools.wraps(method)
    def guarded(self: Store, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as e:
            raise StoreError(detail=f"{self.path} is damaged or unreadable ({e})") from None

    return guarded


def params_to_list(p: RollupParams) -> list:
    return [p.depth, p.batch_slots, [list(vars(m).values()) for m in p.markets]]


def params_from_list(d: list) -> RollupParams:
    return RollupParams(d[0], d[1], tuple(Market(*m) for m in d[2]))


class Store:
    """SQLite persistence of one sequencer."""

    def __init__(self, path: str | Path, create: bool = False) -> None:
        """Open the store at ``path``; only ``create=True`` may make a new (empty) one."""
        self.path = Path(path)
        if not create:
            if not self.path.exists():
                raise StoreError(detail=f"{self.path} does not exist")
            if self.path.stat().st_size == 0 and not _wal(self.path).exists():
                raise StoreError(detail=f"{self.path} is empty")
        try:
            self._open(create)
        except sqlite3.DatabaseError as e:
            self.close()
            raise StoreError(detail=f"{self.path} is damaged or unreadable ({e})") from None
        except StoreError:
            self.close()
            raise

    def _open(self, create: bool) -> None:
        uri = f"file:{self.path}?mode={'rwc' if create else 'rw'}"
        self.db = sqlite3.connect(uri, uri=True, isolation_level=None)
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        if not create and "meta" not in tables:
            raise StoreError(detail=f"{self.path} is not a sequencer store (no meta table)")
        if "meta" in tables and self._has("params"):
            found = self._format()
            if found != STORE_FORMAT:
                raise StoreError(
                    detail=f"{self.path} is store format {found}, this zkrollup reads format "
                    f"{STORE_FORMAT} (checksummed blobs and records): restore it from the "
                    "settlement layer"
                )
        elif not create:
            raise StoreError(detail=f"{self.path} is not initialised")
        self.db.execute("PRAGMA journal_mode=WAL")  # only now: it rewrites the file header
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    # -- meta ----------------------------------------------------------------------------------
    @_guard
    def get(self, key: str) -> Any:
        """A meta value (head, global state, queue position …), its checksum checked."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        blob, stored = row[0][:-DIGEST_SIZE], row[0][-DIGEST_SIZE:]
        if digest("meta", "value", key, blob) != stored:  # type: ignore[arg-type]
            raise StoreError(
                detail=f"{self.path}: its {key!r} record fails its checksum (the file was altered "
                "or damaged)"
            )
        return unpack(blob)

    def _put(self, key: str, value: Any) -> None:
        blob = pack(value)
        sealed = blob + digest("meta", "value", key, blob)  # type: ignore[arg-type]
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, sealed))

    def _has(self, key: str) -> bool:
        return self.db.execute("SELECT 1 FROM meta WHERE key = ?", (key,)).fetchone() is not None

    def _format(self) -> int:
        """The store's format: checksummed (format ≥ 7), else the bare record of before."""
        try:
            return self.get("format") or 1
        except StoreError:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            try:
                found = unpack(row[0])
            except Exception:
                raise StoreError(detail=f"{self.path}: its format record is damaged") from None
            if isinstance(found, int) and 0 < found < STORE_FORMAT:
                return found
            raise

    @_guard
    def initialise(self, params: RollupParams, genesis: GlobalState) -> None:
        """Record the rollup's shape and genesis (once); reopening with another shape fails."""
        stored = self.get("params")
        if stored is not None:
            if stored != params_to_list(params) or self.get("genesis") != genesis.to_list():
                raise StoreError(detail=f"{self.path} holds a rollup of another shape or genesis")
            return
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._put("format", STORE_FORMAT)
            self._put("params", params_to_list(params))
            self._put("genesis", genesis.to_list())
            self._put("global", genesis.to_list())
            self._put("head", 0)
            self._put("compacted", 0)
            self._put("priority_consumed", 0)

    def params(self) -> RollupParams:
        stored = self.get("params")
        if stored is None:
            raise StoreError(detail=f"{self.path} is not initialised")
        return params_from_list(stored)

    def genesis(self) -> GlobalState:
        return GlobalState.from_list(self.get("genesis"))

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read in the block from one snapshot of the file: a read transaction (WAL),
        so a batch another process commits meanwhile is either wholly seen or not at all (a
        no-op inside a transaction already open)."""
        if self.db.in_transaction:
            yield
            return
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    @_guard
    def load_state(self, backend: PoseidonBackend | str | None = None) -> RollupState:
        """The state after the last written batch: the tables, then the uncompacted deltas
        (hashed on ``backend``, default the best available), read in one snapshot; StoreError
        if it does not give the last batch's stored root."""
        with self.snapshot():
            state = self._assemble(backend)
            head = self.head()
            restored = self.get("restored")  # [head, root] of a store written by ``restore``
            if restored is not None and restored[0] == head:
                expected = restored[1]
            else:
                expected = self.root_after(head - 1) if head else state.root
        if state.root != expected:
            raise StoreError(
                detail=f"{self.path}: the stored state does not give batch {head - 1}'s root "
                "(its tables or global state were altered)"
            )
        return state

    def root_after(self, number: int) -> int:
        """The stored (checked) new root of batch ``number``."""
        row = self.db.execute("SELECT new_root FROM batches WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise StoreError(detail=f"{self.path}: batch {number} is missing from the store")
        return felts_from_bytes(self._checked_batch(number, {"new_root": row[0]})["new_root"])[0]

    def _assemble(self, backend: PoseidonBackend | str | None) -> RollupState:
        params = self.params()
        state = RollupState(params, GlobalState.from_list(self.get("global")), backend=backend)
        accounts, nodes = self._pending(self.get("compacted"), self.head())
        for idx, data in self.db.execute("SELECT idx, data FROM accounts"):
            if idx not in accounts:
                state.accounts[idx] = account_from_bytes(data)
        for idx, data in accounts.items():
            if data is not None:
                state.accounts[idx] = account_from_bytes(data)
        tree = state.tree.nodes
        for key, h in self.db.execute("SELECT key, hash FROM nodes"):
            tree[(key >> NODE_INDEX_BITS, key & NODE_INDEX_MASK)] = int.from_bytes(h, "little")
        for key, h in nodes.items():
            at = (key >> NODE_INDEX_BITS, key & NODE_INDEX_MASK)
            if h is None:
                tree.pop(at, None)
            else:
                tree[at] = int.from_bytes(h, "little")
        return state

    def _pending(self, lo: int, hi: int) -> tuple[RowChanges, RowChanges]:
        """The merged deltas of batches lo..hi−1 (account rows, node rows; None: delete)."""
        accounts: RowChanges = {}
        nodes: RowChanges = {}
        rows = self.db.execute(
            "SELECT number, delta, sums FROM batches WHERE number >= ? AND number < ? "
            "ORDER BY number",
            (lo, hi),
        )
        expected = lo
        for number, blob, sums in rows:
            if number != expected:
                raise StoreError(detail=f"{self.path}: batch {expected} is missing from the store")
            self._verify("batches", "delta", number, blob, _digest_of(sums, "delta"))
            try:
                delta_merge(blob, accounts, nodes)
            except (ValueError, TypeError) as e:
                detail = f"{self.path}: batch {number}'s delta is corrupt: {e}"
                raise StoreError(detail=detail) from None
            expected += 1
        if expected != hi:
            raise StoreError(detail=f"{self.path}: batch {expected} is missing from the store")
        return accounts, nodes

    def _compact(self, through: int) -> None:
        """Merge the deltas of batches compacted..through−1 into the tables (in the caller's
        transaction), in key order; ``compacted`` becomes ``through``."""
        accounts, nodes = self._pending(self.get("compacted"), through)
        for table, key, rows in (("accounts", "idx", accounts), ("nodes", "key", nodes)):
            order = sorted(rows)
            self.db.executemany(
                f"DELETE FROM {table} WHERE {key} = ?", [(k,) for k in order if rows[k] is None]
            )
            self.db.executemany(
                f"INSERT OR REPLACE INTO {table} VALUES (?, ?)",
                [(k, rows[k]) for k in order if rows[k] is not None],
            )
        self._put("compacted", through)

    @_guard
    def compact(self) -> None:
        """Merge every uncompacted batch delta into the tables now (one SQL transaction)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._compact(self.head())

    # -- mempool -------------------------------------------------------------------------------
    @_guard
    def accept(self, tx: Tx) -> int:
        """Persist an accepted transaction (committed before returning); returns its sequence."""
        return self.accept_many([tx])[0]

    @_guard
    def accept_many(self, txs: Sequence[Tx]) -> list[int]:
        """Persist accepted transactions in ONE SQL transaction (all or none: an oracle update
        and its marks); returns their sequences, in order."""
        seqs = []
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for tx in txs:
                blob = tx_to_bytes(tx)
                cur = self.db.execute("INSERT INTO mempool (tx, sum) VALUES (?, x'')", (blob,))
                seq = cur.lastrowid
                self.db.execute(
                    "UPDATE mempool SET sum = ? WHERE seq = ?",
                    (digest("mempool", "tx", seq, blob), seq),
                )
                seqs.append(seq)
        return seqs

    @_guard
    def mempool(self) -> list[tuple[int, Tx]]:
        rows = self.db.execute("SELECT seq, tx, sum FROM mempool ORDER BY seq")
        out = []
        for seq, tx, checksum in rows:
            self._verify("mempool", "tx", seq, tx, checksum, f"mempool transaction #{seq}")
            out.append((seq, tx_from_bytes(tx)))
        return out

    # -- checksums -----------------------------------------------------------------------------
    def _verify(
        self, table: str, column: str, key: int, blob: bytes, stored: bytes, what: str = ""
    ) -> None:
        if digest(table, column, key, blob) != stored:
            what = what or f"batch {key}'s {column.replace('_', ' ')}"
            raise StoreError(
                detail=f"{self.path}: {what} fails its checksum (the file was altered or damaged)"
            )

    def _checked_batch(self, number: int, blobs: dict[str, bytes]) -> dict[str, bytes]:
        """``blobs`` (column → blob of batch ``number``) after checking each against ``sums``."""
        row = self.db.execute("SELECT sums FROM batches WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise StoreError(detail=f"no batch {number}")
        for column, blob in blobs.items():
            self._verify("batches", column, number, blob, _digest_of(row[0], column))
        return blobs

    # -- batches -------------------------------------------------------------------------------
    @_guard
    def write_batch(
        self,
        batch: BatchWitness,
        accounts: dict[int, Account | None],
        global_state: GlobalState,
        nodes: dict[tuple[int, int], int | None],
        mempool_seqs: list[int],
        rejected: list[tuple[int, str]],
        priority_consumed: int,
    ) -> None:
        """Everything a sealed batch changes, in one SQL transaction: the accounts it changed
        (None: back to empty), the tree nodes it wrote (the tree's ``take_dirty``), the global
        state after it, its mempool rows removed.  On any error nothing is written."""
        self.write_batches(
            [(batch, accounts, global_state, nodes, mempool_seqs, rejected, priority_consumed)]
        )

    @_guard
    def write_batches(self, writes: Sequence[BatchWrite]) -> None:
        """Consecutive sealed batches, each as ``write_batch`` writes it, in ONE SQL transaction
        (group commit: one fsync for all of them); on any error none of them is written."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for write in writes:
                self._write_batch(write)

    def _write_batch(self, write: BatchWrite) -> None:
        """One batch's rows, inside the caller's transaction."""
        batch, accounts, global_state, nodes, mempool_seqs, rejected, priority_consumed = write
        if self.get("head") != batch.number:
            raise StoreError(
                detail=f"batch {batch.number} is not the next (head {self.get('head')})"
            )
        rows = {i: None if a is None else account_to_bytes(a) for i, a in accounts.items()}
        delta = delta_to_bytes(rows, {lv << NODE_INDEX_BITS | i: h for (lv, i), h in nodes.items()})
        gone = mempool_seqs + [seq for seq, _ in rejected]
        self.db.executemany("DELETE FROM mempool WHERE seq = ?", [(s,) for s in gone])
        blobs = (
            felts_to_bytes((batch.new_root,)), felts_to_bytes(batch.pubdata),
            pack(batch_to_list(batch)), pack(rejected), pack(mempool_seqs), delta,
        )  # fmt: skip
        sums = b"".join(
            digest("batches", c, batch.number, b) for c, b in zip(BATCH_BLOBS, blobs, strict=True)
        )
        self.db.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (batch.number, *blobs, sums)
        )
        self._put("global", global_state.to_list())
        self._put("head", batch.number + 1)
        self._put("priority_consumed", priority_consumed)
        if batch.number + 1 - self.get("compacted") >= COMPACT_EVERY:
            self._compact(batch.number + 1)

    def head(self) -> int:
        return self.get("head")

    @_guard
    def batch(self, number: int) -> BatchWitness:
        row = self.db.execute(
            "SELECT witness, sums FROM batches WHERE number = ?", (number,)
        ).fetchone()
        if row is None:
            raise StoreError(detail=f"no batch {number}")
        self._verify("batches", "witness", number, row[0], _digest_of(row[1], "witness"))
        return batch_from_list(unpack(row[0]))

    @_guard
    def batches(self) -> list[tuple[int, list[int], int]]:
        """(number, pubdata, new_root) of every sealed batch, in order."""
        rows = self.db.execute(
            "SELECT number, pubdata, new_root, sums FROM batches ORDER BY number"
        )
        out = []
        for n, p, r, sums in rows:
            self._verify("batches", "pubdata", n, p, _digest_of(sums, "pubdata"))
            self._verify("batches", "new_root", n, r, _digest_of(sums, "new_root"))
            out.append((n, list(felts_from_bytes(p)), felts_from_bytes(r)[0]))
        return out

    @_guard
    def rejected(self, number: int) -> list[tuple[int, str]]:
        row = self.db.execute(
            "SELECT rejected, sums FROM batches WHERE number = ?", (number,)
        ).fetchone()
        if row is None:
            return []
        self._verify("batches", "rejected", number, row[0], _digest_of(row[1], "rejected"))
        return [tuple(x) for x in unpack(row[0])]

    @_guard
    def batch_mempool_seqs(self) -> set[int]:
        out: set[int] = set()
        for n, data, sums in self.db.execute("SELECT number, mempool_seqs, sums FROM batches"):
            self._verify("batches", "mempool_seqs", n, data, _digest_of(sums, "mempool_seqs"))
            out.update(unpack(data))
        return out

    # -- proofs --------------------------------------------------------------------------------
    @_guard
    def put_proof(self, number: int, proof: Any) -> None:
        """Store batch ``number``'s proof in its own transaction (committed before returning)."""
        blob = pack(proof)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT OR REPLACE INTO proofs VALUES (?, ?, ?)",
                (number, blob, digest("proofs", "proof", number, blob)),
            )

    @_guard
    def proof(self, number: int) -> Any:
        row = self.db.execute(
            "SELECT proof, sum FROM proofs WHERE number = ?", (number,)
        ).fetchone()
        if row is None:
            return None
        self._verify("proofs", "proof", number, row[0], row[1], f"batch {number}'s proof")
        return unpack(row[0])

    @_guard
    def proven(self) -> set[int]:
        """The numbers of the batches that have a stored proof (not checked: see ``proof``)."""
        return {n for (n,) in self.db.execute("SELECT number FROM proofs")}

    # -- restore -------------------------------------------------------------------------------
    @classmethod
    def restore(
        cls,
        path: str | Path,
        state: RollupState,
        genesis: GlobalState,
        head: int,
        priority_consumed: int,
    ) -> Store:
        """A new store at ``path`` (which must not exist) holding ``state`` as the state after
        batch ``head − 1`` — e.g. the settled state rebuilt from published pubdata — with no
        batch rows: the sequencer seals batch ``head`` next. One SQL transaction."""
        if Path(path).exists():
            raise StoreError(detail=f"{path} exists: restore writes a new store only")
        store = cls(path, create=True)
        try:
            with store.db:
                store.db.execute("BEGIN IMMEDIATE")
                store._put("format", STORE_FORMAT)
                store._put("params", params_to_list(state.params))
                store._put("genesis", genesis.to_list())
                store._put("global", state.global_state.to_list())
                store._put("head", head)
                store._put("compacted", head)
                store._put("priority_consumed", priority_consumed)
                store._put("restored", [head, state.root])
                store.db.executemany(
                    "INSERT INTO accounts VALUES (?, ?)",
                    [(i, account_to_bytes(a)) for i, a in sorted(state.accounts.items())],
                )
                store.db.executemany(
                    "INSERT INTO nodes VALUES (?, ?)",
                    [
                        (lv << NODE_INDEX_BITS | i, h.to_bytes(32, "little"))
                        for (lv, i), h in sorted(state.tree.nodes.items())
                    ],
                )
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        db = getattr(self, "db", None)
        if db is not None:
            db.close()


def _wal(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _digest_of(sums: bytes, column: str) -> bytes:
    """The stored digest of ``column`` in a batch row's ``sums``."""
    k = BATCH_BLOBS.index(column) * DIGEST_SIZE
    return bytes(sums[k : k + DIGEST_SIZE])
