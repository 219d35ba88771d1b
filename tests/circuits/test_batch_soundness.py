"""Soundness of the batch circuit: every invalid-transition class fails on a named constraint.

Each test takes a valid batch from the native state machine (rollup/, the reference) and breaks
exactly one rule with the native check bypassed — a re-signed order term that does not change
the state, a monkeypatched native check, or ``RollupState.commit`` with hand-made effects —
so roots, pubdata and commitment stay consistent and only the targeted rule is violated. The
solver must fail on the constraint of that rule (asserted by name). Each positive case (the
untampered batch solves) is the twin of its negatives. Liquidation and deleverage:
test_batch_soundness_bankruptcy.py.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from circuits.batch import BatchShape, compile_batch
from circuits.errors import UnsatisfiedConstraint
from circuits.soundness import find_unconstrained
from protocol.eddsa import sign
from protocol.messages import domain
from protocol.pubdata import pubdata_commitment
from protocol.spec import (
    BUY,
    DEFAULT_MARKETS,
    DEPOSIT,
    FORCED_WITHDRAW,
    ORACLE,
    RATE_OFFSET,
    SELL,
    TRANSFER,
    VALUE_SCALE,
    RollupParams,
)
from prover.fields import R
from rollup import effects
from rollup.circuit_input import batch_assignment, shape_of
from rollup.margin import settle_funding
from rollup.state import RollupState
from rollup.tx import (
    Deposit,
    ForcedWithdrawal,
    Noop,
    OraclePrice,
    Order,
    SignedOrder,
    Trade,
    Transfer,
    Withdraw,
)
from rollup.witness import BatchWitness
from tests.batch_helpers import (
    DOMAIN,
    GENESIS_TIME,
    ORACLE_KEY,
    PRICE,
    deposit,
    fails_on,
    genesis_state,
    one_slot,
    public_key,
    solve_batch,
    user_key,
)

KEYS = [user_key(i) for i in range(4)]
PARAMS = RollupParams(depth=2, batch_slots=1, markets=DEFAULT_MARKETS[:1])
SHAPE = shape_of(PARAMS)
OTHER_DOMAIN = domain(1, 2)
EXPIRY = GENESIS_TIME + 10**6


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


def funded_state(amounts: tuple[int, ...] = (1000, 1000, 10**6)) -> RollupState:
    """Accounts 0, 1, 2 funded (quanta), one market at PRICE, oracle time GENESIS_TIME."""
    state = genesis_state(PARAMS, (PRICE,))
    for i, amount in enumerate(amounts):
        state.apply(deposit(i, amount, 100 + i))
    return state


def order(account: int, side: int, size: int, limit: int = PRICE, order_id: int = 1,
          max_fee: int = 10, expiry: int = EXPIRY, key: int | None = None,
          dom: int = DOMAIN) -> SignedOrder:  # fmt: skip
    o = Order(account, 0, side, size, limit, max_fee, order_id, expiry)
    return o.sign(KEYS[account if key is None else key], dom)


def fails(compiled, batch: BatchWitness, fragment: str) -> str:
    return fails_on(compiled, batch_assignment(batch, SHAPE), fragment)


def with_tx(batch: BatchWitness, tx) -> BatchWitness:
    """The same batch (roots, pubdata) claiming a different transaction in slot 0."""
    return replace(batch, slots=(replace(batch.slots[0], tx=tx),))


def oracle(state: RollupState, prices=(PRICE,), rates=(0,), dt: int = 5, key=ORACLE_KEY,
           dom: int = DOMAIN) -> OraclePrice:  # fmt: skip
    t = state.global_state.oracle_time + dt
    return OraclePrice.signed(key, dom, tuple(prices), tuple(rates), t)


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
    writes = [(3, settle_funding(state.account(3), state.global_state))]
    withdrawal = one_slot(state, lambda s: s.commit(0, FORCED_WITHDRAW, tx, writes,
                                                    s.global_state, effect, ()))  # fmt: skip
    fails(compiled, withdrawal, "refund/forced_nonempty")


# -- oracle -----------------------------------------------------------------------------------
def test_oracle_signature_domain_and_stale_timestamp(compiled) -> None:
    state = funded_state()
    tx = oracle(state, (PRICE + 1,), (100,))
    batch = one_slot(state, lambda s: s.apply(tx))
    solve_batch(compiled, batch, SHAPE)
    wrong_key = OraclePrice.signed(KEYS[0], DOMAIN, tx.prices, tx.rates, tx.timestamp)
    fails(compiled, with_tx(batch, wrong_key), "slot0/sig0/")
    foreign = OraclePrice.signed(ORACLE_KEY, OTHER_DOMAIN, tx.prices, tx.rates, tx.timestamp)
    fails(compiled, with_tx(batch, foreign), "slot0/sig0/")
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
    assert BatchShape(1, 2, 8).improve_bits <= 252
    with pytest.raises(Exception, match="depth"):
        BatchShape(1, 0, 1)
