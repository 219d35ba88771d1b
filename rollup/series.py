"""Option series in the global state: listing (operator key) and marks and settlement prices
(oracle key). Effect functions return a new global state and mutate nothing.

List (signed by the operator over ``protocol.messages.list_preimage``)::

    slot j < S is free: empty, or its series is settled and its open interest is 0
    0 ≤ market < M,  oracle_time < expiry < 2^40,  0 < strike < 2^64,  kind ∈ {call, put}
    slot j := (next_series_id, market, expiry, strike, kind, mark 0, unsettled, OI 0);
    next_series_id += 1 (< 2^32) — ids are never reused

Marks (signed by the oracle over ``protocol.messages.marks_preimage`` for the current oracle time,
so marks and the index prices they were computed from belong together)::

    timestamp = oracle_time
    empty or settled slot        mark 0, flag 0
    flag j set                   oracle_time ≥ expiry_j, 0 < mark_j < 2^64 is the settlement price
                                 (the oracle's TWAP of the index before expiry); settled once
    otherwise                    0 ≤ mark_j ≤ index (call) or ≤ strike (put)

Marks are computed off-circuit by the oracle (Black-76 from the index, time to expiry and a
clamped implied volatility: ``rollup.pricing``); the protocol only bounds them.
"""

from __future__ import annotations

from dataclasses import replace

from protocol.spec import MAX_SERIES, PRICE_BITS, PUT, SERIES_ID_BITS, TIME_BITS
from rollup.account import GlobalState, SeriesState
from rollup.effects import check_range
from rollup.errors import MarkOutOfBounds, SeriesUnavailable, StaleTimestamp

__all__ = ["list_series", "marks", "slot_is_free"]


def slot_is_free(series: SeriesState) -> bool:
    """Empty, or settled with no open interest (so no account can still refer to it)."""
    return not series.listed or (series.settlement_price != 0 and series.open_interest == 0)


def list_series(
    state: GlobalState, slot: int, market: int, expiry: int, strike: int, kind: int
) -> GlobalState:
    check_range("series slot", slot, 0, MAX_SERIES - 1)
    check_range("series market", market, 0, len(state.markets) - 1)
    check_range("series expiry", expiry, state.oracle_time + 1, (1 << TIME_BITS) - 1)
    check_range("series strike", strike, 1, (1 << PRICE_BITS) - 1)
    check_range("series kind", kind, 0, 1)
    if not slot_is_free(state.series[slot]):
        old = state.series[slot]
        raise SeriesUnavailable(
            series=old.series_id, detail=f"slot {slot} is busy (open interest {old.open_interest})"
        )
    sid = check_range("series id", state.next_series_id, 1, (1 << SERIES_ID_BITS) - 2)
    series = list(state.series)
    series[slot] = SeriesState(sid, market, expiry, strike, kind)
    return replace(state, series=tuple(series), next_series_id=sid + 1)


def marks(state: GlobalState, timestamp: int, values: tuple[int, ...], flags: int) -> GlobalState:
    """Apply the oracle's marks and settlement prices (module docstring)."""
    if timestamp != state.oracle_time:
        raise StaleTimestamp(what="marks", timestamp=timestamp, last=state.oracle_time)
    if len(values) != MAX_SERIES:
        raise MarkOutOfBounds(slot="-", mark=len(values), detail=f"count ≠ {MAX_SERIES}")
    check_range("settle flags", flags, 0, (1 << MAX_SERIES) - 1)
    series = []
    for j, (s, mark) in enumerate(zip(state.series, values, strict=True)):
        check_range(f"mark {j}", mark, 0, (1 << PRICE_BITS) - 1)
        flag = flags >> j & 1
        if not s.listed or s.settlement_price:
            if mark or flag:
                raise MarkOutOfBounds(slot=j, mark=mark, detail="for an empty or settled slot")
            series.append(s)
        elif flag:
            if state.oracle_time < s.expiry or not mark:
                raise MarkOutOfBounds(slot=j, mark=mark, detail="is not a settlement price yet")
            series.append(replace(s, mark=0, settlement_price=mark))
        else:
            cap = s.strike if s.kind == PUT else state.markets[s.market].price
            if mark > cap:
                raise MarkOutOfBounds(slot=j, mark=mark, detail=f"exceeds its bound {cap}")
            series.append(replace(s, mark=mark))
    return replace(state, series=tuple(series))
