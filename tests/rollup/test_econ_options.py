"""Regressions of the economics review's option value leaks (rollup/margin.py, rollup/options.py):
each attack passed the old rules and is refused by the new ones with a named error, nothing
changed; each legitimate twin still goes through.

* E2 (x1b): initial margin counted long options at their mark, so a buyer withdrew its premium
  straight back — now ``(TV − LV)·10^6 ≥ IR``;
* E1 (x1): a 1-quantum account bought calls on full credit (same rule), and an account holding
  only long options (MR = 0) sold them far below the mark to a colluder on the "reducing trade,
  TV/TR not worse" path, vacuous at MR = 0 — now ``TV_a ≥ min(TV_b, 0)`` when MR_b = 0;
* x4: the deleverager holding only long calls pushed below zero (the same rule);
* E4 (x3): a short needed no margin from expiry to settlement while still valued at its stale
  mark — now it keeps its requirement until its series is settled;
* x3b (and E4's remaining −500q): a short was valued and margined at its series' last mark,
  stale once an OraclePrice moved the index before the oracle's Marks — now a short is valued
  and margined at mark' = max(mark, intrinsic) (``protocol.leaf.short_option_value``), its
  liquidation referenced at mark', its escape paid at the same value.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from protocol import leaf
from protocol.spec import BUY, CALL, FRACTION_SCALE, OPTION_BASE, SELL, VALUE_SCALE
from rollup import errors
from rollup.account import Account, OptionPosition
from rollup.margin import (
    initial_risk,
    is_liquidatable,
    maintenance_risk,
    meets_initial,
    ratio_not_worse,
    settle,
    total_value,
)
from rollup.options import long_value, option_size, requirement_units
from rollup.tx import Deleverage, Liquidate, Settle, Trade, Withdraw
from tests.rollup.conftest import DOMAIN, GENESIS_TIME, PRICE, World, make_world
from tests.rollup.test_options import list_series, marks, option_order, option_trade
from tests.rollup.test_state import oracle, order, rejected

Q = VALUE_SCALE
CALL_ID = OPTION_BASE + 1


def tv(world: World, i: int) -> int:
    g = world.state.global_state
    return total_value(settle(world.state.account(i), g), g)


def withdraw(world: World, i: int, quanta: int) -> Withdraw:
    nonce = world.state.account(i).nonce
    return Withdraw.signed(world.keys[i], DOMAIN, i, quanta, 1000 + i, nonce)


def old_meets_initial(world: World, i: int) -> bool:
    """The old rule: TV·10^6 ≥ IR, long options at their value."""
    g = world.state.global_state
    a = settle(world.state.account(i), g)
    return total_value(a, g) * FRACTION_SCALE >= initial_risk(a, g)


def call_world(mark: int = PRICE // 20, amounts=(10**6,) * 4, expiry: int | None = None) -> World:
    world = make_world(amount=1)
    for i, a in enumerate(amounts):
        if a > 1:
            world.deposit(i, a - 1)
    kw = {} if expiry is None else {"expiry": expiry}
    world.state.apply(list_series(world, strike=PRICE, kind=CALL, **kw))
    world.state.apply(marks(world, {0: mark}))
    return world


_perp_ids = itertools.count(10**6)


def perp_trade(world: World, buyer: int, seller: int, q: int, price: int, market: int = 0) -> Trade:
    b = order(world, buyer, BUY, q, price, 0, next(_perp_ids), market=market)
    s = order(world, seller, SELL, q, price, 0, next(_perp_ids), market=market)
    return Trade(b, s, q, price, 0, 0)


def moved(world: World, permille: int, market: int = 0):
    m = world.params.n_markets
    return oracle(world, tuple(PRICE * permille // 1000 if k == market else PRICE
                               for k in range(m)))  # fmt: skip


def lose_cash_on_a_perp(world: World, i: int, cp: int, size: int) -> None:
    """``i`` shorts ``size`` of market 1 (not the calls' underlying, whose value stays put) to
    ``cp`` at PRICE, the index rises 30%, ``i`` buys back at the new index: a loss of 30 quanta
    per base quantum (a reducing trade)."""
    world.state.apply(perp_trade(world, cp, i, size, PRICE, market=1))
    world.state.apply(moved(world, 1300, market=1))
    world.state.apply(perp_trade(world, i, cp, size, PRICE * 13 // 10, market=1))


# -- E2: long options do not count towards initial margin ------------------------------------------
def test_e2_the_premium_cannot_be_withdrawn_back() -> None:
    world = call_world()
    world.state.apply(option_trade(world, 1000, PRICE // 20))  # 0 pays 5,000 quanta of premium
    assert world.state.account(0).collateral == (10**6 - 5000) * Q
    everything = withdraw(world, 0, 10**6)
    # the old rule: TV = −5,000q + 1000·mark = 0 ≥ IR = 0
    after = replace(world.state.account(0), collateral=-5000 * Q)
    g = world.state.global_state
    assert total_value(after, g) == 0 == initial_risk(after, g) and not meets_initial(after, g)
    err = rejected(world, everything, errors.InsufficientMargin)
    assert (err.account, err.total_value, err.required) == (0, -5000 * Q, 0)
    world.state.apply(withdraw(world, 0, 10**6 - 5000))  # the excess cash: fine
    assert world.state.account(0).collateral == 0 and tv(world, 0) == 5000 * Q
    rejected(world, withdraw(world, 0, 1), errors.InsufficientMargin)


def test_e2_forced_withdrawal_leaves_the_long_options_value() -> None:
    from rollup.effects import forced_withdraw

    world = call_world()
    world.state.apply(option_trade(world, 1000, PRICE // 20))
    # a short perpetual makes the collateral exceed TV: free = TV − LV − IR, not TV − IR
    world.state.apply(perp_trade(world, 2, 0, 1000, PRICE))
    g = world.state.global_state
    a = settle(world.state.account(0), g)
    _, amount = forced_withdraw(a, g)
    ir = -(-initial_risk(a, g) // FRACTION_SCALE)
    assert amount == (total_value(a, g) - long_value(a, g) - ir) // Q
    assert amount < (total_value(a, g) - ir) // Q  # the old amount took the calls' value too


# -- E1: buying on credit, dumping long options below the mark ------------------------------------
def test_e1_a_one_quantum_account_cannot_buy_calls_on_credit() -> None:
    world = call_world(amounts=(1, 10**9, 10**6, 10**6))
    n, mark = 1_000_000, PRICE // 20
    tx = option_trade(world, n, mark, buyer=0, seller=1)
    err = rejected(world, tx, errors.InsufficientMargin)
    assert err.account == 0 and err.total_value == 1 * Q - n * mark and err.required == 0
    # positive twin: paid from cash
    world.deposit(0, n * mark // Q)
    world.state.apply(option_trade(world, n, mark, buyer=0, seller=1))
    assert world.state.account(0).collateral == 1 * Q


def long_calls_on_negative_cash() -> World:
    """Account 0: 1000 calls bought at 10q from 1's cash, then 33,200 of market 1 shorted and
    bought back 30% higher (a loss beyond its cash, allowed: the reducing trade keeps TV ≥ 0).
    Left: collateral −6,000q, only the calls (LV 10,000q), MR = 0, TV 4,000q."""
    world = call_world(mark=PRICE // 10)
    world.state.apply(option_trade(world, 1000, PRICE // 10))
    lose_cash_on_a_perp(world, 0, 2, 33_200)
    g = world.state.global_state
    a = settle(world.state.account(0), g)
    assert (a.collateral, total_value(a, g), maintenance_risk(a, g)) == (-6000 * Q, 4000 * Q, 0)
    return world


def test_e1_long_options_only_may_not_be_dumped_below_zero() -> None:
    world = long_calls_on_negative_cash()
    low = PRICE // 20  # 5q, the band's edge (mark 10q ± 5% of the index 100q)
    dump = option_trade(world, 1000, low, buyer=3, seller=0)
    # the old rule passed it: TV_a·MR_b = TV_b·MR_a = 0
    err = rejected(world, dump, errors.InsufficientMargin)
    assert err.account == 0 and err.total_value == -1000 * Q
    # twins: at the mark the ratio path holds (TV − LV < 0 after, TV ≥ 0); a loss that leaves
    # TV ≥ 0 is the account's own business
    world.state.apply(option_trade(world, 500, PRICE // 10, buyer=3, seller=0))
    assert not meets_initial(world.state.account(0), world.state.global_state)
    assert tv(world, 0) == 4000 * Q
    world.state.apply(option_trade(world, 100, low, buyer=3, seller=0))
    assert tv(world, 0) == 3500 * Q


def test_ratio_not_worse_without_maintenance_risk() -> None:
    world = call_world()
    g = world.state.global_state
    longs = (OptionPosition(0, 100), *world.state.account(0).options[1:])
    base = replace(world.state.account(0), options=longs)
    assert maintenance_risk(base, g) == 0
    value = 100 * g.series[0].value()

    def at(tv_: int) -> Account:
        return replace(base, collateral=tv_ - value)

    for tv_b, tv_a, ok in ((5, 0, True), (5, -1, False), (-7, -7, True), (-7, -8, False),
                           (-7, 3, True), (0, 0, True), (0, -1, False)):  # fmt: skip
        assert ratio_not_worse(at(tv_b), at(tv_a), g) is ok, (tv_b, tv_a)
        assert tv_a * 0 >= tv_b * 0  # the old rule passed every one


# -- x4: the deleverager with long options only ---------------------------------------------------
def deleverage_world(extra: int = 0) -> World:
    """1 writes 1000 calls at 10q to 0 (deposit 30,000q); 0 loses its cash on a perpetual down to
    −48,990q + extra while the mark rises to 50q: 1 bankrupt (TV −10,000q), fund empty."""
    world = call_world(mark=PRICE // 10, amounts=(100_000, 30_000, 10**7, 10**7))
    world.state.apply(option_trade(world, 1000, PRICE // 10, buyer=0, seller=1))
    world.state.apply(marks(world, {0: PRICE // 2}))
    lose_cash_on_a_perp(world, 0, 2, 4633)
    if extra:
        world.deposit(0, extra)
    assert tv(world, 1) == -10_000 * Q and world.state.global_state.insurance_fund == 0
    assert maintenance_risk(world.state.account(0), world.state.global_state) == 0
    return world


def test_x4_a_deleverager_with_long_options_only_is_not_pushed_below_zero() -> None:
    world = deleverage_world()
    assert tv(world, 0) == 1010 * Q
    err = rejected(world, Deleverage(1, 0, CALL_ID, 1000), errors.NotDeleveragable)
    assert err.account == 0  # at 40q it would end at −8,990q; the old rule passed (MR_b = 0)
    world = deleverage_world(extra=10_000)  # the twin: enough cash, D ends at TV ≥ 0
    w = world.state.apply(Deleverage(1, 0, CALL_ID, 1000))
    assert w.effect["price"] == 40 * Q and tv(world, 0) == 1010 * Q and tv(world, 1) == 0


# -- E4: a short keeps its requirement between expiry and settlement ---------------------------
def test_e4_a_short_keeps_its_requirement_until_settlement() -> None:
    expiry = GENESIS_TIME + 100
    world = call_world(amounts=(10**6, 50_000), expiry=expiry)
    world.state.apply(option_trade(world, 1000, PRICE // 20, buyer=0, seller=1))
    world.state.apply(oracle_past(world, expiry))
    g = world.state.global_state
    assert g.oracle_time >= expiry and not g.series[0].settlement_price
    units = requirement_units(g.series[0], g.markets[0], g.oracle_time)
    assert units == requirement_units(g.series[0], g.markets[0], 0) != (0, 0)
    writer = settle(world.state.account(1), g)
    ir = -(-initial_risk(writer, g) // FRACTION_SCALE)
    # the short is margined at mark' = max(mark 5q, intrinsic 30q): 1000·(19.5q + 30q); the stale
    # mark gave 24,500q, which let the writer withdraw down to it and end at −500q after settlement
    assert ir == 1000 * (PRICE * 13 // 10 * 15 // 100 + PRICE * 3 // 10)  # 49,500q: old rule 0
    assert tv(world, 1) == (55_000 - 30_000) * Q  # valued at mark' too (the stale mark: 50,000q)
    assert stale_initial_requirement(world, 1) == 24_500 * Q
    for quanta in (tv(world, 1) // Q, 25_500, 1):  # all; what the stale mark allowed; a quantum
        err = rejected(world, withdraw(world, 1, quanta), errors.InsufficientMargin)
        assert (err.total_value, err.required) == ((25_000 - quanta) * Q, ir)  # TV − LV after
    # settlement at the index it expired at: the payoff (30q a call) turns into collateral, which
    # the writer could not withdraw below n·intrinsic: it ends at 25,000q ≥ 0 (the stale-mark
    # rule let it end at −500q, the rule before it at −25,000q)
    world.state.apply(marks(world, {0: PRICE * 13 // 10}, flags=1))
    g = world.state.global_state
    assert requirement_units(g.series[0], g.markets[0], g.oracle_time) == (0, 0)
    world.state.apply(Settle(1))
    assert world.state.account(1).collateral == (55_000 - 30_000) * Q >= 0


def stale_initial_requirement(world: World, i: int) -> int:
    """The short options' IR (value units) at the series' stale mark, the rule before mark'."""
    g = world.state.global_state
    a = settle(world.state.account(i), g)
    ir = 0
    for o in a.options:
        if o.size < 0:
            s, m = g.series[o.slot], g.markets[g.series[o.slot].market]
            otm = max(s.strike - m.price, 0)  # calls only
            unit = max(m.option_initial * m.price - FRACTION_SCALE * otm, m.option_floor * m.price)
            ir -= o.size * (unit + FRACTION_SCALE * s.mark)
    return -(-ir // FRACTION_SCALE)


# -- x3b: a short is valued and margined at mark' = max(mark, intrinsic) --------------------------
def stale_mark_world(index_permille: int = 1300) -> World:
    """1 writes 1000 calls (strike 100q) at the mark 5q to 0 (deposit 40,000q); the index moves
    to 130q (OraclePrice) and the oracle has not sent new marks: the mark stays 5q, the intrinsic
    value is 30q."""
    world = call_world(amounts=(10**6, 40_000, 10**7, 10**7))
    world.state.apply(option_trade(world, 1000, PRICE // 20, buyer=0, seller=1))
    world.state.apply(moved(world, index_permille))
    assert world.state.global_state.series[0].mark == PRICE // 20
    return world


def test_x3b_a_short_under_a_stale_mark_is_liquidatable() -> None:
    world = stale_mark_world()
    g = world.state.global_state
    writer = settle(world.state.account(1), g)
    # at the stale mark: TV 45,000 − 5,000 = 40,000q ≥ MR 1000·(9.75q + 5q): "healthy"
    assert total_value(writer, g) == (45_000 - 30_000) * Q  # at mark' 30q
    mm_unit = PRICE * 13 // 10 * 75 // 1000 + PRICE * 3 // 10  # γ·S + mark', not + mark
    assert maintenance_risk(writer, g) == 1000 * mm_unit * FRACTION_SCALE
    assert is_liquidatable(writer, g)
    assert long_value(settle(world.state.account(0), g), g) == 30_000 * Q  # the long: mark' too
    # liquidated at o = mark' (30q): the stale mark's band (o = 5q) would refuse any liquidator
    o = PRICE * 3 // 10
    lq = Liquidate(option_order(world, 2, 1, SELL, 1000, o), 1, 1000, o, 0)
    world.state.apply(lq)
    assert option_size(world.state.account(1), 0) == 0
    assert world.state.account(1).collateral == (45_000 - 30_000 - 300) * Q  # penalty q·o·1%


def test_x3b_the_twin_at_the_index_of_the_mark_is_not_liquidatable() -> None:
    world = stale_mark_world(1000)
    g = world.state.global_state
    writer = settle(world.state.account(1), g)
    assert total_value(writer, g) == (45_000 - 5_000) * Q  # intrinsic 0: mark' = mark
    assert not is_liquidatable(writer, g)
    o = PRICE // 20
    lq = Liquidate(option_order(world, 2, 1, SELL, 1000, o), 1, 1000, o, 0)
    err = rejected(world, lq, errors.NotLiquidatable)
    assert err.total_value == 40_000 * Q


def test_x3b_a_withdrawal_the_stale_mark_allowed_is_refused() -> None:
    world = stale_mark_world()
    assert stale_initial_requirement(world, 1) == 24_500 * Q  # 15,500q of "free" cash
    err = rejected(world, withdraw(world, 1, 15_500), errors.InsufficientMargin)
    assert (err.total_value, err.required) == (-500 * Q, 49_500 * Q)  # TV − LV after
    err = rejected(world, withdraw(world, 1, 1), errors.InsufficientMargin)
    assert err.required == 49_500 * Q
    world.deposit(1, 34_501)  # the twin: margined at mark', the writer withdraws its excess
    world.state.apply(withdraw(world, 1, 1))
    assert tv(world, 1) == 49_500 * Q


def test_x3b_the_escape_values_both_sides_at_mark_prime() -> None:
    world = stale_mark_world()
    g = world.state.global_state
    writer, holder = world.state.account(1), world.state.account(0)
    assert leaf.total_value(writer.to_list(), g.to_list()) == tv(world, 1) == 15_000 * Q
    assert leaf.total_value(holder.to_list(), g.to_list()) == tv(world, 0)  # the long: 30q
    assert tv(world, 0) == (10**6 - 5_000 + 30_000) * Q  # at the stale mark 5q: 10^6 q


def test_x3b_tv_is_a_ledger_collateral_plus_fund_equals_tv_plus_fund() -> None:
    """Both sides at mark': the escape of every account pays out exactly the vault (the stale
    mark valued the long at 5q and the short at 30q: 25,000q of the vault stranded)."""
    world = stale_mark_world()

    def sums() -> tuple[int, int]:
        g, accounts = world.state.global_state, world.state.accounts
        cash = sum(settle(a, g).collateral for a in accounts.values()) + g.insurance_fund
        return cash, sum(tv(world, i) for i in accounts) + g.insurance_fund

    cash, value = sums()
    assert value == cash  # the long counts 1000·30q, the short −1000·30q
    o = PRICE * 3 // 10
    world.state.apply(Liquidate(option_order(world, 2, 1, SELL, 1000, o), 1, 1000, o, 0))
    assert sums() == (cash, value)  # the liquidator took the short over at mark' 30q


def oracle_past(world: World, expiry: int):
    g = world.state.global_state
    m = world.params.n_markets
    return oracle(world, (PRICE * 13 // 10,) + (PRICE,) * (m - 1), dt=expiry - g.oracle_time + 100)


def test_excess_cash_is_withdrawn_beside_long_options() -> None:
    world = call_world()
    world.state.apply(option_trade(world, 1000, PRICE // 20))
    world.state.apply(withdraw(world, 0, 10**6 - 5000))
    assert old_meets_initial(world, 0)
    g = world.state.global_state
    a = settle(world.state.account(0), g)
    assert total_value(a, g) - long_value(a, g) == a.collateral == 0


# -- review 2, F2: longs are carried at mark' too -------------------------------------------------
def test_f2_a_hedged_holder_is_not_liquidated_at_a_stale_mark() -> None:
    """0 holds 1000 calls (bought at 5q) and is short 1000 of their underlying at 100q: hedged.
    The index moves to 130q and the operator withholds the marks. At the stale mark the calls
    counted 5,000q and 0 looked bankrupt (TV −5,000q); at mark' = intrinsic 30q its TV is
    20,000q ≥ MR 6,500q: not liquidatable, and a liquidator cannot take its calls at 5q."""
    world = call_world(amounts=(25_000, 10**6, 10**7, 10**7))
    world.state.apply(option_trade(world, 1000, PRICE // 20, buyer=0, seller=1))
    world.state.apply(perp_trade(world, 2, 0, 1000, PRICE))
    world.state.apply(moved(world, 1300))
    g = world.state.global_state
    holder = settle(world.state.account(0), g)
    assert g.series[0].mark == PRICE // 20  # the stale mark
    assert total_value(holder, g) == 20_000 * Q and not is_liquidatable(holder, g)
    stale_tv = total_value(holder, g) - 1000 * (PRICE * 3 // 10 - g.series[0].mark)
    assert stale_tv == -5_000 * Q < maintenance_risk(holder, g) // FRACTION_SCALE
    lq = Liquidate(option_order(world, 2, 1, BUY, 1000, PRICE // 20), 0, 1000, PRICE // 20, 0)
    rejected(world, lq, errors.NotLiquidatable)
    # twin: the index falls back to the strike, the calls are worth their mark (5q), the short
    # perpetual's gain is gone: TV 25,000q − 5,000q at the strike, still solvent
    world.state.apply(moved(world, 1000))
    g = world.state.global_state
    assert total_value(settle(world.state.account(0), g), g) == 25_000 * Q


# -- review 2, F1: a short that expired under water is closed before its settlement -------------
def test_f1_an_expired_short_under_water_is_liquidated_before_settlement() -> None:
    """1 writes 1000 calls at 5q with 20,000q; the next index the operator applies is 130q,
    after expiry: 1 owes 30,000q against 25,000q of cash. Liquidation (and deleverage) used to
    require a tradable series, so nobody could close it, and its settlement left −5,000q of
    debt on an account without positions that the fund never paid. The series is listed and
    unsettled: the liquidation at mark' 30q draws the deficit from the fund."""
    expiry = GENESIS_TIME + 100
    world = call_world(amounts=(10**6, 20_000, 10**7, 10**7), expiry=expiry)
    world.state.apply(option_trade(world, 1000, PRICE // 20, buyer=0, seller=1))
    world.state.apply(oracle_past(world, expiry))
    g = world.state.global_state
    assert tv(world, 1) == -5_000 * Q and g.oracle_time >= expiry
    world.state.global_state = replace(g, insurance_fund=10_000 * Q)
    o = PRICE * 3 // 10
    rejected(world, option_trade(world, 10, o, buyer=2, seller=3), errors.SeriesUnavailable)
    world.state.apply(Liquidate(option_order(world, 2, 1, SELL, 1000, o), 1, 1000, o, 0))
    g = world.state.global_state
    assert option_size(world.state.account(1), 0) == 0 and tv(world, 1) == 0
    assert g.insurance_fund == 5_000 * Q
    # settlement at 130q: the long side is paid by the liquidator's short, nobody owes debt
    world.state.apply(marks(world, {0: PRICE * 13 // 10}, flags=1))
    world.state.apply(Settle(0))
    world.state.apply(Settle(2))
    assert all(world.state.account(i).collateral >= 0 for i in range(4))


def test_f1_a_settled_series_is_not_liquidated() -> None:
    """Negative twin: once settled, the positions are collateral; Liquidate names the series
    and is refused as settled (nothing changed)."""
    expiry = GENESIS_TIME + 100
    world = call_world(amounts=(10**6, 40_000, 10**7, 10**7), expiry=expiry)
    world.state.apply(option_trade(world, 1000, PRICE // 20, buyer=0, seller=1))
    world.state.apply(oracle_past(world, expiry))
    world.state.apply(marks(world, {0: PRICE * 13 // 10}, flags=1))
    o = PRICE * 3 // 10
    err = rejected(
        world, Liquidate(option_order(world, 2, 1, SELL, 1000, o), 1, 1000, o, 0),
        errors.SeriesUnavailable,
    )  # fmt: skip
    assert "settled" in str(err)


def test_f1b_a_settle_writes_off_a_positionless_debt_when_the_fund_holds_it() -> None:
    """0 holds 1000 calls on −6,000q of cash (TV 4,000q); they expire out of the money and
    the oracle marks them 0 first: liquidating them would need a fill at a price of 0, so
    nobody can, and their settlement leaves −6,000q on an account with nothing. A Settle writes
    it off from the insurance fund once the fund holds it (twin: 5,000q, nothing drawn, the
    debt stays; 10,000q: the whole deficit); Σ collateral + fund is unchanged throughout."""
    from tests.rollup.test_options import EXPIRY

    world = long_calls_on_negative_cash()
    m = world.params.n_markets
    low = (PRICE * 9 // 10, PRICE * 13 // 10) + (PRICE,) * (m - 2)  # the calls out of the money
    world.state.apply(oracle(world, low, dt=EXPIRY - world.state.global_state.oracle_time - 60))
    world.state.apply(marks(world, {0: 0}))
    g = world.state.global_state
    assert tv(world, 0) == -6000 * Q and long_value(settle(world.state.account(0), g), g) == 0
    world.state.apply(oracle(world, low, dt=120))  # past expiry
    world.state.apply(marks(world, {0: PRICE * 9 // 10}, flags=1))  # settles at 90q: payoff 0

    def cash() -> int:
        g = world.state.global_state
        return (
            sum(settle(a, g).collateral for a in world.state.accounts.values()) + g.insurance_fund
        )

    world.state.global_state = replace(world.state.global_state, insurance_fund=5_000 * Q)
    before = cash()
    world.state.apply(Settle(0))
    a = world.state.account(0)
    assert a.collateral == -6000 * Q and not any(o.size for o in a.options)
    assert world.state.global_state.insurance_fund == 5_000 * Q and cash() == before
    world.state.global_state = replace(world.state.global_state, insurance_fund=10_000 * Q)
    before = cash()
    world.state.apply(Settle(0))
    assert world.state.account(0).collateral == 0
    assert world.state.global_state.insurance_fund == 4_000 * Q and cash() == before
