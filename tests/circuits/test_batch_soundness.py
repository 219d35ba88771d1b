"""Soundness of the batch circuit: every invalid-transition class fails on a named constraint.

Each test takes a valid batch from the native state machine (rollup/, the reference) and breaks
exactly one rule with the native check bypassed — a re-signed order term that does not change
the state, a monkeypatched native check, or ``RollupState.commit`` with hand-made effects —
so roots, pubdata and commitment stay consistent and only the targeted rule is violated. The
solver must fail on the constraint of that rule (asserted by name). Each positive case (the
untampered batch solves) is the twin of its negatives. Here: trades, order records, the oracle
and the no-unconstrained-wires check; accounts (withdraw, transfer, deposit, forced withdrawal):
test_batch_soundness_accounts.py; liquidation and deleverage: test_batch_soundness_bankruptcy.py.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from circuits.batch import BatchShape, compile_batch
from circuits.errors import UnsatisfiedConstraint
from circuits.soundness import find_unconstrained
from protocol.eddsa import sign
from protocol.spec import BUY, ORACLE, RATE_OFFSET, SELL
from rollup import effects
from rollup.state import RollupState
from rollup.tx import ForcedWithdrawal, Noop, OraclePrice, SignedOrder, Trade, Transfer, Withdraw
from rollup.witness import BatchWitness
from tests.batch_helpers import DOMAIN, ORACLE_KEY, PRICE, deposit, one_slot, solve_batch
from tests.circuits.batch_world import (
    KEYS,
    OTHER_DOMAIN,
    SHAPE,
    fails,
    funded_state,
    oracle,
    order,
    with_tx,
)


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


# -- trades and orders ------------------------------------------------------------------------
def test_trade_solves_and_wrong_terms_fail(compiled) -> None:
    tx = Trade(order(0, BUY, 100), order(1, SELL, 100), 50, PRICE, 5, 5)
    batch = one_slot(funded_state(), lambda s: s.apply(tx))
    solve_batch(compiled, batch, SHAPE)
    m = tx.maker.order
    cases = {
        "limit price violated": (replace(m, limit_price=PRICE - 1), "order0/limit_price"),
        "filled beyond the order's size": (replace(m, size=49), "records0/size"),
        "fee beyond pro rata (5·100 > 9·50)": (replace(m, max_fee=9), "order0/fee"),
    }
    for label, (o, fragment) in cases.items():
        assert fails(compiled, with_tx(batch, replace(tx, maker=o.sign(KEYS[0], DOMAIN))),
                     fragment), label  # fmt: skip
    foreign = m.sign(KEYS[0], OTHER_DOMAIN)  # a message of another domain
    fails(compiled, with_tx(batch, replace(tx, maker=foreign)), "slot0/sig0/")
    forged = replace(tx.maker, signature=replace(tx.maker.signature, s=tx.maker.signature.s + 1))
    fails(compiled, with_tx(batch, replace(tx, maker=forged)), "slot0/sig0/")
    wrong_signer = SignedOrder(m, sign(KEYS[2], m.message(DOMAIN)))
    fails(compiled, with_tx(batch, replace(tx, maker=wrong_signer)), "slot0/sig0/")
    t = tx.taker.order
    fails(compiled, with_tx(batch, replace(tx, taker=t.sign(KEYS[2], DOMAIN))), "slot0/sig1/")


def test_expired_order_fails(compiled) -> None:
    state = funded_state()
    one_slot(state, lambda s: s.apply(oracle(s, dt=50)))
    now = state.global_state.oracle_time
    tx = Trade(order(0, BUY, 100, expiry=now), order(1, SELL, 100), 50, PRICE, 5, 5)
    batch = one_slot(state, lambda s: s.apply(tx))
    solve_batch(compiled, batch, SHAPE)
    late = replace(tx.maker.order, expiry=now - 1).sign(KEYS[0], DOMAIN)
    fails(compiled, with_tx(batch, replace(tx, maker=late)), "order0/expiry")


def test_insufficient_margin_after_trade_fails(compiled, monkeypatch) -> None:
    monkeypatch.setattr(effects, "require_trade_margin", lambda *a: None)
    tx = Trade(order(0, BUY, 10**4), order(2, SELL, 10**4), 1000, PRICE, 0, 0)
    fails(compiled, one_slot(funded_state(), lambda s: s.apply(tx)), "margin/trade_margin0")


def levered_state(drop_pct: int) -> RollupState:
    """Account 0 long 90 at 9× leverage against account 1, then the price drops by drop_pct%."""
    state = funded_state()
    tx = Trade(order(0, BUY, 90, order_id=1), order(1, SELL, 90, order_id=1), 90, PRICE, 0, 0)
    one_slot(state, lambda s: s.apply(tx))
    one_slot(state, lambda s: s.apply(oracle(s, (PRICE * (100 - drop_pct) // 100,))))
    return state


def test_reduce_only_trade_needs_band_and_ratio(compiled, monkeypatch) -> None:
    """Below initial margin, a reducing trade passes only in the band with TV/TR not worse."""
    state = levered_state(7)
    low = state.global_state.markets[0].price
    ok = Trade(order(0, SELL, 10, low, 2), order(2, BUY, 10, low, 2), 10, low, 0, 0)
    solve_batch(compiled, one_slot(state, lambda s: s.apply(ok)), SHAPE)
    monkeypatch.setattr(effects, "check_band", lambda *a: None)
    monkeypatch.setattr(effects, "require_trade_margin", lambda *a: None)
    for price, fragment in (
        (low * 94 // 100, "fill/price_floor"),  # 6% below: out of band
        (-(-low * 95 // 100), "margin/trade_margin0"),
    ):  # in band, TV/TR worse
        dump = Trade(order(0, SELL, 10, price, 3), order(2, BUY, 10, price, 3), 10, price, 0, 0)
        fails(compiled, one_slot(levered_state(7), lambda s, d=dump: s.apply(d)), fragment)


def _pick_record(k: int):
    def index(account, order_id):
        return k, False

    return index


@pytest.mark.parametrize(
    ("first_fill", "record", "fragment"),
    [
        (True, 1, "records0/new_id"),  # a second record for an order id already held
        (False, 2, "records0/first_oldest0"),  # not the first record of smallest id
    ],
)
def test_record_choice_is_the_native_one(compiled, monkeypatch, first_fill, record, fragment):
    maker = order(0, SELL, 100, order_id=5)
    tx = Trade(maker, order(1, BUY, 100, order_id=10), 10, PRICE, 0, 0)

    def prepared() -> RollupState:
        state = funded_state()
        if first_fill:
            one_slot(state, lambda s: s.apply(Trade(maker, order(1, BUY, 100, order_id=9), 10,
                                                    PRICE, 0, 0)))  # fmt: skip
        return state

    solve_batch(compiled, one_slot(prepared(), lambda s: s.apply(tx)), SHAPE)
    state = prepared()
    import rollup.circuit_input
    import rollup.fills

    for module in (rollup.fills, rollup.circuit_input):
        monkeypatch.setattr(module, "record_index", _pick_record(record))
    fails(compiled, one_slot(state, lambda s: s.apply(tx)), fragment)


def test_order_fills_beyond_its_size_or_below_the_floor_fail(compiled, monkeypatch) -> None:
    import rollup.state
    from rollup.fills import record_fill

    state = funded_state((10**6, 10**6))
    maker = order(0, SELL, 100, order_id=5)
    one_slot(state, lambda s: s.apply(Trade(maker, order(1, BUY, 100, order_id=9), 60, PRICE,
                                            0, 0)))  # fmt: skip
    second = Trade(maker, order(1, BUY, 100, order_id=10), 40, PRICE, 0, 0)
    solve_batch(compiled, one_slot(state, lambda s: s.apply(second)), SHAPE)  # 100 in all

    def unchecked(index, account, order_id, size, quantity):  # no floor, no size check
        after = record_fill(index, replace(account, order_floor=0), order_id, quantity)[0]
        return replace(after, order_floor=max(account.order_floor, after.order_floor))

    monkeypatch.setattr(rollup.state, "fill_order", unchecked)
    again = Trade(maker, order(1, BUY, 100, order_id=11), 1, PRICE, 0, 0)
    fails(compiled, one_slot(state, lambda s: s.apply(again)), "records0/size")
    state.accounts[0] = raised = replace(state.account(0), order_floor=20)
    state.tree.update(0, raised.leaf())
    dead = Trade(order(0, SELL, 100, order_id=19), order(1, BUY, 100, order_id=12), 1, PRICE, 0, 0)
    fails(compiled, one_slot(state, lambda s: s.apply(dead)), "records0/not_dead")


# -- oracle -----------------------------------------------------------------------------------
def test_oracle_signature_domain_and_stale_timestamp(compiled) -> None:
    state = funded_state()
    tx = oracle(state, (PRICE + 1,), (100,))
    batch = one_slot(state, lambda s: s.apply(tx))
    solve_batch(compiled, batch, SHAPE)
    args = (tx.prices, tx.rates, tx.timestamp, tx.previous)
    wrong_key = OraclePrice.signed(KEYS[0], DOMAIN, *args)
    fails(compiled, with_tx(batch, wrong_key), "slot0/sig0/")
    foreign = OraclePrice.signed(ORACLE_KEY, OTHER_DOMAIN, *args)
    fails(compiled, with_tx(batch, foreign), "slot0/sig0/")
    # signed to follow another update than the last one applied (a skipped one in between)
    skipping = OraclePrice.signed(ORACLE_KEY, DOMAIN, *args[:3], tx.previous + 1)
    fails(compiled, with_tx(batch, skipping), "slot0/sig0/")
    unsigned_rate = replace(tx, rates=(101,))  # the rate the state took is not the signed one
    fails(compiled, with_tx(batch, unsigned_rate), "slot0/sig0/")
    stale = oracle(state, (PRICE + 2,), (0,), dt=0)
    g = state.global_state
    g2 = replace(g, markets=(replace(g.markets[0], price=PRICE + 2, funding_rate=0),))
    effect = {"timestamp": stale.timestamp, "price_0": PRICE + 2, "rate_0": RATE_OFFSET}
    batch = one_slot(state, lambda s: s.commit(0, ORACLE, stale, [], g2, effect,
                                               (stale.message(DOMAIN),)))  # fmt: skip
    fails(compiled, batch, "oracle/time_increases")


@pytest.mark.parametrize(("rate", "fragment"), [(4296, "rate_ceiling0"), (-4296, "rate_floor0")])
def test_funding_rate_beyond_max_fails(compiled, rate: int, fragment: str) -> None:
    state = funded_state()
    solve_batch(compiled, one_slot(state, lambda s: s.apply(oracle(s, rates=(-4295,)))), SHAPE)
    tx = oracle(state, rates=(rate,))
    g = state.global_state
    m = g.markets[0]
    delta = m.funding_rate * (tx.timestamp - g.oracle_time) * m.price // (1 << 32)
    market = replace(m, funding_index=m.funding_index + delta, funding_rate=rate)
    g2 = replace(g, markets=(market,), oracle_time=tx.timestamp)
    effect = {"timestamp": tx.timestamp, "price_0": PRICE, "rate_0": rate + RATE_OFFSET}
    batch = one_slot(state, lambda s: s.commit(0, ORACLE, tx, [], g2, effect,
                                               (tx.message(DOMAIN),)))  # fmt: skip
    fails(compiled, batch, f"oracle/{fragment}")


# -- no unconstrained wires -------------------------------------------------------------------
@pytest.fixture(scope="module")
def family_batches() -> dict[str, BatchWitness]:
    """One valid one-slot batch of most transaction types, from one native sequence."""
    st = funded_state()
    px = PRICE * 90 // 100
    txs = {
        "trade": lambda s: s.apply(Trade(order(0, BUY, 90), order(1, SELL, 90), 90, PRICE, 1, 1)),
        "oracle": lambda s: s.apply(oracle(s, (px,), (-50,))),
        "liquidate": lambda s: s.apply(_liquidation(px)),
        "forced_withdraw": lambda s: s.apply(ForcedWithdrawal(1, 5)),
        "withdraw": lambda s: s.apply(Withdraw.signed(KEYS[2], DOMAIN, 2, 10, 7, 0)),
        "transfer": lambda s: s.apply(Transfer.signed(KEYS[2], DOMAIN, 2, 1, 10, 1)),
        "deposit": lambda s: s.apply(deposit(3, 10, 7, key=0)),
        "noop": lambda s: s.apply(Noop()),
    }
    return {name: one_slot(st, apply) for name, apply in txs.items()}


def _liquidation(price: int):
    from rollup.tx import Liquidate

    return Liquidate(order(2, BUY, 90, price, 7), 0, 90, price, 0)


_SLOW = pytest.mark.slow
_FAMILIES = [
    "trade",
    "liquidate",
    *(
        pytest.param(n, marks=_SLOW)
        for n in ("deposit", "forced_withdraw", "oracle", "withdraw", "transfer", "noop")
    ),
]


@pytest.mark.parametrize("family", _FAMILIES)
def test_no_unconstrained_wires(compiled, family_batches, family: str) -> None:
    z = solve_batch(compiled, family_batches[family], SHAPE)
    report = find_unconstrained(compiled, z, random.Random(5), n_random=1)
    assert report.ok, report.unconstrained[:5]
    broken = list(z)
    broken[compiled.wire("slot0/update0/collateral_range/range/bit[3]")] ^= 1
    with pytest.raises(UnsatisfiedConstraint):
        compiled.check(broken)


def test_shape_checks() -> None:
    assert BatchShape(1, 2, 7).improve_bits <= 252  # MAX_MARKETS, options included
    with pytest.raises(Exception, match="n_markets"):
        BatchShape(1, 2, 8)
    with pytest.raises(Exception, match="depth"):
        BatchShape(1, 0, 1)
