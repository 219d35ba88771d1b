"""The store's blobs of accounts, global states, transactions, deltas and witnesses, on
``protocol.codec`` (msgpack with big integers; ``felts_to_bytes`` blobs for field elements).

In a witness, accounts, global states, Merkle paths, messages and pubdata chunks are each one
blob of 32-byte little-endian two's-complement integers (``felts_to_bytes``): a sealed batch of
8 trades has ~270 large integers, and one msgpack ext callback each was a third of sealing."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from protocol.codec import felts_from_bytes, felts_to_bytes, pack, unpack
from protocol.errors import CodecError
from protocol.leaf import MARKET_FIELDS, SERIES_FIELDS
from protocol.spec import MAX_SERIES, OPTION_SLOTS, ORDER_RECORDS
from rollup.account import (
    Account,
    GlobalState,
    MarketState,
    OptionPosition,
    OrderRecord,
    Position,
    SeriesState,
)
from rollup.tree import UpdateProof
from rollup.tx import Tx, tx_from_list, tx_to_list
from rollup.witness import BatchWitness, LeafUpdate, SlotWitness


def account_to_bytes(a: Account) -> bytes:
    """[pubkey_x, pubkey_y, nonce, order_floor, collateral, size_0, f_0, ..., id_0, filled_0, ...,
    slot_0, n_0, ...] as one blob (kept on the immutable object, like its leaf: a batch's witness
    names one account object ~1.6 times, and its delta once more)."""
    blob = a.__dict__.get("_blob")
    if blob is None:
        flat = [a.pubkey_x, a.pubkey_y, a.nonce, a.order_floor, a.collateral]
        for p in a.positions:
            flat += (p.size, p.funding_index)
        for o in a.orders:
            flat += (o.order_id, o.filled)
        for x in a.options:
            flat += (x.slot, x.size)
        blob = a.__dict__["_blob"] = felts_to_bytes(flat)
    return blob


def account_from_bytes(blob: bytes) -> Account:
    x, y, nonce, floor, collateral, *flat = felts_from_bytes(blob)
    tail = 2 * (ORDER_RECORDS + OPTION_SLOTS)
    split = len(flat) - tail
    if split < 0 or split % 2:
        raise CodecError(f"an account blob of {len(flat) + 5} elements")
    positions = tuple(Position(flat[i], flat[i + 1]) for i in range(0, split, 2))
    orders_end = split + 2 * ORDER_RECORDS
    orders = tuple(OrderRecord(flat[i], flat[i + 1]) for i in range(split, orders_end, 2))
    options = tuple(OptionPosition(flat[i], flat[i + 1]) for i in range(orders_end, len(flat), 2))
    return Account(x, y, nonce, floor, collateral, positions, orders, options)


def global_to_bytes(g: GlobalState) -> bytes:
    """[11 fields per market ..., 8 fields per series slot ..., oracle x, y, operator x, y,
    oracle time, insurance fund, domain, next series id] (kept on the immutable object: slot k's
    new global state is slot k + 1's old one)."""
    blob = g.__dict__.get("_blob")
    if blob is None:
        blob = _tables_to_bytes(g.markets, g.series) + felts_to_bytes(g.to_list()[2:])
        g.__dict__["_blob"] = blob
    return blob


@lru_cache(maxsize=64)
def _tables_to_bytes(markets: tuple[MarketState, ...], series: tuple[SeriesState, ...]) -> bytes:
    """The markets' and series slots' fields as one blob, memoised by value (a trade changes
    neither table, only the insurance fund)."""
    flat: list[int] = []
    for m in markets:
        flat += m.to_list()
    for s in series:
        flat += s.to_list()
    return felts_to_bytes(flat)


def tx_to_bytes(tx: Tx) -> bytes:
    """msgpack of ``tx_to_list`` (the mempool row), kept on the immutable transaction: packed
    once when it is accepted, reused in its batch's witness (signatures are the large integers
    that cost an ext callback each)."""
    blob = tx.__dict__.get("_blob")
    if blob is None:
        blob = tx.__dict__["_blob"] = pack(tx_to_list(tx))
    return blob


def tx_from_bytes(blob: bytes) -> Tx:
    tx = tx_from_list(unpack(blob))
    tx.__dict__["_blob"] = bytes(blob)
    return tx


def global_from_bytes(blob: bytes) -> GlobalState:
    flat = felts_from_bytes(blob)
    series_len = SERIES_FIELDS * MAX_SERIES
    n = len(flat) - series_len - 8
    if n <= 0 or n % MARKET_FIELDS:
        raise CodecError(f"a global-state blob of {len(flat)} elements")
    markets = tuple(MarketState(*flat[i : i + MARKET_FIELDS]) for i in range(0, n, MARKET_FIELDS))
    series = tuple(
        SeriesState(*flat[i : i + SERIES_FIELDS]) for i in range(n, n + series_len, SERIES_FIELDS)
    )
    return GlobalState(markets, series, *flat[n + series_len :])


RowChanges = dict[int, bytes | None]  #: row key → new row blob (None: the row is deleted)


def delta_to_bytes(accounts: RowChanges, nodes: dict[int, int | None]) -> bytes:
    """A batch's changes to the ``accounts`` rows (key → ``account_to_bytes`` or None) and the
    ``nodes`` rows (key → node value or None: back to default) as one msgpack blob:
    [account keys, account blobs or nil, node keys (int64 LE), node values (32 bytes LE each, in
    key order), deleted node keys (int64 LE)]."""
    written = [k for k, h in nodes.items() if h is not None]
    deleted = [k for k, h in nodes.items() if h is None]
    return pack([
        list(accounts), list(accounts.values()),
        np.array(written, dtype="<i8").tobytes(),
        b"".join([nodes[k].to_bytes(32, "little") for k in written]),  # type: ignore[union-attr]
        np.array(deleted, dtype="<i8").tobytes(),
    ])  # fmt: skip


def delta_merge(blob: bytes, accounts: RowChanges, nodes: RowChanges) -> None:
    """Apply one ``delta_to_bytes`` blob onto pending row changes (a later delta wins); node
    values stay 32-byte blobs (the ``nodes`` table's form).  A torn blob raises ValueError."""
    keys, blobs, written, values, deleted = unpack(blob)
    if len(keys) != len(blobs) or len(written) % 8 or len(deleted) % 8:
        raise ValueError("a batch delta with mismatched account or node key lists")
    if len(values) != 4 * len(written):
        n = len(written) // 8
        raise ValueError(f"a batch delta with {n} node keys and {len(values)} value bytes")
    accounts.update(zip(keys, blobs, strict=True))
    node_keys = np.frombuffer(written, dtype="<i8").tolist()
    chunks = [values[i : i + 32] for i in range(0, len(values), 32)]
    nodes.update(zip(node_keys, chunks, strict=True))
    nodes.update(dict.fromkeys(np.frombuffer(deleted, dtype="<i8").tolist()))


def slot_to_list(w: SlotWitness) -> list:
    """A slot witness with every account, global state and Merkle path as one blob each (the
    transaction and its effect dict stay msgpack lists / maps)."""
    updates = [
        [
            account_to_bytes(u.old_account),
            account_to_bytes(u.new_account),
            felts_to_bytes((u.proof.index, u.proof.old_leaf, u.proof.new_leaf, *u.proof.siblings)),
        ]
        for u in w.updates
    ]  # fmt: skip
    return [
        w.slot, w.tx_type, tx_to_bytes(w.tx), felts_to_bytes(w.messages),
        global_to_bytes(w.old_global), global_to_bytes(w.new_global), updates,
        felts_to_bytes(w.chunk), w.effect,
    ]  # fmt: skip


def slot_from_list(d: list) -> SlotWitness:
    updates = []
    for old, new, path in d[6]:
        index, old_leaf, new_leaf, *siblings = felts_from_bytes(path)
        proof = UpdateProof(index, old_leaf, new_leaf, tuple(siblings))
        updates.append(LeafUpdate(account_from_bytes(old), account_from_bytes(new), proof))
    return SlotWitness(
        d[0], d[1], tx_from_bytes(d[2]), felts_from_bytes(d[3]),
        global_from_bytes(d[4]), global_from_bytes(d[5]), tuple(updates),
        felts_from_bytes(d[7]), d[8],
    )  # fmt: skip


def batch_to_list(b: BatchWitness) -> list:
    return [b.number, b.old_root, b.new_root, [slot_to_list(s) for s in b.slots], list(b.pubdata),
            b.commitment]  # fmt: skip


def batch_from_list(d: list) -> BatchWitness:
    return BatchWitness(d[0], d[1], d[2], tuple(slot_from_list(s) for s in d[3]), tuple(d[4]), d[5])
