"""Soundness of the batch circuit's liquidation and deleverage rules (``rollup.bankruptcy``): each
valid case solves, and each attack — written by ``RollupState.commit`` with the native effect
functions and a native rule skipped — fails on a named constraint. Where the circuit computes a
value itself (penalty, shortfall), a wrong value shows as a leaf the circuit does not reach: the
next Merkle row (update 1's old root, under the root the circuit computed) fails.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from circuits.batch import compile_batch
from circuits.errors import UnsatisfiedConstraint
from circuits.solver import OP_CHECK, OP_MUL, run_program
from circuits.soundness import find_unconstrained
from protocol.spec import (
    BUY,
    DEFAULT_MARKETS,
    DELEVERAGE,
    FRACTION_SCALE,
    LIQUIDATE,
    SELL,
    VALUE_SCALE,
    RollupParams,
)
from rollup.bankruptcy import deleverage_price
from rollup.bankruptcy import shortfall as draw
from rollup.circuit_input import batch_assignment, shape_of
from rollup.effects import fill, reference, resolve, size_of
from rollup.fills import fill_order
from rollup.margin import maintenance_risk, settle, total_value
from rollup.state import RollupState
from rollup.tx import Deleverage, Liquidate, OraclePrice, Order, SignedOrder, Trade
from rollup.witness import BatchWitness, SlotWitness
from tests.batch_helpers import (
    DOMAIN,
    GENESIS_TIME,
    ORACLE_KEY,
    PRICE,
    deposit,
    fails_on,
    genesis_state,
    one_slot,
    solve_batch,
    user_key,
)
from tests.circuits.batch_world import (
    CALL_MARK,
    CALL_SLOT,
    PUT_MARK,
    PUT_SLOT,
    marks_tx,
    option_order,
    options_state,
)

KEYS = [user_key(i) for i in range(4)]
PARAMS = RollupParams(depth=2, batch_slots=1, markets=DEFAULT_MARKETS[:1])
SHAPE = shape_of(PARAMS)
Q = VALUE_SCALE
BIG = 10**6 * Q // PRICE * 9  #: account 0's position at 9× leverage


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


def order(account: int, side: int, size: int, limit: int, order_id: int = 3) -> SignedOrder:
    o = Order(account, 0, side, size, limit, 0, order_id, GENESIS_TIME + 10**6)
    return o.sign(KEYS[account], DOMAIN)


def levered(price: int, long: bool = True, fund: int = 0) -> RollupState:
    """Accounts 0..2 with 10^6 quanta; 0 long (or short) BIG against 1; then the oracle price
    moves to ``price`` and the insurance fund is set to ``fund``."""
    state = genesis_state(PARAMS, (PRICE,))
    for i in range(3):
        state.apply(deposit(i, 10**6, 100 + i))
    side = BUY if long else SELL
    state.apply(Trade(order(0, side, BIG, PRICE, 1), order(1, 1 - side, BIG, PRICE, 1), BIG,
                      PRICE, 0, 0))  # fmt: skip
    g = state.global_state
    state.apply(OraclePrice.signed(ORACLE_KEY, DOMAIN, (price,), (0,), g.oracle_time + 5,
                                   g.oracle_time))  # fmt: skip
    state.global_state = replace(state.global_state, insurance_fund=fund)
    return state


def fails(compiled, batch: BatchWitness, fragment: str) -> str:
    return fails_on(compiled, batch_assignment(batch, SHAPE), fragment)


def commit_liquidation(
    state: RollupState, liq: Liquidate, penalty: int | None = None, shortfall: int | None = None
) -> SlotWitness:
    """``rollup.bankruptcy.liquidate`` without its checks (penalty / shortfall as given)."""
    o, g = liq.liquidator.order, state.global_state
    inst = resolve(g, o.instrument)
    before = settle(state.account(liq.liquidated), g)
    ref, _, m = reference(g, inst)
    filled = fill(liq.liquidated, before, inst, 1 - o.side, liq.quantity, liq.price, 0)
    tv_f = total_value(filled, g)
    if penalty is None:
        nominal = liq.quantity * ref * m.liquidation_penalty // FRACTION_SCALE
        penalty = min(nominal, max(tv_f, 0))
    if shortfall is None:
        shortfall = draw(filled, g)
    after = replace(filled, collateral=filled.collateral - penalty + shortfall)
    lq = settle(state.account(o.account), g)
    lq = fill(o.account, lq, inst, o.side, liq.quantity, liq.price, liq.liquidator_fee)
    lq = fill_order(o.account, lq, o.order_id, o.size, liq.quantity)
    fund = g.insurance_fund + liq.liquidator_fee + penalty - shortfall
    effect = {
        "liquidator": o.account, "liquidated": liq.liquidated,
        "instrument": inst.code(len(g.markets)), "liquidator_side": o.side,
        "quantity": liq.quantity, "price": liq.price, "fee": liq.liquidator_fee,
        "liquidator_order_id": o.order_id,
    }  # fmt: skip
    writes = [(liq.liquidated, after), (o.account, lq)]
    new_g = replace(g, insurance_fund=fund)
    return state.commit(0, LIQUIDATE, liq, writes, new_g, effect, (o.message(g.domain),))


def commit_deleverage(state: RollupState, tx: Deleverage, price: int) -> SlotWitness:
    """``rollup.bankruptcy.deleverage`` at ``price`` without its checks."""
    g, q = state.global_state, tx.quantity
    inst = resolve(g, tx.instrument)
    l_b = settle(state.account(tx.deleveraged), g)
    d_b = settle(state.account(tx.deleverager), g)
    side = SELL if size_of(l_b, inst) > 0 else BUY
    writes = [
        (tx.deleveraged, fill(tx.deleveraged, l_b, inst, side, q, price, 0)),
        (tx.deleverager, fill(tx.deleverager, d_b, inst, 1 - side, q, price, 0)),
    ]
    effect = {"deleveraged": tx.deleveraged, "deleverager": tx.deleverager,
              "instrument": inst.code(len(g.markets)), "quantity": q,
              "price": price}  # fmt: skip
    return state.commit(0, DELEVERAGE, tx, writes, g, effect, ())


# -- liquidation ------------------------------------------------------------------------------
def test_liquidation_with_penalty_solves_and_healthy_account_fails(compiled) -> None:
    o = PRICE * 93 // 100
    state = levered(o)
    batch = one_slot(state, lambda s: s.apply(Liquidate(order(2, BUY, BIG, o), 0, BIG, o, 0)))
    assert state.global_state.insurance_fund == BIG * o * 10_000 // FRACTION_SCALE
    solve_batch(compiled, batch, SHAPE)
    healthy = levered(PRICE * 97 // 100)
    o = healthy.global_state.markets[0].price
    liq = Liquidate(order(2, BUY, BIG, o), 0, BIG, o, 0)
    fails(compiled, one_slot(healthy, lambda s: commit_liquidation(s, liq)),
          "bankruptcy/liquidatable")  # fmt: skip


@pytest.mark.parametrize(
    ("quantity", "percent", "fragment"),
    [
        (BIG, 94, "fill/price_floor"),  # below oracle·(1 − 5%)
        (BIG + 1, 100, "margin/shrinks0"),  # more than the position: a flip
        (BIG // 2, 95, "margin/ratio0"),  # in band, TV/TR worse
    ],
)
def test_liquidation_terms(compiled, quantity: int, percent: int, fragment: str) -> None:
    o = PRICE * 93 // 100
    state = levered(o, fund=10**6 * Q)  # the fund could pay any shortfall
    price = -(-o * percent // 100)
    liq = Liquidate(order(2, BUY, 2 * BIG, price), 0, quantity, price, 0)
    fails(compiled, one_slot(state, lambda s: commit_liquidation(s, liq)), fragment)


def test_shortfall_only_at_the_oracle_price_and_only_when_bankrupt(compiled) -> None:
    o = PRICE * 85 // 100  # TV ≈ −350,000 quanta
    state = levered(o, fund=10**6 * Q)
    liq = Liquidate(order(2, BUY, BIG, o), 0, BIG, o, 0)
    batch = one_slot(state, lambda s: s.apply(liq))
    assert state.global_state.insurance_fund < 10**6 * Q  # the shortfall was drawn
    z = solve_batch(compiled, batch, SHAPE)
    assert find_unconstrained(compiled, z, random.Random(4), n_random=1).ok
    discount = Liquidate(order(2, BUY, BIG, o - 1), 0, BIG, o - 1, 0)
    fails(compiled, one_slot(levered(o, fund=10**6 * Q), lambda s: commit_liquidation(s, discount)),
          "liquidation/shortfall_at_oracle_price")  # fmt: skip
    solvent = PRICE * 93 // 100
    liq = Liquidate(order(2, BUY, BIG, solvent), 0, BIG, solvent, 0)
    drawn = lambda s: commit_liquidation(s, liq, shortfall=1000 * Q)  # noqa: E731
    fails(compiled, one_slot(levered(solvent, fund=10**6 * Q), drawn), "update1/old_root")


def test_penalty_never_beyond_the_equity(compiled) -> None:
    o = PRICE * 895 // 1000  # TV ≈ 55,000 quanta < nominal penalty ≈ 80,500 quanta
    liq = Liquidate(order(2, BUY, BIG, o), 0, BIG, o, 0)
    state = levered(o)
    tv = total_value(state.account(0), state.global_state)
    solve_batch(compiled, one_slot(state, lambda s: s.apply(liq)), SHAPE)
    assert state.global_state.insurance_fund == tv
    nominal = BIG * o * 10_000 // FRACTION_SCALE
    assert nominal > tv
    full = lambda s: commit_liquidation(s, liq, penalty=nominal)  # noqa: E731
    fails(compiled, one_slot(levered(o), full), "update1/old_root")


# -- the draw: the whole deficit, once, when nothing is left (economics reviews E3, F4) -------
def drawing(compiled, amount: int) -> list[tuple]:
    """The compiled program with the shortfall hint returning ``amount`` (a dishonest prover)."""
    name = "_draw_hint"  # circuits.batch.liquidation's shortfall hint
    return [
        (op[0], lambda *_: [amount], op[2], op[3])
        if op[0] not in (OP_MUL, OP_CHECK) and getattr(op[1], "__name__", "") == name
        else op
        for op in compiled.program
    ]


def fails_drawing(compiled, batch: BatchWitness, amount: int, fragment: str) -> None:
    assignment = batch_assignment(batch, SHAPE)
    with pytest.raises(UnsatisfiedConstraint) as err:
        run_program(drawing(compiled, amount), compiled._initial(assignment),
                    compiled.constraint_names)  # fmt: skip
    assert fragment in err.value.name, err.value.name


def _draw(state: RollupState, q: int, o: int) -> tuple[int, int]:
    """(the native draw for closing q of account 0's long at o, the whole deficit)."""
    g = state.global_state
    before = settle(state.account(0), g)
    filled = fill(0, before, resolve(g, 0), SELL, q, o, 0)
    return draw(filled, g), -total_value(before, g)


def _proportional(state: RollupState, q: int) -> int:
    """The rule before review F4: ⌈D·(MR_b − MR_a)/MR_b⌉ — q / BIG of the deficit here."""
    deficit = -total_value(settle(state.account(0), state.global_state), state.global_state)
    return -(-deficit * q // BIG)


@pytest.mark.parametrize("quantity", [1, BIG // 3, BIG])
def test_the_circuit_accepts_the_native_draws(compiled, quantity: int) -> None:
    o = PRICE * 85 // 100  # TV ≈ −350,000 quanta
    state = levered(o, fund=10**6 * Q)
    drawn, deficit = _draw(state, quantity, o)
    assert drawn == (deficit if quantity == BIG else 0) and deficit > 0
    liq = Liquidate(order(2, BUY, BIG, o), 0, quantity, o, 0)
    batch = one_slot(state, lambda s: s.apply(liq))
    assert 10**6 * Q - state.global_state.insurance_fund == drawn
    z = solve_batch(compiled, batch, SHAPE)
    if quantity == BIG // 3:
        assert find_unconstrained(compiled, z, random.Random(5), n_random=1).ok


@pytest.mark.parametrize("amount", ["one", "proportional", "deficit"])
def test_a_partial_liquidation_of_a_bankrupt_account_draws_nothing(compiled, amount) -> None:
    """A witness drawing anything for a partial liquidation — one unit, the proportional share
    of the rule before, the whole deficit of the rule before that — fails on a named row (the
    prover's hint set to it, the leaf written with it)."""
    o = PRICE * 85 // 100
    q = BIG // 3
    _, deficit = _draw(levered(o, fund=10**6 * Q), q, o)
    value = {"one": 1, "proportional": _proportional(levered(o), q), "deficit": deficit}[amount]
    liq = Liquidate(order(2, BUY, BIG, o), 0, q, o, 0)
    batch = one_slot(levered(o, fund=10**6 * Q),
                     lambda s: commit_liquidation(s, liq, shortfall=value))  # fmt: skip
    fails_drawing(compiled, batch, value, "bankruptcy/draw_when_closed")
    fails(compiled, batch, "update1/old_root")  # the honest hint against the written leaf


@pytest.mark.parametrize("delta", [-1, 1])
def test_the_closing_draw_is_exactly_the_deficit(compiled, delta: int) -> None:
    o = PRICE * 85 // 100
    _, deficit = _draw(levered(o, fund=10**6 * Q), BIG, o)
    liq = Liquidate(order(2, BUY, BIG, o), 0, BIG, o, 0)
    batch = one_slot(levered(o, fund=10**6 * Q),
                     lambda s: commit_liquidation(s, liq, shortfall=deficit + delta))  # fmt: skip
    fails_drawing(compiled, batch, deficit + delta, "bankruptcy/draw_when_closed")


def test_no_draw_for_a_solvent_fill(compiled) -> None:
    o = PRICE * 93 // 100
    liq = Liquidate(order(2, BUY, BIG, o), 0, BIG, o, 0)
    batch = one_slot(levered(o, fund=10**6 * Q),
                     lambda s: commit_liquidation(s, liq, shortfall=1000 * Q))  # fmt: skip
    fails_drawing(compiled, batch, 1000 * Q, "bankruptcy/draw_when_closed")


def riskless(fund: int) -> RollupState:
    """Account 0 holds 1000 long calls only (MR = 0), spent below zero against them, then the
    mark collapses: TV < 0; the insurance fund set to ``fund``."""
    state = options_state()
    buy, sell = (
        option_order(0, 1, BUY, 1000, CALL_MARK, 1),
        option_order(1, 1, SELL, 1000, CALL_MARK, 1),
    )
    state.apply(Trade(buy, sell, 1000, CALL_MARK, 0, 0))
    poor = replace(state.account(0), collateral=-50 * PRICE)
    state.accounts[0] = poor
    state.tree.update(0, poor.leaf())
    state.apply(marks_tx(state, {CALL_SLOT: PRICE // 100, PUT_SLOT: PUT_MARK}))
    state.global_state = replace(state.global_state, insurance_fund=fund)
    return state


def _riskless_liquidation(q: int) -> Liquidate:
    return Liquidate(option_order(2, 1, BUY, 1000, PRICE // 100, 3), 0, q, PRICE // 100, 0)


@pytest.mark.parametrize("quantity", [100, 1000])
def test_a_riskless_account_draws_once_its_long_options_are_sold(compiled, quantity) -> None:
    """MR_b = 0: selling 1/10 of the long options at mark' draws nothing, all of them the whole
    deficit — and the circuit agrees; a draw on the partial sale fails on a named row."""
    state = riskless(10**6 * Q)
    g = state.global_state
    deficit = -total_value(settle(state.account(0), g), g)
    assert deficit > 0 and maintenance_risk(settle(state.account(0), g), g) == 0
    batch = one_slot(state, lambda s: s.apply(_riskless_liquidation(quantity)))
    expected = deficit if quantity == 1000 else 0
    assert 10**6 * Q - state.global_state.insurance_fund == expected
    z = solve_batch(compiled, batch, SHAPE)
    if quantity == 100:
        assert find_unconstrained(compiled, z, random.Random(6), n_random=1).ok
        share = -(-deficit // 10)  # the rule before: in proportion to the long value sold
        liq = _riskless_liquidation(100)
        batch = one_slot(riskless(10**6 * Q),
                         lambda s: commit_liquidation(s, liq, shortfall=share))  # fmt: skip
        fails_drawing(compiled, batch, share, "bankruptcy/draw_when_closed")


# -- deleverage -------------------------------------------------------------------------------
def _price(state: RollupState, q: int, instrument: int = 0) -> int:
    g = state.global_state
    inst = resolve(g, instrument)
    return deleverage_price(0, settle(state.account(0), g), g, inst, q)


@pytest.mark.parametrize("long", [True, False])
def test_deleverage_at_the_bankruptcy_price_only(compiled, long: bool) -> None:
    o = PRICE * (85 if long else 115) // 100
    tx = Deleverage(0, 1, 0, BIG // 3)
    state = levered(o, long, fund=1000 * Q)
    z = solve_batch(compiled, one_slot(state, lambda s: s.apply(tx)), SHAPE)
    if long:
        assert find_unconstrained(compiled, z, random.Random(4), n_random=1).ok
    p = _price(levered(o, long, fund=1000 * Q), tx.quantity)
    better, worse = (p + 1, p - 1) if long else (p - 1, p + 1)  # for the deleveraged account
    for price, fragment in ((better, "bankruptcy/least_price"), (worse, "margin/ratio0")):
        at = lambda s, p=price: commit_deleverage(s, tx, p)  # noqa: E731
        fails(compiled, one_slot(levered(o, long, fund=1000 * Q), at), fragment)


def test_deleverage_only_of_an_uncovered_bankrupt_account(compiled) -> None:
    tx = Deleverage(0, 1, 0, BIG // 3)
    solvent = levered(PRICE * 93 // 100)
    at = lambda s: commit_deleverage(s, tx, _price(s, tx.quantity))  # noqa: E731
    fails(compiled, one_slot(solvent, at), "bankruptcy/uncovered")
    o = PRICE * 85 // 100
    covered = levered(o)
    deficit = -total_value(covered.account(0), covered.global_state)
    covered.global_state = replace(covered.global_state, insurance_fund=deficit)
    fails(compiled, one_slot(covered, at), "bankruptcy/uncovered")
    flat = Deleverage(0, 2, 0, BIG // 3)  # account 2 holds no opposite position
    fails(compiled, one_slot(levered(o), lambda s: commit_deleverage(s, flat, _price(s, BIG // 3))),
          "margin/shrinks1")  # fmt: skip


def mixed(fund: int) -> RollupState:
    """Account 0 long 1000 calls from 2 and long BIG perpetuals against 1; the price falls 15 %:
    bankrupt, with maintenance risk and long options of value; the fund set to ``fund``."""
    state = options_state()
    calls = (
        option_order(0, 1, BUY, 1000, CALL_MARK, 1),
        option_order(2, 1, SELL, 1000, CALL_MARK, 1),
    )
    state.apply(Trade(*calls, 1000, CALL_MARK, 0, 0))
    state.apply(
        Trade(order(0, BUY, BIG, PRICE, 2), order(1, SELL, BIG, PRICE, 2), BIG, PRICE, 0, 0)
    )
    t = state.global_state.oracle_time + 5
    previous = state.global_state.oracle_time
    state.apply(OraclePrice.signed(ORACLE_KEY, DOMAIN, (PRICE * 85 // 100,), (0,), t, previous))
    state.global_state = replace(state.global_state, insurance_fund=fund)
    return state


def test_an_account_with_risk_sells_its_long_options_before_the_fund_pays(compiled) -> None:
    """Closing all the perpetual risk of an account that still holds long options of value
    draws nothing (the options' upside is still the account's): natively the fill at the
    oracle price is accepted without a draw, and a witness drawing the deficit fails; selling
    the options after it closes everything and draws the whole deficit."""
    state = mixed(10**6 * Q)
    g = state.global_state
    a = settle(state.account(0), g)
    assert total_value(a, g) < 0 and maintenance_risk(a, g) > 0 and a.options[0].size == 1000
    o = g.markets[0].price
    perps = Liquidate(order(2, BUY, BIG, o, 5), 0, BIG, o, 0)
    full = -total_value(a, g)  # what the fund would pay if the options did not count
    batch = one_slot(mixed(10**6 * Q), lambda s: commit_liquidation(s, perps, shortfall=full))
    fails_drawing(compiled, batch, full, "bankruptcy/draw_when_closed")
    batch = one_slot(mixed(10**6 * Q), lambda s: s.apply(perps))
    assert batch.slots[0].new_global.insurance_fund == 10**6 * Q  # no draw beside the options
    solve_batch(compiled, batch, SHAPE)
    state.apply(perps)
    g = state.global_state
    mark = g.series[CALL_SLOT].marked_value(g.markets[0].price)
    calls = Liquidate(option_order(2, 1, BUY, 1000, mark, 4), 0, 1000, mark, 0)
    deficit = -total_value(settle(state.account(0), g), g)
    batch = one_slot(state, lambda s: s.apply(calls))
    assert 10**6 * Q - batch.slots[0].new_global.insurance_fund == deficit > 0
    solve_batch(compiled, batch, SHAPE)
    assert total_value(settle(state.account(0), state.global_state), state.global_state) == 0
