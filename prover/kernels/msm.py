"""Multi-scalar multiplication Σ sᵢ·Pᵢ on BN254 G1 and G2: Pippenger with batch-affine buckets.

Algorithm (Pippenger 1976; Bernstein et al. "Faster batch forgery identification", 2012, §4;
signed digits and batch-affine buckets as in gnark-crypto's and Aztec's MSMs):

1. Each scalar (canonical Fr, < 2^254) is written in W = ⌈255/c⌉ signed base-2^c digits
   dⱼ ∈ [−2^(c−1), 2^(c−1)], so s = Σⱼ dⱼ·2^(cj) and a window needs only 2^(c−1) buckets
   (−P costs a negation of y).
2. Per window j, points are counting-sorted by bucket |dⱼ| − 1 into one buffer (negated if dⱼ < 0).
   Each bucket's points are summed by a pairwise tree: every round adds the pairs
   (buf[2i], buf[2i+1]) of all buckets at once in affine coordinates with ONE shared inversion
   (``add_affine_indexed``: ~6 multiplications per addition instead of ~11 for a mixed Jacobian
   addition), until one point per bucket is left.
3. Window sum Σ_b (b + 1)·B_b by the running-sum trick (2 Jacobian additions per bucket), then
   Horner over windows: Σⱼ 2^(cj)·Wⱼ with c doublings per window.

Windows are independent; ``threads`` > 1 splits them between Python threads running the njit
kernels without the GIL (coarse-grained: no OpenMP spin-waiting on a loaded machine).
The window c defaults to ``window_size(n)`` (≈ log2 n − 3, tuned on this machine; see
benchmarks/kernels.py). Reference twins: ``reference.msm_g1_naive`` / ``msm_g2_naive``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from prover.kernels import g1, g2
from prover.kernels.convert import G1Int, G2Int, g1_to_ints, g2_to_ints
from prover.kernels.field import fq_is_zero, fq_neg, u4

SCALAR_BITS = 254


def window_size(n: int) -> int:
    """Pippenger window for n points (measured best ≈ log2(n) − 3, clamped to [2, 16])."""
    if n < 32:
        return 2 if n < 8 else 3
    return max(4, min(16, n.bit_length() - 4))


def num_windows(c: int) -> int:
    """Signed digits need one spare bit: ⌈(254 + 1)/c⌉ windows."""
    return (SCALAR_BITS + c) // c


@njit(cache=True, nogil=True)
def signed_digits(scalars, c, nwin):
    """(n, 4) canonical scalars → (nwin, n) int32 signed digits in [−2^(c−1), 2^(c−1)]."""
    n = scalars.shape[0]
    out = np.empty((nwin, n), dtype=np.int32)
    half = 1 << (c - 1)
    full = 1 << c
    mask = np.uint64(full - 1)
    for i in range(n):
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
    return out


@njit(cache=True, nogil=True)
def _bucket_sort(digits_w, nb, order, negs, starts, counts):
    """Counting sort of point indices by bucket |d| − 1 (d = 0 skipped); returns the total."""
    counts[:] = 0
    for i in range(digits_w.shape[0]):
        d = digits_w[i]
        if d != 0:
            counts[abs(d) - 1] += 1
    total = 0
    for b in range(nb):
        starts[b] = total
        total += counts[b]
    fill = starts.copy()
    for i in range(digits_w.shape[0]):
        d = digits_w[i]
        if d != 0:
            b = abs(d) - 1
            order[fill[b]] = i
            negs[fill[b]] = d < 0
            fill[b] += 1
    return total


@njit(cache=True, nogil=True)
def _gather(flat_bases, order, negs, m, flat_buf):
    """flat_buf[j] = ±bases[order[j]] on (n, L) limb views; −P negates each 4-limb group of y."""
    L = flat_bases.shape[1]
    half = L // 2
    for j in range(m):
        src = order[j]
        for k in range(L):
            flat_buf[j, k] = flat_bases[src, k]
        if negs[j]:
            for g in range(half, L, 4):
                y = (flat_buf[j, g], flat_buf[j, g + 1], flat_buf[j, g + 2], flat_buf[j, g + 3])
                if not fq_is_zero(y):
                    y = fq_neg(u4(y))
                for k in range(4):
                    flat_buf[j, g + k] = y[k]


@njit(cache=True, nogil=True)
def _plan_round(fsrc, fdst, starts, cnt, nb, idx):
    """One pairwise round: pairs (s+2i, s+2i+1) → s+i per bucket; odd leftovers are copied.

    Fills idx[0..2] with (ia, ib, iout), updates the counts, returns the number of pairs.
    """
    ia = idx[0]
    ib = idx[1]
    io = idx[2]
    m = 0
    for b in range(nb):
        k = cnt[b]
        if k == 0:
            continue
        s = starts[b]
        pairs = k // 2
        for i in range(pairs):
            ia[m] = s + 2 * i
            ib[m] = s + 2 * i + 1
            io[m] = s + i
            m += 1
        if k & 1:
            fdst[s + pairs, :] = fsrc[s + k - 1, :]
        cnt[b] = pairs + (k & 1)
    return m


@njit(cache=True, nogil=True)
def _window_sum_g1(buf, starts, counts, nb):
    """Σ_b (b + 1)·B_b by running sums, Jacobian."""
    running = g1.jac_inf()
    total = g1.jac_inf()
    for b in range(nb - 1, -1, -1):
        if counts[b] > 0:
            running = g1.jac_add_affine(running, g1.load_affine(buf, starts[b]))
        total = g1.jac_add(total, running)
    return total


@njit(cache=True, nogil=True)
def _window_sum_g2(buf, starts, counts, nb):
    running = g2.jac_inf()
    total = g2.jac_inf()
    for b in range(nb - 1, -1, -1):
        if counts[b] > 0:
            running = g2.jac_add_affine(running, g2.load_affine(buf, starts[b]))
        total = g2.jac_add(total, running)
    return total


# Per-curve drivers: numba does not cache functions that take other jitted functions as
# arguments, so the curve's kernels are named directly in two short twins.


@njit(cache=True, nogil=True)
def _run_windows_g1(bases, digits, w_lo, w_hi, nb, out_jac, work):
    """Window sums W_j for j in [w_lo, w_hi) into out_jac[j] (Jacobian)."""
    buf, tmp, scratch, idx, order, negs, starts, counts = work
    n = bases.shape[0]
    flat = (bases.reshape((n, 8)), buf.reshape((n, 8)), tmp.reshape((n, 8)))
    for w in range(w_lo, w_hi):
        m = _bucket_sort(digits[w], nb, order, negs, starts, counts)
        _gather(flat[0], order, negs, m, flat[1])
        cnt = counts.copy()
        src, dst, fsrc, fdst = buf, tmp, flat[1], flat[2]
        while True:
            pairs = _plan_round(fsrc, fdst, starts, cnt, nb, idx)
            if pairs == 0:
                break
            g1.add_affine_indexed(src, idx[0], src, idx[1], dst, idx[2], pairs, scratch)
            src, dst, fsrc, fdst = dst, src, fdst, fsrc
        g1.store_jac(out_jac, w, _window_sum_g1(src, starts, counts, nb))


@njit(cache=True, nogil=True)
def _run_windows_g2(bases, digits, w_lo, w_hi, nb, out_jac, work):
    """G2 twin of ``_run_windows_g1``."""
    buf, tmp, scratch, idx, order, negs, starts, counts = work
    n = bases.shape[0]
    flat = (bases.reshape((n, 16)), buf.reshape((n, 16)), tmp.reshape((n, 16)))
    for w in range(w_lo, w_hi):
        m = _bucket_sort(digits[w], nb, order, negs, starts, counts)
        _gather(flat[0], order, negs, m, flat[1])
        cnt = counts.copy()
        src, dst, fsrc, fdst = buf, tmp, flat[1], flat[2]
        while True:
            pairs = _plan_round(fsrc, fdst, starts, cnt, nb, idx)
            if pairs == 0:
                break
            g2.add_affine_indexed(src, idx[0], src, idx[1], dst, idx[2], pairs, scratch)
            src, dst, fsrc, fdst = dst, src, fdst, fsrc
        g2.store_jac(out_jac, w, _window_sum_g2(src, starts, counts, nb))


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
    return (
        np.empty_like(bases),
        np.empty_like(bases),
        np.empty((n, *scratch_shape), dtype=np.uint64),
        np.empty((3, max(n // 2, 1)), dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.bool_),
        np.empty(nb, dtype=np.int64),
        np.empty(nb, dtype=np.int64),
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
    digits = signed_digits(scalars, c, nwin)
    wins = np.empty((nwin, *jac_shape), dtype=np.uint64)
    threads = max(1, min(threads, nwin))
    bounds = [nwin * t // threads for t in range(threads + 1)]

    def run(t: int) -> None:
        work = _work(bases, nb, scratch_shape)
        lo, hi = bounds[t], bounds[t + 1]
        run_windows(bases, digits, lo, hi, nb, wins, work)

    if threads == 1:
        run(0)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, range(threads)))
    return horner(wins, c)


_G1 = (_run_windows_g1, _horner_g1, (4,), (3, 4))
_G2 = (_run_windows_g2, _horner_g2, (1, 2, 4), (3, 2, 4))


def msm_g1(
    bases: np.ndarray, scalars: np.ndarray, *, c: int | None = None, threads: int = 1
) -> G1Int:
    """Σ scalars[i]·bases[i] for (n, 2, 4) affine Montgomery bases and (n, 4) canonical scalars.

    Returns the affine result as Python ints, or None for the point at infinity. Infinity bases
    (all-zero rows) are allowed. Scalars must be reduced (< r); this is not checked here.
    """
    bases, scalars = _check(bases, scalars, (2, 4))
    res = _msm(bases, scalars, c, threads, _G1)
    if res is None:
        return None
    return g1_to_ints(np.array(res, dtype=np.uint64)[None])[0]


def msm_g2(
    bases: np.ndarray, scalars: np.ndarray, *, c: int | None = None, threads: int = 1
) -> G2Int:
    """Σ scalars[i]·bases[i] for (n, 2, 2, 4) affine bases → ((x0, x1), (y0, y1)) or None."""
    bases, scalars = _check(bases, scalars, (2, 2, 4))
    res = _msm(bases, scalars, c, threads, _G2)
    if res is None:
        return None
    return g2_to_ints(np.array(res, dtype=np.uint64)[None])[0]
