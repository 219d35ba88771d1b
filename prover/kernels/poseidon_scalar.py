"""numba Poseidon over BN254 Fr: the state tree's fast path, twin of `protocol.poseidon`.

Same function as `poseidon.poseidon_hash` (circomlib Poseidon, t = n + 1, x^5, R_F = 8,
R_P = N_ROUNDS_P[t - 2]), computed with circomlib's optimised form ``C, S, M, P``
(`poseidon_constants.optimized_params`; circomlibjs ``poseidon_opt.js``):

    state += C[0:t]
    3 ×  state = M·(state^5 + C_k)          (full rounds, constants moved before the mix)
         state = P·(state^5 + C_4)          (the pre-sparse matrix)
    R_P × x0 = x0^5 + c_k;  x0' = S_k[0]·x0 + Σ_j ŵ_kj·x_j;  x_j' = x_j + v_kj·x0   (sparse)
    3 ×  state = M·(state^5 + C_k);  then state = M·state^5
    output state[0]

For t = 3 that is 8·(3·3 + 9) + 57·8 = 600 Montgomery products instead of 828 for the
textbook loop; every dot product (the mixes, the sparse rounds' first row) is one lazily
reduced ``fr_dot`` block per 2–4 terms (prover.kernels.dot_asm: one reduction instead of one
per term; 1.15× for t = 3, 1.3× for t = 6..17).  Field arithmetic is prover.kernels.field
(4×64-bit Montgomery limbs, njit calling convention in its docstring); constants are converted
to Montgomery form once per t.

Where the CPU has AVX-512 IFMA (``USE_IFMA``), ``poseidon_many`` and ``poseidon_many_nested``
of more than one row hash eight rows at a time instead (`poseidon_ifma`: 52-bit limbs, the same
permutation; Poseidon(2) 11.7 → 2.3 µs per hash on one thread, t = 6 23.6 → 4.4, t = 9
39.5 → 6.8, t = 17 92 → 15.6), and a single hash of width 6..17 spreads its state over the
lanes (`poseidon_wide`: t = 17, the sponge, 89 → 34 µs); Merkle paths and narrower ones stay
scalar.

API (each function validates like the reference and returns plain ints / arrays of canonical
limbs, never Montgomery form):
- `poseidon_hash_fast(inputs, *, init_state=0) -> int`     twin of `poseidon.poseidon_hash`
- `poseidon_many(rows) -> list[int]`                        [Poseidon(row) for row in rows], one
  njit call for rows of one width (twin: `poseidon.poseidon_many`)
- `poseidon_many_nested(inner, outer) -> list[int]`         [Poseidon([*o, Poseidon(i)])], both
  hashes of a row in one njit call (twin: `poseidon.poseidon_many_nested`)
- `merkle_path_nodes(leaf, index, siblings)`, `merkle_path_root(leaf, index, siblings)`:
  one njit call for a whole path; twins of the same names in `poseidon` (same conventions:
  siblings bottom-up, bit i of index = 1 means the node at level i is the right child).
This module imports numba; `circuits.primitives` does not import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from numba import njit, prange

from protocol.errors import PrimitiveError
from protocol.poseidon import (
    MAX_INPUTS,
    _check_path,
    _field_elements,
    _row_length,
)
from protocol.poseidon import poseidon_many_nested as _nested_reference
from protocol.poseidon_constants import optimized_params
from prover.fields import curve_order as r
from prover.kernels import poseidon_ifma, poseidon_wide
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
from prover.kernels.ifma import HAVE_IFMA

__all__ = [
    "merkle_path_nodes",
    "merkle_path_root",
    "poseidon_hash_fast",
    "poseidon_many",
    "poseidon_many_nested",
]


def _to_limbs(values: Sequence[int]) -> np.ndarray:
    buf = b"".join([v.to_bytes(32, "little") for v in values])
    return np.frombuffer(buf, dtype="<u8").reshape(len(values), 4).astype(np.uint64)


def _canonical(values: Sequence[int], what: str) -> Sequence[int]:
    """``_field_elements`` with a fast path for a list/tuple of plain ints in [0, r); anything
    else (bools, int subclasses, out-of-range, other containers) goes through the reference
    check, so the accepted inputs and the error messages are exactly the reference's."""
    if type(values) is list or type(values) is tuple:
        for v in values:
            if type(v) is not int or not 0 <= v < r:
                return _field_elements(values, what)
        return values
    return _field_elements(values, what)


def _from_limbs(arr: np.ndarray) -> list[int]:
    raw = np.ascontiguousarray(arr, dtype="<u8").tobytes()
    return [int.from_bytes(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]


_MONT = 1 << 256

#: many-row calls hash eight rows at a time with AVX-512 IFMA where the CPU has it (~5× per
#: hash, `poseidon_ifma`).
#: Tests set it False to exercise the scalar kernels on the same machine.
USE_IFMA: bool = HAVE_IFMA
#: single hashes of width t ≥ WIDE_FROM spread their state over the IFMA lanes
#: (`poseidon_wide`; t = 6: 27 → 17 µs, t = 10: 50 → 23, t = 17: 89 → 34); narrower ones
#: stay scalar: the partial rounds' serial S-box chain is faster on mulx (t = 3: 15 vs 16.5 µs)
WIDE_FROM: int = 6


def _mont_rows(values: Sequence[int]) -> np.ndarray:
    return _to_limbs([v * _MONT % r for v in values])


@cache
def _constants(t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(C, S, M, P, R_P) for width t, Montgomery form; M, P flattened: [j·t + i] = M[j][i]."""
    o = optimized_params(t)
    m = _mont_rows([x for row in o.M for x in row])
    p = _mont_rows([x for row in o.P for x in row])
    return _mont_rows(o.C), _mont_rows(o.S), m, p, o.n_rounds_p


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


@njit(cache=True)
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
def _full3(a, b, c, ca, cb, cc, m):
    """S-box on all three cells, add (ca, cb, cc), mix with m (circomlib layout, (9, 4))."""
    a = fr_add(_pow5(a), ca)
    b = fr_add(_pow5(b), cb)
    c = fr_add(_pow5(c), cc)
    return _mix3(a, b, c, m)


@njit(cache=True, inline="always")
def _mix3(a, b, c, m):
    na = fr_dot3(load(m, 0), a, load(m, 3), b, load(m, 6), c)
    nb = fr_dot3(load(m, 1), a, load(m, 4), b, load(m, 7), c)
    nc = fr_dot3(load(m, 2), a, load(m, 5), b, load(m, 8), c)
    return na, nb, nc


@njit(cache=True, inline="always")
def _permute3(a, b, c, C, S, M, P, n_p):
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


@njit(cache=True)
def _hash_kernel(state, C, S, M, P, n_p, tmp):
    """state: (t, 4) canonical limbs [init, inputs...], overwritten by the Montgomery-form
    permutation; tmp: (t, 4) scratch.  Row 0 of tmp ends as the canonical output (the caller
    allocates both: no array is created, returned or boxed inside the kernel)."""
    t = state.shape[0]
    for i in range(t):
        store(state, i, fr_to_mont(load(state, i)))
    _permute(state, tmp, C, S, M, P, n_p)
    store(tmp, 0, fr_from_mont(load(state, 0)))


@njit(cache=True, nogil=True, parallel=True)
def _rows_kernel(flat, k, C, S, M, P, n_p, out, chunks):
    """out[i] = Poseidon(flat[i·k : (i+1)·k]) (canonical limbs in and out, width t = k + 1);
    the rows are cut into ``chunks`` contiguous runs hashed in parallel (numba threads)."""
    n, t = out.shape[0], k + 1
    for c in prange(chunks):
        s = np.empty((t, 4), dtype=np.uint64)
        tmp = np.empty((t, 4), dtype=np.uint64)
        zero = u4(FR_ZERO)
        for i in range(c * n // chunks, (c + 1) * n // chunks):
            store(s, 0, zero)
            for j in range(k):
                store(s, j + 1, fr_to_mont(load(flat, i * k + j)))
            _permute(s, tmp, C, S, M, P, n_p)  # (the generic loop: one compiled body for all t)
            store(out, i, fr_from_mont(load(s, 0)))


@njit(cache=True, nogil=True, parallel=True)
def _nested_kernel(inner, k1, outer, k2, C1, S1, M1, P1, n1, C2, S2, M2, P2, n2, out, chunks):
    """out[i] = Poseidon([*outer[i·k2 : (i+1)·k2], Poseidon(inner[i·k1 : (i+1)·k1])]) (canonical
    limbs in and out; the inner hash stays in Montgomery form between the two permutations);
    rows in ``chunks`` contiguous runs on numba threads."""
    n = out.shape[0]
    for c in prange(chunks):
        s1 = np.empty((k1 + 1, 4), dtype=np.uint64)
        s2 = np.empty((k2 + 2, 4), dtype=np.uint64)
        tmp1 = np.empty((k1 + 1, 4), dtype=np.uint64)
        tmp2 = np.empty((k2 + 2, 4), dtype=np.uint64)
        zero = u4(FR_ZERO)
        for i in range(c * n // chunks, (c + 1) * n // chunks):
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


@njit(cache=True)
def _path_kernel(leaf, bits, siblings, C, S, M, P, n_p, out):
    """out[level] = the node at level + 1 on the path (see `merkle_path_nodes`)."""
    zero = u4(FR_ZERO)
    node = fr_to_mont(load(leaf, 0))
    for level in range(siblings.shape[0]):
        left, right = node, fr_to_mont(load(siblings, level))
        if bits[level]:
            left, right = right, left
        node, _, _ = _permute3(zero, left, right, C, S, M, P, n_p)  # one inlined copy
        store(out, level, fr_from_mont(node))


def poseidon_hash_fast(inputs: Sequence[int], *, init_state: int = 0) -> int:
    """Twin of `poseidon.poseidon_hash` (same validation and PrimitiveError messages)."""
    values = _canonical(inputs, "inputs")
    if not 1 <= len(values) <= MAX_INPUTS:
        raise PrimitiveError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {len(values)}")
    if type(init_state) is not int or init_state != 0:
        (init_state,) = _field_elements((init_state,), "init_state")
    state = _to_limbs((init_state, *values))
    tmp = np.empty_like(state)
    if USE_IFMA and WIDE_FROM <= len(values) + 1 <= poseidon_wide.MAX_WIDTH:
        poseidon_wide.hash_kernel(state, tmp, *poseidon_wide.wide_tables(len(values) + 1))
    else:
        _hash_kernel(state, *_constants(len(values) + 1), tmp)
    return int.from_bytes(tmp[0].tobytes(), "little")


def poseidon_many(rows: Sequence[Sequence[int]], *, threads: int = 2) -> list[int]:
    """[Poseidon(row) for row in rows]; every row has the same length 1..16.  One njit call,
    the rows split over ``threads`` numba threads (numba's parallel layer: its threads spin
    briefly between calls, so even a batch of 16 rows gains — a Python thread pool's wake-up
    latency, ~0.25 ms here, ate the whole gain).  Twin: ``poseidon.poseidon_many``."""
    rows = list(rows)
    if not rows:
        return []
    k = _row_length(rows)
    flat: list[int] = []
    for row in rows:
        flat += _canonical(row, "inputs")
    out = np.empty((len(rows), 4), dtype=np.uint64)
    if USE_IFMA and len(rows) > 1:
        T = poseidon_ifma.tables(k + 1)
        chunks = poseidon_ifma.chunks_for(len(rows), threads)
        poseidon_ifma.rows_kernel(_to_limbs(flat), k, out, chunks, *T)
        return _from_limbs(out)
    chunks = max(1, min(threads, len(rows) // 2))
    _rows_kernel(_to_limbs(flat), k, *_constants(k + 1), out, chunks)
    return _from_limbs(out)


def poseidon_many_nested(
    inner: Sequence[Sequence[int]], outer: Sequence[Sequence[int]], *, threads: int = 2
) -> list[int]:
    """[Poseidon([*o, Poseidon(i)]) for i, o in zip(inner, outer)] in one njit call, the rows
    split over ``threads`` numba threads: one parallel region and one conversion each way
    instead of two ``poseidon_many`` calls.  Twin: ``poseidon.poseidon_many_nested``."""
    inner, outer = list(inner), list(outer)
    if len(inner) != len(outer) or not inner:
        return _nested_reference(inner, outer)  # [] or the reference's message
    k1, k2 = _row_length(inner), _row_length(outer)
    if k2 == MAX_INPUTS:
        return _nested_reference(inner[:1], outer[:1])  # raises the reference's message
    flat1: list[int] = []
    for row in inner:
        flat1 += _canonical(row, "inputs")
    flat2: list[int] = []
    for row in outer:
        flat2 += _canonical(row, "inputs")
    out = np.empty((len(inner), 4), dtype=np.uint64)
    if USE_IFMA and len(inner) > 1:
        t1, t2 = poseidon_ifma.tables(k1 + 1), poseidon_ifma.tables(k2 + 2)
        chunks = poseidon_ifma.chunks_for(len(inner), threads)
        poseidon_ifma.nested_kernel(
            _to_limbs(flat1), k1, _to_limbs(flat2), k2, out, chunks,
            *t1[:-1], *t2,
        )  # fmt: skip
        return _from_limbs(out)
    chunks = max(1, min(threads, len(inner) // 2))
    consts = (*_constants(k1 + 1), *_constants(k2 + 2))
    _nested_kernel(_to_limbs(flat1), k1, _to_limbs(flat2), k2, *consts, out, chunks)
    return _from_limbs(out)


def merkle_path_nodes(leaf: int, index: int, siblings: Sequence[int]) -> tuple[int, ...]:
    """Twin of `poseidon.merkle_path_nodes`: nodes at levels 1..depth, the last is the root."""
    if type(leaf) is not int or not 0 <= leaf < r or type(index) is not int:
        node, path = _check_path(leaf, index, siblings)
    else:
        node, path = leaf, _canonical(siblings, "siblings")
        if not 0 <= index < 1 << len(path):
            _check_path(leaf, index, siblings)  # raises the reference's index message
    if not path:
        return ()
    bits = np.array([(index >> level) & 1 for level in range(len(path))], dtype=np.uint8)
    out = np.empty((len(path), 4), dtype=np.uint64)
    _path_kernel(_to_limbs((node,)), bits, _to_limbs(path), *_constants(3), out)
    return tuple(_from_limbs(out))


def merkle_path_root(leaf: int, index: int, siblings: Sequence[int]) -> int:
    """Twin of `poseidon.merkle_path_root`: one njit call hashes the whole path."""
    nodes = merkle_path_nodes(leaf, index, siblings)
    return nodes[-1] if nodes else leaf
