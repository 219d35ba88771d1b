"""BLAKE-512: the original BLAKE (SHA-3 finalist), not BLAKE2b — circomlibjs hashes keys with it.

Reference: J.-P. Aumasson, L. Henzen, W. Meier, R. C.-W. Phan, "SHA-3 proposal BLAKE",
version 1.3 (2010), §2.2 (BLAKE-64 / BLAKE-512) and Appendix A (test vectors).  Python's
hashlib only offers BLAKE2, which has different constants, rounds and padding.

State: 16 words of 64 bits, chain value h (IV = SHA-512's), salt s = 0, counter t (bits).
Compression of a 16-word big-endian block m, with constants c = π words and permutations σ:

    v[0..7] = h;  v[8..11] = s ⊕ c[0..3];  v[12], v[13] = t0 ⊕ c4, t0 ⊕ c5;
    v[14], v[15] = t1 ⊕ c6, t1 ⊕ c7                 (t = t1·2^64 + t0)
    16 rounds, round i uses σ = SIGMA[i mod 10]: G_0..G_3 on the columns (0,4,8,12)...,
    G_4..G_7 on the diagonals (0,5,10,15), (1,6,11,12), (2,7,8,13), (3,4,9,14), where G_k(a,b,c,d):
        a += b + (m[σ(2k)] ⊕ c[σ(2k+1)]);  d = (d ⊕ a) >>> 32;  c += d;  b = (b ⊕ c) >>> 25
        a += b + (m[σ(2k+1)] ⊕ c[σ(2k)]);  d = (d ⊕ a) >>> 16;  c += d;  b = (b ⊕ c) >>> 11
    h'[i] = h[i] ⊕ s[i mod 4] ⊕ v[i] ⊕ v[i + 8]

Padding: append bit 1, zeros up to 895 mod 1024 bits, a 1 bit, then the 128-bit big-endian bit
length.  The counter of a block is the number of message bits up to and including it, except
that a block holding no message bits (only padding) uses t = 0.
"""

from __future__ import annotations

from protocol.errors import PrimitiveError

__all__ = ["blake512"]

_MASK = (1 << 64) - 1

#: Initial value: the SHA-512 IV (fractional parts of the square roots of the first 8 primes).
IV: tuple[int, ...] = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)  # fmt: skip

#: c_0..c_15: the first 1024 bits of the fractional part of π.
CONSTANTS: tuple[int, ...] = (
    0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89,
    0x452821E638D01377, 0xBE5466CF34E90C6C, 0xC0AC29B7C97C50DD, 0x3F84D5B5B5470917,
    0x9216D5D98979FB1B, 0xD1310BA698DFB5AC, 0x2FFD72DBD01ADFB7, 0xB8E1AFED6A267E96,
    0xBA7C9045F12C7F99, 0x24A19947B3916CF7, 0x0801F2E2858EFC16, 0x636920D871574E69,
)  # fmt: skip

#: The ten message permutations σ_0..σ_9.
SIGMA: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    (14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3),
    (11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4),
    (7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8),
    (9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13),
    (2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9),
    (12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11),
    (13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10),
    (6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5),
    (10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0),
)

ROUNDS: int = 16
BLOCK_BYTES: int = 128
DIGEST_BYTES: int = 64

#: (a, b, c, d) cell indices of G_0..G_7: four columns, then four diagonals.
_CELLS: tuple[tuple[int, int, int, int], ...] = (
    (0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
    (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14),
)  # fmt: skip

#: Per round and G: (σ(2k), σ(2k+1), m-index-free constant pairs) precomputed once.
_SCHEDULE: tuple[tuple[tuple[int, int, int, int], ...], ...] = tuple(
    tuple(
        (
            SIGMA[i % 10][2 * k],
            SIGMA[i % 10][2 * k + 1],
            CONSTANTS[SIGMA[i % 10][2 * k + 1]],
            CONSTANTS[SIGMA[i % 10][2 * k]],
        )
        for k in range(8)
    )
    for i in range(ROUNDS)
)


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (64 - n))) & _MASK


def _compress(h: list[int], block: bytes, counter: int) -> list[int]:
    m = [int.from_bytes(block[8 * i : 8 * i + 8], "big") for i in range(16)]
    t0, t1 = counter & _MASK, counter >> 64
    c = CONSTANTS
    v = [*h, c[0], c[1], c[2], c[3], t0 ^ c[4], t0 ^ c[5], t1 ^ c[6], t1 ^ c[7]]
    for round_schedule in _SCHEDULE:
        for (ia, ib, ic, id_), (s0, s1, k0, k1) in zip(_CELLS, round_schedule, strict=True):
            a, b, cc, d = v[ia], v[ib], v[ic], v[id_]
            a = (a + b + (m[s0] ^ k0)) & _MASK
            d = _rotr(d ^ a, 32)
            cc = (cc + d) & _MASK
            b = _rotr(b ^ cc, 25)
            a = (a + b + (m[s1] ^ k1)) & _MASK
            d = _rotr(d ^ a, 16)
            cc = (cc + d) & _MASK
            b = _rotr(b ^ cc, 11)
            v[ia], v[ib], v[ic], v[id_] = a, b, cc, d
    return [h[i] ^ v[i] ^ v[i + 8] for i in range(8)]  # salt is zero


def _padded_blocks(message: bytes) -> list[tuple[bytes, int]]:
    """Split the padded message into (block, counter) pairs as the specification defines."""
    bit_len = 8 * len(message)
    rest = len(message) % BLOCK_BYTES
    full = len(message) - rest
    blocks = [
        (message[i : i + BLOCK_BYTES], 8 * (i + BLOCK_BYTES)) for i in range(0, full, BLOCK_BYTES)
    ]
    tail = message[full:]
    length = bit_len.to_bytes(16, "big")
    if rest == 111:  # exactly one padding byte fits: the first and last padding bits share it
        blocks.append((tail + b"\x81" + length, bit_len))
    elif rest < 111:
        pad = b"\x80" + b"\x00" * (110 - rest) + b"\x01"
        blocks.append((tail + pad + length, bit_len if rest else 0))
    else:  # the padding spills into one more block, which holds no message bits
        blocks.append((tail + b"\x80" + b"\x00" * (127 - rest), bit_len))
        blocks.append((b"\x00" * 111 + b"\x01" + length, 0))
    return blocks


def blake512(message: bytes) -> bytes:
    """The 64-byte BLAKE-512 digest of message (bytes-like)."""
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise PrimitiveError(f"blake512 takes bytes, got {type(message).__name__}")
    data = bytes(message)
    if len(data) >= 1 << 61:
        raise PrimitiveError("blake512 messages must be shorter than 2^64 bits")
    h = list(IV)
    for block, counter in _padded_blocks(data):
        h = _compress(h, block, counter)
    return b"".join(x.to_bytes(8, "big") for x in h)
