"""Sequencer: priority requests first and in order, failing mempool transactions dropped with their
reason, padding, persistence across reopen, divergence; rebuild from published pubdata."""

from __future__ import annotations

import itertools

import pytest

from protocol.codec import pack
from protocol.eddsa import sign
from protocol.spec import BUY, SELL, TRADE
from rollup.errors import MempoolRejected, RebuildError, StoreError
from rollup.rebuild import rebuild, rebuild_from_settlement
from rollup.sequencer import Sequencer
from rollup.store import STORE_FORMAT, Store
from rollup.tx import Deposit, Noop, OraclePrice, Order, Trade, Withdraw
from tests.rollup.conftest import (
    DOMAIN,
    ORACLE_KEY,
    PRICE,
    make_system,
    operator_signed,
    public_key,
)

_ids = itertools.count(1)


def trade(system, q: int = 100) -> Trade:
    k = system.keys
    return Trade(
        Order(0, 0, BUY, 1000, PRICE, 50, next(_ids), 10**9).sign(k[0], DOMAIN),
        Order(1, 0, SELL, 1000, PRICE, 50, next(_ids), 10**9).sign(k[1], DOMAIN),
        q, PRICE, 1, 1,
    )  # fmt: skip


def test_deposits_settled_and_invariant(tmp_path) -> None:
    system = make_system(tmp_path)
    assert system.l1.batch_count == 2 and not system.l1.queue()
    assert system.seq.state.account(2).collateral == 10**6 * 2**32
    system.invariant()


def test_priority_first_then_mempool_and_padding(tmp_path) -> None:
    system = make_system(tmp_path, slots=4)
    system.seq.submit(trade(system))
    system.l1.deposit(3, public_key(b"\x09" * 32), 5, 42)
    batch = system.seq.seal_batch(system.l1.queue())
    assert [w.tx_type for w in batch.slots] == [1, TRADE, 0, 0]
    assert batch.slots[0].tx.account == 3
    assert system.seq.seal_batch(system.l1.queue()) is None  # consumed locally, nothing left
    pubdata = list(batch.pubdata)
    system.l1.submit_batch(
        pubdata, batch.new_root, [batch.old_root, batch.new_root, batch.commitment],
        operator_signed(system.l1, pubdata, batch.new_root),
    )  # fmt: skip
    system.invariant()


def test_failing_transactions_dropped_with_reason(tmp_path) -> None:
    system = make_system(tmp_path)
    w = Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0)
    system.seq.submit(w)
    system.seq.submit(w)  # a replay: admitted (signature fine), fails its nonce when applied
    batch = system.seq.seal_batch()
    assert [s.tx_type for s in batch.slots] == [2, 0]
    ((_, reason),) = system.seq.store.rejected(batch.number)
    assert reason.startswith("BadNonce: account 2: nonce 0 does not equal the account nonce 1")
    assert system.seq.store.mempool() == []


def test_mempool_negative(tmp_path) -> None:
    system = make_system(tmp_path)
    with pytest.raises(MempoolRejected, match="signature does not verify"):
        system.seq.submit(Withdraw.signed(system.keys[1], DOMAIN, 2, 10, 900, 0))
    with pytest.raises(MempoolRejected, match="comes from the L1 queue"):
        system.seq.submit(Deposit(0, 1, 2, 3, 4))
    with pytest.raises(MempoolRejected, match="outside the tree"):
        system.seq.submit(Withdraw.signed(system.keys[1], DOMAIN, 99, 10, 900, 0))
    with pytest.raises(MempoolRejected):
        system.seq.submit(Noop())
    g, m = system.seq.state.global_state, system.params.n_markets
    bogus = OraclePrice((PRICE,) * m, (0,) * m, g.oracle_time + 5, -1, sign(ORACLE_KEY, 5))
    with pytest.raises(MempoolRejected, match=r"OraclePrice: elements\[2\] is not a canonical"):
        system.seq.submit(bogus)  # a message field outside the field: refused, not a crash
    assert system.seq.store.mempool() == []
    assert system.seq.store.mempool() == []


def test_reopen_and_divergence(tmp_path) -> None:
    system = make_system(tmp_path)
    system.seq.submit(trade(system))
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0))
    batch = system.seq.seal_batch(system.l1.queue())
    pending = system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 1, 900, 1))
    report = system.seq.divergence(system.l1.batch_count, 12.5)
    assert report["unsettled_batches"] == 1 and report["unsettled_transactions"] == 2
    assert report["unsettled_notional"] == 100 * PRICE and report["mempool"] == 1
    reopened = Sequencer(Store(system.path / "sequencer.db"))
    assert reopened.state.root == system.seq.state.root == batch.new_root
    assert [s for s, _ in reopened.store.mempool()] == [pending]
    assert reopened.store.batch(batch.number) == batch
    system.seq.store.put_proof(batch.number, {"pi_a": [1 << 250, 2], "protocol": "groth16"})
    again = Store(system.path / "sequencer.db")
    assert again.proof(batch.number) == {"pi_a": [1 << 250, 2], "protocol": "groth16"}
    assert again.proof(batch.number + 1) is None


def test_rebuild_reaches_settled_root(tmp_path) -> None:
    system = make_system(tmp_path)
    system.seq.submit(trade(system))
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0))
    system.settle_all()
    published = system.l1.published_batches()
    state = rebuild(system.params, system.genesis, published, system.l1.config.genesis_root)
    assert state.root == system.l1.root and state.accounts == system.seq.state.accounts
    alone = rebuild_from_settlement(system.l1)  # settlement data only: config + published batches
    assert alone.root == system.l1.root and alone.accounts == system.seq.state.accounts
    # tampered pubdata: a trade quantity changed → the replayed root differs
    n, pubdata, root = published[-1]
    bad = list(pubdata)
    bad[0] += 1 << (4 + 32 + 32 + 8 + 1)
    with pytest.raises(RebuildError, match="replayed root differs"):
        rebuild(system.params, system.genesis, [*published[:-1], (n, bad, root)])
    with pytest.raises(RebuildError, match="out of order"):
        rebuild(system.params, system.genesis, published[1:])


def test_witness_chains_for_the_circuit(tmp_path) -> None:
    """Per slot: old_root = Poseidon(updates[0].old accounts root, old global hash), updates chain,
    every proof verifies with leaves = hashes of the recorded preimages, slots chain, and the
    batch commitment is the sponge over (old_root, new_root, pubdata)."""
    from protocol.pubdata import pubdata_commitment
    from rollup.account import state_root

    system = make_system(tmp_path, slots=4)
    system.seq.submit(trade(system))
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0))
    system.l1.deposit(3, public_key(b"\x09" * 32), 5, 42)
    batch = system.seq.seal_batch(system.l1.queue())
    previous = batch.old_root
    for w in batch.slots:
        assert w.old_root == previous
        assert w.old_root == state_root(w.updates[0].proof.old_root, w.old_global.hash())
        assert w.new_root == state_root(w.updates[-1].proof.new_root, w.new_global.hash())
        assert w.updates[1].proof.old_root == w.updates[0].proof.new_root
        for u in w.updates:
            assert u.proof.old_leaf == u.old_account.leaf()
            assert u.proof.new_leaf == u.new_account.leaf()
        previous = w.new_root
    assert previous == batch.new_root
    # negative twin: a witness with one sibling changed no longer chains
    u = batch.slots[0].updates[0].proof
    bad = type(u)(u.index, u.old_leaf, u.new_leaf, (u.siblings[0] + 1, *u.siblings[1:]))
    assert not bad.verify(u.old_root, u.new_root)
    assert batch.commitment == pubdata_commitment(batch.old_root, batch.new_root, batch.pubdata)
    assert batch.pubdata == tuple(e for w in batch.slots for e in w.chunk)
    assert batch.slots[1].messages == (batch.slots[1].tx.maker.order.message(DOMAIN),
                                       batch.slots[1].tx.taker.order.message(DOMAIN))  # fmt: skip


def test_failed_seal_changes_nothing_in_memory_or_store(tmp_path) -> None:
    """A seal that fails half way (priority request out of order, after a mempool trade was
    staged in memory) leaves the head state, the in-memory mempool and the store as they were;
    the next seal with the right queue serves everything."""
    system = make_system(tmp_path, slots=4)
    seq = system.seq
    seq.submit(trade(system))
    root, pending, head = seq.state.root, dict(seq.pending), seq.store.head()
    assert list(pending) == [s for s, _ in seq.store.mempool()] and len(pending) == 1
    system.l1.deposit(3, public_key(b"\x09" * 32), 5, 42)
    skipped = [dict(q, id=q["id"] + 1) for q in system.l1.queue()]
    with pytest.raises(MempoolRejected, match="out of order"):
        seq.seal_batch(skipped)
    assert (seq.state.root, seq.pending, seq.store.head()) == (root, pending, head)
    assert not seq.state.staged
    batch = seq.seal_batch(system.l1.queue())
    assert [w.tx_type for w in batch.slots] == [1, TRADE, 0, 0] and seq.pending == {}
    assert seq.store.mempool() == [] and seq.divergence(0, 0.0)["mempool"] == 0


def test_store_of_an_older_format_is_refused_with_one_line(tmp_path) -> None:
    """A store of an older format (no format key: 1; or 4; or 6, whose records carry no
    checksum; or 7, whose oracle updates are not chained) is refused, not misread."""
    system = make_system(tmp_path)
    path = system.path / "sequencer.db"
    assert Store(path).get("format") == STORE_FORMAT == 8  # positive twin: the current one reopens
    for old in (7, 4):
        with system.seq.store.db:
            system.seq.store._put("format", old)
        with pytest.raises(
            StoreError, match=f"is store format {old}, this zkrollup reads format 8"
        ):
            Store(path)
    with system.seq.store.db:  # format 6 wrote its records bare: msgpack, no checksum
        system.seq.store.db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (pack(6),))
    with pytest.raises(StoreError, match="is store format 6, this zkrollup reads format 8"):
        Store(path)
    with system.seq.store.db:
        system.seq.store.db.execute("DELETE FROM meta WHERE key = 'format'")
    with pytest.raises(StoreError, match="is store format 1, this zkrollup reads format 8"):
        Store(path)


def _grouped_load(system) -> list:
    """The same submissions for two systems: three deposits in the L1 queue, then trades, a
    replayed withdrawal (rejected when sealed) and two more trades: three batches at B = 2."""
    system.l1.deposit(2, public_key(b"\x09" * 32), 5, 42)
    k = system.keys
    w = Withdraw.signed(k[2], DOMAIN, 2, 10, 900, 0)
    return [trade(system), w, w, trade(system, 50), trade(system, 25)]


def test_grouped_seal_equals_batch_by_batch(tmp_path) -> None:
    """``seal_batches`` writes the batches ``seal_batch`` would write one by one — witnesses,
    rejections, roots, the reopened store — in one transaction; ``limit`` caps the group."""
    (tmp_path / "one").mkdir()
    (tmp_path / "group").mkdir()
    one = make_system(tmp_path / "one", slots=2)
    group = make_system(tmp_path / "group", slots=2)
    txs = _grouped_load(one)
    _grouped_load(group)
    for system in (one, group):
        for tx in txs:
            system.seq.submit(tx)
    singles = []
    while (batch := one.seq.seal_batch(one.l1.queue())) is not None:
        singles.append(batch)
    first = group.seq.seal_batches(group.l1.queue(), limit=2)
    rest = group.seq.seal_batches(group.l1.queue())
    assert [len(first), len(rest)] == [2, len(singles) - 2] and len(singles) >= 3
    assert first + rest == singles
    assert group.seq.seal_batches(group.l1.queue()) == []
    for n in range(one.seq.store.head()):
        assert group.seq.store.batch(n) == one.seq.store.batch(n)
        assert group.seq.store.rejected(n) == one.seq.store.rejected(n)
    assert any(one.seq.store.rejected(n) for n in range(one.seq.store.head()))
    assert group.seq.state.root == one.seq.state.root and group.seq.pending == {}
    group.seq.store.close()
    reopened = Sequencer.open(str(tmp_path / "group" / "sequencer.db"))
    assert reopened.state.root == one.seq.state.root and reopened.store.mempool() == []
    for batch in singles:  # and the settlement layer takes them
        pubdata, proof = list(batch.pubdata), [batch.old_root, batch.new_root, batch.commitment]
        signature = operator_signed(one.l1, pubdata, batch.new_root)
        one.l1.submit_batch(pubdata, batch.new_root, proof, signature)
    one.invariant()


def test_grouped_seal_writes_all_or_nothing(tmp_path, monkeypatch) -> None:
    """Negative twin: a group that fails at its third batch's write, or while building its
    second batch, writes none of its batches: head, state, mempool as they were; then the same
    group seals in full."""
    system = make_system(tmp_path, slots=2)
    seq = system.seq
    for tx in _grouped_load(system):
        seq.submit(tx)
    root, pending, head = seq.state.root, dict(seq.pending), seq.store.head()
    mempool = seq.store.mempool()
    real = Store._write_batch

    def failing(self, write):
        if write[0].number == head + 2:
            raise StoreError(detail="disk full")
        return real(self, write)

    monkeypatch.setattr(Store, "_write_batch", failing)
    with pytest.raises(StoreError, match="disk full"):
        seq.seal_batches(system.l1.queue())
    monkeypatch.setattr(Store, "_write_batch", real)
    assert (seq.state.root, seq.pending, seq.store.head()) == (root, pending, head)
    assert seq.store.mempool() == mempool and not seq.state.staged
    for amount in (5, 6):  # three requests: the third is the second batch's
        system.l1.deposit(3, public_key(b"\x0a" * 32), amount, 43)
    queue = system.l1.queue()
    assert len(queue) == 3
    skipped = queue[:2] + [dict(q, id=q["id"] + 1) for q in queue[2:]]
    with pytest.raises(MempoolRejected, match="out of order"):
        seq.seal_batches(skipped)
    assert (seq.state.root, seq.pending, seq.store.head()) == (root, pending, head)
    sealed = seq.seal_batches(system.l1.queue())
    assert len(sealed) >= 4 and seq.store.head() == head + len(sealed) and seq.pending == {}
    with pytest.raises(ValueError, match="at least 1"):
        seq.seal_batches(system.l1.queue(), limit=0)
