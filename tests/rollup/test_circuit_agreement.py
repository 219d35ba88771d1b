"""The batch circuit agrees with the native state machine (rollup/, the reference).

* random valid sequences (seeded): every sealed batch solves and its public signals are the
  native (old_root, new_root, commitment) — what verifier/settlement.py checks;
* per transaction type, a native-invalid transition (native check bypassed, state written by
  ``RollupState.commit``) leaves the circuit unsatisfiable.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from circuits.batch import compile_batch
from circuits.errors import UnsatisfiedConstraint
from circuits.soundness import find_unconstrained
from protocol import spec
from protocol.spec import DEFAULT_MARKETS, DEPOSIT, FORCED_WITHDRAW, VALUE_SCALE, RollupParams
from rollup.circuit_input import batch_assignment, shape_of
from rollup.errors import RollupError
from rollup.state import RollupState
from rollup.tx import (
    Deposit,
    ForcedWithdrawal,
    FundingTick,
    Liquidate,
    Noop,
    OraclePrice,
    Order,
    Trade,
    Transfer,
    Withdraw,
)
from rollup.witness import BatchWitness
from tests.batch_helpers import (
    ORACLE_KEY,
    PRICE,
    batch_witness,
    deposit,
    genesis_state,
    public_key,
    solve_batch,
    user_key,
)

KEYS = [user_key(i) for i in range(4)]
PARAMS = RollupParams(depth=3, batch_slots=2, markets=DEFAULT_MARKETS[:2])
SHAPE = shape_of(PARAMS)


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


def new_state() -> RollupState:
    return genesis_state(PARAMS, (PRICE, 2 * PRICE))


def seal(state: RollupState, txs: list) -> BatchWitness:
    """Apply txs (skipping natively rejected ones) into one batch padded with no-ops."""
    old, slots = state.root, []
    for tx in txs:
        if len(slots) == PARAMS.batch_slots:
            break
        try:
            slots.append(state.apply(tx, len(slots)))
        except RollupError:
            continue
    while len(slots) < PARAMS.batch_slots:
        slots.append(state.apply(Noop(), len(slots)))
    return batch_witness(old, state, slots)


def random_tx(rng: random.Random, state: RollupState, t: int):
    a, b = rng.sample(range(4), 2)
    nonce = state.account(a).nonce
    kind = rng.randrange(7)
    if kind == 0:
        return deposit(a, rng.randrange(1, 10**4), 9)
    if kind == 1:
        return Withdraw.signed(KEYS[a], a, rng.randrange(1, 50), 77, nonce)
    if kind == 2:
        return Transfer.signed(KEYS[a], a, b, rng.randrange(1, 50 * VALUE_SCALE), nonce)
    if kind == 3:
        m, side, q = rng.randrange(2), rng.randrange(2), rng.randrange(1, 30)
        p = state.global_state.markets[m].price
        mo = Order(a, m, side, q + 5, p + 10, 3, nonce, 10**6).sign(KEYS[a])
        to = Order(b, m, 1 - side, q, p - 10, 3, state.account(b).nonce, 10**6).sign(KEYS[b])
        return Trade(mo, to, q, p, rng.randrange(4), rng.randrange(4))
    if kind == 4:
        prices = tuple(p.price + rng.randrange(-99, 100) for p in state.global_state.markets)
        return OraclePrice.signed(ORACLE_KEY, prices, state.global_state.last_oracle_time + 5)
    if kind == 5:
        rates = tuple(rng.randrange(-4295, 4296) for _ in range(2))
        return FundingTick(rates, state.global_state.last_oracle_time)
    return ForcedWithdrawal(a, 55)


@pytest.mark.parametrize(
    "seed", [2026, *(pytest.param(s, marks=pytest.mark.slow) for s in (1, 2, 3))]
)
def test_random_valid_sequences_solve(compiled, seed: int) -> None:
    rng = random.Random(seed)
    state = new_state()
    first = seal(state, [deposit(i, 10**5, 9) for i in range(2)])
    batches = [first, seal(state, [deposit(i, 10**5, 9) for i in (2, 3)])]
    for t in range(4):
        batches.append(seal(state, [random_tx(rng, state, t) for _ in range(6)]))
    types = {w.tx_type for b in batches for w in b.slots}
    assert len(types) >= 3, types  # natively rejected random txs are skipped
    for batch in batches:
        z = solve_batch(compiled, batch, SHAPE)
        wrong = batch_assignment(batch, SHAPE) | {"new_root": batch.old_root}
        with pytest.raises(UnsatisfiedConstraint):
            compiled.solve(wrong)
    report = find_unconstrained(compiled, z, random.Random(3), n_random=1)
    assert report.ok, report.unconstrained[:5]


def test_native_invalid_deposit_and_forced_withdrawal_unsatisfiable(compiled) -> None:
    state = new_state()
    seal(state, [deposit(i, 10**5, 9) for i in range(2)])
    # a forced withdrawal paying more than the account's free collateral
    acct = state.account(0)
    paid = 10**5 + 1
    after = replace(acct, collateral=acct.collateral - paid * VALUE_SCALE)
    effect = {"account": 0, "amount": paid, "void": 0, "l1_address": 55}
    old = state.root
    w = state.commit(
        0, FORCED_WITHDRAW, ForcedWithdrawal(0, 55), [(0, after)], state.global_state, effect, ()
    )
    w2 = state.apply(Noop(), 1)
    batch = batch_witness(old, state, (w, w2))
    with pytest.raises(UnsatisfiedConstraint, match="forced/amount"):
        compiled.solve(batch_assignment(batch, SHAPE))
    # a deposit crediting twice the deposited amount
    state = new_state()
    old = state.root
    pk = public_key(KEYS[0])
    credited = replace(
        state.account(0), pubkey_x=pk[0], pubkey_y=pk[1], collateral=20 * VALUE_SCALE
    )
    effect = {
        "account": 0,
        "amount": 10,
        "refunded": 0,
        "l1_address": 9,
        "pubkey_x": pk[0],
        "pubkey_y": pk[1],
    }
    w = state.commit(
        0, DEPOSIT, Deposit(0, *pk, 10, 9), [(0, credited)], state.global_state, effect, ()
    )
    w2 = state.apply(Noop(), 1)
    batch = batch_witness(old, state, (w, w2))
    with pytest.raises(UnsatisfiedConstraint):
        compiled.solve(batch_assignment(batch, SHAPE))


def test_liquidation_in_second_market_solves(compiled) -> None:
    state = new_state()
    seal(state, [deposit(i, 1000, 9) for i in range(2)])
    seal(state, [deposit(2, 10**6, 9)])
    p = 2 * PRICE
    mo = Order(0, 1, 0, 45, p, 0, 0, 10**6).sign(KEYS[0])
    to = Order(1, 1, 1, 45, p, 0, 0, 10**6).sign(KEYS[1])
    drop = OraclePrice.signed(ORACLE_KEY, (PRICE, p * 90 // 100), 5)
    batches = [seal(state, [Trade(mo, to, 45, p, 0, 0), drop])]
    lo = Order(2, 1, 0, 45, p, 0, 0, 10**6).sign(KEYS[2])
    batches.append(seal(state, [Liquidate(lo, 0, 45, p * 90 // 100, 0)]))
    assert [w.tx_type for w in batches[1].slots] == [spec.LIQUIDATE, spec.NOOP]
    up = p * 215 // 200  # the short (account 1) becomes liquidatable; the liquidator sells
    rise = OraclePrice.signed(ORACLE_KEY, (PRICE, up), 6)
    short = Liquidate(Order(2, 1, 1, 45, up, 0, 1, 10**6).sign(KEYS[2]), 1, 45, up, 0)
    batches.append(seal(state, [rise, short]))
    assert [w.tx_type for w in batches[2].slots] == [spec.ORACLE, spec.LIQUIDATE]
    for batch in batches:
        solve_batch(compiled, batch, SHAPE)


def test_assignment_rejects_a_batch_of_another_shape() -> None:
    state = new_state()
    batch = seal(state, [deposit(0, 5, 9)])
    assignment = batch_assignment(batch, SHAPE)
    assert assignment["slot0.sel"] == [int(t == spec.DEPOSIT) for t in range(9)]
    assert assignment["slot1.sel"] == [int(t == spec.NOOP) for t in range(9)]
    with pytest.raises(ValueError, match="slots"):
        batch_assignment(batch, replace(SHAPE, batch_slots=1))
