"""Poseidon over BN254 Fr in numba on 4×64-bit Montgomery limbs: one state at a time.

The permutation of `protocol.poseidon.poseidon_hash` (circomlib Poseidon, t = n + 1, x^5,
R_F = 8, R_P = N_ROUNDS_P[t - 2]) in circomlib's optimised form ``C, S, M, P``
(`protocol.poseidon_constants.optimized_params`; circomlibjs ``poseidon_opt.js``):

    state += C[0:t]
    3 ×  state = M·(state^5 + C_k)          (full rounds, constants moved before the mix)
         state = P·(state^5 + C_4)          (the pre-sparse matrix)
    R_P × x0 = x0^5 + c_k;  x0' = S_k[0]·x0 + Σ_j ŵ_kj·x_j;  x_j' = x_j + v_kj·x0   (sparse)
    3 ×  state = M·(state^5 + C_k);  then state = M·state^5
    output state[0]

For t = 3 that is 8·(3·3 + 9) + 57·8 = 600 Montgomery products instead of 828 for the
textbook loop; every dot product (the mixes, the sparse rounds' first row) is one lazily
reduced ``fr_dot`` block per 2–4 terms (`prover.kernels.dot_asm`).  Field arithmetic is
`prover.kernels.field` (its njit calling convention); the constants are converted to Montgomery
form once per width (``constants``).

Kernels (arrays are (n, 4) uint64 canonical limbs unless said otherwise; none allocates what it
returns, the callers in `prover.poseidon_fast` validate and convert):

- ``hash_kernel(state, C, S, M, P, n_p, tmp)``             one hash, tmp[0] = the output
- ``rows_kernel(flat, k, C, S, M, P, n_p, out, chunks)``    out[i] = Poseidon(row i of k)
- ``nested_kernel(inner, k1, outer, k2, *consts1, *consts2, out, chunks)``
  out[i] = Poseidon([*outer_i, Poseidon(inner_i)])
- ``path_kernel(leaf, bits, siblings, C, S, M, P, n_p, out)`` the nodes of one Merkle path
- ``sponge_kernel(values, start, *consts17, *consts_last, out)``  the sponge's chain (below)
- ``permute3(a, b, c, C, S, M, P, n_p)``                   the t = 3 permutation on register-held
  Montgomery cells (inlined; the tree kernels of `prover.kernels.merkle_levels` use it)

``chunks`` > 1 splits the rows into that many contiguous runs on numba threads (the caller sets
numba's thread count for the call); 1 runs on the caller's thread without entering a parallel
region.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numba import njit, prange

from protocol.poseidon_constants import optimized_params
from prover.fields import curve_order as r
from prover.kernels.field import (
    FR_ZERO,
    fr_add,
    fr_dot2,
    fr_dot3,
    fr_dot4,
    fr_from_mont,
    fr_mul,
    fr_square,
    fr_to_mont,
    load,
    store,
    u4,
)

__all__ = [
    "constants",
    "hash_kernel",
    "nested_kernel",
    "path_kernel",
    "permute3",
    "rows_kernel",
    "sponge_kernel",
    "to_limbs",
]

_MONT = 1 << 256


def to_limbs(values: list[int] | tuple[int, ...]) -> np.ndarray:
    """(n, 4) uint64 little-endian limbs of n ints in [0, 2^256) (``int.to_bytes`` and one
    ``frombuffer``: ~6× faster than a per-limb loop)."""
    buf = b"".join([v.to_bytes(32, "little") for v in values])
    return np.frombuffer(buf, dtype="<u8").reshape(len(values), 4).copy()


@cache
def constants(t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(C, S, M, P, R_P) for width t in Montgomery form; M, P flattened: [j·t + i] = M[j][i]."""
    o = optimized_params(t)

    def mont(values: list[int] | tuple[int, ...]) -> np.ndarray:
        return to_limbs([v * _MONT % r for v in values])

    m = mont([x for row in o.M for x in row])
    p = mont([x for row in o.P for x in row])
    return mont(o.C), mont(o.S), m, p, o.n_rounds_p


@njit(cache=True, inline="always")
def _pow5(x):
    x2 = fr_square(x)
    return fr_mul(fr_square(x2), x)


@njit(cache=True, inline="always")
def _dot(w, wi, ws, s, si, n):
    """Σ_{j<n} w[wi + j·ws]·s[si + j] in runs of 4, 3 and 2 terms (each one lazily reduced
    ``fr_dot`` block; prover.kernels.dot_asm)."""
    acc = u4(FR_ZERO)
    j = 0
    while n - j >= 4:
        acc = fr_add(acc, fr_dot4(
            load(w, wi + j * ws), load(s, si + j), load(w, wi + (j + 1) * ws), load(s, si + j + 1),
            load(w, wi + (j + 2) * ws), load(s, si + j + 2),
            load(w, wi + (j + 3) * ws), load(s, si + j + 3),
        ))  # fmt: skip
        j += 4
    if n - j == 3:
        acc = fr_add(acc, fr_dot3(
            load(w, wi + j * ws), load(s, si + j), load(w, wi + (j + 1) * ws), load(s, si + j + 1),
            load(w, wi + (j + 2) * ws), load(s, si + j + 2),
        ))  # fmt: skip
    elif n - j == 2:
        acc = fr_add(acc, fr_dot2(
            load(w, wi + j * ws), load(s, si + j), load(w, wi + (j + 1) * ws), load(s, si + j + 1),
        ))  # fmt: skip
    elif n - j == 1:
        acc = fr_add(acc, fr_mul(load(w, wi + j * ws), load(s, si + j)))
    return acc


@njit(cache=True, inline="always")
def _mix(s, tmp, m, t):
    """s'[i] = Σ_j m[j·t + i]·s[j] (circomlib's transposed layout)."""
    for i in range(t):
        store(tmp, i, _dot(m, i, t, s, 0, t))
    for i in range(t):
        store(s, i, load(tmp, i))


@njit(cache=True, nogil=True)
def _permute(s, tmp, C, S, M, P, n_p):
    """The Poseidon permutation of the Montgomery-form state s ((t, 4), in place)."""
    t = s.shape[0]
    for i in range(t):
        store(s, i, fr_add(load(s, i), load(C, i)))
    ci = t
    for k in range(4):
        for i in range(t):
            store(s, i, fr_add(_pow5(load(s, i)), load(C, ci + i)))
        ci += t
        if k < 3:
            _mix(s, tmp, M, t)
        else:
            _mix(s, tmp, P, t)
    width = 2 * t - 1
    for k in range(n_p):
        x0 = fr_add(_pow5(load(s, 0)), load(C, ci + k))
        base = k * width
        store(s, 0, x0)
        acc = _dot(S, base, 1, s, 0, t)  # S_k[0]·x0 + Σ_j ŵ_kj·x_j (the x_j before the update)
        for j in range(1, t):
            store(s, j, fr_add(load(s, j), fr_mul(x0, load(S, base + t + j - 1))))
        store(s, 0, acc)
    ci += n_p
    for k in range(4):
        for i in range(t):
            x = _pow5(load(s, i))
            if k < 3:
                x = fr_add(x, load(C, ci + i))
            store(s, i, x)
        ci += t
        _mix(s, tmp, M, t)


@njit(cache=True, inline="always")
def _mix3(a, b, c, m):
    na = fr_dot3(load(m, 0), a, load(m, 3), b, load(m, 6), c)
    nb = fr_dot3(load(m, 1), a, load(m, 4), b, load(m, 7), c)
    nc = fr_dot3(load(m, 2), a, load(m, 5), b, load(m, 8), c)
    return na, nb, nc


@njit(cache=True, inline="always")
def _full3(a, b, c, ca, cb, cc, m):
    """S-box on all three cells, add (ca, cb, cc), mix with m (circomlib layout, (9, 4))."""
    a = fr_add(_pow5(a), ca)
    b = fr_add(_pow5(b), cb)
    c = fr_add(_pow5(c), cc)
    return _mix3(a, b, c, m)


@njit(cache=True, inline="always")
def permute3(a, b, c, C, S, M, P, n_p):
    """`_permute` unrolled for t = 3 (Poseidon(2), the Merkle node) on register-held cells."""
    a = fr_add(a, load(C, 0))
    b = fr_add(b, load(C, 1))
    c = fr_add(c, load(C, 2))
    for k in range(1, 4):
        a, b, c = _full3(a, b, c, load(C, 3 * k), load(C, 3 * k + 1), load(C, 3 * k + 2), M)
    a, b, c = _full3(a, b, c, load(C, 12), load(C, 13), load(C, 14), P)
    for k in range(n_p):
        x0 = fr_add(_pow5(a), load(C, 15 + k))
        a = fr_dot3(load(S, 5 * k), x0, load(S, 5 * k + 1), b, load(S, 5 * k + 2), c)
        b = fr_add(b, fr_mul(x0, load(S, 5 * k + 3)))
        c = fr_add(c, fr_mul(x0, load(S, 5 * k + 4)))
    ci = 15 + n_p
    for _ in range(3):
        a, b, c = _full3(a, b, c, load(C, ci), load(C, ci + 1), load(C, ci + 2), M)
        ci += 3
    return _mix3(_pow5(a), _pow5(b), _pow5(c), M)


@njit(cache=True, nogil=True)
def hash_kernel(state, C, S, M, P, n_p, tmp):
    """state: (t, 4) canonical limbs [init, inputs...], overwritten by the Montgomery-form
    permutation; tmp: (t, 4) scratch whose row 0 ends as the canonical output."""
    t = state.shape[0]
    for i in range(t):
        store(state, i, fr_to_mont(load(state, i)))
    _permute(state, tmp, C, S, M, P, n_p)
    store(tmp, 0, fr_from_mont(load(state, 0)))


@njit(cache=True, nogil=True)
def _rows_run(flat, k, C, S, M, P, n_p, out, lo, hi):
    """out[i] = Poseidon(flat[i·k : (i+1)·k]) for lo ≤ i < hi."""
    s = np.empty((k + 1, 4), dtype=np.uint64)
    tmp = np.empty((k + 1, 4), dtype=np.uint64)
    zero = u4(FR_ZERO)
    for i in range(lo, hi):
        store(s, 0, zero)
        for j in range(k):
            store(s, j + 1, fr_to_mont(load(flat, i * k + j)))
        _permute(s, tmp, C, S, M, P, n_p)  # (the generic loop: one compiled body for all t)
        store(out, i, fr_from_mont(load(s, 0)))


@njit(cache=True, nogil=True, parallel=True)
def rows_kernel(flat, k, C, S, M, P, n_p, out, chunks):
    """out[i] = Poseidon(flat[i·k : (i+1)·k]) (width t = k + 1), rows in ``chunks`` runs."""
    n = out.shape[0]
    if chunks <= 1:
        zero = np.int64(0)  # a literal 0 would compile a second specialisation of _rows_run
        _rows_run(flat, k, C, S, M, P, n_p, out, zero, n)
        return
    for c in prange(chunks):
        _rows_run(flat, k, C, S, M, P, n_p, out, c * n // chunks, (c + 1) * n // chunks)


@njit(cache=True, nogil=True)
def _nested_run(inner, k1, outer, k2, C1, S1, M1, P1, n1, C2, S2, M2, P2, n2, out, lo, hi):
    """out[i] = Poseidon([*outer_i, Poseidon(inner_i)]) for lo ≤ i < hi; the inner hash stays
    in Montgomery form between the two permutations."""
    s1 = np.empty((k1 + 1, 4), dtype=np.uint64)
    s2 = np.empty((k2 + 2, 4), dtype=np.uint64)
    tmp1 = np.empty((k1 + 1, 4), dtype=np.uint64)
    tmp2 = np.empty((k2 + 2, 4), dtype=np.uint64)
    zero = u4(FR_ZERO)
    for i in range(lo, hi):
        store(s1, 0, zero)
        for j in range(k1):
            store(s1, j + 1, fr_to_mont(load(inner, i * k1 + j)))
        _permute(s1, tmp1, C1, S1, M1, P1, n1)
        store(s2, 0, zero)
        for j in range(k2):
            store(s2, j + 1, fr_to_mont(load(outer, i * k2 + j)))
        store(s2, k2 + 1, load(s1, 0))
        _permute(s2, tmp2, C2, S2, M2, P2, n2)
        store(out, i, fr_from_mont(load(s2, 0)))


@njit(cache=True, nogil=True, parallel=True)
def nested_kernel(inner, k1, outer, k2, C1, S1, M1, P1, n1, C2, S2, M2, P2, n2, out, chunks):
    """out[i] = Poseidon([*outer[i·k2 : (i+1)·k2], Poseidon(inner[i·k1 : (i+1)·k1])]), rows in
    ``chunks`` runs."""
    n = out.shape[0]
    if chunks <= 1:
        zero = np.int64(0)  # a literal 0 would compile a second specialisation of _nested_run
        _nested_run(inner, k1, outer, k2, C1, S1, M1, P1, n1, C2, S2, M2, P2, n2, out, zero, n)
        return
    for c in prange(chunks):
        lo, hi = c * n // chunks, (c + 1) * n // chunks
        _nested_run(inner, k1, outer, k2, C1, S1, M1, P1, n1, C2, S2, M2, P2, n2, out, lo, hi)


@njit(cache=True, nogil=True)
def sponge_kernel(values, start, C, S, M, P, n_p, Cl, Sl, Ml, Pl, n_l, out):
    """The chain of `protocol.poseidon.poseidon_sponge` over n ≥ 1 canonical values (n, 4):
    h = start (canonical limbs, 2^64 + n), then h = Poseidon([h, *chunk]) for each chunk of 15
    (constants of t = 17) and the last, shorter one (Cl..n_l: t = 2 + its length; the same
    table if it is full).  h stays in Montgomery form between the calls; out[0] = h."""
    n = values.shape[0]
    last = (n - 1) % 15 + 1
    s, tmp = np.empty((17, 4), dtype=np.uint64), np.empty((17, 4), dtype=np.uint64)
    sl, tmpl = np.empty((last + 2, 4), dtype=np.uint64), np.empty((last + 2, 4), dtype=np.uint64)
    zero = u4(FR_ZERO)
    h = fr_to_mont(load(start, 0))
    for lo in range(0, n - last, 15):
        store(s, 0, zero)
        store(s, 1, h)
        for j in range(15):
            store(s, j + 2, fr_to_mont(load(values, lo + j)))
        _permute(s, tmp, C, S, M, P, n_p)
        h = load(s, 0)
    store(sl, 0, zero)
    store(sl, 1, h)
    for j in range(last):
        store(sl, j + 2, fr_to_mont(load(values, n - last + j)))
    _permute(sl, tmpl, Cl, Sl, Ml, Pl, n_l)
    store(out, 0, fr_from_mont(load(sl, 0)))


@njit(cache=True, nogil=True)
def path_kernel(leaf, bits, siblings, C, S, M, P, n_p, out):
    """out[l] = the node at level l + 1 on the path of ``leaf`` (siblings bottom-up; bits[l] = 1:
    the level-l node is a right child), canonical."""
    zero = u4(FR_ZERO)
    node = fr_to_mont(load(leaf, 0))
    for level in range(siblings.shape[0]):
        left, right = node, fr_to_mont(load(siblings, level))
        if bits[level]:
            left, right = right, left
        node, _, _ = permute3(zero, left, right, C, S, M, P, n_p)  # one inlined copy
        store(out, level, fr_from_mont(node))
