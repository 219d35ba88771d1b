"""Property tests over random sequences of every transaction type, valid and invalid:

* a failed transaction changes nothing (root, accounts, global state);
* conservation of value: Σ TV (pending funding included) + insurance fund = 2^32 · (deposited −
  withdrawn), exactly, after every transaction; positions net to zero in every market;
* solvency: only an oracle move can take an account's TV below zero — every other transaction
  leaves every account that was at TV ≥ 0 at TV ≥ 0;
* colluding accounts: whatever two accounts of one owner do between themselves (transfers,
  trades at any in-band price, partial fills), no third account's TV decreases;
* nonces never decrease; the same transactions give the same root in a fresh run, and rebuilding
  from the pubdata chunks alone reaches it too.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from protocol.spec import BUY, ORACLE, SELL, VALUE_SCALE, RollupParams
from rollup.errors import RollupError
from rollup.margin import settle, total_value
from rollup.rebuild import replay_chunk
from rollup.state import RollupState
from rollup.tx import (
    Deleverage,
    Deposit,
    ForcedWithdrawal,
    Liquidate,
    OraclePrice,
    Order,
    Trade,
    Transfer,
    Withdraw,
)
from tests.rollup.conftest import DOMAIN, ORACLE_KEY, PRICE, genesis, public_key, user_key

N_USERS = 4
PARAMS = RollupParams(depth=3, batch_slots=1)
KEYS = [user_key(i) for i in range(N_USERS)]
FAR = 10**12  #: an expiry far in the future

valid = st.sampled_from([False, False, False, True])  # mostly well-formed

op = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, 5), st.integers(1, 10**6), st.integers(0, 3)),
    st.tuples(st.just("withdraw"), st.integers(0, 3), st.integers(1, 2 * 10**5), valid),
    st.tuples(st.just("transfer"), st.integers(0, 3), st.integers(0, 3), st.integers(1, 2**50),
              valid),
    st.tuples(st.just("trade"), st.integers(0, 3), st.integers(1, 3), st.integers(0, 3),
              st.integers(1, 40_000), st.integers(-6, 6),
              st.sampled_from(["ok", "ok", "ok", "partial", "key", "limit", "domain"])),
    st.tuples(st.just("oracle"), st.integers(-16, 16), st.integers(-4295, 4295), valid),
    st.tuples(st.just("liquidate"), st.integers(2, 3), st.integers(0, 1), st.integers(1, 90_000),
              st.integers(-5, 5)),
    st.tuples(st.just("deleverage"), st.integers(0, 1), st.integers(0, 3), st.integers(1, 90_000)),
    st.tuples(st.just("forced"), st.integers(0, 4)),
)  # fmt: skip


class Builder:
    """Turns drawn operations into transactions against the current state (maybe invalid)."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.resting: dict[int, object] = {}  #: a partially filled maker order per account

    def order(self, account: int, market: int, side: int, size: int, limit: int, key=None,
              dom: int = DOMAIN) -> object:  # fmt: skip
        o = Order(account, market, side, size, limit, 5 * size, next(self.ids), FAR)
        return o.sign(KEYS[account] if key is None else key, dom)

    def build(self, state: RollupState, o: tuple):
        g = state.global_state
        nonce = lambda i: state.account(i).nonce  # noqa: E731
        kind = o[0]
        if kind == "deposit":
            x, y = public_key(KEYS[o[3] if o[3] else o[1] % N_USERS])
            return Deposit(o[1], x, y, o[2], 7)
        if kind == "withdraw":
            return Withdraw.signed(KEYS[o[1]], DOMAIN, o[1], o[2], 9, nonce(o[1]) + int(o[3]))
        if kind == "transfer":
            return Transfer.signed(KEYS[o[1]], DOMAIN, o[1], o[2], o[3], nonce(o[1]) + int(o[4]))
        if kind == "trade":
            _, maker, offset, market, q, tick, flaw = o
            taker = (maker + offset) % N_USERS
            price = max(1, g.markets[market].price * (100 + tick) // 100)
            limit = price - 1 if flaw == "limit" else price
            if flaw == "partial" and maker in self.resting:
                mk = self.resting[maker]
            else:
                mk = self.order(maker, market, BUY, 2 * q, limit)
                self.resting[maker] = mk
            tk_key = KEYS[(taker + 1) % N_USERS] if flaw == "key" else None
            dom = 12345 if flaw == "domain" else DOMAIN
            tk = self.order(taker, mk.order.instrument, SELL, q, price, tk_key, dom)
            return Trade(mk, tk, q, price, 2 * q, 3 * q)
        if kind == "oracle":
            prices = tuple(max(1, m.price * (100 + o[1]) // 100) for m in g.markets)
            rates = (o[2], -o[2], 0, o[2] // 2)
            key = ORACLE_KEY if not o[3] else KEYS[0]
            return OraclePrice.signed(key, DOMAIN, prices, rates, g.oracle_time + 60, g.oracle_time)
        if kind == "liquidate":
            _, liquidator, victim, q, tick = o
            size = state.account(victim).positions[0].size
            side = BUY if size > 0 else SELL
            price = max(1, g.markets[0].price * (100 + tick) // 100)
            limit = price if side == BUY else 1
            lo = self.order(liquidator, 0, side, q, limit)
            return Liquidate(lo, victim, q, price, 0)
        if kind == "deleverage":  # mostly against the opposite of the leveraged pair
            return Deleverage(o[1], 1 - o[1] if o[2] < 2 else o[2], 0, o[3])
        return ForcedWithdrawal(o[1], 11)


def snapshot(state: RollupState):
    return (state.root, dict(state.accounts), state.global_state, dict(state.tree.nodes))


def values(state: RollupState) -> dict[int, int]:
    g = state.global_state
    return {i: total_value(settle(a, g), g) for i, a in state.accounts.items()}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=4, max_size=16))
def test_random_sequences(ops: list[tuple]) -> None:
    check_sequence(ops)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=50))
def test_random_sequences_long(ops: list[tuple]) -> None:
    check_sequence(ops)


def setup_state() -> tuple[RollupState, list]:
    state = RollupState(PARAMS, genesis(PARAMS))
    for i in range(N_USERS):
        state.apply(Deposit(i, *public_key(KEYS[i]), 10**6, 7))
    # a leveraged pair (9× long / 9× short) so that oracle moves make liquidations possible
    lev = 90_000
    b = Builder()
    setup = Trade(b.order(0, 0, BUY, lev, PRICE), b.order(1, 0, SELL, lev, PRICE), lev, PRICE,
                  0, 0)  # fmt: skip
    return state, [setup]


def check_sequence(ops: list[tuple]) -> None:
    state, applied = setup_state()
    builder = Builder()
    builder.ids = itertools.count(100)
    chunks = [state.apply(applied[0]).chunk]
    deposited, withdrawn = N_USERS * 10**6, 0
    for o in ops:
        tx = builder.build(state, o)
        before, tv_before = snapshot(state), values(state)
        nonces = {i: state.account(i).nonce for i in range(8)}
        try:
            w = state.apply(tx)
        except RollupError as e:
            event(f"rejected {o[0]}: {type(e).__name__}")
            assert snapshot(state) == before
            continue
        applied.append(tx)
        event(f"applied {o[0]}")
        chunks.append(w.chunk)
        e = w.effect
        if o[0] == "deposit" and not e["refunded"]:
            deposited += e["amount"]
        if o[0] == "withdraw" or (o[0] == "forced" and not e["void"]):
            withdrawn += e["amount"]
        for i in range(8):
            assert state.account(i).nonce >= nonces[i]
        g = state.global_state
        tv_after = values(state)
        assert sum(tv_after.values()) + g.insurance_fund == VALUE_SCALE * (deposited - withdrawn)
        assert g.insurance_fund >= 0
        for m in range(PARAMS.n_markets):
            assert sum(a.positions[m].size for a in state.accounts.values()) == 0
        if w.tx_type != ORACLE:
            for i, tv in tv_after.items():
                assert tv >= 0 or tv_before.get(i, 0) < 0, (o, i, tv)
        touched = {u.index for u in w.updates if u.old_account != u.new_account}
        if o[0] in ("transfer", "trade"):
            for i, tv in tv_after.items():
                if i not in touched:
                    assert tv >= tv_before.get(i, 0)
    # determinism: the same transactions on a fresh state, and a replay of the chunks alone
    fresh = RollupState(PARAMS, genesis(PARAMS))
    replayed = RollupState(PARAMS, genesis(PARAMS))
    for i in range(N_USERS):
        for s in (fresh, replayed):
            s.apply(Deposit(i, *public_key(KEYS[i]), 10**6, 7))
    for tx in applied:
        fresh.apply(tx)
    for chunk in chunks:
        replay_chunk(replayed, chunk)
    replayed.flush()
    assert fresh.root == replayed.root == state.root
    assert replayed.accounts == state.accounts


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["transfer", "trade", "partial"]), st.booleans(),
                  st.integers(1, 90_000), st.integers(-5, 5)),
        min_size=1, max_size=12,
    )
)  # fmt: skip
def test_colluding_accounts_cannot_take_from_a_third(moves: list[tuple]) -> None:
    """Accounts 2 and 3 (one owner) trade and transfer between themselves at any in-band price;
    accounts 0 and 1 (who hold open positions) never lose value by it."""
    state, setup = setup_state()
    state.apply(setup[0])
    b = Builder()
    b.ids = itertools.count(500)
    for kind, flip, q, tick in moves:
        g = state.global_state
        a, c = (3, 2) if flip else (2, 3)
        price = max(1, g.markets[0].price * (100 + tick) // 100)
        if kind == "transfer":
            tx = Transfer.signed(KEYS[a], DOMAIN, a, c, q * VALUE_SCALE, state.account(a).nonce)
        else:
            mk = b.resting.get(a) if kind == "partial" else None
            if mk is None:
                mk = b.order(a, 0, BUY, 2 * q, price)
                b.resting[a] = mk
            tx = Trade(mk, b.order(c, 0, SELL, q, price), q, price, 0, 0)
        others = {i: v for i, v in values(state).items() if i in (0, 1)}
        try:
            state.apply(tx)
        except RollupError:
            continue
        after = values(state)
        for i, v in others.items():
            assert after[i] >= v
