"""BabyJubJub point arithmetic for numba: the EdDSA-Poseidon verification equation.

BabyJubJub is the twisted Edwards curve a·x² + y² = 1 + d·x²·y² over BN254 Fr (a = 168700,
d = 168696; EIP-2494, circomlib ``babyjub.circom``), so its coordinates are Fr elements in the
Montgomery form of :mod:`prover.kernels.field`.  Points are extended coordinates (X : Y : Z : T),
x = X/Z, y = Y/Z, T = X·Y/Z, with the complete formulas of Hisil, Wong, Carter and Dawson,
"Twisted Edwards Curves Revisited" (ASIACRYPT 2008), the same as `protocol.babyjubjub`:

    dbl-2008-hwcd:  A = X², B = Y², C = 2Z², D = a·A, E = (X + Y)² − A − B, G = D + B,
                    F = G − C, H = D − B;  (X, Y, Z, T) = (E·F, G·H, F·G, E·H)
    add-2008-hwcd:  A = X1·X2, B = Y1·Y2, C = T1·(d·T2), D = Z1·Z2, E = (X1 + Y1)(X2 + Y2) − A − B,
                    F = D − C, G = D + C, H = B − a·A;  (X, Y, Z, T) = (E·F, G·H, F·G, E·H)

The second operand of an addition is *cached*: (X2, Y2, Z2, d·T2), so an addition costs nine
products and a doubling eight (nine when T is needed: only the last of four in a row).

``verify_rows(rows, table_b8, out)``: out[i] = 1 iff  S·B8 + k·A = R8  for row i = (A.x, A.y,
R8.x, R8.y, S, k) as canonical 4-limb integers (S, k < 2^256; the caller passes k = −8·hm mod l,
so with A in the order-l subgroup this is `protocol.eddsa.verify`'s equation S·B8 = R8 + 8·hm·A).
Straus' joint double-scalar multiplication with 4-bit windows: one chain of 252 doublings,
≤ 64 additions of precomputed multiples of B8 (``table_b8``) and ≤ 64 of A (its 15 multiples built
per row); the comparison is projective (X = R8.x·Z, Y = R8.y·Z).

``subgroup_rows(points, out)``: out[i] = 1 iff l·P_i is the identity (P_i affine, canonical), by
the same chain on a single scalar.

Plain twins: `protocol.babyjubjub` (``_ext_add``, ``_ext_double``, ``in_subgroup``) and
`protocol.eddsa.verify`; tests/prover/test_eddsa_fast.py compares them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from protocol import babyjubjub as bj
from prover.fields import curve_order as r
from prover.kernels.field import (
    FR_ONE,
    FR_ZERO,
    fr_add,
    fr_double,
    fr_eq,
    fr_mul,
    fr_square,
    fr_sub,
    fr_to_mont,
    limbs,
    load,
    u4,
)

__all__ = ["base8_table", "subgroup_rows", "verify_rows"]

_INLINE = {"cache": True, "inline": "always"}
_MONT = 1 << 256
A_M = limbs(bj.A * _MONT % r)  #: a in Montgomery form
D_M = limbs(bj.D * _MONT % r)  #: d in Montgomery form
L_LIMBS = np.array([limbs(bj.SUBGROUP_ORDER)], dtype=np.uint64)  #: l as one (1, 4) row
_WINDOWS = 64  #: 4-bit windows of a scalar below 2^256
_F = np.uint64(15)


def base8_table() -> np.ndarray:
    """j·B8 for j = 0..15 as cached points: (16, 4, 4) uint64, rows (X, Y, Z, d·T) in Montgomery
    form (Z = 1; row 0, the identity, is never added)."""
    out = np.zeros((16, 4, 4), dtype=np.uint64)
    point = (0, 1)
    for j in range(16):
        x, y = point
        for c, v in enumerate((x, y, 1, bj.D * x % r * y % r)):
            out[j, c] = limbs(v * _MONT % r)
        point = bj.add(point, bj.BASE8)
    return out


@njit(**_INLINE)
def _double(p, with_t):
    """dbl-2008-hwcd; T is left as zero unless ``with_t`` (the next step is another doubling)."""
    x, y, z = p[0], p[1], p[2]
    aa, bb = fr_square(x), fr_square(y)
    cc = fr_double(fr_square(z))
    da = fr_mul(u4(A_M), aa)
    e = fr_sub(fr_sub(fr_square(fr_add(x, y)), aa), bb)
    g = fr_add(da, bb)
    f = fr_sub(g, cc)
    h = fr_sub(da, bb)
    t = fr_mul(e, h) if with_t else u4(FR_ZERO)
    return (fr_mul(e, f), fr_mul(g, h), fr_mul(f, g), t)


@njit(**_INLINE)
def _add(p, q):
    """add-2008-hwcd of p (extended) and q (cached: X, Y, Z, d·T)."""
    aa, bb = fr_mul(p[0], q[0]), fr_mul(p[1], q[1])
    cc, dd = fr_mul(p[3], q[3]), fr_mul(p[2], q[2])
    e = fr_sub(fr_sub(fr_mul(fr_add(p[0], p[1]), fr_add(q[0], q[1])), aa), bb)
    f, g = fr_sub(dd, cc), fr_add(dd, cc)
    h = fr_sub(bb, fr_mul(u4(A_M), aa))
    return (fr_mul(e, f), fr_mul(g, h), fr_mul(f, g), fr_mul(e, h))


@njit(**_INLINE)
def _cached(p):
    return (p[0], p[1], p[2], fr_mul(u4(D_M), p[3]))


@njit(**_INLINE)
def _digit(s, w):
    """Bits 4w .. 4w + 3 of the scalar held as four 64-bit limbs."""
    return (s[w // 16] >> np.uint64(4 * (w % 16))) & _F


@njit(**_INLINE)
def _identity():
    return (u4(FR_ZERO), u4(FR_ONE), u4(FR_ONE), u4(FR_ZERO))


@njit(**_INLINE)
def _put(table, j, p):
    for c in range(4):
        for q in range(4):
            table[j, c, q] = p[c][q]


@njit(cache=True, nogil=True)
def _multiples(x, y, table):
    """table[j] = j·(x, y) as cached points for j = 1..15 (x, y Montgomery form)."""
    base = (x, y, u4(FR_ONE), fr_mul(x, y))
    cb = _cached(base)
    _put(table, 1, cb)
    acc = base
    for j in range(2, 16):
        acc = _add(acc, cb)
        _put(table, j, _cached(acc))


@njit(**_INLINE)
def _entry(table, j):
    return (
        (table[j, 0, 0], table[j, 0, 1], table[j, 0, 2], table[j, 0, 3]),
        (table[j, 1, 0], table[j, 1, 1], table[j, 1, 2], table[j, 1, 3]),
        (table[j, 2, 0], table[j, 2, 1], table[j, 2, 2], table[j, 2, 3]),
        (table[j, 3, 0], table[j, 3, 1], table[j, 3, 2], table[j, 3, 3]),
    )


@njit(cache=True, nogil=True)
def _straus(s, table_s, k, table_k):
    """s·P + k·Q for the cached multiples table_s of P and table_k of Q (either scalar may be
    all zero), top window first: four doublings, then at most one addition per table."""
    acc = _identity()
    for w in range(_WINDOWS - 1, -1, -1):
        if w < _WINDOWS - 1:
            acc = _double(acc, False)
            acc = _double(acc, False)
            acc = _double(acc, False)
            acc = _double(acc, True)
        ds = _digit(s, w)
        if ds != np.uint64(0):
            acc = _add(acc, _entry(table_s, ds))
        dk = _digit(k, w)
        if dk != np.uint64(0):
            acc = _add(acc, _entry(table_k, dk))
    return acc


@njit(cache=True, nogil=True)
def verify_rows(rows, table_b8, out):
    """out[i] = 1 iff S·B8 + k·A = R8 for rows[i] = (A.x, A.y, R8.x, R8.y, S, k), (n, 6, 4)
    canonical limbs (the module docstring)."""
    table_a = np.zeros((16, 4, 4), dtype=np.uint64)
    for i in range(rows.shape[0]):
        ax, ay = fr_to_mont(load(rows[i], 0)), fr_to_mont(load(rows[i], 1))
        rx, ry = fr_to_mont(load(rows[i], 2)), fr_to_mont(load(rows[i], 3))
        _multiples(ax, ay, table_a)
        acc = _straus(load(rows[i], 4), table_b8, load(rows[i], 5), table_a)
        same = fr_eq(acc[0], fr_mul(rx, acc[2])) and fr_eq(acc[1], fr_mul(ry, acc[2]))
        out[i] = np.uint8(1) if same else np.uint8(0)


@njit(cache=True, nogil=True)
def subgroup_rows(points, out):
    """out[i] = 1 iff l·P = O for points[i] = (x, y), (n, 2, 4) canonical limbs of a point on the
    curve (O = (0 : Z : Z))."""
    table = np.zeros((16, 4, 4), dtype=np.uint64)
    l_limbs = load(L_LIMBS, 0)
    zero = (np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0))
    for i in range(points.shape[0]):
        x, y = fr_to_mont(load(points[i], 0)), fr_to_mont(load(points[i], 1))
        _multiples(x, y, table)
        acc = _straus(l_limbs, table, zero, table)
        ok = fr_eq(acc[0], u4(FR_ZERO)) and fr_eq(acc[1], acc[2])
        out[i] = np.uint8(1) if ok else np.uint8(0)
