"""Soundness of the batch circuit's account transactions: withdrawals, transfers, deposits (keys,
refunds) and forced withdrawals — each valid case solves, each attack fails on a named row (see
test_batch_soundness.py for the method)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from circuits.batch import compile_batch
from protocol.eddsa import sign
from protocol.pubdata import pubdata_commitment
from protocol.spec import BUY, DEPOSIT, FORCED_WITHDRAW, SELL, TRANSFER, VALUE_SCALE
from prover.fields import R
from rollup import effects
from rollup.circuit_input import batch_assignment
from rollup.margin import settle
from rollup.state import RollupState
from rollup.tx import Deposit, ForcedWithdrawal, Trade, Transfer, Withdraw
from tests.batch_helpers import DOMAIN, PRICE, fails_on, one_slot, public_key, solve_batch
from tests.circuits.batch_world import (
    KEYS,
    OTHER_DOMAIN,
    SHAPE,
    fails,
    funded_state,
    order,
    with_tx,
)


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


# -- withdrawals, transfers, deposits -------------------------------------------------------
def test_withdraw_and_transfer_margin_signature_nonce(compiled, monkeypatch) -> None:
    state = funded_state()
    wd = Withdraw.signed(KEYS[0], DOMAIN, 0, 10, 7, 0)
    batch = one_slot(state, lambda s: s.apply(wd))
    solve_batch(compiled, batch, SHAPE)
    fails(compiled, with_tx(batch, replace(wd, signature=sign(KEYS[1], wd.message(DOMAIN)))),
          "slot0/sig0/")  # fmt: skip
    fails(compiled, with_tx(batch, Withdraw.signed(KEYS[0], OTHER_DOMAIN, 0, 10, 7, 0)),
          "slot0/sig0/")  # fmt: skip
    fails(compiled, with_tx(batch, Withdraw.signed(KEYS[0], DOMAIN, 0, 10, 7, 1)), "slot0/nonce")
    monkeypatch.setattr(effects, "require_initial", lambda *a: None)
    tx = Trade(order(0, BUY, 90), order(1, SELL, 90), 90, PRICE, 0, 0)
    one_slot(state, lambda s: s.apply(tx))
    wd = Withdraw.signed(KEYS[0], DOMAIN, 0, 900, 7, 1)
    fails(compiled, one_slot(state, lambda s: s.apply(wd)), "margin/initial0")
    tr = Transfer.signed(KEYS[1], DOMAIN, 1, 2, 999 * VALUE_SCALE, 0)
    fails(compiled, one_slot(state, lambda s: s.apply(tr)), "margin/initial0")


def test_wrapped_amount_and_pubdata_mismatch_fail(compiled) -> None:
    state = funded_state()
    tr = Transfer.signed(KEYS[0], DOMAIN, 0, 1, 5 * VALUE_SCALE, 0)
    batch = one_slot(state, lambda s: s.apply(tr))
    a = batch_assignment(batch, SHAPE)
    compiled.solve(a)
    a["slot0.amount"] = R - 5 * VALUE_SCALE  # "−5 quanta": credits the sender if it wrapped
    fails_on(compiled, a, "transfer/transfer_amount_range")
    wd = Withdraw.signed(KEYS[1], DOMAIN, 1, 10, 7, 0)
    w = batch_assignment(one_slot(state, lambda s: s.apply(wd)), SHAPE)
    compiled.solve(w)
    w["slot0.amount"] = 1 << 63  # would spill into the next pubdata field
    fails_on(compiled, w, "transfer/amount_range")
    chunk = list(batch.pubdata)
    chunk[0] ^= 1 << 40  # another sender/recipient bit in the published chunk
    commitment = pubdata_commitment(batch.old_root, batch.new_root, chunk)
    fails(compiled, replace(batch, pubdata=tuple(chunk), commitment=commitment), "commitment")


def test_transfer_to_missing_recipient_and_to_self(compiled, monkeypatch) -> None:
    state = funded_state()
    ok = Transfer.signed(KEYS[0], DOMAIN, 0, 1, 5, 0)
    solve_batch(compiled, one_slot(state, lambda s: s.apply(ok)), SHAPE)
    monkeypatch.setattr(RollupState, "existing", RollupState.account)
    tr = Transfer.signed(KEYS[0], DOMAIN, 0, 3, 5, 1)
    fails(compiled, one_slot(state, lambda s: s.apply(tr)), "slot0/recipient_exists")
    own = Transfer.signed(KEYS[0], DOMAIN, 0, 0, 5, state.account(0).nonce)
    s_after, r_after = effects.transfer(
        0, state.account(0), state.account(0), state.global_state, 5
    )
    effect = {"sender": 0, "recipient": 0, "amount": 5}
    writes = [(0, s_after), (0, r_after)]
    batch = one_slot(state, lambda s: s.commit(0, TRANSFER, own, writes, s.global_state, effect,
                                               (own.message(DOMAIN),)))  # fmt: skip
    fails(compiled, batch, "slot0/distinct_accounts")


def _commit_deposit(state: RollupState, account: int, pk, amount: int, refunded: int, after):
    tx = Deposit(account, *pk, amount, 9)
    effect = {"account": account, "amount": amount, "refunded": refunded, "l1_address": 9}
    effect |= {"pubkey_x": pk[0], "pubkey_y": pk[1]}
    return one_slot(state, lambda s: s.commit(0, DEPOSIT, tx, [(account, after)], s.global_state,
                                              effect, ()))  # fmt: skip


def test_deposit_credits_only_its_own_key(compiled) -> None:
    state = funded_state()
    own, other = public_key(KEYS[0]), public_key(KEYS[1])
    solve_batch(compiled, one_slot(state, lambda s: s.apply(Deposit(0, *own, 5, 9))), SHAPE)
    refund = one_slot(state, lambda s: s.apply(Deposit(0, *other, 5, 9)))
    assert refund.slots[0].effect["refunded"] == 1
    solve_batch(compiled, refund, SHAPE)
    acct = state.account(0)
    stolen = replace(acct, collateral=acct.collateral + 5 * VALUE_SCALE)
    fails(compiled, _commit_deposit(state, 0, other, 5, 0, stolen), "deposit/credited_own_key")
    current = state.account(0)
    fails(compiled, _commit_deposit(state, 0, own, 5, 1, current), "refund/deposit_overflows")
    empty = state.account(3)
    fails(compiled, _commit_deposit(state, 3, own, 5, 1, empty), "refund/deposit_overflows")


def test_deposit_refunded_on_overflow(compiled) -> None:
    state = funded_state()
    pk = public_key(KEYS[3])
    one_slot(state, lambda s: s.apply(Deposit(3, *pk, (1 << 63) - 1, 9)))
    batch = one_slot(state, lambda s: s.apply(Deposit(3, *pk, 1, 9)))
    assert batch.slots[0].effect["refunded"] == 1
    solve_batch(compiled, batch, SHAPE)
    acct = state.account(3)
    fails(compiled, _commit_deposit(state, 3, pk, 1, 0, replace(acct, collateral=1 << 95)),
          "update0/collateral_range")  # fmt: skip


@pytest.mark.parametrize(
    ("pubkey", "amount", "fragment"),
    [((5, 7), 10, "deposit/pubkey_on_curve"), (None, 0, "transfer/amount_positive")],
)
def test_deposit_of_invalid_key_or_zero_amount_fails(compiled, pubkey, amount, fragment) -> None:
    state = funded_state()
    pk = pubkey or public_key(KEYS[3])
    acct = replace(state.account(3), pubkey_x=pk[0], pubkey_y=pk[1],
                   collateral=amount * VALUE_SCALE)  # fmt: skip
    fails(compiled, _commit_deposit(state, 3, pk, amount, 0, acct), fragment)


def test_void_forced_withdrawal_only_for_empty_or_out_of_range(compiled) -> None:
    state = funded_state()
    batch = one_slot(state, lambda s: s.apply(ForcedWithdrawal(3, 5)))
    assert batch.slots[0].effect["void"] == 1
    solve_batch(compiled, batch, SHAPE)
    tx = ForcedWithdrawal(1, 5)
    effect = {"account": 1, "amount": 0, "void": 1, "l1_address": 5}
    writes = [(1, state.account(1))]
    void = one_slot(state, lambda s: s.commit(0, FORCED_WITHDRAW, tx, writes, s.global_state,
                                              effect, ()))  # fmt: skip
    fails(compiled, void, "refund/collateral_out_of_range")
    tx = ForcedWithdrawal(3, 5)  # an empty account: void, never a withdrawal of 0
    effect = {"account": 3, "amount": 0, "void": 0, "l1_address": 5}
    writes = [(3, settle(state.account(3), state.global_state))]
    withdrawal = one_slot(state, lambda s: s.commit(0, FORCED_WITHDRAW, tx, writes,
                                                    s.global_state, effect, ()))  # fmt: skip
    fails(compiled, withdrawal, "refund/forced_nonempty")
