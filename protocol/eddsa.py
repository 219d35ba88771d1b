"""EdDSA-Poseidon on BabyJubJub, bit-compatible with circomlibjs ``eddsa.js`` (``prv2pub``,
``signPoseidon``, ``verifyPoseidon``, ``packSignature``) and circomlib ``eddsaposeidon.circom``.

With B8 = BASE8, l its prime order and H = BLAKE-512 (the original BLAKE, `blake512`):

    h        = H(private_key)                                  64 bytes
    s_buf    = h with s_buf[0] &= 0xF8, s_buf[31] &= 0x7F, s_buf[31] |= 0x40      (pruning)
    s        = int.from_bytes(s_buf[0:32], "little")
    A        = (s >> 3)·B8                                     public key
    r        = int.from_bytes(H(s_buf[32:64] ‖ msg as 32 bytes LE), "little") mod l
    R8       = r·B8
    hm       = Poseidon([R8.x, R8.y, A.x, A.y, msg])
    S        = (r + hm·s) mod l                                note: the full s, not s >> 3
    verify:    S·B8 == R8 + (8·hm)·A

Since s = 8·(s >> 3) (pruning clears the low 3 bits), S·B8 = R8 + hm·s·B8 = R8 + 8·hm·A.

`verify` returns False unless all of these hold (and raises only for malformed inputs):
  1. every coordinate of R8 and A is a canonical Fr element and both points are on the curve;
  2. A is in the prime-order subgroup (l·A = O) and A ≠ O — stricter than circomlibjs, which
     checks neither, and than the circomlib circuit, which only rejects small-order A (8·A = O).
     Keys from `derive_public_key` always pass.  R8 needs no separate subgroup check: the
     equation forces R8 = S·B8 − 8·hm·A into the subgroup;
  3. 0 ≤ S < l (circomlib's CompConstant check);
  4. S·B8 == R8 + (8·hm)·A.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from protocol import babyjubjub as bj
from protocol.blake512 import blake512
from protocol.errors import PrimitiveError
from protocol.fields import curve_order as r
from protocol.poseidon import poseidon_hash

__all__ = [
    "PRIVATE_KEY_BYTES",
    "Signature",
    "derive_public_key",
    "message_hash",
    "pack_signature",
    "precheck",
    "private_scalar",
    "prune_buffer",
    "sign",
    "signing_nonce",
    "unpack_signature",
    "verify",
]

PRIVATE_KEY_BYTES: int = 32
l = bj.SUBGROUP_ORDER


@dataclass(frozen=True)
class Signature:
    """An EdDSA-Poseidon signature: the nonce point R8 = (r8_x, r8_y) and the scalar s (< l)."""

    r8_x: int
    r8_y: int
    s: int

    def __post_init__(self) -> None:
        for name in ("r8_x", "r8_y", "s"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise PrimitiveError(f"Signature.{name} must be an int")

    @property
    def r8(self) -> bj.Point:
        return (self.r8_x, self.r8_y)


def _check_private_key(private_key: bytes) -> bytes:
    if not isinstance(private_key, (bytes, bytearray)):
        raise PrimitiveError(f"private key must be bytes, got {type(private_key).__name__}")
    if len(private_key) != PRIVATE_KEY_BYTES:
        raise PrimitiveError(
            f"private key must be {PRIVATE_KEY_BYTES} bytes, got {len(private_key)}"
        )
    return bytes(private_key)


def _check_message(message: int) -> int:
    if not isinstance(message, int) or isinstance(message, bool):
        raise PrimitiveError(f"message must be an int, got {type(message).__name__}")
    if not 0 <= message < r:
        raise PrimitiveError("message must be a canonical Fr element (0 <= message < r)")
    return message


def prune_buffer(digest: bytes) -> bytes:
    """circomlibjs ``pruneBuffer``: clear the 3 low bits of byte 0, clear bit 7 and set bit 6 of
    byte 31 (so s is a multiple of 8 in [2^254, 2^255))."""
    buf = bytearray(digest)
    buf[0] &= 0xF8
    buf[31] = (buf[31] & 0x7F) | 0x40
    return bytes(buf)


def _expanded_key(private_key: bytes) -> bytes:
    return prune_buffer(blake512(_check_private_key(private_key)))


def private_scalar(private_key: bytes) -> int:
    """s: the little-endian integer of the first 32 pruned bytes of BLAKE-512(private_key)."""
    return int.from_bytes(_expanded_key(private_key)[:32], "little")


def derive_public_key(private_key: bytes) -> tuple[int, int]:
    """A = (s >> 3)·BASE8, as circomlibjs ``prv2pub`` (private_key: 32 bytes)."""
    return bj.multiply_base8(private_scalar(private_key) >> 3)


def _nonce(s_buf: bytes, message: int) -> int:
    digest = blake512(s_buf[32:] + _check_message(message).to_bytes(32, "little"))
    return int.from_bytes(digest, "little") % l


def signing_nonce(private_key: bytes, message: int) -> int:
    """r = LE-int(BLAKE-512(s_buf[32:64] ‖ message as 32 bytes LE)) mod l (deterministic)."""
    return _nonce(_expanded_key(private_key), message)


def message_hash(r8: bj.Point, public_key: bj.Point, message: int) -> int:
    """hm = Poseidon([R8.x, R8.y, A.x, A.y, message])."""
    return poseidon_hash([r8[0], r8[1], public_key[0], public_key[1], message])


def sign(private_key: bytes, message: int) -> Signature:
    """circomlibjs ``signPoseidon(prv, msg)``: deterministic EdDSA-Poseidon signature."""
    _check_message(message)
    s_buf = _expanded_key(private_key)
    s = int.from_bytes(s_buf[:32], "little")
    public_key = bj.multiply_base8(s >> 3)
    nonce = _nonce(s_buf, message)
    r8 = bj.multiply_base8(nonce)
    hm = message_hash(r8, public_key, message)
    return Signature(r8[0], r8[1], (nonce + hm * s) % l)


@lru_cache(maxsize=4096)
def _valid_public_key(public_key: bj.Point) -> bool:
    return public_key != bj.IDENTITY and bj.in_subgroup(public_key)


def precheck(
    public_key: tuple[int, int],
    message: int,
    signature: Signature,
    key_ok: Callable[[bj.Point], bool] = _valid_public_key,
) -> bool:
    """Checks 1–3 of the module docstring (``key_ok``: A ≠ O in the subgroup, memoised), for
    ``verify`` and its twins: PrimitiveError for malformed types or a message outside Fr, False
    for a signature or key that fails them, True when only the equation is left."""
    if not isinstance(signature, Signature):
        raise PrimitiveError(f"signature must be a Signature, got {type(signature).__name__}")
    bj._check_point_type(public_key, "public key")
    _check_message(message)
    r8 = signature.r8
    if not (bj.is_on_curve(r8) and bj.is_on_curve(public_key)):
        return False
    return key_ok(public_key) and 0 <= signature.s < l


def verify(public_key: tuple[int, int], message: int, signature: Signature) -> bool:
    """circomlibjs ``verifyPoseidon`` plus a subgroup check on A; see the module docstring for
    exactly what is checked.  PrimitiveError (ValueError) only for malformed types or a message
    outside Fr; every invalid signature or key gives False."""
    if not precheck(public_key, message, signature):
        return False
    r8 = signature.r8
    hm = message_hash(r8, public_key, message)
    # S·B8 == R8 + (8·hm)·A, compared projectively (x1·z2 = x2·z1, y1·z2 = y2·z1).
    left = bj._to_ext(bj.multiply_base8(signature.s))
    right = bj._ext_add(bj._to_ext(r8), bj._ext_multiply(public_key, 8 * hm))
    return (left[0] * right[2] - right[0]) % r == 0 and (left[1] * right[2] - right[1]) % r == 0


def pack_signature(signature: Signature) -> bytes:
    """circomlibjs ``packSignature``: packPoint(R8) ‖ S as 32 bytes little-endian (64 bytes)."""
    if not 0 <= signature.s < 1 << 256:
        raise PrimitiveError("signature S does not fit in 32 bytes")
    return bj.pack_point(signature.r8) + signature.s.to_bytes(32, "little")


def unpack_signature(data: bytes) -> Signature:
    """circomlibjs ``unpackSignature``; PrimitiveError for a malformed 64-byte encoding."""
    if not isinstance(data, (bytes, bytearray)) or len(data) != 64:
        raise PrimitiveError("a packed signature is exactly 64 bytes")
    r8 = bj.unpack_point(bytes(data[:32]))
    return Signature(r8[0], r8[1], int.from_bytes(data[32:], "little"))
