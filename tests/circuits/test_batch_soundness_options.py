"""Soundness of the batch circuit's option positions (``rollup.options``, option fills of
``rollup.effects`` and ``rollup.bankruptcy``): each valid case solves, each attack fails on a
named row (method: test_batch_soundness.py; the series table: test_batch_soundness_series.py).
Native checks are bypassed by monkeypatching them or by ``RollupState.commit``; a wrong option
position choice is fed to the circuit through ``rollup.circuit_input.option_position``.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

import rollup.bankruptcy
import rollup.circuit_input
import rollup.options
from circuits.batch import compile_batch
from circuits.errors import UnsatisfiedConstraint
from circuits.solver import run_program
from circuits.soundness import find_unconstrained
from protocol import leaf
from protocol.spec import BUY, OPTION_BASE, SELL, SETTLE, VALUE_SCALE
from rollup import effects
from rollup.account import OptionPosition
from rollup.bankruptcy import deleverage_price
from rollup.effects import Instrument, resolve
from rollup.errors import PriceOutsideBand
from rollup.margin import initial_risk, maintenance_risk, settle, total_value
from rollup.options import requirement_units as _requirement_units
from rollup.state import RollupState
from rollup.tx import Deleverage, Liquidate, Settle, Trade, Withdraw
from tests.batch_helpers import DOMAIN, PRICE, one_slot, solve_batch
from tests.circuits.batch_world import (
    CALL_MARK,
    CALL_SLOT,
    KEYS,
    OPTION_EXPIRY,
    PUT_MARK,
    PUT_SLOT,
    SHAPE,
    fails,
    list_tx,
    marks_tx,
    option_order,
    options_state,
    oracle,
    order,
)
from tests.circuits.test_batch_soundness_bankruptcy import commit_deleverage, commit_liquidation

Q = VALUE_SCALE
CALL_ID = OPTION_BASE + 1


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


def call_trade(q: int, price: int = CALL_MARK, buyer: int = 0, seller: int = 1, oid: int = 1,
               series_id: int = 1) -> Trade:  # fmt: skip
    return Trade(option_order(buyer, series_id, BUY, q, price, oid),
                 option_order(seller, series_id, SELL, q, price, oid), q, price, 0, 0)  # fmt: skip


def choose(monkeypatch, k: int, matched: bool) -> None:
    """Feed the circuit position k (and the match bit) whatever the native rule chose."""
    monkeypatch.setattr(rollup.circuit_input, "option_position", lambda options, slot: (k, matched))


# -- option fills -------------------------------------------------------------------------------
def test_option_trade_solves_and_position_choice_is_the_native_one(compiled, monkeypatch) -> None:
    state = options_state()
    batch = one_slot(state, lambda s: s.apply(call_trade(100)))
    z = solve_batch(compiled, batch, SHAPE)
    assert find_unconstrained(compiled, z, random.Random(11), n_random=1).ok
    assert state.global_state.series[CALL_SLOT].open_interest == 200  # gross: long + short
    more = call_trade(50, oid=2)  # account 0 holds the series in position 0
    solve_batch(compiled, one_slot(state, lambda s: s.apply(more)), SHAPE)
    for label, (k, matched, fragment) in {
        "a second position for the same series": (1, False, "update0/options/new_series"),
        "a match claimed on an empty position": (1, True, "update0/options/position_key"),
    }.items():
        choose(monkeypatch, k, matched)
        state = options_state()
        state.apply(call_trade(100))
        assert fails(compiled, one_slot(state, lambda s: s.apply(more)), fragment), label
    choose(monkeypatch, 2, False)  # not the first empty position
    fails(compiled, one_slot(options_state(), lambda s: s.apply(call_trade(100))),
          "update0/options/first_empty0")  # fmt: skip


def test_more_series_than_option_slots_is_unsatisfiable(compiled, monkeypatch) -> None:
    """Account 0 holds four series; a fifth (natively OptionSlotsFull) can only overwrite a
    held position."""
    state = options_state()
    for slot in (0, 1):
        state.apply(list_tx(state, slot))
    sids = [s.series_id for s in state.global_state.series if s.series_id]
    state.apply(marks_tx(state, {j: CALL_MARK for j, s in enumerate(state.global_state.series)
                                 if s.series_id}))  # fmt: skip
    state.apply(list_tx(state, 3))  # a fifth series, mark 0
    for n, sid in enumerate(sids):
        state.apply(call_trade(10, oid=n + 1, series_id=sid))
    assert all(o.size for o in state.account(0).options)

    def overwrite(index, account, slot, delta):
        options = list(account.options)
        options[0] = OptionPosition(slot, delta)
        return replace(account, options=tuple(options))

    monkeypatch.setattr(effects, "add_option", overwrite)
    fifth = call_trade(10, 1, oid=9, series_id=state.global_state.series[3].series_id)
    fails(compiled, one_slot(state, lambda s: s.apply(fifth)), "update0/options/position_key")


def test_untradable_series_fail(compiled, monkeypatch) -> None:
    monkeypatch.setattr(effects, "check_tradable", lambda *a: None)
    expired = options_state()
    expired.apply(oracle(expired, dt=OPTION_EXPIRY - expired.global_state.oracle_time))
    fails(compiled, one_slot(expired, lambda s: s.apply(call_trade(10))), "fill/series_tradable")
    monkeypatch.setattr(effects, "resolve", lambda g, instrument: Instrument(True, 0))
    unlisted = call_trade(10, series_id=7)  # slot 0 is empty
    fails(compiled, one_slot(options_state(), lambda s: s.apply(unlisted)),
          "fill/series_tradable")  # fmt: skip


def test_an_expired_short_is_liquidated_before_settlement(compiled, monkeypatch) -> None:
    """Review F1: after expiry the series no longer trades, but a short under water is still
    liquidated (at mark', with the fund's draw) until its series settles — the circuit agrees;
    once the series is settled, a liquidation fails on the same row as a trade."""

    def expired_writer(fund: int) -> RollupState:
        state = options_state((10**6, 20_000, 10**6))
        state.apply(call_trade(1000))  # account 1 writes 1000 calls at 5q on 20,000q
        state.apply(oracle(state, (PRICE * 13 // 10,),
                           dt=OPTION_EXPIRY - state.global_state.oracle_time))  # fmt: skip
        state.global_state = replace(state.global_state, insurance_fund=fund)
        return state

    state = expired_writer(10**6 * Q)
    g = state.global_state
    assert total_value(settle(state.account(1), g), g) < 0
    o = g.series[CALL_SLOT].marked_value(g.markets[0].price)  # the intrinsic value, 30q
    liq = Liquidate(option_order(2, 1, SELL, 1000, o, 5), 1, 1000, o, 0)
    batch = one_slot(state, lambda s: s.apply(liq))
    assert batch.slots[0].new_global.insurance_fund < 10**6 * Q  # the deficit was drawn
    z = solve_batch(compiled, batch, SHAPE)
    assert find_unconstrained(compiled, z, random.Random(20), n_random=1).ok
    monkeypatch.setattr(rollup.bankruptcy, "check_open", lambda *a: None)
    settled = expired_writer(10**6 * Q)
    settled.apply(marks_tx(settled, {CALL_SLOT: PRICE * 13 // 10, PUT_SLOT: PUT_MARK},
                           flags=1 << CALL_SLOT))  # fmt: skip
    fails(compiled, one_slot(settled, lambda s: commit_liquidation(s, liq)), "fill/series_tradable")


def test_an_order_for_a_relisted_slots_old_series_fails(compiled, monkeypatch) -> None:
    state = options_state()
    state.apply(call_trade(10))
    state.apply(oracle(state, dt=OPTION_EXPIRY - state.global_state.oracle_time))
    state.apply(marks_tx(state, {CALL_SLOT: PRICE}, flags=1 << CALL_SLOT))
    for i in (0, 1):
        state.apply(Settle(i))
    state.apply(list_tx(state, CALL_SLOT, expiry=OPTION_EXPIRY + 100))  # series 3
    state.apply(marks_tx(state, {CALL_SLOT: CALL_MARK}))
    solve_batch(compiled, one_slot(state, lambda s: s.apply(call_trade(5, oid=2, series_id=3))),
                SHAPE)  # fmt: skip
    monkeypatch.setattr(effects, "resolve", lambda g, instrument: Instrument(True, CALL_SLOT))
    old_id = call_trade(5, oid=3, series_id=1)  # signed for series 1, executed in series 3
    fails(compiled, one_slot(state, lambda s: s.apply(old_id)), "slot0/sig0/")


def test_short_option_needs_initial_margin(compiled, monkeypatch) -> None:
    state = options_state((10**6, 1000, 10**6))
    solve_batch(compiled, one_slot(state, lambda s: s.apply(call_trade(45))), SHAPE)
    monkeypatch.setattr(effects, "require_trade_margin", lambda *a: None)
    short = one_slot(options_state((10**6, 1000, 10**6)), lambda s: s.apply(call_trade(60)))
    fails(compiled, short, "margin/trade_margin1")


def test_option_sizes_stay_below_2_to_40(compiled, monkeypatch) -> None:
    """A position of 2^40 contracts (natively out of range) would let size·mark wrap."""
    state = options_state((10**6, 1 << 50, 10**6))  # the writer can margin 2^40 calls
    solve_batch(compiled, one_slot(state, lambda s: s.apply(call_trade((1 << 40) - 1, 1))),
                SHAPE)  # fmt: skip
    monkeypatch.setattr(effects, "check_range", lambda name, value, low, high: value)
    fails(compiled, one_slot(state, lambda s: s.apply(call_trade(1, 1, oid=2))),
          "update0/options/size_range")  # fmt: skip


def test_open_interest_follows_every_write(compiled, monkeypatch) -> None:
    monkeypatch.setattr(RollupState, "_with_open_interest", lambda self, g, writes: g)
    fails(compiled, one_slot(options_state(), lambda s: s.apply(call_trade(10))), "new_root")


# -- liquidation and deleverage of option positions --------------------------------------------
def writer_state(index_pct: int, mark: int, fund: int = 0) -> RollupState:
    """Account 1 (1000 quanta) short 45 calls bought by 0; then the index at index_pct% and
    the call marked at ``mark``; the insurance fund set to ``fund``."""
    state = options_state((10**6, 1000, 10**6))
    state.apply(call_trade(45))
    state.apply(oracle(state, (PRICE * index_pct // 100,)))
    state.apply(marks_tx(state, {CALL_SLOT: mark, PUT_SLOT: 0}))
    state.global_state = replace(state.global_state, insurance_fund=fund)
    return state


def test_option_writer_liquidation(compiled) -> None:
    mark = PRICE * 15 // 100
    state = writer_state(110, mark)
    g = state.global_state
    writer = settle(state.account(1), g)
    assert 0 < total_value(writer, g) * 10**6 < maintenance_risk(writer, g)
    liq = Liquidate(option_order(2, 1, SELL, 45, mark, 5), 1, 45, mark, 0)
    z = solve_batch(compiled, one_slot(state, lambda s: s.apply(liq)), SHAPE)
    assert find_unconstrained(compiled, z, random.Random(12), n_random=1).ok
    assert state.global_state.insurance_fund == 45 * mark * 10_000 // 10**6
    high = mark + PRICE * 110 // 100 * 50_000 // 10**6 + 1  # above o + s·mf
    dear = Liquidate(option_order(2, 1, SELL, 45, high, 5), 1, 45, high, 0)
    fails(compiled, one_slot(writer_state(110, mark), lambda s: commit_liquidation(s, dear)),
          "fill/price_ceiling")  # fmt: skip
    on_index = 45 * (PRICE * 110 // 100) * 10_000 // 10**6  # the penalty on the index, not o
    fails(compiled, one_slot(writer_state(110, mark),
                             lambda s: commit_liquidation(s, liq, penalty=on_index)),
          "update1/old_root")  # fmt: skip


def _bankruptcy_price(state: RollupState, index: int, q: int) -> int:
    g = state.global_state
    return deleverage_price(index, settle(state.account(index), g), g, resolve(g, CALL_ID), q)


def test_bankrupt_writer_deleveraged_against_the_holder(compiled) -> None:
    mark = PRICE * 45 // 100
    tx = Deleverage(1, 0, CALL_ID, 20)
    state = writer_state(140, mark)
    z = solve_batch(compiled, one_slot(state, lambda s: s.apply(tx)), SHAPE)
    assert find_unconstrained(compiled, z, random.Random(13), n_random=1).ok
    p = _bankruptcy_price(writer_state(140, mark), 1, 20)
    for price, fragment in ((p - 1, "bankruptcy/least_price"), (p + 1, "margin/ratio0")):
        at = one_slot(writer_state(140, mark), lambda s, p=price: commit_deleverage(s, tx, p))
        fails(compiled, at, fragment)


def perp_trade(buyer: int, seller: int, q: int, price: int, oid: int) -> Trade:
    return Trade(order(buyer, BUY, q, price, oid), order(seller, SELL, q, price, oid), q, price,
                 0, 0)  # fmt: skip


def holder_state() -> RollupState:
    """Account 0 long 1000 calls bought at 10% of the index from its cash; long 33,250 base
    quanta of the perpetual, closed after a 30% fall at a loss beyond its cash (TV ≥ 0 thanks to
    the calls, the ratio path of a reducing trade), then the mark collapsing: bankrupt with no
    maintenance risk; the fund empty. (Withdrawing against the calls, the old way there, is
    refused: initial margin does not count long options.)"""
    state = long_calls_on_negative_cash()
    assert settle(state.account(0), state.global_state).collateral < 0
    state.apply(marks_tx(state, {CALL_SLOT: PRICE // 100}))
    return state


def test_long_only_holder_deleveraged_at_the_least_price_leaving_tv_nonnegative(compiled) -> None:
    state = holder_state()
    g = state.global_state
    assert total_value(state.account(0), g) < 0 == maintenance_risk(state.account(0), g)
    tx = Deleverage(0, 1, CALL_ID, 1000)
    z = solve_batch(compiled, one_slot(state, lambda s: s.apply(tx)), SHAPE)
    assert find_unconstrained(compiled, z, random.Random(14), n_random=1).ok
    assert 0 <= total_value(state.account(0), state.global_state) < 1000
    p = _bankruptcy_price(holder_state(), 0, 1000)
    for price, fragment in ((p + 1, "bankruptcy/least_price"), (p - 1, "bankruptcy/solvent_after")):
        fails(compiled, one_slot(holder_state(), lambda s, p=price: commit_deleverage(s, tx, p)),
              fragment)  # fmt: skip


# -- the economics review's rules (tests/rollup/test_econ_options.py natively) -----------------
def _old_meets_initial(account, g) -> bool:
    """The old initial margin: TV·10^6 ≥ IR, long options counted at their value."""
    return total_value(account, g) * 10**6 >= initial_risk(account, g)


def _old_ratio_not_worse(before, after, g) -> bool:
    """The old TV/TR rule, vacuous (0 ≥ 0) when MR_before = 0."""
    tv_b, mr_b = total_value(before, g), maintenance_risk(before, g)
    return total_value(after, g) * mr_b >= tv_b * maintenance_risk(after, g)


def _withdraw(state: RollupState, i: int, quanta: int) -> Withdraw:
    return Withdraw.signed(KEYS[i], DOMAIN, i, quanta, 7, state.account(i).nonce)


def test_initial_margin_excludes_long_option_value(compiled, monkeypatch) -> None:
    state = options_state()
    state.apply(call_trade(1000))  # account 0 pays 1000·CALL_MARK from its cash
    cash = settle(state.account(0), state.global_state).collateral // Q
    z = solve_batch(compiled, one_slot(state, lambda s: s.apply(_withdraw(s, 0, cash))), SHAPE)
    assert find_unconstrained(compiled, z, random.Random(15), n_random=1).ok
    monkeypatch.setattr(effects, "meets_initial", _old_meets_initial)
    state = options_state()
    state.apply(call_trade(1000))
    premium_back = _withdraw(state, 0, cash + 1000 * CALL_MARK // Q)  # TV = 0 ≥ IR = 0: old
    fails(compiled, one_slot(state, lambda s: s.apply(premium_back)), "margin/initial0")


def long_calls_on_negative_cash() -> RollupState:
    """``holder_state`` before the mark collapses: account 0 holds 1000 calls (mark 10% of the
    index, out of the money after the fall: LV 10,000q), collateral −7,500q, MR = 0, TV 2,500q."""
    state = options_state((10**6, 10**6, 10**6))
    state.apply(marks_tx(state, {CALL_SLOT: PRICE // 10}))
    state.apply(call_trade(1000, PRICE // 10))
    state.apply(perp_trade(0, 2, 33_250, PRICE, 2))
    state.apply(oracle(state, (PRICE * 7 // 10,)))
    state.apply(perp_trade(2, 0, 33_250, PRICE * 7 // 10, 3))
    g = state.global_state
    a = settle(state.account(0), g)
    assert (total_value(a, g), maintenance_risk(a, g)) == (2500 * Q, 0)
    return state


def test_no_maintenance_risk_may_not_lose_value_below_zero(compiled, monkeypatch) -> None:
    at_mark = call_trade(500, PRICE // 10, buyer=2, seller=0, oid=4)  # the ratio path, TV kept
    z = solve_batch(compiled, one_slot(long_calls_on_negative_cash(), lambda s: s.apply(at_mark)),
                    SHAPE)  # fmt: skip
    assert find_unconstrained(compiled, z, random.Random(16), n_random=1).ok
    monkeypatch.setattr(effects, "ratio_not_worse", _old_ratio_not_worse)
    dump = call_trade(1000, PRICE * 7 // 100, buyer=2, seller=0, oid=4)  # TV 2,500q → −500q
    fails(compiled, one_slot(long_calls_on_negative_cash(), lambda s: s.apply(dump)),
          "margin/trade_margin1")  # fmt: skip


def _old_requirement_units(series, market, now):
    if now >= series.expiry:
        return 0, 0
    return _requirement_units(series, market, now)


def test_a_short_keeps_its_requirement_after_expiry(compiled, monkeypatch) -> None:
    def expired_writer() -> RollupState:
        state = options_state((10**6, 10**6, 10**6))
        state.apply(call_trade(1000))  # account 1 writes 1000 calls
        state.apply(oracle(state, (PRICE * 13 // 10,),
                           dt=OPTION_EXPIRY - state.global_state.oracle_time))  # fmt: skip
        return state

    state = expired_writer()
    g = state.global_state
    writer = settle(state.account(1), g)
    free = (total_value(writer, g) * 10**6 - initial_risk(writer, g)) // 10**6 // Q
    assert 0 < free < total_value(writer, g) // Q
    z = solve_batch(compiled, one_slot(state, lambda s: s.apply(_withdraw(s, 1, free))), SHAPE)
    assert find_unconstrained(compiled, z, random.Random(17), n_random=1).ok
    monkeypatch.setattr(rollup.options, "requirement_units", _old_requirement_units)
    state = expired_writer()
    everything = _withdraw(state, 1, total_value(writer, g) // Q)  # the old rule: IR = 0
    fails(compiled, one_slot(state, lambda s: s.apply(everything)), "margin/initial0")


# -- a short at mark' = max(mark, intrinsic): the stale-mark leak (test_econ_options.py x3b) ------
def stale_writer() -> RollupState:
    """Account 1 writes 1000 calls (strike PRICE) at CALL_MARK (5% of the index) on 40,000q;
    the index rises 30% with no new marks: its short is worth 1000·30% of PRICE, not the stale
    1000·CALL_MARK — TV 15,000q (the stale mark: 40,000q), liquidatable."""
    state = options_state((10**6, 40_000, 10**6))
    state.apply(call_trade(1000))
    state.apply(oracle(state, (PRICE * 13 // 10,)))
    g = state.global_state
    assert g.series[CALL_SLOT].mark == CALL_MARK
    assert total_value(settle(state.account(1), g), g) == 15_000 * Q
    return state


def test_shorts_under_a_moved_index_solve_at_mark_prime(compiled) -> None:
    o = PRICE * 3 // 10  # mark' = the intrinsic value 30q: the liquidation's reference price
    liq = Liquidate(option_order(2, 1, SELL, 1000, o, 5), 1, 1000, o, 0)
    z = solve_batch(compiled, one_slot(stale_writer(), lambda s: s.apply(liq)), SHAPE)
    assert find_unconstrained(compiled, z, random.Random(18), n_random=1).ok
    more = call_trade(100, o, buyer=0, seller=2, oid=6)  # a short opened under the stale mark
    z = solve_batch(compiled, one_slot(stale_writer(), lambda s: s.apply(more)), SHAPE)
    assert find_unconstrained(compiled, z, random.Random(19), n_random=1).ok
    back = call_trade(500, o, buyer=1, seller=2, oid=7)  # the writer buys half back at mark'
    solve_batch(compiled, one_slot(stale_writer(), lambda s: s.apply(back)), SHAPE)
    stale = call_trade(100, buyer=0, seller=2, oid=8)  # at the stale mark: outside the band
    with pytest.raises(PriceOutsideBand):
        stale_writer().apply(stale)


def test_a_short_is_not_valued_at_a_stale_mark(compiled, monkeypatch) -> None:
    free = 15_500  # the stale mark's TV 40,000q − IR 24,500q; mark' leaves TV 15,000q < IR
    monkeypatch.setattr(leaf, "marked_value", lambda series, index: leaf.option_value(series))
    state = options_state((10**6, 40_000, 10**6))  # stale_writer, valued at the stale mark
    state.apply(call_trade(1000))
    state.apply(oracle(state, (PRICE * 13 // 10,)))
    g = state.global_state
    assert total_value(settle(state.account(1), g), g) == 40_000 * Q
    fails(compiled, one_slot(state, lambda s: s.apply(_withdraw(s, 1, free))), "margin/initial0")


# -- review 2, F1b: a Settle writes off a positionless debt from the fund -----------------------
def expired_debtor(fund: int) -> RollupState:
    """``long_calls_on_negative_cash`` (−7,500q of cash, 1000 calls out of the money) with the
    calls marked 0, then expired and settled at 70q (payoff 0): account 0 owes 7,500q and holds
    nothing; the fund set to ``fund``."""
    state = long_calls_on_negative_cash()
    state.apply(marks_tx(state, {CALL_SLOT: 0, PUT_SLOT: PUT_MARK}))
    low = (PRICE * 7 // 10,)
    state.apply(oracle(state, low, dt=OPTION_EXPIRY - state.global_state.oracle_time + 10))
    state.apply(marks_tx(state, {CALL_SLOT: PRICE * 7 // 10, PUT_SLOT: PUT_MARK},
                         flags=1 << CALL_SLOT))  # fmt: skip
    state.global_state = replace(state.global_state, insurance_fund=fund)
    return state


@pytest.mark.parametrize("fund", [10**6 * Q, 5_000 * Q])
def test_a_settle_writes_off_a_positionless_debt_the_fund_holds(compiled, fund: int) -> None:
    from tests.circuits.test_batch_soundness_bankruptcy import drawing

    state = expired_debtor(fund)
    deficit = -total_value(settle(state.account(0), state.global_state), state.global_state)
    assert deficit == 7_500 * Q
    batch = one_slot(state, lambda s: s.apply(Settle(0)))
    drawn = fund - batch.slots[0].new_global.insurance_fund
    assert drawn == (deficit if fund >= deficit else 0)
    assert state.account(0).collateral == (0 if drawn else -deficit)
    z = solve_batch(compiled, batch, SHAPE)
    assert find_unconstrained(compiled, z, random.Random(21), n_random=1).ok
    # a prover writing off what the rule does not (or not what it does) fails on a named row
    wrong = 0 if drawn else fund  # nothing where the rule pays; all of a fund that cannot

    def commit_settle(s: RollupState) -> object:
        g = s.global_state
        swept = settle(s.account(0), g)
        after = replace(swept, collateral=swept.collateral + wrong)
        new_g = replace(g, insurance_fund=g.insurance_fund - wrong)
        return s.commit(0, SETTLE, Settle(0), [(0, after)], new_g, {"account": 0}, ())

    batch = one_slot(expired_debtor(fund), commit_settle)
    program = drawing(compiled, wrong)
    assignment = rollup.circuit_input.batch_assignment(batch, SHAPE)
    with pytest.raises(UnsatisfiedConstraint) as err:
        run_program(program, compiled._initial(assignment), compiled.constraint_names)
    assert "bankruptcy/draw_when_closed" in err.value.name
