"""Multi-scalar multiplication Σ sᵢ·Pᵢ on BN254 G1 and G2: Pippenger with batch-affine buckets.

Algorithm (Pippenger 1976; Bernstein et al. "Faster batch forgery identification", 2012, §4;
signed digits and batch-affine buckets as in gnark-crypto's and Aztec's MSMs):

1. Each scalar (canonical Fr, < 2^254) is written in W = ⌈255/c⌉ signed base-2^c digits
   dⱼ ∈ [−2^(c−1), 2^(c−1)], so s = Σⱼ dⱼ·2^(cj) and a window needs only 2^(c−1) buckets
   (−P costs a negation of y).
2. Per window j, points are counting-sorted by bucket |dⱼ| − 1 into one buffer (negated if dⱼ < 0).
   Each bucket's points are summed by in-place halving: every round adds the pairs
   (s + i, s + h + i), h = ⌈k/2⌉, of all buckets at once in affine form with ONE shared inversion
   (``add_affine_indexed``: ~6 multiplications per addition instead of ~11 for a mixed Jacobian
   addition), until one point per bucket is left.
3. Window sum Σ_b (b + 1)·B_b by the running-sum trick, cut into K chains run in lockstep so
   that its additions are batch-affine too (see ``_window_sum_g1``); then Horner over windows:
   Σⱼ 2^(cj)·Wⱼ with c doublings per window.

Windows are independent: each is one task handed to the workers of :mod:`prover.threads` (Python
threads running the ``nogil`` kernels, each with its own bucket buffers), an idle worker taking the
next window, so a worker slowed by another process on its core takes fewer windows.
The window c defaults to ``window_size(n)`` (≈ log2 n − 3, tuned on this machine; see
benchmarks/kernels.py). Reference twins: ``reference.msm_g1_naive`` / ``msm_g2_naive``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.kernels import g1, g2, precompile
from prover.kernels.convert import G1Int, G2Int, g1_to_ints, g2_to_ints
from prover.kernels.field import fq_is_zero, fq_neg, u4
from prover.threads import PerThread, chunks, run_tasks, worker_count

SCALAR_BITS = 254


def default_threads() -> int:
    """Worker threads for the MSMs (``prover.threads.worker_count``: one per available core)."""
    return worker_count()


def window_size(n: int) -> int:
    """Pippenger window for n points (measured best ≈ log2(n) − 3, clamped to [2, 16])."""
    if n < 32:
        return 2 if n < 8 else 3
    return max(4, min(16, n.bit_length() - 4))


def num_windows(c: int) -> int:
    """Signed digits need one spare bit: ⌈(254 + 1)/c⌉ windows."""
    return (SCALAR_BITS + c) // c


@njit(cache=True, nogil=True)
def _digits_rows(scalars, c, out, lo, hi):
    """Columns lo..hi−1 of ``signed_digits``' output (scalars lo..hi−1) into ``out``."""
    nwin = out.shape[0]
    half = 1 << (c - 1)
    full = 1 << c
    mask = np.uint64(full - 1)
    for i in range(lo, hi):
        carry = 0
        for w in range(nwin):
            pos = w * c
            limb = pos >> 6
            off = pos & 63
            v = np.uint64(0)
            if limb < 4:
                v = scalars[i, limb] >> np.uint64(off)
                if off + c > 64 and limb + 1 < 4:
                    v |= scalars[i, limb + 1] << np.uint64(64 - off)
            d = np.int64(v & mask) + carry
            if d > half:
                d -= full
                carry = 1
            else:
                carry = 0
            out[w, i] = d


#: below this many scalars the digits are one task (a thread hand-off costs more than it saves)
DIGITS_SPLIT_FROM = 1 << 14


def signed_digits(scalars: np.ndarray, c: int, nwin: int, threads: int | None = None) -> np.ndarray:
    """(n, 4) canonical scalars → (nwin, n) int32 signed digits in [−2^(c−1), 2^(c−1)]: digit w
    of scalar i is its bits [wc, wc + c) plus the carry from digit w − 1, less 2^c (carry 1) when
    above 2^(c−1). Scalars are independent, so ranges of them go to the workers."""
    n = scalars.shape[0]
    out = np.empty((nwin, n), dtype=np.int32)
    parts = chunks(n, worker_count(threads)) if n >= DIGITS_SPLIT_FROM else [(0, n)]
    run_tasks(lambda b: _digits_rows(scalars, np.int64(c), out, np.int64(b[0]), np.int64(b[1])),
              parts, threads)  # fmt: skip
    return out


@njit(cache=True, nogil=True)
def _bucket_starts(digits_w, nb, starts, counts):
    """Bucket sizes (bucket |d| − 1, d = 0 skipped) and their starts in the window's buffer;
    returns the number of points placed."""
    n = digits_w.shape[0]
    for b in range(nb):  # not counts[:] = 0: that compiles numba's broadcasting
        counts[b] = 0
    for i in range(n):
        d = digits_w[i]
        if d != 0:
            counts[abs(d) - 1] += 1
    total = 0
    for b in range(nb):
        starts[b] = total
        total += counts[b]
    return total


@njit(cache=True, nogil=True)
def _scatter(flat_bases, digits_w, starts, fill, flat_buf):
    """The window's signed points into their buckets: P_i (digit d > 0) or −P_i (d < 0: y
    negated, infinity kept) at the next free row of bucket |d| − 1, bucket by bucket in order
    of i. The bases are read in order and the rows written where they go (a counting sort's
    scatter: reading the bases in bucket order would miss the cache on every point)."""
    n = flat_bases.shape[0]
    L = flat_buf.shape[1]
    for b in range(starts.shape[0]):
        fill[b] = starts[b]
    for i in range(n):
        d = digits_w[i]
        if d == 0:
            continue
        b = abs(d) - 1
        j = fill[b]
        fill[b] = j + 1
        if d > 0:
            for t in range(L):
                flat_buf[j, t] = flat_bases[i, t]
            continue
        for t in range(L // 2):
            flat_buf[j, t] = flat_bases[i, t]
        for g in range(L // 2, L, 4):
            y = (flat_bases[i, g], flat_bases[i, g + 1], flat_bases[i, g + 2], flat_bases[i, g + 3])
            if not fq_is_zero(y):
                y = fq_neg(u4(y))
            for k in range(4):
                flat_buf[j, g + k] = y[k]


@njit(cache=True, nogil=True)
def _plan_round(starts, cnt, nb, idx):
    """One halving round in place: bucket b holds k points at buf[s : s + k] (s = starts[b]);
    with h = ⌈k/2⌉ the pairs (s + i, s + h + i) for i < k − h are summed into buf[s + i] and the
    count becomes h. Fills idx with (ia, ib, iout) and returns the number of pairs.

    Each output slot s + i is read only by its own pair and no pair reads s + h + i's outputs,
    which is the aliasing ``add_affine_indexed`` allows with dst = a and iout = ia.
    """
    m = 0
    for b in range(nb):
        k = cnt[b]
        if k < 2:
            continue
        s = starts[b]
        h = (k + 1) // 2
        for i in range(k - h):
            idx[0, m] = s + i
            idx[1, m] = s + h + i
            idx[2, m] = s + i
            m += 1
        cnt[b] = h
    return m


def chain_split(nb: int) -> tuple[int, int]:
    """(K, L): the window sum runs K chains of L = nb / K buckets (K a power of 2 near √(4·nb))."""
    k = min(nb, 1 << ((nb.bit_length() + 2) // 2))
    return k, nb // k


@njit(cache=True, nogil=True)
def _plan_chain_step(starts, counts, K, L, t, inf_row, idx):
    """Step t of the chained window sum: chain k adds bucket kL + (L − 1 − t) to its run slot k
    (the empty bucket reads the infinity row), then adds run slot k to its total slot K + k."""
    for k in range(K):
        b = k * L + (L - 1 - t)
        idx[0, k] = k
        idx[1, k] = starts[b] if counts[b] > 0 else inf_row
        idx[2, k] = k
        idx[3, k] = K + k
        idx[4, k] = k
        idx[5, k] = K + k


# Window sum W = Σ_b (b + 1)·B_b. The buckets are cut into K chunks of L; chunk k runs the
# running-sum recurrence run_k += B_b, tot_k += run_k over its L buckets (highest first), all K
# chunks in lockstep so each step is one batch-affine addition of K pairs (one inversion).
# Then W = Σ_k tot_k + L·Σ_k k·run_k, the last sum again by running sums, in Jacobian form
# with full additions only (a few hundred per window: no separate mixed-addition kernel to
# compile for the prover, ~5 s of a cold start for G2).


@njit(cache=True, nogil=True)
def _window_sum_g1(buf, starts, counts, K, L, state, idx, scratch):
    state[:] = 0
    inf_row = buf.shape[0] - 1
    for t in range(L):
        _plan_chain_step(starts, counts, K, L, t, inf_row, idx)
        g1.add_affine_indexed(state, idx[0], buf, idx[1], state, idx[2], K, scratch)
        g1.add_affine_indexed(state, idx[3], state, idx[4], state, idx[5], K, scratch)
    running = g1.jac_inf()
    weighted = g1.jac_inf()
    for k in range(K - 1, 0, -1):
        running = g1.jac_add(running, g1.affine_to_jac(g1.load_affine(state, k)))
        weighted = g1.jac_add(weighted, running)
    step = L
    while step > 1:
        weighted = g1.jac_double(weighted)
        step >>= 1
    for k in range(K):
        weighted = g1.jac_add(weighted, g1.affine_to_jac(g1.load_affine(state, K + k)))
    return weighted


@njit(cache=True, nogil=True)
def _window_sum_g2(buf, starts, counts, K, L, state, idx, scratch):
    state[:] = 0
    inf_row = buf.shape[0] - 1
    for t in range(L):
        _plan_chain_step(starts, counts, K, L, t, inf_row, idx)
        g2.add_affine_indexed(state, idx[0], buf, idx[1], state, idx[2], K, scratch)
        g2.add_affine_indexed(state, idx[3], state, idx[4], state, idx[5], K, scratch)
    running = g2.jac_inf()
    weighted = g2.jac_inf()
    for k in range(K - 1, 0, -1):
        running = g2.jac_add(running, g2.affine_to_jac(g2.load_affine(state, k)))
        weighted = g2.jac_add(weighted, running)
    step = L
    while step > 1:
        weighted = g2.jac_double(weighted)
        step >>= 1
    for k in range(K):
        weighted = g2.jac_add(weighted, g2.affine_to_jac(g2.load_affine(state, K + k)))
    return weighted


# Per-curve drivers: numba does not cache functions that take other jitted functions as
# arguments, so the curve's kernels are named directly in two short twins.


@njit(cache=True, nogil=True)
def _run_windows_g1(flat_bases, digits, w_lo, w_hi, nb, out_jac, work):
    """Window sums W_j for j in [w_lo, w_hi) into out_jac[j] (Jacobian); flat_bases = the bases
    as rows of limbs (read-only), ``work`` the buffers of ``_work`` (flat views made in Python:
    a reshape in numba code compiles numba's reshape and its error-message string code, ~7 s
    cold)."""
    buf, flat_buf, scratch, idx, fill, starts, counts, cnt, state, K, L = work
    for w in range(w_lo, w_hi):
        _bucket_starts(digits[w], nb, starts, counts)
        _scatter(flat_bases, digits[w], starts, fill, flat_buf)
        for b in range(nb):  # not cnt[:] = counts: that compiles numba's broadcasting (~4 s cold)
            cnt[b] = counts[b]
        while True:
            m = _plan_round(starts, cnt, nb, idx)
            if m == 0:
                break
            g1.add_affine_indexed(buf, idx[0], buf, idx[1], buf, idx[2], m, scratch)
        total = _window_sum_g1(buf, starts, counts, K, L, state, idx, scratch)
        g1.store_jac(out_jac, w, total)


@njit(cache=True, nogil=True)
def _run_windows_g2(flat_bases, digits, w_lo, w_hi, nb, out_jac, work):
    """G2 twin of ``_run_windows_g1``."""
    buf, flat_buf, scratch, idx, fill, starts, counts, cnt, state, K, L = work
    for w in range(w_lo, w_hi):
        _bucket_starts(digits[w], nb, starts, counts)
        _scatter(flat_bases, digits[w], starts, fill, flat_buf)
        for b in range(nb):  # not cnt[:] = counts: that compiles numba's broadcasting (~4 s cold)
            cnt[b] = counts[b]
        while True:
            m = _plan_round(starts, cnt, nb, idx)
            if m == 0:
                break
            g2.add_affine_indexed(buf, idx[0], buf, idx[1], buf, idx[2], m, scratch)
        total = _window_sum_g2(buf, starts, counts, K, L, state, idx, scratch)
        g2.store_jac(out_jac, w, total)


@njit(cache=True)
def _horner_g1(wins, c):
    acc = g1.jac_inf()
    for w in range(wins.shape[0] - 1, -1, -1):
        for _ in range(c):
            acc = g1.jac_double(acc)
        acc = g1.jac_add(acc, g1.load_jac(wins, w))
    return g1.jac_to_affine(acc)


@njit(cache=True)
def _horner_g2(wins, c):
    acc = g2.jac_inf()
    for w in range(wins.shape[0] - 1, -1, -1):
        for _ in range(c):
            acc = g2.jac_double(acc)
        acc = g2.jac_add(acc, g2.load_jac(wins, w))
    return g2.jac_to_affine(acc)


def _work(bases: np.ndarray, nb: int, scratch_shape: tuple[int, ...]):
    n = bases.shape[0]
    K, L = chain_split(nb)
    buf = np.zeros((n + 1, *bases.shape[1:]), dtype=np.uint64)  # the last row stays infinity
    return (
        buf,
        buf.reshape(n + 1, -1),
        np.empty((max(n, K), *scratch_shape), dtype=np.uint64),
        np.empty((6, max(n // 2, K)), dtype=np.int64),
        np.empty(nb, dtype=np.int64),
        np.empty(nb, dtype=np.int64),
        np.empty(nb, dtype=np.int64),
        np.empty(nb, dtype=np.int64),
        np.zeros((2 * K, *bases.shape[1:]), dtype=np.uint64),
        K,
        L,
    )


def _check(bases: np.ndarray, scalars: np.ndarray, point_shape: tuple[int, ...]) -> tuple:
    bases = np.ascontiguousarray(bases, dtype=np.uint64)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    if bases.shape[1:] != point_shape or bases.ndim != 1 + len(point_shape):
        raise ValueError(f"bases must have shape (n, {', '.join(map(str, point_shape))})")
    if scalars.ndim != 2 or scalars.shape[1] != 4:
        raise ValueError("scalars must have shape (n, 4)")
    if scalars.shape[0] != bases.shape[0]:
        raise ValueError(f"{bases.shape[0]} bases but {scalars.shape[0]} scalars")
    return bases, scalars


def _msm(bases, scalars, c, threads, curve):
    run_windows, horner, scratch_shape, jac_shape = curve
    n = bases.shape[0]
    if n == 0:
        return None
    c = window_size(n) if c is None else c
    nwin = num_windows(c)
    nb = 1 << (c - 1)
    digits = signed_digits(scalars, c, nwin, threads)
    flat_bases = bases.reshape(n, -1).view()
    flat_bases.flags.writeable = False  # one specialisation: mapped keys and built arrays alike
    wins = np.empty((nwin, *jac_shape), dtype=np.uint64)
    work = PerThread(lambda: _work(bases, nb, scratch_shape))

    def run(w: int) -> None:
        run_windows(flat_bases, digits, w, w + 1, nb, wins, work.get())

    run_tasks(run, range(nwin), threads)
    return horner(wins, c)


_G1 = (_run_windows_g1, _horner_g1, (4,), (3, 4))
_G2 = (_run_windows_g2, _horner_g2, (1, 2, 4), (3, 2, 4))


def msm_g1(
    bases: np.ndarray, scalars: np.ndarray, *, c: int | None = None, threads: int | None = None
) -> G1Int:
    """Σ scalars[i]·bases[i] for (n, 2, 4) affine Montgomery bases and (n, 4) canonical scalars.

    Returns the affine result as Python ints, or None for the point at infinity. Infinity bases
    (all-zero rows) are allowed. Scalars must be reduced (< r); this is not checked here.
    ``c`` overrides the window (default ``window_size(n)``); ``threads`` workers share the windows
    (default ``prover.threads.worker_count()``).
    """
    bases, scalars = _check(bases, scalars, (2, 4))
    res = _msm(bases, scalars, c, threads, _G1)
    if res is None:
        return None
    return g1_to_ints(np.array(res, dtype=np.uint64)[None])[0]


def msm_g2(
    bases: np.ndarray, scalars: np.ndarray, *, c: int | None = None, threads: int | None = None
) -> G2Int:
    """Σ scalars[i]·bases[i] for (n, 2, 2, 4) affine bases → ((x0, x1), (y0, y1)) or None."""
    bases, scalars = _check(bases, scalars, (2, 2, 4))
    precompile.wait("prove")  # a cold cache: the kernels are being compiled in another process
    res = _msm(bases, scalars, c, threads, _G2)
    if res is None:
        return None
    return g2_to_ints(np.array(res, dtype=np.uint64)[None])[0]
