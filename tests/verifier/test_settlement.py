"""The settlement layer (DESIGN §6): batches accepted/rejected (nothing changes on rejection),
priority queue served in order, freeze, escape, claimable withdrawals, persistence; the invariant
vault = Σ L2 value + fee pool + claimable + queued deposits is checked after every operation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from protocol.eddsa import sign
from protocol.spec import BUY, SELL, VALUE_SCALE
from rollup.margin import total_value
from rollup.tx import Order, Trade, Withdraw, escape_message, forced_message
from tests.rollup.conftest import PRICE, echo_checker, make_system, public_key
from verifier.settlement import (
    BatchRejected,
    EscapeRejected,
    FreezeRejected,
    RequestRejected,
    Settlement,
    SettlementError,
)


def snapshot(l1: Settlement):
    return (dict(l1.s), l1.published_batches())


def rejected(l1: Settlement, error, call, *args):
    before = snapshot(l1)
    with pytest.raises(error) as info:
        call(*args)
    assert snapshot(l1) == before
    return str(info.value)


def proof_of(batch):
    return [batch.old_root, batch.new_root, batch.commitment]


def account_proof(system, index):
    s = system.seq.state
    return s.account(index).to_list(), s.tree.siblings(index), s.global_state.to_list()


def test_batches_and_withdrawals(tmp_path) -> None:
    system = make_system(tmp_path)
    system.invariant()
    system.seq.submit(Withdraw.signed(system.keys[2], 2, 10, 900, 0))
    system.settle_all()
    system.invariant()
    assert system.l1.claimable(900) == 10
    assert system.l1.withdraw(900) == 10 and system.l1.vault == 3 * 10**6 - 10
    system.invariant()
    msg = rejected(system.l1, SettlementError, system.l1.withdraw, 900)
    assert msg == "nothing claimable for L1 address 900"


def test_rejected_submissions_change_nothing(tmp_path) -> None:
    system = make_system(tmp_path)
    l1 = system.l1
    system.seq.submit(Withdraw.signed(system.keys[2], 2, 10, 900, 0))
    batch = system.seq.seal_batch(l1.queue())
    pubdata, root = list(batch.pubdata), batch.new_root
    assert "proof does not verify" in rejected(
        l1, BatchRejected, l1.submit_batch, pubdata, root, [0]
    )
    wrong_root = (root + 1) % l1.config.genesis_root
    rejected(l1, BatchRejected, l1.submit_batch, pubdata, wrong_root, proof_of(batch))
    tampered = [pubdata[0] + (1 << 36), *pubdata[1:]]  # withdraw amount + 1
    assert "proof" in rejected(l1, BatchRejected, l1.submit_batch, tampered, root, proof_of(batch))
    assert "8 field elements" in rejected(l1, BatchRejected, l1.submit_batch, pubdata[:-1], root, 0)
    bad_type = [pubdata[0] | 15, *pubdata[1:]]
    assert "unknown transaction type" in rejected(
        l1, BatchRejected, l1.submit_batch, bad_type, root, 0
    )
    l1.submit_batch(pubdata, root, proof_of(batch))
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
        l1, BatchRejected, l1.submit_batch, list(bad.pubdata), bad.new_root, proof_of(bad)
    )
    assert "does not match queue head #3" in msg
    system.seq.state = system.seq.store.load_state()
    assert [q["id"] for q in l1.queue()] == [3, 4]


def test_forced_withdrawal_served(tmp_path) -> None:
    system = make_system(tmp_path)
    l1, key = system.l1, system.keys[1]
    preimage, path, g = account_proof(system, 1)
    rid = l1.request_forced_withdrawal(1, 901, sign(key, forced_message(1, 901)), preimage, path, g)
    system.invariant()
    bad_sig = sign(system.keys[0], forced_message(1, 901))
    msg = rejected(
        l1, RequestRejected, l1.request_forced_withdrawal, 1, 901, bad_sig, preimage, path, g
    )
    assert msg == "account 1: bad forced-withdrawal signature"
    wrong = [preimage[0], preimage[1], preimage[2], preimage[3] + 1, *preimage[4:]]
    sig = sign(key, forced_message(1, 901))
    msg = rejected(l1, RequestRejected, l1.request_forced_withdrawal, 1, 901, sig, wrong, path, g)
    assert "do not match the verified root" in msg
    system.settle_all()
    assert rid == 3 and l1.claimable(901) == 10**6 and not l1.queue()
    system.invariant()


def test_freeze_and_escape(tmp_path) -> None:
    system = make_system(tmp_path, max_batches=2, max_seconds=100)
    l1, k = system.l1, system.keys
    seq = system.seq
    trade = Trade(
        Order(0, 0, BUY, 1000, PRICE, 5, 0, 10**6).sign(k[0]),
        Order(1, 0, SELL, 1000, PRICE, 5, 0, 10**6).sign(k[1]),
        500, PRICE, 3, 3,
    )  # fmt: skip
    seq.submit(trade)
    system.settle_all()
    system.invariant()
    assert "not frozen" in rejected(l1, EscapeRejected, l1.escape, 0, 1, None, [], [], [])
    assert "no priority request is overdue" in rejected(l1, FreezeRejected, l1.freeze)
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)  # the operator never serves it
    system.invariant()
    system.clock.now += 99
    rejected(l1, FreezeRejected, l1.freeze)
    system.clock.now += 1
    assert l1.freeze()["id"] == 3 and l1.frozen and l1.claimable(55) == 9  # refunded
    rejected(l1, BatchRejected, l1.submit_batch, [0] * 8, 0, 0)
    rejected(l1, RequestRejected, l1.deposit, 6, public_key(b"\x06" * 32), 9, 56)
    g = seq.state.global_state
    paid = 0
    for i in range(3):
        preimage, path, gl = account_proof(system, i)
        sig = sign(k[i], escape_message(i, 700 + i))
        if i == 0:
            bad = sign(k[1], escape_message(i, 700 + i))
            rejected(l1, EscapeRejected, l1.escape, i, 700 + i, bad, preimage, path, gl)
        amount = l1.escape(i, 700 + i, sig, preimage, path, gl)
        assert amount == total_value(seq.state.account(i), g) // VALUE_SCALE
        paid += amount
        msg = rejected(l1, EscapeRejected, l1.escape, i, 700 + i, sig, preimage, path, gl)
        assert msg == f"account {i} has already escaped"
    assert paid + 9 == l1.total_claimable() <= l1.vault


def test_overdue_by_batches(tmp_path) -> None:
    """A batch may leave the queue unserved (it is then not consumed); after N such batches the
    request is overdue and anyone may freeze."""
    system = make_system(tmp_path, max_batches=2)
    l1 = system.l1
    l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    for nonce in range(2):
        rejected(l1, FreezeRejected, l1.freeze)
        system.seq.submit(Withdraw.signed(system.keys[2], 2, 1, 900, nonce))
        skip = system.seq.seal_batch([])  # the operator ignores the queue
        l1.submit_batch(list(skip.pubdata), skip.new_root, proof_of(skip))
        assert [q["id"] for q in l1.queue()] == [3]
    system.invariant()
    assert l1.overdue()["id"] == 3 and l1.freeze()["id"] == 3


def test_requests_validated(tmp_path) -> None:
    system = make_system(tmp_path)
    l1 = system.l1
    pk = public_key(b"\x05" * 32)
    assert "outside the tree" in rejected(l1, RequestRejected, l1.deposit, 16, pk, 1, 1)
    assert "outside (0, 2^63)" in rejected(l1, RequestRejected, l1.deposit, 5, pk, 0, 1)
    assert "160-bit" in rejected(l1, RequestRejected, l1.deposit, 5, pk, 1, 1 << 160)
    assert "subgroup point" in rejected(l1, RequestRejected, l1.deposit, 5, (1, 2), 1, 1)


def test_restart_loses_nothing(tmp_path) -> None:
    system = make_system(tmp_path)
    system.l1.deposit(5, public_key(b"\x05" * 32), 9, 55)
    before = snapshot(system.l1)
    system.l1.close()
    again = Settlement(system.l1.config, echo_checker, tmp_path / "l1.db", clock=system.clock)
    assert snapshot(again) == before and again.queue()[0]["fields"][3] == 9


def test_import_is_light() -> None:
    """verifier.settlement pulls in neither numba, numpy nor the rollup package (only circuits'
    native primitives, which import the constants module prover.fields and nothing else of prover;
    prover/__init__ is lazy)."""
    code = (
        "import sys, verifier.settlement; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('numba', 'numpy', 'rollup') "
        "or (m.startswith('prover.') and m != 'prover.fields')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
