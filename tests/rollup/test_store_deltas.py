"""Store format 4: each batch row carries its delta (accounts and tree nodes it changed); the
tables hold the state up to ``compacted`` and are brought to the head every COMPACT_EVERY
batches.  Reopening at any point — before, at and after a compaction — gives exactly the head
state; a torn delta or a missing batch row is refused with one line."""

from __future__ import annotations

import pytest

import rollup.store as store_module
from rollup.codec import delta_merge, delta_to_bytes, pack
from rollup.errors import StoreError
from rollup.store import NODE_INDEX_BITS, Store
from rollup.tree import SparseMerkleTree
from rollup.tx import Transfer, Withdraw
from tests.rollup.conftest import DOMAIN, make_system


def snapshot(state) -> tuple:
    return state.root, dict(state.accounts), dict(state.tree.nodes), state.global_state


def table_state(store: Store) -> tuple[dict, dict]:
    accounts = dict(store.db.execute("SELECT idx, data FROM accounts"))
    nodes = dict(store.db.execute("SELECT key, hash FROM nodes"))
    return accounts, nodes


def test_delta_round_trip_and_merge_order() -> None:
    """A later delta wins, deletions included; a torn delta is refused."""
    accounts: dict = {}
    nodes: dict = {}
    delta_merge(delta_to_bytes({1: b"a", 2: b"b"}, {5: 7, 1 << 32 | 3: 9}), accounts, nodes)
    delta_merge(delta_to_bytes({2: None}, {5: None, 6: (1 << 254) + 1}), accounts, nodes)
    assert accounts == {1: b"a", 2: None}
    assert nodes == {
        5: None,
        1 << 32 | 3: (9).to_bytes(32, "little"),
        6: ((1 << 254) + 1).to_bytes(32, "little"),
    }
    for torn in (
        pack([[1], [], b"", b"", b""]),  # an account key without a blob
        pack([[], [], b"\0" * 8, b"\0" * 31, b""]),  # a node key without its 32 bytes
        pack([[], [], b"\0" * 7, b"", b""]),  # a key list cut mid-key
    ):
        with pytest.raises(ValueError, match="batch delta"):
            delta_merge(torn, {}, {})


def test_reopen_before_at_and_after_compaction(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "COMPACT_EVERY", 3)
    system = make_system(tmp_path, n_users=3)  # 2 deposit batches: nothing compacted yet
    seq, path = system.seq, tmp_path / "sequencer.db"
    assert seq.store.get("compacted") == 0 and seq.store.head() == 2
    assert table_state(seq.store) == ({}, {})  # positive twin of the replay: tables still empty
    seen = []
    for step in range(7):
        sender = step % 3
        nonce = seq.state.account(sender).nonce
        seq.submit(
            Transfer.signed(system.keys[sender], DOMAIN, sender, (sender + 1) % 3, 1 + step, nonce)
        )
        if step == 4:
            seq.submit(
                Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, seq.state.account(2).nonce)
            )
        seq.seal_batch(system.l1.queue())
        reopened = Store(path)
        assert snapshot(reopened.load_state()) == snapshot(seq.state)
        seen.append(reopened.get("compacted"))
        reopened.close()
    assert seen == [3, 3, 3, 6, 6, 6, 9]  # head 3..9; compacted every 3 batches
    # at a compaction the tables alone are the state: exactly the non-default nodes and accounts
    accounts, nodes = table_state(seq.store)
    state = seq.state
    assert set(accounts) == set(state.accounts)
    assert {(k >> NODE_INDEX_BITS, k & ((1 << NODE_INDEX_BITS) - 1)) for k in nodes} == set(
        state.tree.nodes
    )
    fresh = SparseMerkleTree(state.params.depth, state.empty_account.leaf())
    for index, account in state.accounts.items():
        fresh.update(index, account.leaf())
    assert fresh.nodes == state.tree.nodes
    # an explicit compaction mid-interval changes what the tables hold, not the state
    seq.submit(Transfer.signed(system.keys[0], DOMAIN, 0, 1, 5, state.account(0).nonce))
    seq.seal_batch()
    before = snapshot(Store(path).load_state())
    seq.store.compact()
    assert seq.store.get("compacted") == seq.store.head() == 10
    assert snapshot(Store(path).load_state()) == before == snapshot(seq.state)


def test_torn_delta_or_missing_batch_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "COMPACT_EVERY", 100)
    system = make_system(tmp_path)
    seq, path = system.seq, tmp_path / "sequencer.db"
    seq.submit(Transfer.signed(system.keys[0], DOMAIN, 0, 1, 5, 0))
    seq.seal_batch()
    good = snapshot(Store(path).load_state())
    assert good == snapshot(seq.state)
    torn = b"\x93\x01"
    with seq.store.db:
        seq.store.db.execute("UPDATE batches SET delta = ? WHERE number = 1", (torn,))
    with pytest.raises(StoreError, match="batch 1's delta fails its checksum"):
        Store(path).load_state()
    # a torn delta with a matching checksum (a writer's bug, not a flipped bit) is still refused
    (sums,) = seq.store.db.execute("SELECT sums FROM batches WHERE number = 1").fetchone()
    k = store_module.BATCH_BLOBS.index("delta") * store_module.DIGEST_SIZE
    sums = sums[:k] + store_module.digest("batches", "delta", 1, torn) + sums[k + 16 :]
    with seq.store.db:
        seq.store.db.execute("UPDATE batches SET sums = ? WHERE number = 1", (sums,))
    with pytest.raises(StoreError, match="batch 1's delta is corrupt"):
        Store(path).load_state()
    with seq.store.db:
        seq.store.db.execute("DELETE FROM batches WHERE number = 1")
    with pytest.raises(StoreError, match="batch 1 is missing from the store"):
        Store(path).load_state()
