"""The batch circuit agrees with the native state machine on options (rollup/options.py,
rollup/series.py, the generic liquidation and deleverage of rollup/bankruptcy.py).

* an options life cycle, every batch solved with the native public signals and its twin with a
  wrong new root refused: a call and a put listed and marked, options written and bought
  beside perpetual trades, the index rising until the call writer is liquidated and then
  bankrupt (deleverage against the holder), a holder of long puts that lost more than its cash
  on a short perpetual (closed on the ratio path, its TV ≥ 0 thanks to the puts), then bankrupt
  with no maintenance risk (deleverage at the least price leaving TV ≥ 0), expiry,
  settlement prices, lazy settlement through a deposit, sweeps, both slots relisted and traded;
* random valid sequences (seeded) mixing perpetual and option trades, marks, listings,
  settlements and liquidations, natively rejected transactions skipped;
* native-invalid twins: each option transition with one value unit created is unsatisfiable.
"""

from __future__ import annotations

import random

import pytest

from circuits.errors import UnsatisfiedConstraint
from protocol.spec import BUY, CALL, MAX_SERIES, OPTION_BASE, PUT, SELL
from rollup.circuit_input import batch_assignment
from rollup.errors import RollupError
from rollup.state import RollupState
from rollup.tx import Deleverage, Liquidate, Noop, Settle, Trade, Withdraw
from rollup.witness import BatchWitness
from tests.batch_helpers import (
    DOMAIN,
    GENESIS_TIME,
    PRICE,
    batch_witness,
    deposit,
    solve_batch,
)
from tests.rollup.test_circuit_agreement import (
    KEYS,
    PARAMS,
    SHAPE,
    Q,
    compiled,
    list_series,
    marks,
    new_state,
    oracle,
    order,
    seal,
    tampered,
)

__all__ = ["compiled"]

EXPIRY = GENESIS_TIME + 3600
CALL_ID, PUT_ID = OPTION_BASE + 1, OPTION_BASE + 2


def option_trade(buyer: int, seller: int, instrument: int, q: int, price: int, oid: int) -> Trade:
    return Trade(order(buyer, instrument, BUY, q, price, oid),
                 order(seller, instrument, SELL, q, price, oid), q, price, 0, 0)  # fmt: skip


def perp_trade(buyer: tuple[int, int], seller: tuple[int, int], q: int, price: int) -> Trade:
    """A market-0 trade between (account, order id) pairs, no fees."""
    return Trade(order(buyer[0], 0, BUY, q, price, buyer[1]),
                 order(seller[0], 0, SELL, q, price, seller[1]), q, price, 0, 0)  # fmt: skip


def life_cycle() -> list:
    """The module docstring's life cycle as functions of the state."""
    mark = PRICE // 20
    return [
        *(lambda s, i=i: deposit(i, 10**5, 9) for i in range(6)),
        lambda s: deposit(7, 10**8, 9),
        lambda s: list_series(s, 0, 0, PRICE, CALL, EXPIRY),
        lambda s: list_series(s, 1, 1, 2 * PRICE, PUT, EXPIRY),
        lambda s: marks(s, {0: mark, 1: PRICE // 10}),
        lambda s: option_trade(0, 1, CALL_ID, 4800, mark, 1),  # 1 writes near its margin
        lambda s: option_trade(2, 3, PUT_ID, 1000, PRICE // 10, 1),
        lambda s: Trade(
            order(4, 0, BUY, 3000, PRICE, 1), order(5, 0, SELL, 3000, PRICE, 1), 3000, PRICE, 0, 0
        ),
        lambda s: oracle(s, (1100, 1000)),
        lambda s: marks(s, {0: PRICE * 15 // 100, 1: PRICE // 10}),  # the writer liquidatable
        lambda s: Liquidate(
            order(7, CALL_ID, SELL, 2000, PRICE * 15 // 100, 2), 1, 2000, PRICE * 15 // 100, 5 * Q
        ),
        # 2 shorts the perpetual (withdrawing against its puts would be refused) ...
        lambda s: perp_trade((7, 3), (2, 2), 3200, PRICE * 11 // 10),
        lambda s: oracle(s, (1400, 1050)),
        # ... and closes it at a loss beyond its cash: TV ≥ 0 with the puts (the ratio path)
        lambda s: perp_trade((2, 3), (7, 4), 3200, PRICE * 14 // 10),
        lambda s: marks(s, {0: PRICE * 45 // 100, 1: PRICE // 50}),  # 1, 2 and 5 bankrupt
        lambda s: Deleverage(1, 0, CALL_ID, 1000),  # against the holder
        lambda s: Deleverage(2, 3, PUT_ID, 1000),  # long options only: MR_b = 0
        lambda s: Deleverage(5, 4, 0, 3000),
        lambda s: oracle(s, (1300, 900), dt=EXPIRY - s.global_state.oracle_time),
        lambda s: marks(s, {0: PRICE * 13 // 10, 1: 2 * PRICE * 9 // 10}, flags=3),
        lambda s: deposit(0, 10, 9),  # lazy settlement through a deposit
        *(lambda s, i=i: Settle(i) for i in (1, 3, 7)),
        lambda s: list_series(s, 0, 1, 2 * PRICE, CALL, EXPIRY + 3600),  # both slots free
        lambda s: list_series(s, 1, 0, PRICE, PUT, EXPIRY + 3600),
        lambda s: marks(s, {0: PRICE // 10, 1: PRICE // 20}),
        lambda s: option_trade(4, 3, OPTION_BASE + 3, 100, PRICE // 10, 2),
        lambda s: option_trade(3, 4, OPTION_BASE + 4, 100, PRICE // 20, 3),
    ]


def run(steps: list) -> tuple[RollupState, list[BatchWitness]]:
    """The steps, two per batch, each built on the state before it (all natively valid)."""
    state, batches, b = new_state(), [], PARAMS.batch_slots
    for k in range(0, len(steps), b):
        old, slots = state.root, []
        for step in steps[k : k + b]:
            slots.append(state.apply(step(state), len(slots)))
        while len(slots) < b:
            slots.append(state.apply(Noop(), len(slots)))
        batches.append(batch_witness(old, state, slots))
    return state, batches


def test_options_life_cycle_solves(compiled) -> None:
    state, batches = run(life_cycle())
    g = state.global_state
    assert [s.series_id for s in g.series[:2]] == [3, 4] and g.next_series_id == 5
    assert [s.open_interest for s in g.series[:2]] == [200, 200]  # gross: longs + shorts
    deleveraged = [w for b in batches for w in b.slots if w.tx_type == Deleverage.TYPE]
    assert len(deleveraged) == 3
    for batch in batches:
        solve_batch(compiled, batch, SHAPE)
        wrong = batch_assignment(batch, SHAPE) | {"new_root": batch.new_root + 1}
        with pytest.raises(UnsatisfiedConstraint):
            compiled.solve(wrong)


def random_tx(rng: random.Random, state: RollupState):
    """A random transaction over accounts 0..5 (7 liquidates): perpetual and option trades
    (writers up to a few times levered), oracle moves, marks within their bounds (settlement
    prices after expiry), listings, settlements, withdrawals, liquidations and deleverages of
    option positions."""
    g = state.global_state
    a, b = rng.sample(range(6), 2)
    live = [j for j, s in enumerate(g.series) if s.listed and not s.settlement_price]
    kind = rng.choice((0, 1, 2, 2, 2, 3, 4, 5, 5, 6, 7, 8, 8, 8))
    if kind == 0:
        return deposit(a, rng.randrange(1, 10**4), 9)
    if kind == 1:
        nonce = state.account(a).nonce
        return Withdraw.signed(KEYS[a], DOMAIN, a, rng.randrange(1, 5000), 77, nonce)
    if kind == 2 and live:
        j = rng.choice(live)
        p = max(g.series[j].mark, 1)
        return option_trade(a, b, OPTION_BASE + g.series[j].series_id, rng.randrange(1, 4000),
                            p, rng.randrange(1, 50))  # fmt: skip
    if kind in (2, 3):
        m = rng.randrange(2)
        return Trade(order(a, m, BUY, 2000, 1 << 63, rng.randrange(1, 50)),
                     order(b, m, SELL, 2000, 1, rng.randrange(1, 50)), rng.randrange(1, 900),
                     g.markets[m].price, 0, 0)  # fmt: skip
    if kind == 4:
        return oracle(state, (rng.randrange(900, 1101), rng.randrange(900, 1101)),
                      dt=rng.choice((60, 600, 1800)))  # fmt: skip
    if kind == 5:
        values, flags = {}, 0
        for j in live:
            s = g.series[j]
            cap = s.strike if s.kind == PUT else g.markets[s.market].price
            values[j] = min(cap, max(0, s.mark * rng.randrange(50, 200) // 100 + 1))
            if g.oracle_time >= s.expiry and rng.random() < 0.5:
                flags, values[j] = flags | 1 << j, rng.randrange(1, 3 * PRICE)
        return marks(state, values, flags)
    if kind == 6:
        free = [j for j, s in enumerate(g.series) if not s.listed or not s.open_interest]
        j = rng.choice(free or [0])
        return list_series(state, j, rng.randrange(2), PRICE * rng.randrange(5, 15) // 10,
                           rng.randrange(2), g.oracle_time + rng.choice((60, 3600)))  # fmt: skip
    if kind == 7:
        return Settle(a)
    holders = [(i, o) for i in range(6) for o in state.account(i).options if o.size]
    if not holders:
        return Settle(b)
    i, o = rng.choice(holders)
    inst = OPTION_BASE + g.series[o.slot].series_id
    q = rng.randrange(1, abs(o.size) + 1)
    if rng.random() < 0.6:
        side, p = (SELL if o.size < 0 else BUY), max(g.series[o.slot].mark, 1)
        return Liquidate(order(7, inst, side, q, p, rng.randrange(1, 10**6)), i, q, p, 0)
    return Deleverage(i, rng.choice([k for k in range(6) if k != i]), inst, q)


@pytest.mark.parametrize(
    "seed", [5, *(pytest.param(s, marks=pytest.mark.slow) for s in (6, 7, 11))]
)
def test_random_option_sequences_solve(compiled, seed: int) -> None:
    rng = random.Random(seed)
    state, batches = run(life_cycle()[:12])
    for _ in range(12):
        batches.append(seal(state, [random_tx(rng, state) for _ in range(16)], strict=False))
    types = {w.tx_type for b in batches for w in b.slots}
    assert len(types) >= 6, types
    for batch in batches:
        solve_batch(compiled, batch, SHAPE)


#: life-cycle steps: a listing, marks, an option trade, a liquidation and two deleverages of
#: option positions, settlement prices, a deposit settling lazily, a sweep, a relisting
INVALID_STEPS = {
    "list": 7, "marks": 9, "option_trade": 10, "option_liquidation": 15,
    "option_deleverage": 20, "no_risk_deleverage": 21, "settlement_marks": 24,
    "lazy_deposit": 25, "settle": 26, "relist": 29,
}  # fmt: skip


@pytest.mark.parametrize("step", list(INVALID_STEPS.values()), ids=list(INVALID_STEPS))
def test_native_invalid_option_transition_unsatisfiable(compiled, step: int) -> None:
    steps = life_cycle()
    state = new_state()
    for earlier in steps[:step]:
        state.apply(earlier(state))
    batch = tampered(state, steps[step](state))
    with pytest.raises(UnsatisfiedConstraint):
        compiled.solve(batch_assignment(batch, SHAPE))


def test_life_cycle_steps_are_what_their_names_say() -> None:
    steps = life_cycle()
    state, kinds = new_state(), []
    for step in steps:
        tx = step(state)
        kinds.append(type(tx).__name__)
        state.apply(tx)
    expected = {
        "list": "ListSeries", "marks": "Marks", "option_trade": "Trade",
        "option_liquidation": "Liquidate", "option_deleverage": "Deleverage",
        "no_risk_deleverage": "Deleverage", "settlement_marks": "Marks",
        "lazy_deposit": "Deposit", "settle": "Settle", "relist": "ListSeries",
    }  # fmt: skip
    assert {name: kinds[k] for name, k in INVALID_STEPS.items()} == expected
    assert all(not o.size for i in (1, 7) for o in state.account(i).options)  # swept
    assert {(o.slot, o.size) for o in state.account(3).options if o.size} == {(0, -100), (1, 100)}
    assert len(state.global_state.series) == MAX_SERIES
    with pytest.raises(RollupError):
        state.apply(Settle(6))  # an empty account: its negative twin
