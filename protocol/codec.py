"""The one codec of stored and published data: msgpack with integers of any size.

Integers that do not fit msgpack's 64-bit types (field elements, value units) are ext type 1, their
big-endian two's-complement bytes; tuples encode as lists. Decoding refuses any other ext type and
any malformed blob with ``CodecError``. Blobs of field elements that are hot (accounts, Merkle
paths) use ``felts_to_bytes``: 32-byte little-endian two's complement each, ~10× faster to pack
than one msgpack ext per large element.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgpack

from protocol.errors import CodecError

BIGINT_EXT: int = 1
_TO_BYTES, _FROM_BYTES = int.to_bytes, int.from_bytes


def _default(obj: Any) -> Any:
    if isinstance(obj, int):
        size = (obj.bit_length() + 8) // 8
        return msgpack.ExtType(BIGINT_EXT, obj.to_bytes(size, "big", signed=True))
    if isinstance(obj, tuple):
        return list(obj)
    raise CodecError(f"cannot encode a {type(obj).__name__}")


def _ext_hook(code: int, data: bytes) -> int:
    if code != BIGINT_EXT:
        raise CodecError(f"unknown msgpack ext type {code}")
    return int.from_bytes(data, "big", signed=True)


def pack(obj: Any) -> bytes:
    """msgpack bytes of ``obj`` (ints of any size, lists, tuples, dicts, bytes, str, None)."""
    return msgpack.packb(obj, default=_default)


def unpack(data: bytes) -> Any:
    """The object ``pack`` encoded, or CodecError for a blob that is not one."""
    try:
        return msgpack.unpackb(data, ext_hook=_ext_hook, strict_map_key=False)
    except CodecError:
        raise
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as e:
        raise CodecError(f"malformed msgpack blob ({type(e).__name__})") from None


def felts_to_bytes(values: Sequence[int]) -> bytes:
    """Integers of |x| < 2^255 as one blob, 32 bytes little-endian two's complement each."""
    return b"".join([_TO_BYTES(v, 32, "little", signed=True) for v in values])


def felts_from_bytes(blob: bytes) -> tuple[int, ...]:
    """The integers of a ``felts_to_bytes`` blob; CodecError if its length is not 32·n."""
    if len(blob) % 32:
        raise CodecError(f"a field-element blob of {len(blob)} bytes is not a multiple of 32")
    return tuple([_FROM_BYTES(blob[i : i + 32], "little", signed=True)
                  for i in range(0, len(blob), 32)])  # fmt: skip
