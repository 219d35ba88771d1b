"""The one-market world the batch-circuit soundness tests share (D = 2, B = 1, M = 1): funded
accounts, signed orders and oracle updates of the tests' domain, option series listed and
marked, and assertions on a named failing row."""

from __future__ import annotations

from dataclasses import replace

from protocol.messages import domain
from protocol.spec import CALL, DEFAULT_MARKETS, MAX_SERIES, OPTION_BASE, PUT, RollupParams
from rollup.circuit_input import batch_assignment, shape_of
from rollup.state import RollupState
from rollup.tx import ListSeries, Marks, OraclePrice, Order, SignedOrder
from rollup.witness import BatchWitness
from tests.batch_helpers import (
    DOMAIN,
    GENESIS_TIME,
    OPERATOR_KEY,
    ORACLE_KEY,
    PRICE,
    deposit,
    fails_on,
    genesis_state,
    user_key,
)

KEYS = [user_key(i) for i in range(4)]
PARAMS = RollupParams(depth=2, batch_slots=1, markets=DEFAULT_MARKETS[:1])
SHAPE = shape_of(PARAMS)
OTHER_DOMAIN = domain(1, 2)
EXPIRY = GENESIS_TIME + 10**6


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
    previous = state.global_state.oracle_time
    return OraclePrice.signed(key, dom, tuple(prices), tuple(rates), previous + dt, previous)


# -- options ----------------------------------------------------------------------------------
OPTION_EXPIRY = GENESIS_TIME + 10**4
CALL_SLOT, PUT_SLOT = 2, 5  #: the options world's series slots (ids 1 and 2)
CALL_MARK, PUT_MARK = PRICE // 20, PRICE // 10


def list_tx(state: RollupState, slot: int, strike: int = PRICE, kind: int = CALL,
            expiry: int = OPTION_EXPIRY, key: bytes = OPERATOR_KEY, dom: int = DOMAIN,
            series_id: int | None = None) -> ListSeries:  # fmt: skip
    """The operator's listing of a series on market 0 (the next series id unless given)."""
    sid = state.global_state.next_series_id if series_id is None else series_id
    return ListSeries.signed(key, dom, slot, sid, 0, expiry, strike, kind)


def marks_tx(state: RollupState, values: dict[int, int], flags: int = 0, key: bytes = ORACLE_KEY,
             dom: int = DOMAIN, dt: int = 0) -> Marks:  # fmt: skip
    """The oracle's marks (0 for the slots not in ``values``) at the oracle time (+ dt)."""
    m = tuple(values.get(j, 0) for j in range(MAX_SERIES))
    return Marks.signed(key, dom, state.global_state.oracle_time + dt, m, flags)


def option_order(account: int, series_id: int, side: int, size: int, limit: int,
                 order_id: int = 1, key: int | None = None) -> SignedOrder:  # fmt: skip
    o = Order(account, OPTION_BASE + series_id, side, size, limit, 0, order_id, EXPIRY)
    return o.sign(KEYS[account if key is None else key], DOMAIN)


def options_state(amounts: tuple[int, ...] = (10**6, 10**6, 10**6)) -> RollupState:
    """``funded_state`` with a call (slot 2, id 1, strike PRICE) and a put (slot 5, id 2,
    strike PRICE) on market 0 listed and marked (CALL_MARK, PUT_MARK)."""
    state = funded_state(amounts)
    state.apply(list_tx(state, CALL_SLOT))
    state.apply(list_tx(state, PUT_SLOT, kind=PUT))
    state.apply(marks_tx(state, {CALL_SLOT: CALL_MARK, PUT_SLOT: PUT_MARK}))
    return state
