"""Pubdata: every batch slot as ``CHUNK_WIDTH = 4`` field elements, and the batch commitment.

A slot's fields (below, per type) are packed least-significant-bit first, in the order listed, into
consecutive elements of at most ``PACK_BITS = 253`` bits; a field never straddles two elements and a
254-bit field (a curve coordinate) takes an element of its own. Unused elements are 0; a batch's
pubdata is its B chunks concatenated (B · 4 elements). Signed values use offset binary
(``rate + 2^32`` in 33 bits). Every type starts with ``type`` (``TYPE_BITS = 4``), so element 0's
low 4 bits are the slot's type. Widths are ``protocol.spec``'s.

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
consumed (deposit, forced_withdraw, in slot order) are read from these chunks
(``l1_effects``). The circuit packs the same table (``circuits.batch.pubdata``), so one layout
serves the sequencer, the circuit and the settlement layer.

Commitment (the circuit recomputes it, the settlement layer checks it)::

    pubdata_commitment = poseidon_sponge([old_root, new_root, *pubdata])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from protocol.errors import PubdataError
from protocol.fields import curve_order as r
from protocol.poseidon import poseidon_sponge
from protocol.spec import (
    ACCOUNT_BITS,
    AMOUNT_BITS,
    DEPOSIT,
    FEE_BITS,
    FORCED_WITHDRAW,
    FUNDING,
    L1_ADDRESS_BITS,
    LIQUIDATE,
    MARKET_BITS,
    N_TX_TYPES,
    NOOP,
    ORACLE,
    PRICE_BITS,
    RATE_BITS,
    SIZE_BITS,
    TIME_BITS,
    TRADE,
    TRANSFER,
    TRANSFER_BITS,
    WITHDRAW,
)

CHUNK_WIDTH: int = 4
PACK_BITS: int = 253
FULL: int = 254  #: a whole field element (a curve coordinate)
TYPE_BITS: int = 4

Layout = tuple[tuple[str, int], ...]


@cache
def layout(tx_type: int, n_markets: int) -> Layout:
    """The (name, bits) fields of a chunk of this type, in packing order."""
    if not isinstance(tx_type, int) or not 0 <= tx_type < N_TX_TYPES:
        raise PubdataError(f"unknown transaction type {tx_type}")
    t = ("type", TYPE_BITS)
    acct, amount, addr = ACCOUNT_BITS, AMOUNT_BITS, L1_ADDRESS_BITS
    return {
        NOOP: (t,),
        DEPOSIT: (
            t,
            ("account", acct),
            ("amount", amount),
            ("refunded", 1),
            ("l1_address", addr),
            ("pubkey_x", FULL),
            ("pubkey_y", FULL),
        ),
        WITHDRAW: (t, ("account", acct), ("amount", amount), ("l1_address", addr)),
        TRANSFER: (t, ("sender", acct), ("recipient", acct), ("amount", TRANSFER_BITS)),
        TRADE: (
            t,
            ("maker", acct),
            ("taker", acct),
            ("market", MARKET_BITS),
            ("maker_side", 1),
            ("quantity", SIZE_BITS),
            ("price", PRICE_BITS),
            ("maker_fee", FEE_BITS),
            ("taker_fee", FEE_BITS),
        ),
        ORACLE: (
            t,
            ("timestamp", TIME_BITS),
            *((f"price_{m}", PRICE_BITS) for m in range(n_markets)),
        ),
        FUNDING: (
            t,
            ("timestamp", TIME_BITS),
            *((f"rate_{m}", RATE_BITS + 1) for m in range(n_markets)),
        ),
        LIQUIDATE: (
            t,
            ("liquidator", acct),
            ("liquidated", acct),
            ("market", MARKET_BITS),
            ("liquidator_side", 1),
            ("quantity", SIZE_BITS),
            ("price", PRICE_BITS),
            ("fee", FEE_BITS),
        ),
        FORCED_WITHDRAW: (
            t,
            ("account", acct),
            ("amount", amount),
            ("void", 1),
            ("l1_address", addr),
        ),
    }[tx_type]


@cache
def field_slots(tx_type: int, n_markets: int) -> tuple[tuple[str, int, int, int], ...]:
    """(name, bits, element, bit offset) of each field, by the greedy packing rule."""
    out, element, offset = [], 0, 0
    for name, bits in layout(tx_type, n_markets):
        if (bits == FULL or offset + bits > PACK_BITS) and offset:
            element, offset = element + 1, 0
        out.append((name, bits, element, offset))
        if bits == FULL:
            element, offset = element + 1, 0
        else:
            offset += bits
    if element > CHUNK_WIDTH or (element == CHUNK_WIDTH and offset):
        raise PubdataError(f"type {tx_type} with {n_markets} markets overflows {CHUNK_WIDTH}")
    return tuple(out)


def encode_chunk(tx_type: int, values: dict[str, int], n_markets: int) -> tuple[int, ...]:
    """Pack ``values`` (without 'type') into CHUNK_WIDTH field elements."""
    elements = [0] * CHUNK_WIDTH
    for name, bits, element, offset in field_slots(tx_type, n_markets):
        value = tx_type if name == "type" else values[name]
        limit = r if bits == FULL else 1 << bits
        if not isinstance(value, int) or not 0 <= value < limit:
            raise PubdataError(f"{name} = {value} does not fit in {bits} bits")
        elements[element] |= value << offset
    return tuple(elements)


def decode_chunk(chunk: Sequence[int], n_markets: int) -> tuple[int, dict[str, int]]:
    """(type, fields) of one chunk; rejects unknown types, elements ≥ r and stray bits."""
    if len(chunk) != CHUNK_WIDTH:
        raise PubdataError(f"chunk has {len(chunk)} elements, expected {CHUNK_WIDTH}")
    if any(not isinstance(e, int) or isinstance(e, bool) or not 0 <= e < r for e in chunk):
        raise PubdataError("chunk element outside the field")
    tx_type = chunk[0] & ((1 << TYPE_BITS) - 1)
    values: dict[str, int] = {}
    used = [0] * CHUNK_WIDTH
    for name, bits, element, offset in field_slots(tx_type, n_markets):
        full = bits == FULL
        value = chunk[element] if full else (chunk[element] >> offset) & ((1 << bits) - 1)
        used[element] |= value << offset
        if name != "type":
            values[name] = value
    if list(used) != list(chunk):
        raise PubdataError(f"chunk of type {tx_type} has bits outside its fields")
    return tx_type, values


def split_pubdata(pubdata: Sequence[int], batch_slots: int) -> list[tuple[int, ...]]:
    """The B chunks of a batch's pubdata (length checked)."""
    if len(pubdata) != batch_slots * CHUNK_WIDTH:
        raise PubdataError(
            f"pubdata has {len(pubdata)} elements, expected {batch_slots}·{CHUNK_WIDTH}"
        )
    return [tuple(pubdata[i : i + CHUNK_WIDTH]) for i in range(0, len(pubdata), CHUNK_WIDTH)]


def decode_pubdata(
    pubdata: Sequence[int], batch_slots: int, n_markets: int
) -> list[tuple[int, dict[str, int]]]:
    """(type, fields) of every slot of a batch."""
    return [decode_chunk(c, n_markets) for c in split_pubdata(pubdata, batch_slots)]


@dataclass(frozen=True)
class L1Effects:
    """What a batch asks of the settlement layer, read from its pubdata.

    ``requests``: the priority requests consumed, in slot order, each as (slot, type, fields)
    with the fields in the queue's own form (``priority_fields``); ``payouts``: (l1_address,
    quanta) credited to ``claimable`` — withdrawals, forced withdrawals and refunded deposits.
    """

    requests: tuple[tuple[int, int, tuple[int, ...]], ...]
    payouts: tuple[tuple[int, int], ...]


def priority_fields(tx_type: int, fields: dict[str, int]) -> tuple[int, ...]:
    """The queue entry a deposit / forced-withdrawal slot consumes (what L1 stored)."""
    if tx_type == DEPOSIT:
        return (
            fields["account"],
            fields["pubkey_x"],
            fields["pubkey_y"],
            fields["amount"],
            fields["l1_address"],
        )
    if tx_type == FORCED_WITHDRAW:
        return (fields["account"], fields["l1_address"])
    raise PubdataError(f"type {tx_type} is not a priority request")


def l1_effects(pubdata: Sequence[int], batch_slots: int, n_markets: int) -> L1Effects:
    """The requests a batch consumes and the payouts it credits (see ``L1Effects``)."""
    requests: list[tuple[int, int, tuple[int, ...]]] = []
    payouts: list[tuple[int, int]] = []
    for slot, (tx_type, f) in enumerate(decode_pubdata(pubdata, batch_slots, n_markets)):
        if tx_type in (DEPOSIT, FORCED_WITHDRAW):
            requests.append((slot, tx_type, priority_fields(tx_type, f)))
        paid = (
            tx_type == WITHDRAW
            or (tx_type == DEPOSIT and f["refunded"])
            or (tx_type == FORCED_WITHDRAW and f["amount"])
        )
        if paid:
            payouts.append((f["l1_address"], f["amount"]))
    return L1Effects(tuple(requests), tuple(payouts))


def pubdata_commitment(
    old_root: int,
    new_root: int,
    pubdata: Sequence[int],
    sponge: Callable[[Sequence[int]], int] = poseidon_sponge,
) -> int:
    """poseidon_sponge([old_root, new_root, *pubdata]); ``sponge`` may be a fast twin."""
    return sponge([old_root, new_root, *pubdata])
