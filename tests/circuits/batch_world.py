"""The one-market world the batch-circuit soundness tests share (D = 2, B = 1, M = 1): funded
accounts, signed orders and oracle updates of the tests' domain, and assertions on a named
failing row."""

from __future__ import annotations

from dataclasses import replace

from protocol.messages import domain
from protocol.spec import DEFAULT_MARKETS, RollupParams
from rollup.circuit_input import batch_assignment, shape_of
from rollup.state import RollupState
from rollup.tx import OraclePrice, Order, SignedOrder
from rollup.witness import BatchWitness
from tests.batch_helpers import (
    DOMAIN,
    GENESIS_TIME,
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
    t = state.global_state.oracle_time + dt
    return OraclePrice.signed(key, dom, tuple(prices), tuple(rates), t)
