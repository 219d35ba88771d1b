"""The store's witness codec: 32-byte-integer blobs round-trip exactly; torn blobs are refused."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.codec import felts_from_bytes, felts_to_bytes, pack, unpack
from protocol.fields import curve_order as r
from protocol.spec import BUY, MAX_SERIES, OPTION_SLOTS, ORDER_RECORDS, SELL
from rollup.account import (
    Account,
    GlobalState,
    MarketState,
    OptionPosition,
    OrderRecord,
    Position,
    SeriesState,
)
from rollup.codec import (
    account_from_bytes,
    account_to_bytes,
    global_from_bytes,
    global_to_bytes,
    tx_from_bytes,
    tx_to_bytes,
)
from rollup.tx import Deleverage, Deposit, Noop, Order, Trade, Transfer, tx_to_list

signed = st.integers(-(1 << 254), (1 << 254) - 1)
field = st.integers(0, r - 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(signed, field, st.sampled_from([0, -1, 1, r - 1, -(1 << 254)]))))
def test_felts_round_trip(values):
    blob = felts_to_bytes(values)
    assert len(blob) == 32 * len(values)
    assert felts_from_bytes(blob) == tuple(values)


def test_felts_reject_out_of_range_and_torn_blobs():
    with pytest.raises(OverflowError):
        felts_to_bytes([1 << 255])
    with pytest.raises(ValueError, match="33 bytes is not a multiple of 32"):
        felts_from_bytes(b"\0" * 33)


@settings(max_examples=40, deadline=None)
@given(
    key=st.tuples(field, field),
    nonce=st.integers(0, (1 << 32) - 1),
    collateral=st.integers(-(1 << 95) + 1, (1 << 95) - 1),
    positions=st.lists(
        st.builds(Position, st.integers(-(1 << 48) + 1, (1 << 48) - 1), signed), min_size=1,
        max_size=8,
    ),
    orders=st.lists(
        st.builds(OrderRecord, st.integers(0, (1 << 32) - 1), st.integers(0, (1 << 48) - 1)),
        min_size=ORDER_RECORDS, max_size=ORDER_RECORDS,
    ),
    options=st.lists(
        st.builds(OptionPosition, st.integers(0, 7), st.integers(-(1 << 40) + 1, (1 << 40) - 1)),
        min_size=OPTION_SLOTS, max_size=OPTION_SLOTS,
    ),
    floor=st.integers(0, (1 << 32) - 1),
)  # fmt: skip
def test_account_round_trip(key, nonce, collateral, positions, orders, options, floor):
    a = Account(*key, nonce, floor, collateral, tuple(positions), tuple(orders), tuple(options))
    b = account_from_bytes(account_to_bytes(a))
    assert b == a
    assert b.leaf() == a.leaf()
    # the blob kept on the object is the one a fresh object gets, and does not touch equality
    assert account_to_bytes(a) == account_to_bytes(
        Account(*key, nonce, floor, collateral, tuple(positions), tuple(orders), tuple(options))
    )
    assert account_to_bytes(replace(a, nonce=nonce ^ 1)) != account_to_bytes(a)
    assert replace(a) == a and "_blob" in a.__dict__


@settings(max_examples=30, deadline=None)
@given(
    markets=st.lists(
        st.builds(MarketState, st.integers(1, (1 << 64) - 1), signed,
                  st.integers(-(1 << 32) + 1, (1 << 32) - 1), st.integers(1, 10**6),
                  st.integers(1, 10**6), st.integers(0, (1 << 32) - 1), st.integers(1, 10**6),
                  st.integers(0, 10**6), st.integers(1, 10**6), st.integers(1, 10**6),
                  st.integers(1, 10**6)),
        min_size=1, max_size=7,
    ),
    series=st.lists(
        st.builds(SeriesState, st.integers(0, (1 << 32) - 1), st.integers(0, 6),
                  st.integers(0, (1 << 40) - 1), st.integers(0, (1 << 64) - 1),
                  st.integers(0, 1), st.integers(0, (1 << 64) - 1),
                  st.integers(0, (1 << 64) - 1), st.integers(0, (1 << 72) - 1)),
        min_size=MAX_SERIES, max_size=MAX_SERIES,
    ),
    key=st.tuples(field, field, field, field),
    time=st.integers(0, (1 << 40) - 1),
    fund=st.integers(0, (1 << 127) - 1),
    domain=field,
    next_id=st.integers(1, (1 << 32) - 1),
)  # fmt: skip
def test_global_round_trip(markets, series, key, time, fund, domain, next_id):
    g = GlobalState(tuple(markets), tuple(series), *key, time, fund, domain, next_id)
    back = global_from_bytes(global_to_bytes(g))
    assert back == g
    assert back.hash() == g.hash()
    assert global_to_bytes(replace(g, insurance_fund=fund ^ 1)) != global_to_bytes(g)


def test_transaction_blob_is_the_mempool_row_and_round_trips():
    """``tx_to_bytes`` is msgpack of ``tx_to_list`` (kept on the object, reused by the witness);
    ``tx_from_bytes`` gives an equal transaction; a torn blob is refused."""
    keys = [bytes([i + 1]) * 32 for i in range(2)]
    trade = Trade(
        Order(0, 1, BUY, 10, 7, 5, 3, 99).sign(keys[0], 11),
        Order(1, 1, SELL, 10, 7, 5, 1, 99).sign(keys[1], 11),
        10, 7, 1, 1,
    )  # fmt: skip
    transfer = Transfer.signed(keys[0], 11, 0, 1, 5, 2)
    for tx in (trade, transfer, Noop(), Deposit(3, 4, 5, 6, 7), Deleverage(1, 2, 0, 5)):
        blob = tx_to_bytes(tx)
        assert blob == pack(tx_to_list(tx)) == tx_to_bytes(tx)
        back = tx_from_bytes(blob)
        assert back == tx and tx_to_bytes(back) == blob
    with pytest.raises(ValueError):
        tx_from_bytes(tx_to_bytes(trade)[:-3])


def test_pack_keeps_large_integers_as_ext():
    values = [0, -1, 1 << 63, -(1 << 63) - 1, r - 1, -(1 << 200)]
    assert unpack(pack(values)) == values
