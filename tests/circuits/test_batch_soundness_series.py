"""Soundness of the batch circuit's option series table (``rollup.series``): listings, marks and
settlement prices, sweeps with lazy settlement — each valid case solves, each attack fails on a
named row (method: test_batch_soundness.py; option positions: test_batch_soundness_options.py).
Hand-made transitions are written by ``RollupState.commit``; where the circuit computes a value
itself (a payoff), a wrong value shows as a leaf it does not reach: the next Merkle row
(update 1's old root) fails.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from circuits.batch import compile_batch
from circuits.soundness import find_unconstrained
from protocol.spec import BUY, LIST_SERIES, MARKS, PUT, SELL, SETTLE
from rollup.account import SeriesState
from rollup.margin import settle
from rollup.state import RollupState
from rollup.tx import ListSeries, Marks, Settle, Trade
from rollup.witness import BatchWitness
from tests.batch_helpers import ORACLE_KEY, PRICE, deposit, one_slot, solve_batch
from tests.circuits.batch_world import (
    CALL_MARK,
    CALL_SLOT,
    OPERATOR_KEY,
    OPTION_EXPIRY,
    OTHER_DOMAIN,
    PUT_MARK,
    PUT_SLOT,
    SHAPE,
    fails,
    list_tx,
    marks_tx,
    option_order,
    options_state,
    oracle,
    with_tx,
)

SETTLE_PRICE = PRICE * 11 // 10


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


def commit_listing(state: RollupState, tx: ListSeries) -> BatchWitness:
    """``tx`` written without ``rollup.series.list_series``'s checks."""
    g = state.global_state
    series = list(g.series)
    series[tx.slot] = SeriesState(tx.series_id, tx.market, tx.expiry, tx.strike, tx.kind)
    g2 = replace(g, series=tuple(series), next_series_id=g.next_series_id + 1)
    effect = {"slot": tx.slot, "market": tx.market, "expiry": tx.expiry, "strike": tx.strike,
              "kind": tx.kind}  # fmt: skip
    return one_slot(state, lambda s: s.commit(0, LIST_SERIES, tx, [], g2, effect, ()))


def commit_marks(state: RollupState, tx: Marks) -> BatchWitness:
    """``tx`` written without ``rollup.series.marks``'s checks (a flag settles at its mark)."""
    g = state.global_state
    series = []
    for j, (s, mark) in enumerate(zip(g.series, tx.marks, strict=True)):
        if tx.settle_flags >> j & 1:
            series.append(replace(s, mark=0, settlement_price=s.settlement_price + mark))
        else:
            series.append(replace(s, mark=mark))
    effect = {f"mark_{j}": m for j, m in enumerate(tx.marks)} | {"settle_flags": tx.settle_flags}
    g2 = replace(g, series=tuple(series))
    return one_slot(state, lambda s: s.commit(0, MARKS, tx, [], g2, effect, ()))


def held_state(expire: bool = True, settle_price: int | None = SETTLE_PRICE) -> RollupState:
    """``options_state`` with account 0 long 100 calls from account 1; then (``expire``) the
    oracle at the expiry and (``settle_price``) the call settled at it."""
    state = options_state()
    buy, sell = option_order(0, 1, BUY, 100, CALL_MARK), option_order(1, 1, SELL, 100, CALL_MARK)
    state.apply(Trade(buy, sell, 100, CALL_MARK, 0, 0))
    if expire:
        state.apply(oracle(state, dt=OPTION_EXPIRY - state.global_state.oracle_time))
        if settle_price:
            state.apply(marks_tx(state, {CALL_SLOT: settle_price}, flags=1 << CALL_SLOT))
    return state


# -- listings ---------------------------------------------------------------------------------
def test_listing_solves_and_bad_listings_fail(compiled) -> None:
    state = options_state()
    tx = list_tx(state, 0, strike=2 * PRICE, kind=PUT)
    batch = one_slot(state, lambda s: s.apply(tx))
    z = solve_batch(compiled, batch, SHAPE)
    assert find_unconstrained(compiled, z, random.Random(7), n_random=1).ok
    signed_by_oracle = list_tx(options_state(), 0, strike=2 * PRICE, kind=PUT, key=ORACLE_KEY)
    fails(compiled, with_tx(batch, signed_by_oracle), "slot0/sig0/")
    foreign = list_tx(options_state(), 0, strike=2 * PRICE, kind=PUT, dom=OTHER_DOMAIN)
    fails(compiled, with_tx(batch, foreign), "slot0/sig0/")
    later_id = list_tx(options_state(), 0, strike=2 * PRICE, kind=PUT, series_id=4)
    fails(compiled, with_tx(batch, later_id), "slot0/sig0/")  # the id is the next one
    cases = {
        "expiry not after the oracle time": (
            lambda s: list_tx(s, 0, expiry=s.global_state.oracle_time), "series/s0/list_before"),
        "a live series' slot": (lambda s: list_tx(s, CALL_SLOT), f"series/s{CALL_SLOT}/slot_free"),
        "strike 0": (lambda s: list_tx(s, 0, strike=0), "fill/price_positive"),
    }  # fmt: skip
    for label, (make, fragment) in cases.items():
        state = options_state()
        assert fails(compiled, commit_listing(state, make(state)), fragment), label


def test_relisting_needs_a_settled_series_without_open_interest(compiled) -> None:
    state = held_state()
    g = state.global_state
    assert g.series[CALL_SLOT].open_interest == 200  # gross: the long and the short
    late = list_tx(state, CALL_SLOT, expiry=OPTION_EXPIRY + 100)
    fails(compiled, commit_listing(state, late), f"series/s{CALL_SLOT}/slot_free_interest")
    state = held_state()
    for i in (0, 1):  # both sides swept: the slot is free
        state.apply(Settle(i))
    relist = list_tx(state, CALL_SLOT, expiry=OPTION_EXPIRY + 100)
    solve_batch(compiled, one_slot(state, lambda s: s.apply(relist)), SHAPE)
    assert state.global_state.series[CALL_SLOT].series_id == 3


# -- marks and settlement prices ---------------------------------------------------------------
def test_marks_solve_and_bad_marks_fail(compiled) -> None:
    state = options_state()
    values = {CALL_SLOT: PRICE, PUT_SLOT: PRICE}  # at their bounds: index, strike
    batch = one_slot(state, lambda s: s.apply(marks_tx(s, values)))
    z = solve_batch(compiled, batch, SHAPE)
    assert find_unconstrained(compiled, z, random.Random(8), n_random=1).ok
    for label, tx in {
        "operator key": marks_tx(options_state(), values, key=OPERATOR_KEY),
        "another domain": marks_tx(options_state(), values, dom=OTHER_DOMAIN),
        "another timestamp": marks_tx(options_state(), values, dt=1),
    }.items():
        assert fails(compiled, with_tx(batch, tx), "slot0/sig0/"), label
    cases = {
        "call mark above the index": ({CALL_SLOT: PRICE + 1}, 0, f"s{CALL_SLOT}/mark_bound"),
        "put mark above the strike": ({PUT_SLOT: PRICE + 1}, 0, f"s{PUT_SLOT}/mark_bound"),
        "a mark for an empty slot": ({0: 5}, 0, "s0/marks/idle_mark"),
        "settled before expiry": ({CALL_SLOT: PRICE}, 1 << CALL_SLOT,
                                  f"s{CALL_SLOT}/marks/settle_after_expiry"),
        "an empty slot flagged": ({}, 1 << 7, "s7/marks/idle_flag"),
    }  # fmt: skip
    for label, (marks, flags, fragment) in cases.items():
        state = options_state()
        assert fails(compiled, commit_marks(state, marks_tx(state, marks, flags)), fragment), label


def test_settlement_once_at_a_signed_positive_price(compiled) -> None:
    state = held_state(settle_price=None)
    flags = 1 << CALL_SLOT
    tx = marks_tx(state, {CALL_SLOT: SETTLE_PRICE, PUT_SLOT: PUT_MARK}, flags=flags)
    batch = one_slot(state, lambda s: s.apply(tx))
    z = solve_batch(compiled, batch, SHAPE)
    assert state.global_state.series[CALL_SLOT].settlement_price == SETTLE_PRICE
    assert find_unconstrained(compiled, z, random.Random(9), n_random=1).ok
    unsigned = marks_tx(held_state(settle_price=None), {CALL_SLOT: SETTLE_PRICE + 1}, flags)
    fails(compiled, with_tx(batch, unsigned), "slot0/sig0/")  # settled at a price not signed
    state = held_state(settle_price=None)
    zero = marks_tx(state, {}, flags=flags)
    fails(compiled, commit_marks(state, zero), f"s{CALL_SLOT}/marks/settlement_positive")
    state = held_state()
    again = marks_tx(state, {CALL_SLOT: SETTLE_PRICE}, flags=flags)  # twice
    fails(compiled, commit_marks(state, again), f"s{CALL_SLOT}/marks/idle_mark")
    state = held_state()
    flag_only = marks_tx(state, {}, flags=flags)  # a settled series takes no mark, no flag
    fails(compiled, commit_marks(state, flag_only), f"s{CALL_SLOT}/marks/idle_flag")


# -- sweeps and lazy settlement ---------------------------------------------------------------
def commit_settle(state: RollupState, index: int, payoff: int) -> BatchWitness:
    """Settle ``index`` crediting ``payoff`` per contract of its call position (natively
    max(P − K, 0))."""
    g = state.global_state
    account = state.account(index)
    n = account.options[0].size
    swept = settle(account, g)
    credited = replace(swept, collateral=swept.collateral + n * (payoff - SETTLE_PRICE + PRICE))
    return one_slot(state, lambda s: s.commit(0, SETTLE, Settle(index), [(index, credited)], g,
                                              {"account": index}, ()))  # fmt: skip


def test_sweep_pays_the_payoff_and_frees_the_position(compiled) -> None:
    state = held_state()
    batch = one_slot(state, lambda s: s.apply(Settle(0)))
    z = solve_batch(compiled, batch, SHAPE)
    assert find_unconstrained(compiled, z, random.Random(10), n_random=1).ok
    a = state.account(0)
    assert a.options[0].size == 0
    assert state.global_state.series[CALL_SLOT].open_interest == 100  # the writer's short
    for label, payoff in {
        "wrong sign (K − P for a call)": PRICE - SETTLE_PRICE,
        "wrong strike": SETTLE_PRICE - PRICE - 1,
    }.items():
        assert fails(compiled, commit_settle(held_state(), 0, payoff), "update1/old_root"), label
    empty = held_state()
    ghost = one_slot(empty, lambda s: s.commit(0, SETTLE, Settle(3), [(3, s.account(3))],
                                               s.global_state, {"account": 3}, ()))  # fmt: skip
    fails(compiled, ghost, "settled_account_exists")


def test_lazy_settlement_on_every_write(compiled, monkeypatch) -> None:
    """A deposit into a holder of a settled series settles it (both sides); skipping that
    leaves a leaf the circuit does not write."""
    state = held_state()
    solve_batch(compiled, one_slot(state, lambda s: s.apply(deposit(1, 10, 7))), SHAPE)
    assert state.account(1).options[0].size == 0  # the writer paid the payoff
    assert state.global_state.series[CALL_SLOT].open_interest == 100  # the holder's long
    state.apply(Settle(0))
    assert state.global_state.series[CALL_SLOT].open_interest == 0
    import rollup.margin

    monkeypatch.setattr(rollup.margin, "settle_options", lambda account, g: account)
    fails(compiled, one_slot(held_state(), lambda s: s.apply(deposit(1, 10, 7))),
          "update1/old_root")  # fmt: skip
