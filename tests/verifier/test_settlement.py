"""The settlement layer: batches accepted or rejected (nothing changes on rejection), the
priority queue served in order with its fees, forced requests used once, freezing only an
operator that failed a request, escapes paying canonical accounts at most once and never more
than the vault holds; persistence, corruption and concurrent writers. The invariant
vault = Σ L2 value + insurance fund + claimable + queued deposits and fees is checked after
every operation."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from protocol.eddsa import sign
from protocol.fields import R
from protocol.pubdata import CHUNK_WIDTH, encode_chunk
from protocol.spec import BUY, CALL, OPTION_BASE, SELL, VALUE_SCALE, WITHDRAW
from rollup.margin import settle, total_value
from rollup.tx import (
    ListSeries,
    Marks,
    OraclePrice,
    Order,
    Trade,
    Withdraw,
    escape_message,
    forced_message,
)
from tests.rollup.conftest import (
    CHAIN_ID,
    DOMAIN,
    OPERATOR_ADDRESS,
    OPERATOR_KEY,
    ORACLE_KEY,
    PRICE,
    ROLLUP_ID,
    echo_checker,
    make_system,
    operator_signed,
    public_key,
)
from verifier.settlement import (
    BatchRejected,
    ClaimRejected,
    EscapeRejected,
    FreezeRejected,
    RequestRejected,
    Settlement,
    SettlementError,
)

_ids = itertools.count(1)


def snapshot(l1: Settlement):
    db = l1.store.db
    tables = ("meta", "queue", "claimable", "forced", "nonces", "escaped", "batches")
    return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}


def rejected(l1: Settlement, error, call, *args):
    before = snapshot(l1)
    with pytest.raises(error) as info:
        call(*args)
    assert snapshot(l1) == before
    return str(info.value)


def proof_of(batch):
    return [batch.old_root, batch.new_root, batch.commitment]


def submit(l1: Settlement, batch) -> int:
    """Submit a sealed batch with its echo proof, signed by the operator."""
    pubdata = list(batch.pubdata)
    return l1.submit_batch(
        pubdata, batch.new_root, proof_of(batch), operator_signed(l1, pubdata, batch.new_root)
    )


def account_proof(system, index):
    s = system.seq.state
    return s.account(index).to_list(), s.tree.siblings(index), s.global_state.to_list()


def forced(system, index, address, nonce=0, expiry=10**9, key=None):
    """(args of request_forced_withdrawal) for account ``index``, signed by ``key``."""
    preimage, path, g = account_proof(system, index)
    k = system.keys[index] if key is None else key
    sig = sign(k, forced_message(DOMAIN, index, address, nonce, expiry))
    return (index, address, nonce, expiry, sig, preimage, path, g)


# -- batches and claims ---------------------------------------------------------------------------
def test_batches_and_withdrawals(tmp_path) -> None:
    system = make_system(tmp_path)
    system.invariant()
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0))
    system.settle_all()
    system.invariant()
    assert system.l1.claimable(900) == 10
    assert system.l1.withdraw(900) == 10 and system.l1.vault == 3 * 10**6 - 10
    system.invariant()
    msg = rejected(system.l1, ClaimRejected, system.l1.withdraw, 900)
    assert msg == "nothing claimable for L1 address 900"
    assert "integer" in rejected(system.l1, ClaimRejected, system.l1.withdraw, 1.5)


def test_the_vault_never_pays_below_zero(tmp_path) -> None:
    """Even with a proof checker that accepts anything, a claim larger than the vault is
    refused and nothing changes."""
    system = make_system(tmp_path)
    l1 = system.l1
    l1.proof_checker = lambda public, proof: True
    huge = (1 << 62) + 5
    chunk = encode_chunk(WITHDRAW, {"account": 2, "amount": huge, "l1_address": 77}, 4)
    pubdata = [*chunk, *[0] * CHUNK_WIDTH]
    l1.submit_batch(pubdata, 5, None, operator_signed(l1, pubdata, 5))
    assert l1.claimable(77) == huge
    msg = rejected(l1, ClaimRejected, l1.withdraw, 77)
    assert msg == f"the vault holds {3 * 10**6} quanta, less than the {huge} due"
    assert l1.vault == 3 * 10**6


def test_rejected_submissions_change_nothing(tmp_path) -> None:
    system = make_system(tmp_path)
    l1 = system.l1
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0))
    batch = system.seq.seal_batch(l1.queue())
    pubdata, root = list(batch.pubdata), batch.new_root
    assert "proof does not verify" in rejected(
        l1, BatchRejected, l1.submit_batch, pubdata, root, [0], operator_signed(l1, pubdata, root)
    )
    wrong_root = (root + 1) % R
    rejected(l1, BatchRejected, l1.submit_batch, pubdata, wrong_root, proof_of(batch),
             operator_signed(l1, pubdata, wrong_root))  # fmt: skip
    tampered = [pubdata[0] + (1 << 36), *pubdata[1:]]  # withdraw amount + 1
    sig = operator_signed(l1, pubdata, root)
    assert "proof" in rejected(l1, BatchRejected, l1.submit_batch, tampered, root,
                              proof_of(batch), operator_signed(l1, tampered, root))  # fmt: skip
    short = rejected(l1, BatchRejected, l1.submit_batch, pubdata[:-1], root, 0, sig)
    assert "8 field elements" in short
    for bad in ([pubdata[0] | 15, *pubdata[1:]], [True, *pubdata[1:]], [R, *pubdata[1:]]):
        rejected(l1, BatchRejected, l1.submit_batch, bad, root, 0, sig)
    rejected(l1, BatchRejected, l1.submit_batch, pubdata, 1.0, proof_of(batch), sig)
    l1.submit_batch(pubdata, root, proof_of(batch), operator_signed(l1, pubdata, root))
    system.invariant()


def test_priority_requests_cannot_be_reordered(tmp_path) -> None:
    system = make_system(tmp_path, slots=2)
    l1 = system.l1
    l1.deposit(3, public_key(b"\x07" * 32), 5, 70)
    l1.deposit(4, public_key(b"\x08" * 32), 6, 80)
    queue = l1.queue()
    swapped = [dict(queue[1], id=3), dict(queue[0], id=4)]
    bad = system.seq.seal_batch(swapped)
    msg = rejected(
        l1,
        BatchRejected,
        l1.submit_batch,
        list(bad.pubdata),
        bad.new_root,
        proof_of(bad),
        operator_signed(l1, list(bad.pubdata), bad.new_root),
    )
    assert "does not match queue head #3" in msg
    system.seq.state = system.seq.store.load_state()
    assert [q["id"] for q in l1.queue()] == [3, 4]


def test_requests_validated(tmp_path) -> None:
    system = make_system(tmp_path)
    l1 = system.l1
    pk = public_key(b"\x05" * 32)
    assert "account must be" in rejected(l1, RequestRejected, l1.deposit, 16, pk, 1, 1)
    assert "deposit amount" in rejected(l1, RequestRejected, l1.deposit, 5, pk, 0, 1)
    assert "L1 address" in rejected(l1, RequestRejected, l1.deposit, 5, pk, 1, 1 << 160)
    assert "subgroup point" in rejected(l1, RequestRejected, l1.deposit, 5, (1, 2), 1, 1)
    for amount in (1.5, True, "7", None):
        assert "deposit amount" in rejected(l1, RequestRejected, l1.deposit, 5, pk, amount, 1)
    rejected(l1, RequestRejected, l1.deposit, 5, (pk[0] + R, pk[1]), 1, 1)
    rejected(l1, RequestRejected, l1.deposit, 5.0, pk, 1, 1)


# -- fees -----------------------------------------------------------------------------------------
def test_priority_fees_go_to_the_operator_when_served(tmp_path) -> None:
    system = make_system(tmp_path, fee=3)
    l1 = system.l1
    assert l1.claimable(OPERATOR_ADDRESS) == 3 * 3  # the three genesis deposits
    assert l1.vault == 3 * (10**6 + 3)
    system.invariant()
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    assert l1.vault == 3 * (10**6 + 3) + 12
    system.invariant()
    system.settle_all()
    assert l1.claimable(OPERATOR_ADDRESS) == 12
    system.invariant()


# -- forced withdrawals ---------------------------------------------------------------------------
def test_forced_withdrawal_served(tmp_path) -> None:
    system = make_system(tmp_path)
    l1 = system.l1
    args = forced(system, 1, 901)
    bad = forced(system, 1, 901, key=system.keys[0])
    msg = rejected(l1, RequestRejected, l1.request_forced_withdrawal, *bad)
    assert msg == "account 1: bad forced-withdrawal signature"
    wrong = list(args)
    wrong[5] = [*args[5][:4], args[5][4] + 1, *args[5][5:]]  # collateral + 1
    msg = rejected(l1, RequestRejected, l1.request_forced_withdrawal, *wrong)
    assert "do not match the verified root" in msg
    rid = l1.request_forced_withdrawal(*args)
    system.invariant()
    system.settle_all()
    assert rid == 3 and l1.claimable(901) == 10**6 and not l1.queue()
    system.invariant()


def test_forced_requests_are_used_once_one_pending_and_expire(tmp_path) -> None:
    """A forced-withdrawal signature seen once cannot force the account out again; a second
    request waits for the first; an expired request is refused."""
    system = make_system(tmp_path)
    l1 = system.l1
    first = forced(system, 1, 901, nonce=0)
    l1.request_forced_withdrawal(*first)
    second = forced(system, 1, 901, nonce=1)
    msg = rejected(l1, RequestRejected, l1.request_forced_withdrawal, *second)
    assert msg == "account 1 already has a pending forced request"
    system.settle_all()
    # the replayed first request: its nonce is used
    replay = forced(system, 1, 901, nonce=0)
    msg = rejected(l1, RequestRejected, l1.request_forced_withdrawal, *replay)
    assert "nonce 0 is used or out of order (next is 1)" in msg
    assert l1.forced_nonce(1) == 1
    expired = forced(system, 1, 901, nonce=1, expiry=int(system.clock.now) - 1)
    assert "expired" in rejected(l1, RequestRejected, l1.request_forced_withdrawal, *expired)
    other = forced(system, 1, 901, nonce=1)
    other_domain = list(other)
    other_domain[4] = sign(system.keys[1], forced_message(DOMAIN + 1, 1, 901, 1, 10**9))
    rejected(l1, RequestRejected, l1.request_forced_withdrawal, *other_domain)
    l1.request_forced_withdrawal(*other)
    system.invariant()


# -- freezing -------------------------------------------------------------------------------------
def test_a_lazy_operator_is_frozen(tmp_path) -> None:
    """Batches that leave a waiting request unserved while they had free slots: after the N
    batches of grace (possibly sealed before the request was seen), N more and anyone may
    freeze."""
    system = make_system(tmp_path, max_batches=2)
    l1 = system.l1
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    for nonce, slack in enumerate((0, 0, 1, 2)):
        rejected(l1, FreezeRejected, l1.freeze)
        system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 1, 900, nonce))
        skip = system.seq.seal_batch([])  # the operator ignores the queue
        submit(l1, skip)
        assert [(q["id"], q["slack"]) for q in l1.queue()] == [(3, slack)]
    system.invariant()
    assert l1.overdue()["id"] == 3 and l1.freeze()["id"] == 3
    assert l1.claimable(55) == 9  # the unserved deposit is refunded
    system.invariant()


def test_a_diligent_operator_under_a_flood_is_not_frozen(tmp_path) -> None:
    """Five requests at B = 2, N = 2: an operator that serves the queue in order at full
    capacity is never frozen, even though the last request waits several batches."""
    system = make_system(tmp_path, slots=2, max_batches=2, max_seconds=100)
    l1 = system.l1
    for i in range(5):
        l1.deposit(4 + i % 3, public_key(bytes([20 + i]) * 32), 1 + i, 60 + i)
    while l1.queue():
        rejected(l1, FreezeRejected, l1.freeze)
        batch = system.seq.seal_batch(l1.queue())
        system.clock.now += 60  # batches keep coming: the time rule does not apply
        submit(l1, batch)
        assert all(q["slack"] == 0 for q in l1.queue())
    system.invariant()


def test_a_stalled_operator_is_frozen_by_time(tmp_path) -> None:
    system = make_system(tmp_path, max_batches=8, max_seconds=100)
    l1, k = system.l1, system.keys
    trade = Trade(
        Order(0, 0, BUY, 1000, PRICE, 5, next(_ids), 10**9).sign(k[0], DOMAIN),
        Order(1, 0, SELL, 1000, PRICE, 5, next(_ids), 10**9).sign(k[1], DOMAIN),
        500, PRICE, 3, 3,
    )  # fmt: skip
    system.seq.submit(trade)
    system.settle_all()
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)  # the operator stops serving
    system.clock.now += 99
    assert "no priority request is overdue" in rejected(l1, FreezeRejected, l1.freeze)
    system.clock.now += 1
    assert l1.freeze()["id"] == 3 and l1.frozen and l1.claimable(55) == 9
    assert "already frozen" in rejected(l1, FreezeRejected, l1.freeze)
    rejected(l1, BatchRejected, l1.submit_batch, [0] * 8, 0, 0, operator_signed(l1, [0] * 8, 0))
    rejected(l1, RequestRejected, l1.deposit, 6, public_key(b"\x06" * 32), 9, 56)
    system.invariant()


# -- escapes --------------------------------------------------------------------------------------
def frozen_system(tmp_path):
    system = make_system(tmp_path, max_batches=8, max_seconds=100)
    k = system.keys
    trade = Trade(
        Order(0, 0, BUY, 1000, PRICE, 5, next(_ids), 10**9).sign(k[0], DOMAIN),
        Order(1, 0, SELL, 1000, PRICE, 5, next(_ids), 10**9).sign(k[1], DOMAIN),
        500, PRICE, 3, 3,
    )  # fmt: skip
    system.seq.submit(trade)
    system.settle_all()
    system.l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    system.clock.now += 100
    system.l1.freeze()
    return system


def test_escape_pays_each_account_once(tmp_path) -> None:
    system = frozen_system(tmp_path)
    l1, k, seq = system.l1, system.keys, system.seq
    g = seq.state.global_state
    paid = 0
    for i in range(3):
        preimage, path, gl = account_proof(system, i)
        sig = sign(k[i], escape_message(DOMAIN, i, 700 + i))
        if i == 0:
            bad = sign(k[1], escape_message(DOMAIN, i, 700 + i))
            rejected(l1, EscapeRejected, l1.escape, i, 700 + i, bad, preimage, path, gl)
            foreign = sign(k[i], escape_message(DOMAIN + 1, i, 700 + i))
            rejected(l1, EscapeRejected, l1.escape, i, 700 + i, foreign, preimage, path, gl)
        amount = l1.escape(i, 700 + i, sig, preimage, path, gl)
        assert amount == total_value(seq.state.account(i), g) // VALUE_SCALE
        paid += amount
        msg = rejected(l1, EscapeRejected, l1.escape, i, 700 + i, sig, preimage, path, gl)
        assert msg == f"account {i} has already escaped"
    assert paid + 9 == l1.total_claimable() <= l1.vault


def test_escape_with_a_wrapped_collateral_is_refused(tmp_path) -> None:
    """collateral + r hashes like collateral; the settlement layer refuses it as non-canonical
    instead of paying the unreduced integer (every other account's money)."""
    system = frozen_system(tmp_path)
    l1, k = system.l1, system.keys
    preimage, path, gl = account_proof(system, 0)
    sig = sign(k[0], escape_message(DOMAIN, 0, 700))
    wrapped = [*preimage[:4], preimage[4] + R, *preimage[5:]]
    msg = rejected(l1, EscapeRejected, l1.escape, 0, 700, sig, wrapped, path, gl)
    assert "collateral" in msg and "is not an integer in" in msg
    big_size = [*preimage[:5], [[preimage[5][0][0] + R, preimage[5][0][1]], *preimage[5][1:]],
                preimage[6]]  # fmt: skip
    rejected(l1, EscapeRejected, l1.escape, 0, 700, sig, big_size, path, gl)
    bad_global = [gl[0], gl[1], gl[2], gl[3], gl[4] + R, gl[5]]
    rejected(l1, EscapeRejected, l1.escape, 0, 700, sig, preimage, path, bad_global)
    assert l1.escape(0, 700, sig, preimage, path, gl) > 0  # the canonical preimage pays


def test_escape_before_freezing_is_refused(tmp_path) -> None:
    system = make_system(tmp_path)
    l1 = system.l1
    assert "not frozen" in rejected(l1, EscapeRejected, l1.escape, 0, 1, None, [], [], [])


# -- configuration, persistence, corruption, concurrency ------------------------------------------
def test_configuration_is_validated(tmp_path) -> None:
    system = make_system(tmp_path)
    c = system.l1.config
    for field, value in (
        ("depth", 0), ("batch_slots", 0), ("genesis_root", R), ("chain_id", 1 << 64),
        ("rollup_id", -1), ("max_pending_batches", 0), ("priority_fee", 1.5),
        ("operator_address", 1 << 160),
    ):  # fmt: skip
        with pytest.raises(SettlementError):
            replace(c, **{field: value})
    g = list(c.genesis_global)
    with pytest.raises(SettlementError, match="domain"):
        replace(c, chain_id=CHAIN_ID + 1)
    zero_price = [[[0, *m[1:]] for m in g[0]], *g[1:]]
    with pytest.raises(SettlementError, match="price 0"):
        replace(c, genesis_global=tuple(zero_price))
    replace(c, rollup_id=ROLLUP_ID)  # positive twin


def test_restart_loses_nothing(tmp_path) -> None:
    system = make_system(tmp_path)
    system.l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    before = snapshot(system.l1)
    system.l1.close()
    again = Settlement(system.l1.config, echo_checker, tmp_path / "l1.db", clock=system.clock)
    assert snapshot(again) == before and again.queue()[0]["fields"][3] == 9


def test_missing_empty_corrupt_or_foreign_store_is_an_error(tmp_path) -> None:
    system = make_system(tmp_path)
    c = system.l1.config
    system.l1.close()
    with pytest.raises(SettlementError, match="no settlement store at"):
        Settlement(c, echo_checker, tmp_path / "missing.db")
    (tmp_path / "empty.db").write_bytes(b"")
    with pytest.raises(SettlementError, match="no settlement store at"):
        Settlement(c, echo_checker, tmp_path / "empty.db")
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    with pytest.raises(SettlementError, match="settlement store"):
        Settlement(c, echo_checker, tmp_path / "junk.db")
    with pytest.raises(SettlementError, match="another configuration"):
        Settlement(replace(c, priority_fee=1), echo_checker, tmp_path / "l1.db")
    with pytest.raises(SettlementError, match="already holds"):
        Settlement(c, echo_checker, tmp_path / "l1.db", create=True)
    Settlement(c, echo_checker, tmp_path / "l1.db").close()  # positive twin


def test_a_flipped_bit_in_published_pubdata_is_detected(tmp_path) -> None:
    system = make_system(tmp_path)
    l1 = system.l1
    row = l1.store.db.execute("SELECT pubdata FROM batches WHERE number = 1").fetchone()[0]
    flipped = bytes([row[0], row[1] ^ 1, *row[2:]])
    with l1.store.db:
        l1.store.db.execute("UPDATE batches SET pubdata = ? WHERE number = 1", (flipped,))
    with pytest.raises(SettlementError, match="batch 1 fails its checksum"):
        l1.published_batches()


def test_two_writers_on_one_file_lose_nothing(tmp_path) -> None:
    """Two settlement objects on the same file (as two processes would be): interleaved
    deposits all land; each read-modify-write sees the other's committed result."""
    system = make_system(tmp_path)
    a = system.l1
    b = Settlement(a.config, echo_checker, tmp_path / "l1.db", clock=system.clock)
    pk = public_key(b"\x05" * 32)
    for i in range(20):
        (a if i % 2 else b).deposit(5, pk, 1 + i, 55)
    assert len(a.queue()) == len(b.queue()) == 20
    assert a.vault == b.vault == 3 * 10**6 + sum(range(1, 21))
    ids = [q["id"] for q in a.queue()]
    assert ids == sorted(set(ids))
    a.store.verify()  # the row digests kept by both writers match the tables
    b.close()


def test_batches_sealed_before_a_request_do_not_count_against_it(tmp_path) -> None:
    """An operator that seals N batches ahead of settlement (the node's group commit) is not
    frozen for a request that arrived while they were being proved."""
    system = make_system(tmp_path, max_batches=2)
    l1 = system.l1
    ahead = []
    for nonce in range(2):  # sealed (and being proved) before the deposit arrives
        system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 1, 900, nonce))
        ahead.append(system.seq.seal_batch(l1.queue()))
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    for batch in ahead:
        submit(l1, batch)
    assert [q["slack"] for q in l1.queue()] == [0]
    assert l1.overdue() is None
    rejected(l1, FreezeRejected, l1.freeze)
    system.settle_all()  # the next batch serves it
    assert l1.queue() == [] and not l1.frozen
    system.invariant()


# -- who submits ---------------------------------------------------------------------------------
def test_only_the_operator_submits_each_batch_number_once(tmp_path) -> None:
    """A settled all-no-op batch leaves the root as it was, so its proof verifies again: replayed
    by anyone it would add slack to every request until the rollup could be frozen, and move the
    batch counter off the operator's numbering. The operator's signature binds the number."""
    system = make_system(tmp_path, max_batches=2)
    l1 = system.l1
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 7))  # a bad nonce
    noop = system.seq.seal_batch(l1.queue())
    assert noop.old_root == noop.new_root and {w.tx_type for w in noop.slots} == {0}
    pubdata, proof = list(noop.pubdata), proof_of(noop)
    signature, n = operator_signed(l1, pubdata, noop.new_root), l1.batch_count
    assert l1.submit_batch(pubdata, noop.new_root, proof, signature) == n
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    for _ in range(4):  # the same batch again: its signature is batch 0's
        msg = rejected(l1, BatchRejected, l1.submit_batch, pubdata, noop.new_root, proof,
                       signature)  # fmt: skip
        assert msg == f"batch {n + 1}: not signed by the operator key for this number and pubdata"
    assert l1.batch_count == n + 1 and l1.queue()[0]["slack"] == 0
    # anyone else's key, another batch's pubdata, or no signature at all
    for bad in (
        operator_signed(l1, pubdata, noop.new_root, key=system.keys[0]),
        operator_signed(l1, [*pubdata[:-1], 1], noop.new_root),
    ):
        rejected(l1, BatchRejected, l1.submit_batch, pubdata, noop.new_root, proof, bad)
    msg = rejected(l1, BatchRejected, l1.submit_batch, pubdata, noop.new_root, proof, b"sig")
    assert msg == "the operator's batch signature must be a Signature, got bytes"
    # the operator itself may settle an empty batch as the next number (the deposit waits)
    nxt = operator_signed(l1, pubdata, noop.new_root)
    assert l1.submit_batch(pubdata, noop.new_root, proof, nxt) == n + 1
    system.invariant()


def test_a_deployment_needs_an_operator_key(tmp_path) -> None:
    system = make_system(tmp_path)
    g = list(system.l1.config.genesis_global)
    for key in ((0, 0), (0, 1), (1, 2)):
        g[4], g[5] = key
        with pytest.raises(SettlementError, match=r"operator key .* is not a BabyJubJub"):
            replace(system.l1.config, genesis_global=tuple(g))


def test_escape_never_credits_below_zero(tmp_path) -> None:
    """If claims ever exceeded the vault (only an over-paying batch could do it), an escape
    credits 0, not a negative amount that a claim would then 'pay' into the vault."""
    system = frozen_system(tmp_path)
    l1 = system.l1
    with l1.store.transaction():
        l1.store.credit(77, l1.vault + 1000)
    pre, path, gl = account_proof(system, 0)
    sig = sign(system.keys[0], escape_message(DOMAIN, 0, 700))
    assert l1.escape(0, 700, sig, pre, path, gl) == 0
    assert l1.claimable(700) == 0
    assert "nothing claimable" in rejected(l1, ClaimRejected, l1.withdraw, 700)


def test_escape_refuses_a_signature_of_another_type(tmp_path) -> None:
    system = frozen_system(tmp_path)
    pre, path, gl = account_proof(system, 0)
    msg = rejected(system.l1, EscapeRejected, system.l1.escape, 0, 700, "sig", pre, path, gl)
    assert msg == "the escape signature must be a Signature, got str"


def test_a_proof_that_cannot_be_stored_is_refused_before_anything_changes(tmp_path) -> None:
    """A checker that ignores extra keys may pass a proof msgpack cannot store: refused as a
    BatchRejected, not a codec error after the check."""
    system = make_system(tmp_path)
    l1 = system.l1
    system.seq.submit(Withdraw.signed(system.keys[2], DOMAIN, 2, 10, 900, 0))
    batch = system.seq.seal_batch(l1.queue())
    pubdata = list(batch.pubdata)
    l1.proof_checker = lambda public, proof: proof["p"] == list(public)
    good = {"p": [batch.old_root, batch.new_root, batch.commitment]}
    signature = operator_signed(l1, pubdata, batch.new_root)
    msg = rejected(l1, BatchRejected, l1.submit_batch, pubdata, batch.new_root,
                   dict(good, x={1}), signature)  # fmt: skip
    assert "the proof cannot be stored" in msg
    assert l1.submit_batch(pubdata, batch.new_root, good, signature) == l1.batch_count - 1


def test_escape_values_options_at_mark_prime(tmp_path) -> None:
    """Accounts escaping while their series' mark is stale (the index moved 30% up, no Marks
    since) are paid their TV with the call at max(mark, intrinsic) — the L2 rule
    (``rollup.options``) — not at the stale mark: the writer owes 30,000, the holder is owed
    30,000, and the two payouts sum to their deposits (at the stale mark the writer was paid
    25,000 less than the holder's long was worth, or, the other way, the vault would strand
    it)."""
    system = make_system(tmp_path, max_batches=8, max_seconds=100)
    seq, k, l1 = system.seq, system.keys, system.l1
    g = seq.state.global_state
    m, expiry, mark = len(g.markets), g.oracle_time + 10**6, PRICE // 20
    seq.submit(ListSeries.signed(OPERATOR_KEY, DOMAIN, 0, g.next_series_id, 0, expiry, PRICE, CALL))
    seq.submit(Marks.signed(ORACLE_KEY, DOMAIN, g.oracle_time, (mark,) + (0,) * 7, 0))
    call = OPTION_BASE + 1
    seq.submit(Trade(
        Order(0, call, BUY, 1000, mark, 0, next(_ids), 10**9).sign(k[0], DOMAIN),
        Order(1, call, SELL, 1000, mark, 0, next(_ids), 10**9).sign(k[1], DOMAIN),
        1000, mark, 0, 0,
    ))  # fmt: skip
    prices = (PRICE * 13 // 10,) + (PRICE,) * (m - 1)
    seq.submit(
        OraclePrice.signed(ORACLE_KEY, DOMAIN, prices, (0,) * m, g.oracle_time + 60, g.oracle_time)
    )
    system.settle_all()
    g = seq.state.global_state
    assert g.series[0].mark == mark and g.markets[0].price == PRICE * 13 // 10
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    system.clock.now += 100
    l1.freeze()
    for i, value in ((1, 10**6 + 5_000 - 30_000), (0, 10**6 - 5_000 + 30_000)):
        preimage, path, gl = account_proof(system, i)
        amount = l1.escape(i, 700 + i, sign(k[i], escape_message(DOMAIN, i, 700 + i)), preimage,
                           path, gl)  # fmt: skip
        assert amount == total_value(settle(seq.state.account(i), g), g) // VALUE_SCALE == value


def test_settled_count_and_root_come_from_one_snapshot(tmp_path) -> None:
    """A reader pairing the batch count with the root read apart could meet a batch settled
    between the two reads (and call a healthy sequencer store diverged). Another connection
    commits a new count and root in the middle of ``settled``: the pair stays the old one."""
    from verifier.l1_store import L1Store

    system = make_system(tmp_path, max_batches=8, max_seconds=100)
    l1 = system.l1
    before = (l1.batch_count, l1.root)
    other = L1Store(l1.store.path, create=False)
    get = l1._get

    def settle_meanwhile(key):
        value = get(key)
        if key == "batches":
            with other.transaction():
                other.put("batches", value + 1)
                other.put("root", 12345)
        return value

    l1._get = settle_meanwhile
    assert l1.settled() == before
    l1._get = get
    assert (l1.batch_count, l1.root) == (before[0] + 1, 12345)  # twin: read apart, the new pair
    other.close()
