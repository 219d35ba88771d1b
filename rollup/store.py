"""The sequencer's store: one SQLite file in WAL mode (DESIGN §7), blobs in msgpack.

Tables: ``meta`` (params, genesis, global state, head batch, priority requests consumed),
``mempool`` (accepted signed transactions, in arrival order), ``accounts`` (leaf preimages,
``codec.account_to_bytes``),
``nodes`` (non-default tree nodes, 32 bytes little-endian, keyed by the integer
``level << 32 | index``: the table's own rowid, so a write touches one B-tree), ``batches``
(sealed batches: roots, pubdata, witness, rejections), ``proofs``.  ``accept`` commits one
mempool row before returning, so an accepted transaction survives a crash; ``write_batch``
writes a whole sealed batch — tree nodes, accounts, global state, the batch row and the removal
of its mempool rows — in one SQL transaction, so a crash leaves either the whole batch or none.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from rollup.account import GlobalState
from rollup.codec import (
    account_from_bytes,
    account_to_bytes,
    batch_from_list,
    batch_to_list,
    felts_from_bytes,
    felts_to_bytes,
    pack,
    unpack,
)
from rollup.errors import StoreError
from rollup.params import Market, RollupParams
from rollup.state import RollupState
from rollup.tx import Tx, tx_from_list, tx_to_list
from rollup.witness import BatchWitness

STORE_FORMAT: int = 3  #: 2: nodes as 32-byte blobs, no stored roots; 3: integer blobs, node keys
NODE_INDEX_BITS: int = 32  #: a node's row key is level << 32 | index (index < 2^depth ≤ 2^32)
NODE_INDEX_MASK: int = (1 << NODE_INDEX_BITS) - 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mempool (seq INTEGER PRIMARY KEY AUTOINCREMENT, tx BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (key INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS batches (number INTEGER PRIMARY KEY, new_root BLOB NOT NULL,
                                    pubdata BLOB NOT NULL, witness BLOB NOT NULL,
                                    rejected BLOB NOT NULL, mempool_seqs BLOB NOT NULL);
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
                f"{STORE_FORMAT} (witness fields as 32-byte-integer blobs, integer node keys): "
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
            self._put("priority_consumed", 0)

    def params(self) -> RollupParams:
        stored = self.get("params")
        if stored is None:
            raise StoreError(detail=f"{self.path} is not initialised")
        return params_from_list(stored)

    def genesis(self) -> GlobalState:
        return GlobalState.from_list(self.get("genesis"))

    def load_state(self) -> RollupState:
        """The state after the last written batch."""
        params = self.params()
        state = RollupState(params, GlobalState.from_list(self.get("global")))
        for idx, data in self.db.execute("SELECT idx, data FROM accounts"):
            state.accounts[idx] = account_from_bytes(data)
        for key, h in self.db.execute("SELECT key, hash FROM nodes"):
            state.tree.nodes[(key >> NODE_INDEX_BITS, key & NODE_INDEX_MASK)] = int.from_bytes(
                h, "little"
            )
        return state

    # -- mempool -------------------------------------------------------------------------------
    def accept(self, tx: Tx) -> int:
        """Persist an accepted transaction (committed before returning); returns its sequence."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute("INSERT INTO mempool (tx) VALUES (?)", (pack(tx_to_list(tx)),))
        return cur.lastrowid

    def mempool(self) -> list[tuple[int, Tx]]:
        rows = self.db.execute("SELECT seq, tx FROM mempool ORDER BY seq")
        return [(seq, tx_from_list(unpack(tx))) for seq, tx in rows]

    # -- batches -------------------------------------------------------------------------------
    def write_batch(
        self,
        batch: BatchWitness,
        state: RollupState,
        touched: set[int],
        nodes: dict[tuple[int, int], int | None],
        mempool_seqs: list[int],
        rejected: list[tuple[int, str]],
        priority_consumed: int,
    ) -> None:
        """Everything a sealed batch changes, in one SQL transaction."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            if self.get("head") != batch.number:
                raise StoreError(
                    detail=f"batch {batch.number} is not the next (head {self.get('head')})"
                )
            accounts = {idx: state.accounts.get(idx) for idx in touched}
            self.db.executemany(
                "DELETE FROM accounts WHERE idx = ?",
                [(idx,) for idx, a in accounts.items() if a is None],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO accounts VALUES (?, ?)",
                [(idx, account_to_bytes(a)) for idx, a in accounts.items() if a is not None],
            )
            self.db.executemany(
                "DELETE FROM nodes WHERE key = ?",
                [(lv << NODE_INDEX_BITS | i,) for (lv, i), h in nodes.items() if h is None],
            )
            written = [
                (lv << NODE_INDEX_BITS | i, h.to_bytes(32, "little"))
                for (lv, i), h in nodes.items()
                if h is not None
            ]
            self.db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?)", written)
            gone = mempool_seqs + [seq for seq, _ in rejected]
            self.db.executemany("DELETE FROM mempool WHERE seq = ?", [(s,) for s in gone])
            self.db.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?)",
                (
                    batch.number, felts_to_bytes((batch.new_root,)), felts_to_bytes(batch.pubdata),
                    pack(batch_to_list(batch)), pack(rejected), pack(mempool_seqs),
                ),
            )  # fmt: skip
            self._put("global", state.global_state.to_list())
            self._put("head", batch.number + 1)
            self._put("priority_consumed", priority_consumed)

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
