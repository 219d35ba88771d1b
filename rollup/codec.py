"""msgpack for the store's blobs, with integers beyond 64 bits (field elements, value units) as
ext type 1 (big-endian two's complement), and the list forms of witnesses."""

from __future__ import annotations

from typing import Any

import msgpack

from rollup.account import Account, GlobalState
from rollup.tree import UpdateProof
from rollup.tx import tx_from_list, tx_to_list
from rollup.witness import BatchWitness, LeafUpdate, SlotWitness

_INT64 = 1 << 63


def _default(obj: Any) -> msgpack.ExtType:
    if isinstance(obj, int):
        return msgpack.ExtType(1, obj.to_bytes((obj.bit_length() + 8) // 8, "big", signed=True))
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"cannot encode {type(obj).__name__}")


def _ext_hook(code: int, data: bytes) -> Any:
    if code != 1:
        raise ValueError(f"unknown msgpack ext type {code}")
    return int.from_bytes(data, "big", signed=True)


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, default=_default)


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, ext_hook=_ext_hook, strict_map_key=False)


def felts_to_bytes(values: tuple[int, ...]) -> bytes:
    """Field elements as one blob, 32 bytes little-endian each (a Merkle path: ~10× faster to
    pack than one msgpack ext per element)."""
    return b"".join([v.to_bytes(32, "little") for v in values])


def felts_from_bytes(blob: bytes) -> tuple[int, ...]:
    if len(blob) % 32:
        raise ValueError(f"a field-element blob of {len(blob)} bytes is not a multiple of 32")
    return tuple(int.from_bytes(blob[i : i + 32], "little") for i in range(0, len(blob), 32))


def slot_to_list(w: SlotWitness) -> list:
    updates = [
        [
            u.old_account.to_list(),
            u.new_account.to_list(),
            [u.proof.index, u.proof.old_leaf, u.proof.new_leaf, felts_to_bytes(u.proof.siblings)],
        ]
        for u in w.updates
    ]  # fmt: skip
    return [
        w.slot, w.tx_type, tx_to_list(w.tx), list(w.messages),
        w.old_global.to_list(), w.new_global.to_list(), updates, list(w.chunk), w.effect,
    ]  # fmt: skip


def slot_from_list(d: list) -> SlotWitness:
    updates = tuple(
        LeafUpdate(
            Account.from_list(a),
            Account.from_list(b),
            UpdateProof(p[0], p[1], p[2], felts_from_bytes(p[3])),
        )
        for a, b, p in d[6]
    )
    return SlotWitness(
        d[0], d[1], tx_from_list(d[2]), tuple(d[3]),
        GlobalState.from_list(d[4]), GlobalState.from_list(d[5]), updates, tuple(d[7]), d[8],
    )  # fmt: skip


def batch_to_list(b: BatchWitness) -> list:
    return [b.number, b.old_root, b.new_root, [slot_to_list(s) for s in b.slots], list(b.pubdata),
            b.commitment]  # fmt: skip


def batch_from_list(d: list) -> BatchWitness:
    return BatchWitness(d[0], d[1], d[2], tuple(slot_from_list(s) for s in d[3]), tuple(d[4]), d[5])
