"""Pubdata: every batch slot as ``CHUNK_WIDTH = 4`` field elements, and its Poseidon commitment.

A slot's fields (below, per type) are packed least-significant-bit first, in the order listed, into
consecutive elements of at most ``PACK_BITS = 253`` bits; a field never straddles two elements and a
254-bit field (a curve coordinate) takes an element of its own.  Unused elements are 0; a batch's
pubdata is its B chunks concatenated (B · 4 elements).  Signed values use offset binary
(``rate + 2^32`` in 33 bits).  Every type starts with ``type`` (4 bits), so element 0's low 4
bits are the slot's type.  Sizes in bits: account 32, market 8, amounts in quanta 63, transfer
amount 95, quantity 48, price 64, fee 80, time 40, L1 address 160.

    noop            type
    deposit         type, account, amount, refunded(1), l1_address | pubkey_x | pubkey_y
    withdraw        type, account, amount, l1_address
    transfer        type, sender, recipient, amount
    trade           type, maker, taker, market, maker_side(1), quantity, price | maker_fee,
                    taker_fee
    oracle          type, timestamp, price_0, ..., price_{M-1}
    funding         type, timestamp, rate_0 + 2^32, ..., rate_{M-1} + 2^32
    liquidate       type, liquidator, liquidated, market, liquidator_side(1), quantity, price, fee
    forced_withdraw type, account, amount, void(1), l1_address

Withdrawals paid on L1 (withdraw, forced_withdraw, refunded deposits) and the priority requests
consumed (deposit, forced_withdraw, in slot order) are read from these chunks.

Commitment (the circuit recomputes it; ``poseidon_sponge`` is circuits.primitives.poseidon's)::

    pubdata_commitment = poseidon_sponge([old_root, new_root, *pubdata])
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.batch.pubdata import layout as circuit_layout
from prover.fields import curve_order as r
from rollup.errors import PubdataError
from rollup.hashing import sponge
from rollup.params import (
    DEPOSIT,
    FORCED_WITHDRAW,
    FUNDING,
    LIQUIDATE,
    NOOP,
    ORACLE,
    RATE_BITS,
    TRADE,
    TRANSFER,
    WITHDRAW,
)

CHUNK_WIDTH: int = 4
PACK_BITS: int = 253
FULL: int = 254  #: a whole field element
TYPE_BITS: int = 4
RATE_OFFSET: int = 1 << RATE_BITS
TX_TYPES = frozenset(
    (NOOP, DEPOSIT, WITHDRAW, TRANSFER, TRADE, ORACLE, FUNDING, LIQUIDATE, FORCED_WITHDRAW)
)


def layout(tx_type: int, n_markets: int) -> tuple[tuple[str, int], ...]:
    """The (name, bits) fields of a chunk of this type, in packing order.

    One table serves the native code and the circuit: ``circuits.batch.pubdata.layout`` (the
    circuit's spec; tests/rollup/test_circuit_agreement.py pins its widths to ``rollup.params``).
    """
    if tx_type not in TX_TYPES:
        raise PubdataError(detail=f"unknown transaction type {tx_type}")
    return circuit_layout(tx_type, n_markets)


def _slots(fields: tuple[tuple[str, int], ...]) -> list[tuple[str, int, int, int]]:
    """(name, bits, element, bit offset) for each field, by the greedy packing rule."""
    out, element, offset = [], 0, 0
    for name, bits in fields:
        if (bits == FULL or offset + bits > PACK_BITS) and offset:
            element, offset = element + 1, 0
        out.append((name, bits, element, offset))
        if bits == FULL:
            element, offset = element + 1, 0
        else:
            offset += bits
    return out


def encode_chunk(tx_type: int, values: dict[str, int], n_markets: int) -> tuple[int, ...]:
    """Pack ``values`` (without 'type') into CHUNK_WIDTH field elements."""
    elements = [0] * CHUNK_WIDTH
    for name, bits, element, offset in _slots(layout(tx_type, n_markets)):
        value = tx_type if name == "type" else values[name]
        limit = r if bits == FULL else 1 << bits
        if not 0 <= value < limit:
            raise PubdataError(detail=f"{name} = {value} does not fit in {bits} bits")
        elements[element] |= value << offset
    return tuple(elements)


def decode_chunk(chunk: Sequence[int], n_markets: int) -> tuple[int, dict[str, int]]:
    """(type, fields) of one chunk; rejects unknown types and stray bits."""
    if len(chunk) != CHUNK_WIDTH:
        raise PubdataError(detail=f"chunk has {len(chunk)} elements, expected {CHUNK_WIDTH}")
    if any(not 0 <= e < r for e in chunk):
        raise PubdataError(detail="chunk element outside the field")
    tx_type = chunk[0] & ((1 << TYPE_BITS) - 1)
    values: dict[str, int] = {}
    used = [0] * CHUNK_WIDTH
    for name, bits, element, offset in _slots(layout(tx_type, n_markets)):
        full = bits == FULL
        value = chunk[element] if full else (chunk[element] >> offset) & ((1 << bits) - 1)
        used[element] |= value << offset
        if name != "type":
            values[name] = value
    if list(used) != list(chunk):
        raise PubdataError(detail=f"chunk of type {tx_type} has bits outside its fields")
    return tx_type, values


def split_pubdata(pubdata: Sequence[int], batch_slots: int) -> list[tuple[int, ...]]:
    if len(pubdata) != batch_slots * CHUNK_WIDTH:
        raise PubdataError(
            detail=f"pubdata has {len(pubdata)} elements, expected {batch_slots}·{CHUNK_WIDTH}"
        )
    return [tuple(pubdata[i : i + CHUNK_WIDTH]) for i in range(0, len(pubdata), CHUNK_WIDTH)]


def pubdata_commitment(old_root: int, new_root: int, pubdata: Sequence[int]) -> int:
    """poseidon_sponge([old_root, new_root, *pubdata]) (computed on the fast hash twin)."""
    return sponge([old_root, new_root, *pubdata])
