"""Rebuild the rollup state from published pubdata alone.

Starting from the genesis global state (which the settlement layer's genesis root commits to),
every published batch's chunks are decoded (``protocol.pubdata``) and replayed through the same
effect functions the sequencer uses (``rollup.effects``, ``rollup.bankruptcy``, the fill records of
``rollup.fills``): signatures are not in pubdata, but nonces are implied (each withdraw and transfer
increments its account's nonce) and order ids are published. After each batch the state root must
equal the root the settlement accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from protocol.errors import ProtocolError
from protocol.pubdata import decode_chunk, split_pubdata
from protocol.spec import (
    DELEVERAGE,
    DEPOSIT,
    FORCED_WITHDRAW,
    LIQUIDATE,
    LIST_SERIES,
    MARKS,
    MAX_SERIES,
    NOOP,
    ORACLE,
    RATE_OFFSET,
    SETTLE,
    TRADE,
    TRANSFER,
    WITHDRAW,
    Market,
    RollupParams,
)
from rollup import bankruptcy, effects, series
from rollup.account import GlobalState
from rollup.errors import RebuildError, RollupError
from rollup.fills import record_fill
from rollup.margin import settle
from rollup.state import RollupState
from rollup.tx import Noop


def _filled(index: int, account: Any, order_id: int, quantity: int) -> Any:
    return record_fill(index, account, order_id, quantity)[0]


def replay_chunk(state: RollupState, chunk: Sequence[int], slot: int = 0) -> None:
    """Apply one slot's effect as recorded in its pubdata chunk (staged: ``state.flush()``
    hashes it, as ``rebuild`` does once per batch)."""
    tx_type, f = decode_chunk(chunk, state.params.n_markets)
    g, m = state.global_state, state.params.n_markets
    writes: list = []
    if tx_type == DEPOSIT and not f["refunded"]:
        credited = effects.deposit(
            state.account(f["account"]), g, (f["pubkey_x"], f["pubkey_y"]), f["amount"]
        )
        if credited is None:
            raise RebuildError(detail=f"slot {slot}: deposit marked credited cannot be credited")
        writes = [(f["account"], credited)]
    elif tx_type == WITHDRAW:
        a = state.existing(f["account"])
        writes = [(f["account"], effects.withdraw(f["account"], a, g, f["amount"]))]
    elif tx_type == TRANSFER:
        s, r = effects.transfer(
            f["sender"], state.existing(f["sender"]), state.existing(f["recipient"]), g, f["amount"]
        )
        writes = [(f["sender"], s), (f["recipient"], r)]
    elif tx_type == TRADE:
        pair = (f["maker"], f["taker"])
        inst = effects.decode_instrument(g, f["instrument"])
        mk, tk, g = effects.trade(
            pair, state.existing(pair[0]), state.existing(pair[1]), g, inst,
            f["maker_side"], f["quantity"], f["price"], (f["maker_fee"], f["taker_fee"]),
        )  # fmt: skip
        mk = _filled(pair[0], mk, f["maker_order_id"], f["quantity"])
        tk = _filled(pair[1], tk, f["taker_order_id"], f["quantity"])
        writes = [(pair[0], mk), (pair[1], tk)]
    elif tx_type == ORACLE:
        prices = tuple(f[f"price_{k}"] for k in range(m))
        rates = tuple(f[f"rate_{k}"] - RATE_OFFSET for k in range(m))
        g = effects.oracle(g, prices, rates, f["timestamp"])
    elif tx_type == LIQUIDATE:
        pair = (f["liquidated"], f["liquidator"])
        inst = effects.decode_instrument(g, f["instrument"])
        v, lq, g = bankruptcy.liquidate(
            pair, state.existing(pair[0]), state.existing(pair[1]), g, inst,
            f["liquidator_side"], f["quantity"], f["price"], f["fee"],
        )  # fmt: skip
        lq = _filled(pair[1], lq, f["liquidator_order_id"], f["quantity"])
        writes = [(pair[0], v), (pair[1], lq)]
    elif tx_type == DELEVERAGE:
        pair = (f["deleveraged"], f["deleverager"])
        inst = effects.decode_instrument(g, f["instrument"])
        la, da, price = bankruptcy.deleverage(
            pair, state.existing(pair[0]), state.existing(pair[1]), g, inst, f["quantity"]
        )
        if price != f["price"]:
            raise RebuildError(detail=f"slot {slot}: deleverage price does not replay")
        writes = [(pair[0], la), (pair[1], da)]
    elif tx_type == LIST_SERIES:
        g = series.list_series(g, f["slot"], f["market"], f["expiry"], f["strike"], f["kind"])
    elif tx_type == MARKS:
        marks = tuple(f[f"mark_{j}"] for j in range(MAX_SERIES))
        g = series.marks(g, g.oracle_time, marks, f["settle_flags"])
    elif tx_type == SETTLE:
        swept = settle(state.existing(f["account"]), g)
        writes = [(f["account"], effects.check_collateral(f"account {f['account']}", swept))]
    elif tx_type == FORCED_WITHDRAW and not f["void"]:
        result = effects.forced_withdraw(state.account(f["account"]), g)
        if result is None or result[1] != f["amount"]:
            raise RebuildError(detail=f"slot {slot}: forced withdrawal amount does not replay")
        writes = [(f["account"], result[0])]
    elif tx_type not in (NOOP, DEPOSIT, FORCED_WITHDRAW):
        raise RebuildError(detail=f"slot {slot}: unknown type {tx_type}")
    state.stage_effects(slot, tx_type, Noop(), writes, g, f, ())


def rebuild(
    params: RollupParams,
    genesis: GlobalState,
    batches: Iterable[tuple[int, Sequence[int], int]],
    genesis_root: int | None = None,
) -> RollupState:
    """Replay ``(number, pubdata, new_root)`` batches in order; every root must match."""
    state = RollupState(params, genesis)
    if genesis_root is not None and state.root != genesis_root:
        raise RebuildError(detail="the genesis global state does not give the genesis root")
    for expected, (number, pubdata, new_root) in enumerate(batches):
        if number != expected:
            raise RebuildError(detail=f"batch {number} out of order (expected {expected})")
        try:
            chunks = split_pubdata(pubdata, params.batch_slots)
        except ProtocolError as e:
            raise RebuildError(detail=f"batch {number}: {e}") from None
        for slot, chunk in enumerate(chunks):
            try:
                replay_chunk(state, chunk, slot)
            except (RollupError, ProtocolError) as e:
                raise RebuildError(detail=f"batch {number} slot {slot}: {e}") from None
        state.flush()  # hash the batch's writes at once (the witnesses are not needed here)
        if state.root != new_root:
            raise RebuildError(
                detail=f"batch {number}: replayed root differs from the settled root"
            )
    return state


def rebuild_from_settlement(settlement: Any) -> RollupState:
    """Rebuild from a settlement layer's data alone: its config (depth D, slots B, genesis root and
    genesis global-state preimage — which carries every market's risk parameters) and its
    published batches.  Market display names are not on L1; they become ``market-<m>``."""
    config = settlement.config
    genesis = GlobalState.from_list(list(config.genesis_global))
    markets = tuple(
        Market(
            f"market-{k}",
            0,
            m.initial_fraction,
            m.maintenance_fraction,
            m.max_funding_rate,
            m.price_band,
            m.liquidation_penalty,
        )
        for k, m in enumerate(genesis.markets)
    )
    params = RollupParams(depth=config.depth, batch_slots=config.batch_slots, markets=markets)
    state = rebuild(params, genesis, settlement.published_batches(), config.genesis_root)
    if state.root != settlement.root:
        raise RebuildError(detail="replayed root differs from the settled root")
    return state
