"""Property tests over random sequences of valid and invalid transactions (DESIGN §4):

* a failed transaction changes nothing (root, accounts, global state);
* collateral is conserved: Σ TV + fee pool = 2^32 · (deposited − withdrawn), pending funding
  included;
* positions net to zero in every market;
* nonces never decrease, and each signed transaction bumps its signers' nonces by exactly one;
* the same transactions give the same root in a fresh run, and rebuilding from the pubdata
  chunks alone reaches it too.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from protocol.spec import BUY, SELL, VALUE_SCALE, RollupParams
from rollup.errors import RollupError
from rollup.margin import total_value
from rollup.rebuild import replay_chunk
from rollup.state import RollupState
from rollup.tx import (
    Deposit,
    ForcedWithdrawal,
    FundingTick,
    Liquidate,
    OraclePrice,
    Order,
    Trade,
    Transfer,
    Withdraw,
)
from tests.rollup.conftest import ORACLE_KEY, PRICE, genesis, public_key, user_key

N_USERS = 4
PARAMS = RollupParams(depth=3, batch_slots=1)
KEYS = [user_key(i) for i in range(N_USERS)]

valid = st.sampled_from([False, False, False, True])  # mostly well-formed

op = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, 5), st.integers(1, 10**6)),
    st.tuples(st.just("withdraw"), st.integers(0, 3), st.integers(1, 2 * 10**5), valid),
    st.tuples(st.just("transfer"), st.integers(0, 3), st.integers(0, 3), st.integers(1, 2**50),
              valid),
    st.tuples(st.just("trade"), st.integers(0, 3), st.integers(1, 3), st.integers(0, 3),
              st.integers(1, 40_000), st.integers(-5, 5),
              st.sampled_from(["ok", "ok", "ok", "nonce", "key", "limit"])),
    st.tuples(st.just("oracle"), st.integers(-12, 12), valid.map(lambda bad: not bad)),
    st.tuples(st.just("funding"), st.integers(-4295, 4295), st.integers(1, 50)),
    st.tuples(st.just("liquidate"), st.integers(2, 3), st.integers(0, 1), st.integers(1, 60_000),
              st.integers(-4, 4)),
    st.tuples(st.just("forced"), st.integers(0, 4)),
)  # fmt: skip


def build(state: RollupState, o: tuple):
    """Turn a drawn operation into a transaction against the current state (maybe invalid)."""
    g = state.global_state
    nonce = lambda i: state.account(i).nonce  # noqa: E731
    kind = o[0]
    if kind == "deposit":
        x, y = public_key(KEYS[o[1] % N_USERS])
        return Deposit(o[1], x, y, o[2], 7)
    if kind == "withdraw":
        return Withdraw.signed(KEYS[o[1]], o[1], o[2], 9, nonce(o[1]) + int(o[3]))
    if kind == "transfer":
        return Transfer.signed(KEYS[o[1]], o[1], o[2], o[3], nonce(o[1]) + int(o[4]))
    if kind == "trade":
        _, maker, offset, market, q, tick, flaw = o
        taker = (maker + offset) % N_USERS
        price = g.markets[market].price * (100 + tick) // 100
        m_nonce = nonce(maker) + (flaw == "nonce")
        limit = price - 1 if flaw == "limit" else price
        mk = Order(maker, market, BUY, q, limit, 5, m_nonce, 10**9).sign(KEYS[maker])
        tk_key = KEYS[(taker + 1) % N_USERS] if flaw == "key" else KEYS[taker]
        tk = Order(taker, market, SELL, q, price, 5, nonce(taker), 10**9).sign(tk_key)
        return Trade(mk, tk, q, price, 2, 3)
    if kind == "oracle":
        prices = tuple(max(1, m.price * (100 + o[1]) // 100) for m in g.markets)
        key = ORACLE_KEY if o[2] else KEYS[0]
        return OraclePrice.signed(key, prices, g.last_oracle_time + 10)
    if kind == "funding":
        t = min(
            g.last_funding_time + o[2], g.last_oracle_time
        )  # == last (stale) is a negative case
        return FundingTick((o[1], -o[1], 0, o[1] // 2), t)
    if kind == "liquidate":
        _, liquidator, victim, q, tick = o
        size = state.account(victim).positions[0].size
        side = BUY if size > 0 else SELL
        price = g.markets[0].price * (100 + tick) // 100
        order = Order(
            liquidator, 0, side, q, price if side == BUY else 1, 0, nonce(liquidator), 10**9
        )
        return Liquidate(order.sign(KEYS[liquidator]), victim, q, price, 0)
    return ForcedWithdrawal(o[1], 11)


def snapshot(state: RollupState):
    return (state.root, dict(state.accounts), state.global_state, dict(state.tree.nodes))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=4, max_size=14))
def test_random_sequences(ops: list[tuple]) -> None:
    check_sequence(ops)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=40))
def test_random_sequences_long(ops: list[tuple]) -> None:
    check_sequence(ops)


def check_sequence(ops: list[tuple]) -> None:
    state = RollupState(PARAMS, genesis(PARAMS))
    for i in range(N_USERS):
        x, y = public_key(KEYS[i])
        state.apply(Deposit(i, x, y, 10**6, 7))
    deposited, withdrawn = N_USERS * 10**6, 0
    # a leveraged pair (9× long / 9× short) so that oracle moves make liquidations possible
    lev = 90_000
    setup = Trade(
        Order(0, 0, BUY, lev, PRICE, 0, 0, 10**9).sign(KEYS[0]),
        Order(1, 0, SELL, lev, PRICE, 0, 0, 10**9).sign(KEYS[1]),
        lev,
        PRICE,
        0,
        0,
    )
    applied, chunks = [setup], [state.apply(setup).chunk]
    for o in ops:
        tx = build(state, o)
        before = snapshot(state)
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
        pair = (o[1], (o[1] + o[2]) % N_USERS) if o[0] == "trade" else ()
        signers = {"withdraw": o[1:2], "transfer": o[1:2], "trade": pair, "liquidate": o[1:2]}
        for i in signers.get(o[0], ()):
            assert state.account(i).nonce == nonces[i] + 1
        g = state.global_state
        tv = sum(total_value(a, g) for a in state.accounts.values())
        assert tv + g.fee_pool == VALUE_SCALE * (deposited - withdrawn)
        for m in range(PARAMS.n_markets):
            assert sum(a.positions[m].size for a in state.accounts.values()) == 0
    # determinism: the same transactions on a fresh state, and a replay of the chunks alone
    fresh = RollupState(PARAMS, genesis(PARAMS))
    replayed = RollupState(PARAMS, genesis(PARAMS))
    for i in range(N_USERS):
        x, y = public_key(KEYS[i])
        for s in (fresh, replayed):
            s.apply(Deposit(i, x, y, 10**6, 7))
    for tx in applied:
        fresh.apply(tx)
    for chunk in chunks:
        replay_chunk(replayed, chunk)
    replayed.flush()
    assert fresh.root == replayed.root == state.root
    assert replayed.accounts == state.accounts
