"""The batch circuit agrees with the native state machine (rollup/, the reference).

* a scenario of every transaction type (partial fills of a resting order, a refunded deposit,
  oracle updates with funding rates, a liquidation with penalty, a bankrupt liquidation drawing
  the insurance fund, deleverage at the bankruptcy price, forced withdrawals, void included)
  and random valid sequences (seeded): every sealed batch solves and its public signals are the
  native (old_root, new_root, commitment) — what verifier/settlement.py checks;
* per transaction type, a native-invalid transition (the type's valid effects with one value
  unit created, written by ``RollupState.commit``) leaves the circuit unsatisfiable.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from circuits.batch import compile_batch
from circuits.errors import UnsatisfiedConstraint
from circuits.soundness import find_unconstrained
from protocol import spec
from protocol.spec import (
    BUY,
    CALL,
    DEFAULT_MARKETS,
    OPTION_BASE,
    PUT,
    SELL,
    VALUE_SCALE,
    RollupParams,
)
from rollup.circuit_input import batch_assignment, shape_of
from rollup.errors import RollupError
from rollup.state import RollupState
from rollup.tx import (
    Deleverage,
    ForcedWithdrawal,
    Liquidate,
    ListSeries,
    Marks,
    Noop,
    OraclePrice,
    Order,
    Settle,
    Trade,
    Transfer,
    Withdraw,
)
from rollup.witness import BatchWitness
from tests.batch_helpers import (
    DOMAIN,
    GENESIS_TIME,
    OPERATOR_KEY,
    ORACLE_KEY,
    PRICE,
    batch_witness,
    deposit,
    genesis_state,
    solve_batch,
    user_key,
)

KEYS = [user_key(i) for i in range(8)]
PARAMS = RollupParams(depth=3, batch_slots=2, markets=DEFAULT_MARKETS[:2])
SHAPE = shape_of(PARAMS)
Q = VALUE_SCALE
FEE = 10**5 * Q  #: every order's max fee


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


def new_state() -> RollupState:
    return genesis_state(PARAMS, (PRICE, 2 * PRICE))


def order(account: int, market: int, side: int, size: int, limit: int, order_id: int):
    o = Order(account, market, side, size, limit, FEE, order_id, GENESIS_TIME + 10**6)
    return o.sign(KEYS[account], DOMAIN)


def oracle(state: RollupState, permille: tuple[int, int], rates=(0, 0), dt: int = 60):
    prices = (PRICE * permille[0] // 1000, 2 * PRICE * permille[1] // 1000)
    t = state.global_state.oracle_time + dt
    previous = state.global_state.oracle_time
    return OraclePrice.signed(ORACLE_KEY, DOMAIN, prices, tuple(rates), t, previous)


def seal(state: RollupState, txs: list, strict: bool = True) -> BatchWitness:
    """Apply txs into one batch padded with no-ops (natively rejected ones skipped unless
    ``strict``)."""
    old, slots = state.root, []
    for tx in txs:
        if len(slots) == PARAMS.batch_slots:
            break
        try:
            slots.append(state.apply(tx, len(slots)))
        except RollupError:
            if strict:
                raise
    while len(slots) < PARAMS.batch_slots:
        slots.append(state.apply(Noop(), len(slots)))
    return batch_witness(old, state, slots)


def _price(state: RollupState, market: int) -> int:
    return state.global_state.markets[market].price


def list_series(
    state: RollupState, slot: int, market: int, strike: int, kind: int, expiry: int
) -> ListSeries:
    sid = state.global_state.next_series_id
    return ListSeries.signed(OPERATOR_KEY, DOMAIN, slot, sid, market, expiry, strike, kind)


def marks(state: RollupState, values: dict[int, int], flags: int = 0) -> Marks:
    m = tuple(values.get(j, 0) for j in range(spec.MAX_SERIES))
    return Marks.signed(ORACLE_KEY, DOMAIN, state.global_state.oracle_time, m, flags)


#: the scenario, as functions of the state (prices depend on the oracle updates before them)
SCENARIO = [
    *(lambda s, i=i: deposit(i, 10**5, 9) for i in range(6)),
    lambda s: deposit(7, 10**8, 9),
    lambda s: deposit(0, 10**5, 9, key=1),  # another key's account: refunded
    lambda s: Trade(
        order(1, 0, SELL, 8000, PRICE, 3), order(0, 0, BUY, 5000, PRICE, 4), 5000, PRICE, 1, 1
    ),
    lambda s: Trade(
        order(1, 0, SELL, 8000, PRICE, 3), order(0, 0, BUY, 3000, PRICE, 6), 3000, PRICE, 2, 0
    ),
    lambda s: Trade(
        order(4, 1, BUY, 4500, 2 * PRICE, 1),
        order(5, 1, SELL, 4500, 2 * PRICE, 1),
        4500,
        2 * PRICE,
        0,
        0,
    ),
    lambda s: Trade(
        order(2, 1, BUY, 4750, 2 * PRICE, 1),
        order(3, 1, SELL, 4750, 2 * PRICE, 1),
        4750,
        2 * PRICE,
        0,
        0,
    ),
    lambda s: list_series(s, 0, 0, PRICE, CALL, GENESIS_TIME + 150),
    lambda s: marks(s, {0: PRICE // 20}),
    lambda s: Trade(
        order(3, OPTION_BASE + 1, BUY, 50, PRICE // 20, 5),
        order(7, OPTION_BASE + 1, SELL, 50, PRICE // 20, 9),
        50,
        PRICE // 20,
        0,
        3,
    ),  # account 7 writes calls
    lambda s: list_series(s, 3, 1, 2 * PRICE, PUT, GENESIS_TIME + 10**5),
    lambda s: oracle(s, (1000, 1000), (100, -100)),
    lambda s: Withdraw.signed(KEYS[1], DOMAIN, 1, 10, 77, 0),
    lambda s: Transfer.signed(KEYS[1], DOMAIN, 1, 7, 5 * Q, 1),
    lambda s: oracle(s, (915, 1000)),  # account 0 below maintenance
    lambda s: Liquidate(
        order(7, 0, BUY, 8000, _price(s, 0), 2), 0, 4000, _price(s, 0), 12_000 * Q
    ),  # penalty and fee to the fund
    lambda s: oracle(s, (915, 880)),  # accounts 4 and 2 bankrupt
    lambda s: Liquidate(order(7, 1, BUY, 4500, _price(s, 1), 3), 4, 4500, _price(s, 1), 0),
    lambda s: Deleverage(2, 3, 1, 2000),  # the fund cannot cover account 2
    lambda s: Deleverage(2, 3, 1, 2750),
    lambda s: marks(s, {0: PRICE * 11 // 10, 3: PRICE // 5}, flags=1),  # series 0 settles
    lambda s: Settle(3),
    lambda s: ForcedWithdrawal(1, 55),
    lambda s: ForcedWithdrawal(6, 55),  # void: account 6 is empty
    lambda s: Noop(),
]


def run_scenario() -> tuple[RollupState, list[BatchWitness]]:
    """The scenario, two transactions per batch (each built on the state before it)."""
    state, batches, steps = new_state(), [], list(SCENARIO)
    while steps:
        old, slots = state.root, []
        for step in steps[: PARAMS.batch_slots]:
            slots.append(state.apply(step(state), len(slots)))
        steps = steps[PARAMS.batch_slots :]
        while len(slots) < PARAMS.batch_slots:
            slots.append(state.apply(Noop(), len(slots)))
        batches.append(batch_witness(old, state, slots))
    return state, batches


def test_scenario_of_every_type_solves(compiled) -> None:
    state, batches = run_scenario()
    types = [w.tx_type for b in batches for w in b.slots]
    assert set(types) == set(range(spec.N_TX_TYPES)), types
    refunds = [w for b in batches for w in b.slots if w.effect.get("refunded")]
    assert refunds and state.global_state.insurance_fund > 0
    for batch in batches:
        z = solve_batch(compiled, batch, SHAPE)
        wrong = batch_assignment(batch, SHAPE) | {"new_root": batch.new_root + 1}
        with pytest.raises(UnsatisfiedConstraint):
            compiled.solve(wrong)
    report = find_unconstrained(compiled, z, random.Random(3), n_random=1)
    assert report.ok, report.unconstrained[:5]


def random_tx(rng: random.Random, state: RollupState):
    """A random transaction (accounts 0..5 trade at up to ~8× leverage, the oracle moves up to
    ±8%, account 7 liquidates); natively invalid ones are skipped by ``seal``."""
    a, b = rng.sample(range(6), 2)
    nonce = state.account(a).nonce
    kind = rng.choice((0, 1, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7))
    m, side = rng.randrange(2), rng.randrange(2)
    p = _price(state, m)
    size = state.account(a).positions[m].size
    if kind == 0:
        return deposit(a, rng.randrange(1, 10**4), 9, key=rng.choice((a, a, b)))
    if kind == 1:
        return Withdraw.signed(KEYS[a], DOMAIN, a, rng.randrange(1, 500), 77, nonce)
    if kind == 2:
        return Transfer.signed(KEYS[a], DOMAIN, a, b, rng.randrange(1, 500 * Q), nonce)
    if kind == 3:  # resting maker orders (a small id range): partial fills across trades
        q = rng.randrange(1, 4000 // (m + 1))
        mo = order(a, m, side, 8000, p + p // 50, rng.randrange(1, 4))
        to = order(b, m, 1 - side, q, p - p // 50, rng.randrange(1, 1000))
        price = p + rng.randrange(-p // 50, p // 50)
        return Trade(mo, to, q, price, rng.randrange(9), rng.randrange(9))
    if kind == 4:
        moves = (rng.randrange(920, 1081), rng.randrange(920, 1081))
        return oracle(state, moves, (rng.randrange(-4295, 4296), rng.randrange(-4295, 4296)))
    holders = [i for i in range(6) if state.account(i).positions[m].size]
    if kind in (5, 6) and holders:
        a = rng.choice(holders)
        size = state.account(a).positions[m].size
        opposite = [i for i in holders if state.account(i).positions[m].size * size < 0]
        b = rng.choice(opposite) if opposite else b
    if kind == 5:
        q = rng.randrange(1, abs(size) + 1) if size else 1
        lq = order(7, m, BUY if size > 0 else SELL, q, p, rng.randrange(1, 10**6))
        return Liquidate(lq, a, q, p, rng.randrange(9))
    if kind == 6:
        return Deleverage(a, b, m, rng.randrange(1, abs(size) + 2))
    return ForcedWithdrawal(a, 55)


@pytest.mark.parametrize(
    "seed", [3, *(pytest.param(s, marks=pytest.mark.slow) for s in (1, 2, 2026))]
)
def test_random_valid_sequences_solve(compiled, seed: int) -> None:
    rng = random.Random(seed)
    state = new_state()
    batches = [seal(state, [deposit(i, 10**5, 9) for i in range(6)][k : k + 2]) for k in (0, 2, 4)]
    batches.append(seal(state, [deposit(7, 10**8, 9)]))
    for k in (8, 10):  # the scenario's leveraged positions
        batches.append(seal(state, [step(state) for step in SCENARIO[k : k + 2]]))
    for _ in range(8):
        batches.append(seal(state, [random_tx(rng, state) for _ in range(12)], strict=False))
    types = {w.tx_type for b in batches for w in b.slots}
    assert len(types) >= 4, types
    for batch in batches:
        solve_batch(compiled, batch, SHAPE)


def tampered(state: RollupState, tx) -> BatchWitness:
    """The native effects of ``tx`` with one value unit created (an account's collateral, or
    the insurance fund when no account is written), committed without checks."""
    old = state.root
    writes, g, effect, messages = RollupState._handlers[type(tx)](state, tx)
    if writes:
        index, acct = writes[-1]
        writes = [*writes[:-1], (index, replace(acct, collateral=acct.collateral + 1))]
    else:
        g = replace(g, insurance_fund=g.insurance_fund + 1)
    w = state.commit(0, tx.TYPE, tx, writes, g, effect, messages)
    return batch_witness(old, state, (w, state.apply(Noop(), 1)))


@pytest.mark.parametrize("tx_type", range(spec.N_TX_TYPES), ids=spec.TX_TYPE_NAMES)
def test_native_invalid_transition_unsatisfiable(compiled, tx_type: int) -> None:
    state = new_state()
    for step in SCENARIO:
        tx = step(state)
        if tx_type == tx.TYPE:
            break
        state.apply(tx)
    batch = tampered(state, tx)
    with pytest.raises(UnsatisfiedConstraint):
        compiled.solve(batch_assignment(batch, SHAPE))
