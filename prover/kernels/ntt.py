"""Number-theoretic transform over BN254 Fr in numba: radix-2, in place, precomputed twiddles.

The transform of a length-n = 2^k vector (Cooley–Tukey 1965, decimation in time after a
bit-reversal permutation):

    NTT(a)_k = Σ_j a_j · ω^(j·k),      INTT(A)_j = n⁻¹ · Σ_k A_k · ω^(−j·k),

with ω = ``prover.fields.root_of_unity(k)`` = 5^((r−1)/2^k), the root ffjavascript / snarkjs use.
Each of the k stages with half-size h applies the butterfly

    (u, v) ← (u + ω_{2h}^j · v,  u − ω_{2h}^j · v)

reading its twiddles from one contiguous slice of a table ``tw[h − 1 + j] = ω_{2h}^j``
(n − 1 entries in all), so every stage streams through memory. The coset transforms evaluate on
g·⟨ω⟩: ``coset_ntt(a, g) = NTT(a_j · g^j)`` and ``coset_intt(A, g)_j = n⁻¹ g^(−j) · INTT'(A)_j``
with the two scalings fused into one precomputed table.

From 2^14 up the transform is cut into tasks for the workers of :mod:`prover.threads`: after the
bit reversal the first k − 3 stages act on eight blocks independently (one task each), and each of
the last three stages splits its butterflies into eight tasks; idle workers pull the next task, so
a worker slowed by another process on its core does fewer.

Arrays are ``(n, 4) uint64`` Fr elements in Montgomery form (see :mod:`prover.kernels.field`);
every function returns a new array, unless ``overwrite=True`` lets it transform its input's
memory in place (then returned; a caller that no longer needs the input saves a copy).
Tables are built per call, or once per (size, root) inside ``tables()`` (a prove's six transforms
share them; they are dropped before its MSMs, which then run without 3 × 16 MB at 2^19). Kernels
release the GIL (``nogil``) so callers may run independent transforms in threads.
Reference twin: :mod:`prover.kernels.ntt_reference`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from numba import njit

from prover.fields import TWO_ADICITY, R, root_of_unity
from prover.kernels.field import fr_add, fr_mul, fr_sub, limbs, load, store
from prover.threads import chunks, run_tasks

_MONT = 1 << 256
#: Sizes from 2^14 up run as tasks on the worker threads; 2^_SPLIT blocks / pieces per stage.
_THREADED_FROM = 14
_SPLIT = 3


def _mont(x: int) -> np.ndarray:
    """Canonical int → one Montgomery element as a (4,) uint64 array."""
    return np.array(limbs((x % R) * _MONT % R), dtype=np.uint64)


@njit(cache=True, nogil=True)
def _powers_kernel(x, n, out):
    """out[i] = x^i (Montgomery), out[0] = one (given as out[0] on entry)."""
    for i in range(1, n):
        store(out, i, fr_mul(load(out, i - 1), x))


@njit(cache=True, nogil=True)
def _bit_reverse(a, log_n):
    n = a.shape[0]
    shift = 64 - log_n
    for i in range(n):
        # reverse the log_n low bits of i
        x = np.uint64(i)
        x = ((x >> np.uint64(1)) & np.uint64(0x5555555555555555)) | (
            (x & np.uint64(0x5555555555555555)) << np.uint64(1)
        )
        x = ((x >> np.uint64(2)) & np.uint64(0x3333333333333333)) | (
            (x & np.uint64(0x3333333333333333)) << np.uint64(2)
        )
        x = ((x >> np.uint64(4)) & np.uint64(0x0F0F0F0F0F0F0F0F)) | (
            (x & np.uint64(0x0F0F0F0F0F0F0F0F)) << np.uint64(4)
        )
        x = ((x >> np.uint64(8)) & np.uint64(0x00FF00FF00FF00FF)) | (
            (x & np.uint64(0x00FF00FF00FF00FF)) << np.uint64(8)
        )
        x = ((x >> np.uint64(16)) & np.uint64(0x0000FFFF0000FFFF)) | (
            (x & np.uint64(0x0000FFFF0000FFFF)) << np.uint64(16)
        )
        x = (x >> np.uint64(32)) | (x << np.uint64(32))
        j = int(x >> np.uint64(shift))
        if i < j:
            t = load(a, i)
            store(a, i, load(a, j))
            store(a, j, t)


@njit(cache=True, nogil=True)
def _stages(a, tw, h_end):
    """Butterfly stages h = 1, 2, 4, … < h_end on a (already in bit-reversed order)."""
    n = a.shape[0]
    # stage h = 1: the twiddle is 1
    for s in range(0, n, 2):
        u = load(a, s)
        v = load(a, s + 1)
        store(a, s, fr_add(u, v))
        store(a, s + 1, fr_sub(u, v))
    h = 2
    while h < h_end:
        base = h - 1
        for s in range(0, n, 2 * h):
            u = load(a, s)
            v = load(a, s + h)
            store(a, s, fr_add(u, v))
            store(a, s + h, fr_sub(u, v))
            for j in range(1, h):
                u = load(a, s + j)
                v = fr_mul(load(a, s + j + h), load(tw, base + j))
                store(a, s + j, fr_add(u, v))
                store(a, s + j + h, fr_sub(u, v))
        h *= 2


@njit(cache=True, nogil=True)
def _stage(a, tw, h, t_lo, t_hi):
    """Butterflies t_lo ≤ t < t_hi of the stage with half-size h (t = block·h + j)."""
    base = h - 1
    for t in range(t_lo, t_hi):
        j = t % h
        s = (t - j) * 2 + j
        u = load(a, s)
        v = fr_mul(load(a, s + h), load(tw, base + j))
        store(a, s, fr_add(u, v))
        store(a, s + h, fr_sub(u, v))


@njit(cache=True, nogil=True)
def _ntt_inplace(a, tw, log_n):
    """In-place radix-2 DIT transform of a (natural order in and out), one thread."""
    n = a.shape[0]
    if n == 1:
        return
    _bit_reverse(a, log_n)
    _stages(a, tw, n)


def _ntt_tasks(a: np.ndarray, tw: np.ndarray, log_n: int) -> None:
    """The same transform as tasks: the first k − _SPLIT stages on 2^_SPLIT independent blocks,
    then each remaining stage's n/2 butterflies in 2^_SPLIT pieces (a stage waits for the last)."""
    n = a.shape[0]
    block = n >> _SPLIT
    _bit_reverse(a, log_n)
    run_tasks(lambda lo: _stages(a[lo : lo + block], tw, block), range(0, n, block))
    h = block
    while h < n:
        run_tasks(lambda b, h=h: _stage(a, tw, h, b[0], b[1]), chunks(n // 2, 1 << _SPLIT))
        h *= 2


def _transform(a: np.ndarray, tw: np.ndarray, log_n: int) -> None:
    if log_n >= _THREADED_FROM:
        _ntt_tasks(a, tw, log_n)
    else:
        _ntt_inplace(a, tw, log_n)


@njit(cache=True, nogil=True)
def _scale(a, t):
    """a[i] ← a[i]·t[i] in place."""
    for i in range(a.shape[0]):
        store(a, i, fr_mul(load(a, i), load(t, i)))


@njit(cache=True, nogil=True)
def _scale_const(a, k):
    """a[i] ← a[i]·k[0] in place (k an (1, 4) array)."""
    c = load(k, 0)
    for i in range(a.shape[0]):
        store(a, i, fr_mul(load(a, i), c))


def _ranges(n: int) -> list[tuple[int, int]]:
    return chunks(n, 1 << _SPLIT) if n >= 1 << _THREADED_FROM else [(0, n)]


def _scale_by(a: np.ndarray, t: np.ndarray) -> None:
    """a ← a∘t in place, in ranges for the workers from 2^14 on."""
    run_tasks(lambda r: _scale(a[r[0] : r[1]], t[r[0] : r[1]]), _ranges(a.shape[0]))


def _scale_by_const(a: np.ndarray, k: int) -> None:
    """a ← k·a in place (k a canonical int), in ranges for the workers from 2^14 on."""
    km = _mont(k)[None]
    run_tasks(lambda r: _scale_const(a[r[0] : r[1]], km), _ranges(a.shape[0]))


def _log2(n: int) -> int:
    log_n = n.bit_length() - 1
    if n < 1 or 1 << log_n != n or log_n > TWO_ADICITY:
        raise ValueError(f"NTT length {n} is not a power of two ≤ 2^{TWO_ADICITY}")
    return log_n


def powers(x: int, n: int, start: int = 1) -> np.ndarray:
    """start·x^0, start·x^1, …, start·x^(n−1) (canonical ints) as a Montgomery (n, 4) array; from
    2^14 on in ranges for the workers, each range seeded with start·x^lo by ``pow``."""
    out = np.empty((n, 4), dtype=np.uint64)
    xm = tuple(np.uint64(v) for v in _mont(x))
    parts = _ranges(n) if n else []

    def run(bounds: tuple[int, int]) -> None:
        lo, hi = bounds
        out[lo] = _mont(start * pow(x, lo, R))
        _powers_kernel(xm, hi - lo, out[lo:hi])

    run_tasks(run, parts)
    return out


_MEMO = threading.local()


@contextmanager
def tables() -> Iterator[None]:
    """Inside, each twiddle and coset table is built once and reused by the transforms of this
    thread; on exit the tables are dropped. Nested uses share the outer one's."""
    outer = getattr(_MEMO, "tables", None)
    _MEMO.tables = outer if outer is not None else {}
    try:
        yield
    finally:
        _MEMO.tables = outer


def _memo(key: tuple, build: Callable[[], np.ndarray]) -> np.ndarray:
    memo = getattr(_MEMO, "tables", None)
    if memo is None:
        return build()
    if key not in memo:
        memo[key] = build()
    return memo[key]


def _twiddles(log_n: int, inverse: bool) -> np.ndarray:
    """tw[h − 1 + j] = ω_{2h}^j for h = 1, 2, …, n/2 and 0 ≤ j < h (ω inverted if ``inverse``)."""
    return _memo(("tw", log_n, inverse), lambda: _build_twiddles(log_n, inverse))


def _build_twiddles(log_n: int, inverse: bool) -> np.ndarray:
    n = 1 << log_n
    w = root_of_unity(log_n)
    top = powers(pow(w, -1, R) if inverse else w, max(n // 2, 1))
    tw = np.empty((max(n - 1, 1), 4), dtype=np.uint64)
    h = 1
    while h < n:
        tw[h - 1 : 2 * h - 1] = top[:: n // (2 * h)]
        h *= 2
    return tw


def _coset_table(log_n: int, shift: int, inverse: bool) -> np.ndarray:
    """g^j for the forward coset transform; n⁻¹·g^(−j) for the inverse one."""
    return _memo(("coset", log_n, shift, inverse), lambda: _build_coset(log_n, shift, inverse))


def _build_coset(log_n: int, shift: int, inverse: bool) -> np.ndarray:
    n = 1 << log_n
    if not inverse:
        return powers(shift, n)
    return powers(pow(shift, -1, R), n, pow(n, -1, R))


def _prepare(a: np.ndarray, overwrite: bool) -> tuple[np.ndarray, int]:
    """The array to transform in place: ``a`` itself if ``overwrite`` and it is a writable
    C-contiguous uint64 array, else a copy."""
    usable = isinstance(a, np.ndarray) and a.dtype == np.uint64 and a.flags.c_contiguous
    if overwrite and usable and a.flags.writeable:
        arr = a
    else:
        arr = np.array(a, dtype=np.uint64, order="C", copy=True)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"expected an (n, 4) uint64 array of Fr elements, got shape {arr.shape}")
    return arr, _log2(arr.shape[0])


def ntt(a: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Evaluations of the polynomial with coefficients ``a`` on ⟨ω⟩, in natural order."""
    out, log_n = _prepare(a, overwrite)
    _transform(out, _twiddles(log_n, False), log_n)
    return out


def intt(a: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Coefficients of the polynomial whose evaluations on ⟨ω⟩ are ``a``."""
    out, log_n = _prepare(a, overwrite)
    _transform(out, _twiddles(log_n, True), log_n)
    _scale_by_const(out, pow(out.shape[0], -1, R))
    return out


def coset_ntt(a: np.ndarray, shift: int, *, overwrite: bool = False) -> np.ndarray:
    """Evaluations of the polynomial with coefficients ``a`` on the coset shift·⟨ω⟩."""
    out, log_n = _prepare(a, overwrite)
    _scale_by(out, _coset_table(log_n, shift % R, False))
    _transform(out, _twiddles(log_n, False), log_n)
    return out


def coset_intt(a: np.ndarray, shift: int, *, overwrite: bool = False) -> np.ndarray:
    """Coefficients of the polynomial whose evaluations on shift·⟨ω⟩ are ``a``."""
    out, log_n = _prepare(a, overwrite)
    _transform(out, _twiddles(log_n, True), log_n)
    _scale_by(out, _coset_table(log_n, shift % R, True))
    return out
