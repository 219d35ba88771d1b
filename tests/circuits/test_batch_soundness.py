"""Soundness of the batch circuit: every invalid-transition class fails on a named constraint.

Each test takes a valid batch from the native state machine (rollup/, the reference) and breaks
exactly one rule with the native check bypassed — a re-signed order term that does not change
the state, a monkeypatched native check, or ``RollupState.commit`` with hand-made effects —
so roots, pubdata and commitment stay consistent and only the targeted rule is violated. The
solver must fail on the constraint of that rule (asserted by name). Each positive case (the
untampered batch solves) is the twin of its negatives.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from circuits.batch import BatchShape, compile_batch
from circuits.errors import UnsatisfiedConstraint
from circuits.soundness import find_unconstrained
from protocol.eddsa import sign
from protocol.pubdata import encode_chunk, pubdata_commitment
from protocol.spec import (
    DEFAULT_MARKETS,
    DEPOSIT,
    FORCED_WITHDRAW,
    FUNDING,
    LIQUIDATE,
    ORACLE,
    TRANSFER,
    VALUE_SCALE,
    RollupParams,
)
from prover.fields import R
from rollup import effects
from rollup.circuit_input import batch_assignment, shape_of
from rollup.margin import settle
from rollup.state import RollupState
from rollup.tx import (
    Deposit,
    ForcedWithdrawal,
    FundingTick,
    Liquidate,
    Noop,
    OraclePrice,
    Order,
    SignedOrder,
    Trade,
    Transfer,
    Withdraw,
)
from rollup.witness import BatchWitness, LeafUpdate
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

KEYS = [user_key(i) for i in range(3)]
PARAMS = RollupParams(depth=2, batch_slots=1, markets=DEFAULT_MARKETS[:1])
SHAPE = shape_of(PARAMS)


@pytest.fixture(scope="module")
def compiled():
    return compile_batch(SHAPE)


def batch_of(state: RollupState, apply) -> BatchWitness:
    """One-slot batch from ``apply(state) -> SlotWitness`` (pubdata and commitment native)."""
    old = state.root
    return batch_witness(old, state, (apply(state),))


def funded_state() -> RollupState:
    """Accounts 0, 1 (1000 quanta) and 2 (10^6 quanta), one market at PRICE, oracle time 0."""
    state = genesis_state(PARAMS, (PRICE,))
    for i, amount in enumerate((1000, 1000, 10**6)):
        state.apply(deposit(i, amount, 100 + i))
    return state


def order(account: int, side: int, size: int, limit: int, nonce: int, key: int | None = None,
          fee: int = 10, expiry: int = 10**6) -> SignedOrder:  # fmt: skip
    return Order(account, 0, side, size, limit, fee, nonce, expiry).sign(
        KEYS[account if key is None else key]
    )


def fails_on(compiled, batch: BatchWitness, fragment: str) -> str:
    with pytest.raises(UnsatisfiedConstraint) as err:
        compiled.solve(batch_assignment(batch, SHAPE))
    assert fragment in err.value.name, err.value.name
    return err.value.name


def with_tx(batch: BatchWitness, tx) -> BatchWitness:
    """The same batch (roots, pubdata) claiming a different transaction in slot 0."""
    return replace(batch, slots=(replace(batch.slots[0], tx=tx),))


# -- valid batches of every family -------------------------------------------------------------
def trade_batch(state: RollupState, q: int = 50) -> BatchWitness:
    tx = Trade(order(0, 0, 100, PRICE, 0), order(1, 1, 100, PRICE, 0), q, PRICE, 5, 5)
    return batch_of(state, lambda s: s.apply(tx))


def test_trade_solves_and_wrong_terms_fail(compiled) -> None:
    batch = trade_batch(funded_state())
    solve_batch(compiled, batch, SHAPE)
    maker, taker = batch.slots[0].tx.maker, batch.slots[0].tx.taker
    tx = batch.slots[0].tx
    m = maker.order
    cases = {
        "limit price violated": (replace(m, limit_price=PRICE - 1), "order0/limit_price"),
        "size above the order's": (replace(m, size=49), "order0/size"),
        "fee above the signed maximum": (replace(m, fee=4), "order0/fee"),
        "replayed nonce": (replace(m, nonce=m.nonce + 1), "slot0/nonce0"),
    }
    for label, (o, fragment) in cases.items():
        tampered = with_tx(batch, replace(tx, maker=o.sign(KEYS[0])))
        assert fails_on(compiled, tampered, fragment), label
    forged = replace(maker, signature=replace(maker.signature, s=maker.signature.s + 1))
    fails_on(compiled, with_tx(batch, replace(tx, maker=forged)), "slot0/sig0/")
    wrong_signer = SignedOrder(m, sign(KEYS[2], m.message()))
    fails_on(compiled, with_tx(batch, replace(tx, maker=wrong_signer)), "slot0/sig0/")
    taker_forged = SignedOrder(taker.order, sign(KEYS[2], taker.order.message()))
    fails_on(compiled, with_tx(batch, replace(tx, taker=taker_forged)), "slot0/sig1/")


def test_expired_order_fails(compiled) -> None:
    state = funded_state()
    batch_of(state, lambda s: s.apply(OraclePrice.signed(ORACLE_KEY, (PRICE,), 50)))
    tx = Trade(order(0, 0, 100, PRICE, 0, expiry=50), order(1, 1, 100, PRICE, 0), 50, PRICE, 5, 5)
    batch = batch_of(state, lambda s: s.apply(tx))
    solve_batch(compiled, batch, SHAPE)
    late = replace(tx.maker.order, expiry=49).sign(KEYS[0])
    fails_on(compiled, with_tx(batch, replace(tx, maker=late)), "order0/expiry")


def test_insufficient_margin_after_trade_fails(compiled, monkeypatch) -> None:
    state = funded_state()
    monkeypatch.setattr(effects, "require_initial", lambda *a: None)
    tx = Trade(order(0, 0, 10**4, PRICE, 0), order(2, 1, 10**4, PRICE, 0), 1000, PRICE, 5, 5)
    fails_on(compiled, batch_of(state, lambda s: s.apply(tx)), "slot0/margin0/initial")


def test_insufficient_margin_after_withdraw_and_transfer_fails(compiled, monkeypatch) -> None:
    state = funded_state()
    batch_of(state, lambda s: s.apply(trade_batch_tx()))
    monkeypatch.setattr(effects, "require_initial", lambda *a: None)
    wd = Withdraw.signed(KEYS[0], 0, 999, 7, 1)
    fails_on(compiled, batch_of(state, lambda s: s.apply(wd)), "slot0/margin0/initial")
    tr = Transfer.signed(KEYS[1], 1, 2, 999 * VALUE_SCALE, 1)
    fails_on(compiled, batch_of(state, lambda s: s.apply(tr)), "slot0/margin0/initial")


def trade_batch_tx() -> Trade:
    """A trade that leaves accounts 0 (long 90) and 1 (short 90) near their initial margin."""
    return Trade(order(0, 0, 100, PRICE, 0), order(1, 1, 100, PRICE, 0), 90, PRICE, 0, 0)


def test_withdraw_signature_and_nonce(compiled) -> None:
    state = funded_state()
    wd = Withdraw.signed(KEYS[0], 0, 10, 7, 0)
    batch = batch_of(state, lambda s: s.apply(wd))
    solve_batch(compiled, batch, SHAPE)
    fails_on(
        compiled, with_tx(batch, replace(wd, signature=sign(KEYS[1], wd.message()))), "slot0/sig0/"
    )
    skipped = Withdraw.signed(KEYS[0], 0, 10, 7, 1)
    fails_on(compiled, with_tx(batch, skipped), "slot0/nonce0")


def test_liquidation_solves_and_healthy_account_fails(compiled, monkeypatch) -> None:
    state = funded_state()
    batch_of(state, lambda s: s.apply(trade_batch_tx()))
    batch_of(state, lambda s: s.apply(OraclePrice.signed(ORACLE_KEY, (PRICE * 90 // 100,), 5)))
    liq = Liquidate(order(2, 0, 90, PRICE, 0), 0, 90, PRICE * 90 // 100, 0)
    fresh = funded_state()
    batch_of(fresh, lambda s: s.apply(trade_batch_tx()))
    solve_batch(compiled, batch_of(state, lambda s: s.apply(liq)), SHAPE)
    # the same liquidation at the old price: account 0 is healthy (TV ≥ maintenance risk)
    calls = []

    def first_tv_negative(account, g):  # the native "before" TV only: disables NotLiquidatable
        calls.append(1)
        return -(10**40) if len(calls) == 1 else true_tv(account, g)

    true_tv = effects.total_value
    monkeypatch.setattr(effects, "total_value", first_tv_negative)
    healthy = Liquidate(order(2, 0, 90, PRICE, 0), 0, 90, PRICE, 0)
    fails_on(compiled, batch_of(fresh, lambda s: s.apply(healthy)), "liquidation/liquidatable")


def test_oracle_signature_and_stale_timestamp(compiled) -> None:
    state = funded_state()
    tx = OraclePrice.signed(ORACLE_KEY, (PRICE + 1,), 10)
    batch = batch_of(state, lambda s: s.apply(tx))
    solve_batch(compiled, batch, SHAPE)
    fails_on(
        compiled, with_tx(batch, replace(tx, signature=sign(KEYS[0], tx.message()))), "slot0/sig0/"
    )
    stale = OraclePrice.signed(ORACLE_KEY, (PRICE + 2,), 10)
    g = replace(
        state.global_state, markets=(replace(state.global_state.markets[0], price=PRICE + 2),)
    )
    effect = {"timestamp": 10, "price_0": PRICE + 2}
    batch = batch_of(state, lambda s: s.commit(0, ORACLE, stale, [], g, effect, (stale.message(),)))
    fails_on(compiled, batch, "market/oracle_time_increases")


def test_funding_rate_above_bound_fails(compiled) -> None:
    state = funded_state()
    batch_of(state, lambda s: s.apply(OraclePrice.signed(ORACLE_KEY, (PRICE,), 100)))
    ok = FundingTick((4295,), 50)
    solve_batch(compiled, batch_of(state, lambda s: s.apply(ok)), SHAPE)
    rate, t = 4296, 60
    m = state.global_state.markets[0]
    delta = rate * (t - state.global_state.last_funding_time) * m.price // (1 << 32)
    g = replace(
        state.global_state,
        markets=(replace(m, funding_index=m.funding_index + delta),),
        last_funding_time=t,
    )
    effect = {"timestamp": t, "rate_0": rate + (1 << 32)}
    tx = FundingTick((rate,), t)
    fails_on(
        compiled,
        batch_of(state, lambda s: s.commit(0, FUNDING, tx, [], g, effect, ())),
        "funding_rate_bound0",
    )


def test_wrapped_amount_and_pubdata_mismatch_fail(compiled) -> None:
    state = funded_state()
    tr = Transfer.signed(KEYS[0], 0, 1, 5 * VALUE_SCALE, 0)
    batch = batch_of(state, lambda s: s.apply(tr))
    a = batch_assignment(batch, SHAPE)
    compiled.solve(a)
    a["slot0.amount"] = R - 5 * VALUE_SCALE  # "−5 quanta": credits the sender if it wrapped
    with pytest.raises(UnsatisfiedConstraint) as err:
        compiled.solve(a)
    assert "transfer/transfer_amount_range" in err.value.name
    wd = Withdraw.signed(KEYS[1], 1, 10, 7, 0)
    w = batch_assignment(batch_of(state, lambda s: s.apply(wd)), SHAPE)
    compiled.solve(w)
    w["slot0.amount"] = 1 << 63  # would spill into the next pubdata field
    with pytest.raises(UnsatisfiedConstraint) as err:
        compiled.solve(w)
    assert "transfer/amount_range" in err.value.name
    chunk = list(batch.pubdata)
    chunk[0] ^= 1 << 40  # another sender/recipient bit in the published chunk
    commitment = pubdata_commitment(batch.old_root, batch.new_root, chunk)
    tampered = replace(batch, pubdata=tuple(chunk), commitment=commitment)
    fails_on(compiled, tampered, "commitment")
    assert encode_chunk  # the chunk layout is rollup.pubdata's (checked in test_circuit_agreement)


@pytest.fixture(scope="module")
def family_batches() -> dict[str, BatchWitness]:
    """One valid one-slot batch of every transaction type, from one native sequence."""
    st = funded_state()
    px = PRICE * 90 // 100
    txs = {
        "trade": lambda s: s.apply(trade_batch_tx()),
        "oracle": lambda s: s.apply(OraclePrice.signed(ORACLE_KEY, (px,), 5)),
        "liquidate": lambda s: s.apply(Liquidate(order(2, 0, 90, PRICE, 0), 0, 90, px, 0)),
        "funding": lambda s: s.apply(FundingTick((100,), 5)),
        "forced_withdraw": lambda s: s.apply(ForcedWithdrawal(1, 5)),
        "withdraw": lambda s: s.apply(Withdraw.signed(KEYS[2], 2, 10, 7, 1)),
        "transfer": lambda s: s.apply(Transfer.signed(KEYS[2], 2, 1, 10, 2)),
        "deposit": lambda s: s.apply(deposit(3, 10, 7, key=0)),
        "noop": lambda s: s.apply(Noop()),
    }
    return {name: batch_of(st, apply) for name, apply in txs.items()}


_SLOW = pytest.mark.slow
_FAMILIES = [
    "trade",
    "liquidate",
    *(
        pytest.param(n, marks=_SLOW)
        for n in ("deposit", "forced_withdraw", "oracle", "funding", "withdraw", "transfer", "noop")
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


# -- more classes, states written by RollupState.commit / native effect functions, checks off --
def unchecked_liquidation(state: RollupState, liq: Liquidate):
    """Apply a liquidation with the native effect functions and no precondition checks."""
    o = liq.liquidator.order
    g = state.global_state
    victim = settle(state.account(liq.liquidated), g)
    after = effects._fill(victim, 0, 1 - o.side, liq.quantity, liq.price, 0)
    lq = settle(state.account(o.account), g)
    lq_after = effects.bump_nonce(
        effects._fill(lq, 0, o.side, liq.quantity, liq.price, liq.liquidator_fee)
    )
    effect = {
        "liquidator": o.account,
        "liquidated": liq.liquidated,
        "market": 0,
        "liquidator_side": o.side,
        "quantity": liq.quantity,
        "price": liq.price,
        "fee": liq.liquidator_fee,
    }
    writes = [(liq.liquidated, after), (o.account, lq_after)]
    new_g = replace(g, fee_pool=g.fee_pool + liq.liquidator_fee)
    return state.commit(0, LIQUIDATE, liq, writes, new_g, effect, (o.message(),))


def liquidatable_state() -> RollupState:
    state = funded_state()
    batch_of(state, lambda s: s.apply(trade_batch_tx()))
    batch_of(state, lambda s: s.apply(OraclePrice.signed(ORACLE_KEY, (PRICE * 90 // 100,), 5)))
    return state


@pytest.mark.parametrize(
    ("quantity", "price", "fragment"),
    [
        (90, PRICE * 90 // 100 * 94 // 100, "liquidation/price"),  # below oracle·(1 − 5%)
        (91, PRICE * 90 // 100, "liquidation/size"),  # more than the position: a flip
        (90, PRICE * 90 // 100 * 96 // 100, "liquidation/improves"),  # in band, TV/TR worse
    ],
)
def test_liquidation_terms(compiled, quantity: int, price: int, fragment: str) -> None:
    state = liquidatable_state()
    liq = Liquidate(order(2, 0, 100, PRICE, 0), 0, quantity, price, 0)
    fails_on(compiled, batch_of(state, lambda s: unchecked_liquidation(s, liq)), fragment)


def test_transfer_to_missing_recipient_and_to_self(compiled, monkeypatch) -> None:
    state = funded_state()
    monkeypatch.setattr(RollupState, "existing", RollupState.account)
    tr = Transfer.signed(KEYS[0], 0, 3, 5, 0)
    fails_on(compiled, batch_of(state, lambda s: s.apply(tr)), "slot0/recipient_exists")
    state = funded_state()
    own = Transfer.signed(KEYS[0], 0, 0, 5, 0)
    s_after, r_after = effects.transfer(
        0, state.account(0), state.account(0), state.global_state, 5
    )
    effect = {"sender": 0, "recipient": 0, "amount": 5}
    batch = batch_of(
        state,
        lambda s: s.commit(
            0, TRANSFER, own, [(0, s_after), (0, r_after)], s.global_state, effect, (own.message(),)
        ),
    )
    fails_on(compiled, batch, "slot0/distinct_accounts")


def test_funding_after_oracle_time_fails(compiled) -> None:
    state = funded_state()
    batch_of(state, lambda s: s.apply(OraclePrice.signed(ORACLE_KEY, (PRICE,), 100)))
    g = replace(state.global_state, last_funding_time=101)
    tx = FundingTick((0,), 101)
    effect = {"timestamp": 101, "rate_0": 1 << 32}
    batch = batch_of(state, lambda s: s.commit(0, FUNDING, tx, [], g, effect, ()))
    fails_on(compiled, batch, "market/funding_not_after_oracle")


@pytest.mark.parametrize(
    ("pubkey", "amount", "fragment"),
    [((5, 7), 10, "register/pubkey_on_curve"), (None, 0, "transfer/amount_positive")],
)
def test_deposit_of_invalid_key_or_zero_amount_fails(compiled, pubkey, amount, fragment) -> None:
    state = funded_state()
    pk = pubkey or public_key(KEYS[0])
    acct = replace(
        state.account(3), pubkey_x=pk[0], pubkey_y=pk[1], collateral=amount * VALUE_SCALE
    )
    effect = {"account": 3, "amount": amount, "refunded": 0, "l1_address": 9}
    effect |= {"pubkey_x": pk[0], "pubkey_y": pk[1]}
    tx = Deposit(3, *pk, amount, 9)
    batch = batch_of(
        state, lambda s: s.commit(0, DEPOSIT, tx, [(3, acct)], s.global_state, effect, ())
    )
    fails_on(compiled, batch, fragment)


def reading_request_account(account: int, apply):
    """``apply`` with update 0 replaced by an identity read of ``account`` — what the native
    state machine records for a refunded deposit / void forced withdrawal; used here to build
    refunds and voids that bypass the native reason checks."""

    def run(state: RollupState):
        before = state.account(account)
        proof = state.tree.update(account, state.tree.leaf(account))  # identity: tree unchanged
        w = apply(state)
        return replace(w, updates=(LeafUpdate(before, before, proof), w.updates[1]))

    return run


def test_refunded_deposit_only_on_overflow(compiled) -> None:
    state = funded_state()
    pk = public_key(KEYS[0])
    batch_of(state, lambda s: s.apply(Deposit(3, *pk, (1 << 63) - 1, 9)))
    overflow = Deposit(3, *pk, 1, 9)
    batch = batch_of(state, lambda s: s.apply(overflow))
    assert batch.slots[0].effect["refunded"] == 1
    solve_batch(compiled, batch, SHAPE)
    state = funded_state()
    tx = Deposit(0, *pk, 5, 9)
    effect = {"account": 0, "amount": 5, "refunded": 1, "l1_address": 9}
    effect |= {"pubkey_x": pk[0], "pubkey_y": pk[1]}
    refund = reading_request_account(
        0, lambda s: s.commit(0, DEPOSIT, tx, [], s.global_state, effect, ())
    )
    fails_on(compiled, batch_of(state, refund), "refund/deposit_overflows")


def test_void_forced_withdrawal_only_for_empty_or_out_of_range(compiled) -> None:
    state = funded_state()
    empty = ForcedWithdrawal(3, 5)
    batch = batch_of(state, lambda s: s.apply(empty))
    assert batch.slots[0].effect["void"] == 1
    solve_batch(compiled, batch, SHAPE)
    tx = ForcedWithdrawal(1, 5)
    effect = {"account": 1, "amount": 0, "void": 1, "l1_address": 5}
    void = reading_request_account(
        1, lambda s: s.commit(0, FORCED_WITHDRAW, tx, [], s.global_state, effect, ())
    )
    fails_on(compiled, batch_of(state, void), "refund/collateral_out_of_range")
