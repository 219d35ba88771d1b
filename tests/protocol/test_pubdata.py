"""Pubdata chunks: encode/decode round trip for every type, and malformed chunks rejected."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import PubdataError
from protocol.fields import curve_order as r
from protocol.pubdata import (
    CHUNK_WIDTH,
    FULL,
    decode_chunk,
    encode_chunk,
    layout,
    pubdata_commitment,
    split_pubdata,
)
from protocol.spec import DEPOSIT, FORCED_WITHDRAW, N_TX_TYPES, TRADE


@st.composite
def chunk_values(draw, n_markets: int = 4):
    tx_type = draw(st.integers(0, N_TX_TYPES - 1))
    values = {}
    for name, bits in layout(tx_type, n_markets)[1:]:
        values[name] = draw(st.integers(0, r - 1 if bits == FULL else 2**bits - 1))
    return tx_type, values


@settings(max_examples=50, deadline=None)
@given(chunk_values())
def test_round_trip(case) -> None:
    tx_type, values = case
    chunk = encode_chunk(tx_type, values, 4)
    assert len(chunk) == CHUNK_WIDTH and all(0 <= e < r for e in chunk)
    assert decode_chunk(chunk, 4) == (tx_type, values)
    assert chunk[0] & 15 == tx_type


def test_layout_fits_eight_markets() -> None:
    for t in range(9):
        values = {n: (1 << b) - 1 if b != FULL else r - 1 for n, b in layout(t, 8)[1:]}
        assert decode_chunk(encode_chunk(t, values, 8), 8)[1] == values


def test_known_positions() -> None:
    chunk = encode_chunk(
        DEPOSIT,
        {"account": 3, "amount": 5, "refunded": 1, "l1_address": 9, "pubkey_x": 11, "pubkey_y": 12},
        4,
    )
    assert chunk == (DEPOSIT | 3 << 4 | 5 << 36 | 1 << 99, 9, 11, 12)
    chunk = encode_chunk(
        FORCED_WITHDRAW, {"account": 2, "amount": 7, "void": 0, "l1_address": 4}, 4
    )
    assert chunk == (FORCED_WITHDRAW | 2 << 4 | 7 << 36, 4, 0, 0)


def test_malformed_rejected() -> None:
    with pytest.raises(PubdataError, match="unknown transaction type 12"):
        decode_chunk((12, 0, 0, 0), 4)
    with pytest.raises(PubdataError, match="bits outside its fields"):
        decode_chunk((0, 1, 0, 0), 4)
    with pytest.raises(PubdataError, match="bits outside its fields"):
        decode_chunk((TRADE | 1 << 250, 0, 0, 0), 4)
    with pytest.raises(PubdataError, match="expected 4"):
        decode_chunk((0, 0, 0), 4)
    with pytest.raises(PubdataError, match="does not fit in 32 bits"):
        encode_chunk(
            DEPOSIT,
            {
                "account": 2**32,
                "amount": 1,
                "refunded": 0,
                "l1_address": 0,
                "pubkey_x": 0,
                "pubkey_y": 0,
            },
            4,
        )
    with pytest.raises(PubdataError, match="expected 2·4"):
        split_pubdata([0] * 7, 2)


def test_commitment_binds_roots_and_data() -> None:
    base = pubdata_commitment(1, 2, [0] * 8)
    assert base != pubdata_commitment(1, 3, [0] * 8)
    assert base != pubdata_commitment(2, 2, [0] * 8)
    assert base != pubdata_commitment(1, 2, [0] * 7 + [1])
