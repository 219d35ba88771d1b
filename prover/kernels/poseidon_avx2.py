"""Poseidon over BN254 Fr on four lanes at a time (AVX2): twin of `poseidon_scalar`.

The permutation of `poseidon_scalar._permute` (circomlib's optimised form ``C, S, M, P``,
`protocol.poseidon_constants.optimized_params`; circomlibjs ``poseidon_opt.js``) on lane rows of
`prover.kernels.avx2` (four states at once, 9 × 29-bit limbs, Montgomery form with R = 2^261):

    state += C[0:t]
    4 ×  state_i = state_i^5 + C_k,i;  state = M·state (the 4th with P)     (full rounds)
    R_P × x0 = x0^5 + c_k;  x0' = Σ_j S_k[j]·x_j;  x_j' = x_j + v_kj·x0      (sparse rounds)
    4 ×  state_i = state_i^5 (+ C_k,i for the first 3);  state = M·state
    output state[0]

Each matrix row is one lazily reduced dot; a sparse update is one product and an addition.
Bounds (R ≈ 169·p, so a dot's result stays below p·(1 + Σ/(169·p²))): inputs enter Montgomery
form below 1.01p; a full round's mix gives below 1.5p; each sparse round adds below 1.02p to
x_j (j ≥ 1), so after R_P ≤ 70 rounds x_j < 73p, x0' < 8p, and the S-box of a value below 73p
gives below 4p: every value stays below 80p < R, and no step needs a conditional subtraction
(`prover.kernels.avx2`).  G groups of four lanes go through each round together, so the CPU
overlaps their independent dependency chains.  The state array holds 2t rows per group: the
state, then the mix's scratch.

``avx2.HAVE_AVX2`` must be True before anything here is compiled; `prover.poseidon_fast`
dispatches on the backend.  Widths t = 2..17.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from protocol.poseidon_constants import optimized_params
from prover.fields import curve_order as r
from prover.kernels.avx2 import (
    LANES,
    MONT_R,
    ROW,
    const_limbs,
    v_add_const,
    v_add_mul_const,
    v_copy,
    v_dot_run,
    v_mul_const,
    v_pow5,
    v_pow5_add,
)
from prover.kernels.field import load, store

__all__ = ["Tables", "get_lane", "nested_kernel", "permute_groups", "put_lane", "rows_kernel"]

_M29 = np.uint64((1 << 29) - 1)
_SH = tuple(np.uint64(k) for k in (6, 11, 12, 17, 18, 23, 29, 40, 46, 52, 58))
MAX_WIDTH = 17


class Tables(NamedTuple):
    """A width's constants as one (n, 9) table K (Montgomery form, R = 2^261) and offsets."""

    K: np.ndarray
    c: int  #: C (compressed round constants)
    s: int  #: S (sparse matrices, 2t − 1 each)
    m: int  #: M (transposed: [j·t + i] = M[j][i])
    p: int  #: P (the pre-sparse matrix, same layout)
    n_p: int  #: partial rounds
    to_mont: int  #: R² mod p (a dot with it enters Montgomery form)
    unit: int  #: 1 (a dot with it leaves Montgomery form)


@cache
def tables(t: int) -> Tables:
    """The constants of width t (cached); ``*tables(t)`` are the kernels' last eight arguments."""
    if not 2 <= t <= MAX_WIDTH:
        raise ValueError(f"the four-lane Poseidon takes t = 2..{MAX_WIDTH}, got {t}")
    o = optimized_params(t)
    mont = [x * MONT_R % r for x in (*o.C, *o.S, *(v for row in o.M for v in row),
                                    *(v for row in o.P for v in row))]  # fmt: skip
    n_c, n_s, n_m = len(o.C), len(o.S), t * t
    K = const_limbs([*mont, MONT_R * MONT_R % r, 1])
    base = n_c + n_s + 2 * n_m
    return Tables(K, 0, n_c, n_c + n_s, n_c + n_s + n_m, o.n_rounds_p, base, base + 1)


@njit(cache=True, nogil=True)
def _full(s, g0, g1, t, K, ci, mat, add):
    """One full round on groups g0..g1−1: S-box (+ K[ci + i] if add), then the mix by K[mat..]."""
    rows = 2 * t
    for g in range(g0, g1):
        b = g * rows
        for i in range(t):
            if add:
                v_pow5_add(s, b + i, K, ci + i)
            else:
                v_pow5(s, b + i)
    for g in range(g0, g1):
        b = g * rows
        for i in range(t):
            v_dot_run(s, b + t + i, s, b, K, mat + i, t, t)
        for i in range(t):
            v_copy(s, b + i, s, b + t + i)


@njit(cache=True, nogil=True)
def permute_groups(s, g0, g1, t, K, c, sp, m, p, n_p):
    """The Poseidon permutation of groups g0..g1−1 (4 Montgomery-form states each) in place: s
    holds lane rows, group g's state in rows 2t·g .. 2t·g + t − 1, its scratch in the next t.

    Full rounds 0..7 (round 3 mixes by P, round 7 adds no constant), the R_P sparse rounds between
    rounds 3 and 4: one call site of ``_full`` with run-time arguments, so numba compiles it once
    per width type (a literal argument from jitted code is a specialisation of its own)."""
    rows = 2 * t
    for g in range(g0, g1):
        for i in range(t):
            v_add_const(s, g * rows + i, K, c + i)
    ci = c + t
    width = 2 * t - 1
    for rnd in range(8):
        if rnd == 4:
            for k in range(n_p):
                base = sp + k * width
                for g in range(g0, g1):
                    b = g * rows
                    v_pow5_add(s, b, K, ci + k)
                    v_dot_run(s, b + t, s, b, K, base, 1, t)
                    for j in range(1, t):
                        v_add_mul_const(s, b + j, b, K, base + t + j - 1)
                    v_copy(s, b, s, b + t)
            ci += n_p
        _full(s, g0, g1, t, K, ci, p if rnd == 3 else m, rnd < 7)
        ci += t


@njit(cache=True, nogil=True, inline="always")
def put_lane(s, row, lane, x):
    """Lane ``lane`` of row ``row`` = the 4×64-bit value x (a UniTuple), in 29-bit limbs."""
    x0, x1, x2, x3 = x
    s6, s11, s12, s17, s18, s23, s29, s40, s46, s52, s58 = _SH
    s[row, lane] = x0 & _M29
    s[row, LANES + lane] = (x0 >> s29) & _M29
    s[row, 2 * LANES + lane] = ((x0 >> s58) | (x1 << s6)) & _M29
    s[row, 3 * LANES + lane] = (x1 >> s23) & _M29
    s[row, 4 * LANES + lane] = ((x1 >> s52) | (x2 << s12)) & _M29
    s[row, 5 * LANES + lane] = (x2 >> s17) & _M29
    s[row, 6 * LANES + lane] = ((x2 >> s46) | (x3 << s18)) & _M29
    s[row, 7 * LANES + lane] = (x3 >> s11) & _M29
    s[row, 8 * LANES + lane] = x3 >> s40


_P64 = tuple(np.uint64((r >> (64 * j)) & ((1 << 64) - 1)) for j in range(4))


@njit(cache=True, nogil=True, inline="always")
def get_lane(s, row, lane):
    """The lane's value (normalised row, value < 2p) reduced below p, as four 64-bit limbs."""
    s6, s11, s12, s17, s18, s23, s29, s40, s46, s52, s58 = _SH
    l0, l1, l2 = s[row, lane], s[row, LANES + lane], s[row, 2 * LANES + lane]
    l3, l4, l5 = s[row, 3 * LANES + lane], s[row, 4 * LANES + lane], s[row, 5 * LANES + lane]
    l6, l7, l8 = s[row, 6 * LANES + lane], s[row, 7 * LANES + lane], s[row, 8 * LANES + lane]
    x0 = l0 | (l1 << s29) | (l2 << s58)
    x1 = (l2 >> s6) | (l3 << s23) | (l4 << s52)
    x2 = (l4 >> s12) | (l5 << s17) | (l6 << s46)
    x3 = (l6 >> s18) | (l7 << s11) | (l8 << s40)
    p0, p1, p2, p3 = _P64
    ge = x3 > p3 or (x3 == p3 and (x2 > p2 or (x2 == p2 and (x1 > p1 or (
        x1 == p1 and x0 >= p0)))))  # fmt: skip
    if ge:
        b0 = x0 < p0
        y0 = x0 - p0
        y1 = x1 - p1 - np.uint64(b0)
        b1 = x1 < p1 or (x1 == p1 and b0)
        y2 = x2 - p2 - np.uint64(b1)
        b2 = x2 < p2 or (x2 == p2 and b1)
        y3 = x3 - p3 - np.uint64(b2)
        return y0, y1, y2, y3
    return x0, x1, x2, x3


@njit(cache=True, nogil=True)
def rows_to_mont(s, g0, g1, t, K, to_mont):
    """The state rows of groups g0..g1−1 (canonical values) into Montgomery form, in place."""
    for g in range(g0, g1):
        for i in range(t):
            v_mul_const(s, g * 2 * t + i, s, g * 2 * t + i, K, to_mont)


@njit(cache=True, nogil=True)
def rows_from_mont(s, g0, g1, t, K, unit, i):
    """Row i of each group's state out of Montgomery form, in place (below 2p afterwards)."""
    for g in range(g0, g1):
        v_mul_const(s, g * 2 * t + i, s, g * 2 * t + i, K, unit)


@njit(cache=True, nogil=True)
def _put_rows(s, t, flat, k, n):
    """Row h of ``flat`` (k canonical elements from flat[h·k]) into state elements 1..k of
    lane h mod 4 of group h // 4 (element 0, the initial state, stays zero)."""
    for h in range(n):
        for j in range(k):
            put_lane(s, h // LANES * 2 * t + j + 1, h % LANES, load(flat, h * k + j))


@njit(cache=True, nogil=True)
def rows_groups(s, t, g0, g1, K, c, sp, m, p, n_p, to_mont, unit):
    """Poseidon of groups g0..g1−1 whose state rows hold canonical values: into Montgomery
    form, the permutation, row 0 out (the hashes, below 2p)."""
    rows_to_mont(s, g0, g1, t, K, to_mont)
    permute_groups(s, g0, g1, t, K, c, sp, m, p, n_p)
    rows_from_mont(s, g0, g1, t, K, unit, np.int64(0))


@njit(cache=True, nogil=True, parallel=True)
def rows_parallel(s, t, groups, chunks, K, c, sp, m, p, n_p, to_mont, unit):
    """``rows_groups`` of groups 0..groups−1 in ``chunks`` contiguous runs, one per numba
    thread (the many-row hashing and the tree's levels share this one parallel kernel)."""
    for ch in prange(chunks):
        g0, g1 = ch * groups // chunks, (ch + 1) * groups // chunks
        rows_groups(s, t, g0, g1, K, c, sp, m, p, n_p, to_mont, unit)


@njit(cache=True, nogil=True)
def rows_kernel(flat, k, out, chunks, K, c, sp, m, p, n_p, to_mont, unit):
    """out[i] = Poseidon(flat[i·k : (i+1)·k]) (canonical 4×64-bit limbs in and out, t = k + 1),
    four rows per group, the groups in ``chunks`` contiguous runs (1: no parallel region; the
    parallel function holds the split alone, so nothing else becomes a parallel loop)."""
    n, t = out.shape[0], k + 1
    groups = (n + LANES - 1) // LANES
    s = np.zeros((groups * 2 * t, ROW), dtype=np.uint64)
    _put_rows(s, t, flat, k, n)
    if chunks <= 1:
        rows_groups(s, t, np.int64(0), groups, K, c, sp, m, p, n_p, to_mont, unit)
    else:
        rows_parallel(s, t, groups, chunks, K, c, sp, m, p, n_p, to_mont, unit)
    for h in range(n):
        store(out, h, get_lane(s, h // LANES * 2 * t, h % LANES))


@njit(cache=True, nogil=True)
def _nested_groups(s1, t1, s2, t2, g0, g1, K1, c1, sp1, m1, p1, n1, to_mont1,
                   K2, c2, sp2, m2, p2, n2, to_mont2, unit2):  # fmt: skip
    rows_to_mont(s1, g0, g1, t1, K1, to_mont1)
    permute_groups(s1, g0, g1, t1, K1, c1, sp1, m1, p1, n1)
    rows_to_mont(s2, g0, g1, t2, K2, to_mont2)
    for g in range(g0, g1):
        v_copy(s2, g * 2 * t2 + t2 - 1, s1, g * 2 * t1)
    permute_groups(s2, g0, g1, t2, K2, c2, sp2, m2, p2, n2)
    rows_from_mont(s2, g0, g1, t2, K2, unit2, np.int64(0))


@njit(cache=True, nogil=True, parallel=True)
def _nested_parallel(s1, t1, s2, t2, groups, chunks, args1, args2):
    for ch in prange(chunks):
        g0, g1 = ch * groups // chunks, (ch + 1) * groups // chunks
        _nested_groups(s1, t1, s2, t2, g0, g1, *args1, *args2)


@njit(cache=True, nogil=True)
def nested_kernel(inner, k1, outer, k2, out, chunks, K1, c1, sp1, m1, p1, n1, to_mont1,
                  K2, c2, sp2, m2, p2, n2, to_mont2, unit2):  # fmt: skip
    """out[i] = Poseidon([*outer[i·k2 : (i+1)·k2], Poseidon(inner[i·k1 : (i+1)·k1])]) (canonical
    limbs in and out; the inner hash moves to the outer state in Montgomery form, row for row:
    both states use the same lane for row i).  Twin of `poseidon_scalar.nested_kernel`."""
    n, t1, t2 = out.shape[0], k1 + 1, k2 + 2
    groups = (n + LANES - 1) // LANES
    s1 = np.zeros((groups * 2 * t1, ROW), dtype=np.uint64)
    s2 = np.zeros((groups * 2 * t2, ROW), dtype=np.uint64)
    _put_rows(s1, t1, inner, k1, n)
    _put_rows(s2, t2, outer, k2, n)
    args1 = (K1, c1, sp1, m1, p1, n1, to_mont1)
    args2 = (K2, c2, sp2, m2, p2, n2, to_mont2, unit2)
    if chunks <= 1:
        _nested_groups(s1, t1, s2, t2, np.int64(0), groups, *args1, *args2)
    else:
        _nested_parallel(s1, t1, s2, t2, groups, chunks, args1, args2)
    for h in range(n):
        store(out, h, get_lane(s2, h // LANES * 2 * t2, h % LANES))
