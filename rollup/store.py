"""The sequencer's store: one SQLite file in WAL mode (DESIGN §7), blobs in msgpack.

Tables: ``meta`` (params, genesis, global state, head batch, priority requests consumed),
``mempool`` (accepted signed transactions, in arrival order), ``accounts`` (leaf preimages,
``codec.account_to_bytes``),
``nodes`` (non-default tree nodes, 32 bytes little-endian, keyed by the integer
``level << 32 | index``: the table's own rowid, so a write touches one B-tree), ``batches``
(sealed batches: roots, pubdata, witness, rejections, and the batch's *delta*: the accounts and
tree nodes it changed), ``proofs``.  ``accept`` commits one mempool row before returning, so an
accepted transaction survives a crash; ``write_batch`` writes a whole sealed batch — the batch
row with its delta, global state and the removal of its mempool rows — in one SQL transaction,
so a crash leaves either the whole batch or none.

The ``accounts`` and ``nodes`` tables hold the state after batch ``compacted − 1`` (a meta key);
the deltas of batches ``compacted .. head − 1`` complete it (``load_state`` replays them).  Every
``COMPACT_EVERY`` batches, inside that batch's transaction, the pending deltas are merged (last
write wins) and written to the tables in key order, and ``compacted`` moves to the head.  A
batch therefore costs one row, not one row per changed node: the top levels of the tree, which
every batch rewrites, reach the table once per ``COMPACT_EVERY`` batches (at D = 16, a batch of
8 trades changes ~230 nodes; writing them as rows was a third of sealing).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

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

STORE_FORMAT: int = 4  #: 2: node blobs; 3: integer blobs, node keys; 4: batch deltas, tx blobs
COMPACT_EVERY: int = 64  #: batches between merges of the deltas into accounts / nodes
NODE_INDEX_BITS: int = 32  #: a node's row key is level << 32 | index (index < 2^depth ≤ 2^32)
NODE_INDEX_MASK: int = (1 << NODE_INDEX_BITS) - 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mempool (seq INTEGER PRIMARY KEY AUTOINCREMENT, tx BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (key INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (number INTEGER PRIMARY KEY, new_root BLOB NOT NULL,
                                    pubdata BLOB NOT NULL, witness BLOB NOT NULL,
                                    rejected BLOB NOT NULL, mempool_seqs BLOB NOT NULL,
                                    delta BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS proofs (number INTEGER PRIMARY KEY, proof BLOB NOT NULL);
"""


def params_to_list(p: RollupParams) -> list:
    return [p.depth, p.batch_slots, [list(vars(m).values()) for m in p.markets]]


def params_from_list(d: list) -> RollupParams:
    return RollupParams(d[0], d[1], tuple(Market(*m) for m in d[2]))


class Store:
    """SQLite persistence of one sequencer."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        if self.get("params") is not None and self.get("format") != STORE_FORMAT:
            found = self.get("format") or 1
            self.db.close()
            raise StoreError(
                detail=f"{self.path} is store format {found}, this zkrollup reads format "
                f"{STORE_FORMAT} (per-batch deltas of accounts and tree nodes): "
                "re-create it (zkr init) or rebuild from the settlement layer"
            )

    # -- meta ----------------------------------------------------------------------------------
    def get(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else unpack(row[0])

    def _put(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, pack(value)))

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

    def load_state(self, backend: PoseidonBackend | str | None = None) -> RollupState:
        """The state after the last written batch: the tables, then the uncompacted deltas
        (hashed on ``backend``, default the best available)."""
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
            "SELECT number, delta FROM batches WHERE number >= ? AND number < ? ORDER BY number",
            (lo, hi),
        )
        expected = lo
        for number, blob in rows:
            if number != expected:
                raise StoreError(detail=f"{self.path}: batch {expected} is missing from the store")
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

    def compact(self) -> None:
        """Merge every uncompacted batch delta into the tables now (one SQL transaction)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self._compact(self.head())

    # -- mempool -------------------------------------------------------------------------------
    def accept(self, tx: Tx) -> int:
        """Persist an accepted transaction (committed before returning); returns its sequence."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute("INSERT INTO mempool (tx) VALUES (?)", (tx_to_bytes(tx),))
        return cur.lastrowid

    def mempool(self) -> list[tuple[int, Tx]]:
        rows = self.db.execute("SELECT seq, tx FROM mempool ORDER BY seq")
        return [(seq, tx_from_bytes(tx)) for seq, tx in rows]

    # -- batches -------------------------------------------------------------------------------
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
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if self.get("head") != batch.number:
                raise StoreError(
                    detail=f"batch {batch.number} is not the next (head {self.get('head')})"
                )
            rows = {i: None if a is None else account_to_bytes(a) for i, a in accounts.items()}
            delta = delta_to_bytes(
                rows, {lv << NODE_INDEX_BITS | i: h for (lv, i), h in nodes.items()}
            )
            gone = mempool_seqs + [seq for seq, _ in rejected]
            self.db.executemany("DELETE FROM mempool WHERE seq = ?", [(s,) for s in gone])
            self.db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    batch.number, felts_to_bytes((batch.new_root,)), felts_to_bytes(batch.pubdata),
                    pack(batch_to_list(batch)), pack(rejected), pack(mempool_seqs), delta,
                ),
            )  # fmt: skip
            self._put("global", global_state.to_list())
            self._put("head", batch.number + 1)
            self._put("priority_consumed", priority_consumed)
            if batch.number + 1 - self.get("compacted") >= COMPACT_EVERY:
                self._compact(batch.number + 1)

    def head(self) -> int:
        return self.get("head")

    def batch(self, number: int) -> BatchWitness:
        row = self.db.execute("SELECT witness FROM batches WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise StoreError(detail=f"no batch {number}")
        return batch_from_list(unpack(row[0]))

    def batches(self) -> list[tuple[int, list[int], int]]:
        """(number, pubdata, new_root) of every sealed batch, in order."""
        rows = self.db.execute("SELECT number, pubdata, new_root FROM batches ORDER BY number")
        return [(n, list(felts_from_bytes(p)), felts_from_bytes(r)[0]) for n, p, r in rows]

    def rejected(self, number: int) -> list[tuple[int, str]]:
        row = self.db.execute("SELECT rejected FROM batches WHERE number = ?", (number,)).fetchone()
        return [] if row is None else [tuple(x) for x in unpack(row[0])]

    def batch_mempool_seqs(self) -> set[int]:
        out: set[int] = set()
        for (data,) in self.db.execute("SELECT mempool_seqs FROM batches"):
            out.update(unpack(data))
        return out

    # -- proofs --------------------------------------------------------------------------------
    def put_proof(self, number: int, proof: Any) -> None:
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("INSERT OR REPLACE INTO proofs VALUES (?, ?)", (number, pack(proof)))

    def proof(self, number: int) -> Any:
        row = self.db.execute("SELECT proof FROM proofs WHERE number = ?", (number,)).fetchone()
        return None if row is None else unpack(row[0])

    def close(self) -> None:
        self.db.close()
