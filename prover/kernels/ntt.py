"""Number-theoretic transform over BN254 Fr in numba: radix-2, in place, one twiddle table.

The transform of a length-n = 2^k vector:

    NTT(a)_k = Σ_j a_j · ω^(j·k),      INTT(A)_j = n⁻¹ · Σ_k A_k · ω^(−j·k),

with ω = ``prover.fields.root_of_unity(k)`` = 5^((r−1)/2^k), the root ffjavascript / snarkjs use.
Decimation in time (Cooley–Tukey 1965) takes bit-reversed input to natural output, each stage
with half-size h applying (u, v) ← (u + w·v, u − w·v); decimation in frequency (Gentleman and
Sande 1966) takes natural input to bit-reversed output with (u, v) ← (u + v, (u − v)·w); here
w = ω_{2h}^j.  Both read w from one table ``top[i] = ω^i``, i < n/2, at the stride n/(2h); the
inverse direction uses ω_{2h}^(−j) = −ω_{2h}^(h − j), so the same table serves it.

``ntt`` / ``intt`` bit-reverse, then run DIT.  The coset transforms evaluate on g·⟨ω⟩:
``coset_ntt(a, g) = NTT(a_j · g^j)`` and ``coset_intt(A, g)_j = n⁻¹ g^(−j) · INTT'(A)_j`` with
the two scalings fused into one precomputed table.  ``coset_evaluations(A, g)`` =
``coset_ntt(intt(A), g)``, the prover's step, runs the inverse as DIF and the forward as DIT,
with the scaling between them read from a table in bit-reversed order: no bit reversal at all.

From 2^14 up the stages are cut into tasks for the workers of :mod:`prover.threads`: the k − 3
stages with h < n/8 act on eight blocks independently (one task per block), and each of the
other three stages splits its butterflies into eight tasks; idle workers pull the next task, so
a worker slowed by another process on its core does fewer.

Arrays are ``(n, 4) uint64`` Fr elements in Montgomery form (see :mod:`prover.kernels.field`);
every function returns a new array, unless ``overwrite=True`` lets it transform its input's
memory in place (then returned; a caller that no longer needs the input saves a copy).
Tables are built per call, or once per (size, root) inside ``tables()`` (a prove's six transforms
share them; they are dropped before its MSMs). Kernels release the GIL (``nogil``) so callers
may run independent transforms in threads.  Reference twin: :mod:`prover.kernels.ntt_reference`.
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


@njit(cache=True, nogil=True, inline="always")
def _add_sub(a, s, t):
    """The butterfly whose twiddle is 1: (a[s], a[t]) ← (a[s] + a[t], a[s] − a[t])."""
    u = load(a, s)
    v = load(a, t)
    store(a, s, fr_add(u, v))
    store(a, t, fr_sub(u, v))


@njit(cache=True, nogil=True)
def _stages(a, top, h_end, inverse):
    """Decimation-in-time stages h = 1, 2, 4, … < h_end on a (bit-reversed order in, natural
    order out): (u, v) ← (u + w·v, u − w·v) with w = ω_{2h}^j = top[j·N/(2h)], or for the
    inverse w = ω_{2h}^(−j) = −top[(h − j)·N/(2h)] (``_twiddles``)."""
    n = a.shape[0]
    half = top.shape[0]
    for s in range(0, n, 2):  # h = 1: the twiddle is 1
        _add_sub(a, s, s + 1)
    h = 2
    while h < h_end:
        stride = half // h
        for s in range(0, n, 2 * h):
            _add_sub(a, s, s + h)
            for j in range(1, h):
                u = load(a, s + j)
                if inverse:
                    v = fr_mul(load(a, s + j + h), load(top, (h - j) * stride))
                    store(a, s + j, fr_sub(u, v))
                    store(a, s + j + h, fr_add(u, v))
                else:
                    v = fr_mul(load(a, s + j + h), load(top, j * stride))
                    store(a, s + j, fr_add(u, v))
                    store(a, s + j + h, fr_sub(u, v))
        h *= 2


@njit(cache=True, nogil=True)
def _stage(a, top, h, t_lo, t_hi, inverse):
    """Decimation-in-time butterflies t_lo ≤ t < t_hi of the stage with half-size h
    (t = block·h + j)."""
    stride = top.shape[0] // h
    for t in range(t_lo, t_hi):
        j = t % h
        s = (t - j) * 2 + j
        u = load(a, s)
        if inverse and j:
            v = fr_mul(load(a, s + h), load(top, (h - j) * stride))
            store(a, s, fr_sub(u, v))
            store(a, s + h, fr_add(u, v))
        else:
            v = fr_mul(load(a, s + h), load(top, j * stride))
            store(a, s, fr_add(u, v))
            store(a, s + h, fr_sub(u, v))


@njit(cache=True, nogil=True)
def _stages_dif(a, top, h_start, inverse):
    """Decimation-in-frequency stages h = h_start, h_start/2, …, 1 on a (Gentleman and Sande
    1966): (u, v) ← (u + v, (u − v)·w), w as in ``_stages`` — for the inverse
    (u − v)·ω_{2h}^(−j) = (v − u)·top[(h − j)·N/(2h)]; natural order in, bit-reversed order
    out (the mirror of ``_stages``, so neither needs a bit reversal)."""
    n = a.shape[0]
    half = top.shape[0]
    h = h_start
    while h > 1:
        stride = half // h
        for s in range(0, n, 2 * h):
            _add_sub(a, s, s + h)
            for j in range(1, h):
                u = load(a, s + j)
                v = load(a, s + j + h)
                store(a, s + j, fr_add(u, v))
                if inverse:
                    w = fr_mul(fr_sub(v, u), load(top, (h - j) * stride))
                else:
                    w = fr_mul(fr_sub(u, v), load(top, j * stride))
                store(a, s + j + h, w)
        h //= 2
    if h == 1:  # the twiddle is 1
        for s in range(0, n, 2):
            _add_sub(a, s, s + 1)


@njit(cache=True, nogil=True)
def _stage_dif(a, top, h, t_lo, t_hi, inverse):
    """Decimation-in-frequency butterflies t_lo ≤ t < t_hi of the stage with half-size h."""
    stride = top.shape[0] // h
    for t in range(t_lo, t_hi):
        j = t % h
        s = (t - j) * 2 + j
        u = load(a, s)
        v = load(a, s + h)
        store(a, s, fr_add(u, v))
        if inverse and j:
            store(a, s + h, fr_mul(fr_sub(v, u), load(top, (h - j) * stride)))
        else:
            store(a, s + h, fr_mul(fr_sub(u, v), load(top, j * stride)))


def _dit(a: np.ndarray, top: np.ndarray, inverse: bool) -> None:
    """The DIT stages on a in bit-reversed order (natural order out); from 2^_THREADED_FROM as
    tasks: the first k − _SPLIT stages on 2^_SPLIT independent blocks, then each remaining
    stage's n/2 butterflies in 2^_SPLIT pieces (a stage waits for the last)."""
    n = a.shape[0]
    if n < 1 << _THREADED_FROM:
        if n > 1:
            _stages(a, top, n, inverse)
        return
    block = n >> _SPLIT
    run_tasks(lambda lo: _stages(a[lo : lo + block], top, block, inverse), range(0, n, block))
    h = block
    while h < n:
        run_tasks(lambda b, h=h: _stage(a, top, h, b[0], b[1], inverse),
                  chunks(n // 2, 1 << _SPLIT))  # fmt: skip
        h *= 2


def _dif(a: np.ndarray, top: np.ndarray, inverse: bool) -> None:
    """The DIF stages on a in natural order (bit-reversed order out); from 2^_THREADED_FROM as
    tasks: the first _SPLIT stages' butterflies in 2^_SPLIT pieces, then the rest on 2^_SPLIT
    independent blocks."""
    n = a.shape[0]
    if n < 1 << _THREADED_FROM:
        _stages_dif(a, top, n // 2, inverse)
        return
    block = n >> _SPLIT
    h = n // 2
    while h >= block:
        run_tasks(lambda b, h=h: _stage_dif(a, top, h, b[0], b[1], inverse),
                  chunks(n // 2, 1 << _SPLIT))  # fmt: skip
        h //= 2
    run_tasks(lambda lo: _stages_dif(a[lo : lo + block], top, block // 2, inverse),
              range(0, n, block))  # fmt: skip


def _transform(a: np.ndarray, log_n: int, inverse: bool) -> None:
    """NTT (ω) or, if ``inverse``, the unscaled inverse (ω⁻¹) of a in place: bit reversal,
    then the DIT stages."""
    if a.shape[0] > 1:
        _bit_reverse(a, log_n)
        _dit(a, _twiddles(log_n), inverse)


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


def _twiddles(log_n: int) -> np.ndarray:
    """top[i] = ω^i for i < N/2 (ω = ω_N, N = 2^log_n): stage h reads ω_{2h}^j = top[j·N/(2h)],
    and the inverse transforms ω_{2h}^(−j) = −ω_{2h}^(h − j) (as ω_{2h}^h = −1), so one table of
    N/2 elements serves every stage of both directions."""
    return _memo(("tw", log_n), lambda: powers(root_of_unity(log_n), max((1 << log_n) // 2, 1)))


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
    _transform(out, log_n, False)
    return out


def intt(a: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Coefficients of the polynomial whose evaluations on ⟨ω⟩ are ``a``."""
    out, log_n = _prepare(a, overwrite)
    _transform(out, log_n, True)
    _scale_by_const(out, pow(out.shape[0], -1, R))
    return out


def coset_ntt(a: np.ndarray, shift: int, *, overwrite: bool = False) -> np.ndarray:
    """Evaluations of the polynomial with coefficients ``a`` on the coset shift·⟨ω⟩."""
    out, log_n = _prepare(a, overwrite)
    _scale_by(out, _coset_table(log_n, shift % R, False))
    _transform(out, log_n, False)
    return out


def coset_evaluations(a: np.ndarray, shift: int, *, overwrite: bool = False) -> np.ndarray:
    """Evaluations on the coset shift·⟨ω⟩ of the polynomial whose evaluations on ⟨ω⟩ are ``a``:
    ``coset_ntt(intt(a), shift)`` without a bit reversal.  The inverse runs decimation in
    frequency, leaving n·c_rev(i) at position i; one pass multiplies position i by
    n⁻¹·shift^rev(i) (a table in bit-reversed order, so n⁻¹ and the coset cost one product);
    the forward transform runs decimation in time from that bit-reversed order."""
    out, log_n = _prepare(a, overwrite)
    top = _twiddles(log_n)
    _dif(out, top, True)
    _scale_by(out, _reversed_coset_table(log_n, shift % R))
    _dit(out, top, False)
    return out


def _reversed_coset_table(log_n: int, shift: int) -> np.ndarray:
    """t[i] = n⁻¹·shift^rev(i), rev reversing the log_n low bits of i."""

    def build() -> np.ndarray:
        t = powers(shift, 1 << log_n, pow(1 << log_n, -1, R))
        _bit_reverse(t, log_n)
        return t

    return _memo(("coset_rev", log_n, shift), build)


def coset_intt(a: np.ndarray, shift: int, *, overwrite: bool = False) -> np.ndarray:
    """Coefficients of the polynomial whose evaluations on shift·⟨ω⟩ are ``a``."""
    out, log_n = _prepare(a, overwrite)
    _transform(out, log_n, True)
    _scale_by(out, _coset_table(log_n, shift % R, True))
    return out
