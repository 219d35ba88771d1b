"""Multi-scalar multiplication Σ sᵢ·Pᵢ on BN254 G1 and G2: Pippenger with batch-affine buckets.

Algorithm (Pippenger 1976; Bernstein et al. "Faster batch forgery identification", 2012, §4;
signed digits and batch-affine buckets as in gnark-crypto's and Aztec's MSMs):

1. Each scalar (canonical Fr, < 2^254) is written in W = ⌈255/c⌉ signed base-2^c digits
   dⱼ ∈ [−2^(c−1), 2^(c−1)], so s = Σⱼ dⱼ·2^(cj) and a window needs only 2^(c−1) buckets
   (−P costs a negation of y). One pass keeps only the carries (a bit per window and term,
   ``_carry_rows``); each window's digits are rebuilt from them as it runs (``_window_digits``).
2. Per window j, points are counting-sorted by bucket |dⱼ| − 1 into one buffer (negated if dⱼ < 0).
   Each bucket's points are summed by in-place halving: every round adds the pairs
   (s + i, s + h + i), h = ⌈k/2⌉, of all buckets at once in affine form with ONE shared inversion
   (``add_affine_indexed``: ~6 multiplications per addition instead of ~11 for a mixed Jacobian
   addition), until one point per bucket is left. Past ``msm_work.CHUNK_TERMS`` terms this runs
   chunk by chunk, each bucket's point carried into the next chunk, which bounds the buffer.
3. Window sum Σ_b (b + 1)·B_b by the running-sum trick, cut into K chains run in lockstep so
   that its additions are batch-affine too (see ``_window_sum_g1``); then Horner over windows:
   Σⱼ 2^(cj)·Wⱼ with c doublings per window.

The terms are up to three segments of (bases, scalars), read where they lie (a mapped key's
sections, the witness), the first optionally through ``rows``: the prover concatenates nothing.
Windows are independent: each is one task handed to the workers of :mod:`prover.threads` (Python
threads running the ``nogil`` kernels), an idle worker taking the next, so a worker slowed by
another process on its core takes fewer; the windows left over after even rounds are cut into one
term range per worker (``msm_work.tasks``). A task takes a scratch block from a pool, which
``msm_work.workspace()`` keeps across a prove's MSMs. The window c defaults to
``window_size(n)`` (≈ log2 n − 3, tuned on this machine; see benchmarks/kernels.py).
Reference twins: ``reference.msm_g1_naive`` / ``msm_g2_naive``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.kernels import g1, g2, msm_work, precompile
from prover.kernels.convert import G1Int, G2Int, g1_to_ints, g2_to_ints
from prover.kernels.field import fq_is_zero, fq_neg, u4
from prover.threads import chunks, run_tasks, worker_count

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


def signed_digits(scalars: np.ndarray, c: int, nwin: int, threads: int | None = None) -> np.ndarray:
    """(n, 4) canonical scalars → (nwin, n) int32 signed digits in [−2^(c−1), 2^(c−1)]: digit w
    of scalar i is its bits [wc, wc + c) plus the carry from digit w − 1, less 2^c (carry 1) when
    above 2^(c−1). Scalars are independent, so ranges of them go to the workers."""
    n = scalars.shape[0]
    out = np.empty((nwin, n), dtype=np.int32)
    parts = chunks(n, worker_count(threads)) if n >= msm_work.DIGITS_SPLIT_FROM else [(0, n)]
    run_tasks(lambda b: _digits_rows(scalars, np.int64(c), out, np.int64(b[0]), np.int64(b[1])),
              parts, threads)  # fmt: skip
    return out


@njit(cache=True, nogil=True, inline="always")  # inlined: called in the per-term loops
def _span(k, lo, hi, n0, n1):
    """Terms [lo, hi) that fall in segment k, as [a, b), and segment k's first term: the first
    n0 terms are segment 0, the next n1 segment 1, the rest segment 2."""
    first = 0 if k == 0 else (n0 if k == 1 else n0 + n1)
    end = n0 if k == 0 else (n0 + n1 if k == 1 else hi)
    return max(lo, first), min(hi, end), first


@njit(cache=True, nogil=True)
def _carry_rows(scal, c, carries, lo, hi):
    """Terms lo..hi−1: bit w of carries[i, w // 64] is the carry into window w of term i's
    signed digits (``signed_digits``' recoding: a digit above 2^(c−1) becomes d − 2^c, carry 1).
    Term i of segment 0 is scalar rows0[i] when ``use_rows``; segments 1 and 2 are read whole.
    (Written out like ``_digits_rows``: with the bit extraction in a helper it ran 3× slower.)"""
    s0, s1, s2, rows0, use_rows = scal
    n0 = rows0.shape[0] if use_rows else s0.shape[0]
    nwin = (SCALAR_BITS + c) // c
    half = 1 << (c - 1)
    mask = np.uint64((1 << c) - 1)
    for k in range(3):
        a, b, first = _span(k, lo, hi, n0, s1.shape[0])
        s = s0 if k == 0 else (s1 if k == 1 else s2)
        gather = use_rows and k == 0
        for i in range(a, b):
            r = rows0[i] if gather else i - first
            low = np.uint64(0)  # carries into windows 0..63
            high = np.uint64(0)  # and 64..127 (c < 4)
            carry = 0
            for w in range(nwin - 1):
                pos = w * c
                limb = pos >> 6
                off = pos & 63
                v = np.uint64(0)
                if limb < 4:
                    v = s[r, limb] >> np.uint64(off)
                    if off + c > 64 and limb + 1 < 4:
                        v |= s[r, limb + 1] << np.uint64(64 - off)
                carry = 1 if np.int64(v & mask) + carry > half else 0
                if w < 63:
                    low |= np.uint64(carry) << np.uint64(w + 1)
                else:
                    high |= np.uint64(carry) << np.uint64(w - 63)
            carries[i, 0] = low
            if carries.shape[1] > 1:
                carries[i, 1] = high


@njit(cache=True, nogil=True)
def _window_digits(scal, carries, w, c, lo, hi, out):
    """Digit w of terms lo..hi−1 (into out[0 : hi − lo]) of the signed recoding: bits [wc, wc + c)
    + carry in − 2^c·carry out, in [−2^(c−1), 2^(c−1)] (``signed_digits``' digits, one window
    at a time)."""
    s0, s1, s2, rows0, use_rows = scal
    n0 = rows0.shape[0] if use_rows else s0.shape[0]
    pos = w * c
    limb = pos >> 6
    off = np.uint64(pos & 63)
    spill = (pos & 63) + c > 64 and limb + 1 < 4  # the window reaches into the next limb
    back = np.uint64(64 - (pos & 63))
    mask = np.uint64((1 << c) - 1)
    full = np.int64(1 << c)
    cin_word, cin_bit = w >> 6, np.uint64(w & 63)
    has_out = w + 1 < (SCALAR_BITS + c) // c
    cout_word, cout_bit = (w + 1) >> 6, np.uint64((w + 1) & 63)
    for k in range(3):
        a, b, first = _span(k, lo, hi, n0, s1.shape[0])
        s = s0 if k == 0 else (s1 if k == 1 else s2)
        gather = use_rows and k == 0
        for i in range(a, b):
            r = rows0[i] if gather else i - first
            v = np.uint64(0)
            if limb < 4:
                v = s[r, limb] >> off
                if spill:
                    v |= s[r, limb + 1] << back
            d = np.int64(v & mask) + np.int64((carries[i, cin_word] >> cin_bit) & np.uint64(1))
            if has_out and (carries[i, cout_word] >> cout_bit) & np.uint64(1):
                d -= full
            out[i - lo] = d


@njit(cache=True, nogil=True)
def _bucket_starts(digits_w, k, nb, starts, counts, has_acc):
    """Bucket sizes for digits_w[0 : k] (bucket |d| − 1, d = 0 skipped) plus each bucket's point
    carried over from the window's earlier chunks (has_acc), and their starts in the buffer;
    returns the number of points placed."""
    for b in range(nb):  # not counts[:] = has_acc: that compiles numba's broadcasting
        counts[b] = has_acc[b]
    for i in range(k):
        d = digits_w[i]
        if d != 0:
            counts[abs(d) - 1] += 1
    total = 0
    for b in range(nb):
        starts[b] = total
        total += counts[b]
    return total


@njit(cache=True, nogil=True)
def _scatter(src, digits_w, k, off, starts, fill, flat_buf, acc, has_acc):
    """Terms off..off + k − 1 into their buckets, after each bucket's carried-over point acc[b]:
    P_i (digit d > 0) or −P_i (d < 0: y negated, infinity kept) at the next free row of bucket
    |d| − 1, in order of i. ``src`` = (bases of segments 0, 1, 2 as rows of limbs, rows0,
    use_rows), term i of segment 0 being base rows0[i] when ``use_rows``. The bases are read in
    order and the rows written where they go (a counting sort's scatter: reading the bases in
    bucket order would miss the cache on every point)."""
    f0, f1, f2, rows0, use_rows = src
    n0 = rows0.shape[0] if use_rows else f0.shape[0]
    L = flat_buf.shape[1]
    for b in range(starts.shape[0]):
        fill[b] = starts[b]
        if has_acc[b]:
            for t in range(L):
                flat_buf[fill[b], t] = acc[b, t]
            fill[b] += 1
    for seg in range(3):
        lo, hi, first = _span(seg, off, off + k, n0, f1.shape[0])
        f = f0 if seg == 0 else (f1 if seg == 1 else f2)
        gather = use_rows and seg == 0
        for i in range(lo, hi):
            d = digits_w[i - off]
            if d == 0:
                continue
            r = rows0[i] if gather else i - first
            b = abs(d) - 1
            j = fill[b]
            fill[b] = j + 1
            if d > 0:
                for t in range(L):
                    flat_buf[j, t] = f[r, t]
                continue
            for t in range(L // 2):
                flat_buf[j, t] = f[r, t]
            for g in range(L // 2, L, 4):
                y = (f[r, g], f[r, g + 1], f[r, g + 2], f[r, g + 3])
                if not fq_is_zero(y):
                    y = fq_neg(u4(y))
                for q in range(4):
                    flat_buf[j, g + q] = y[q]


@njit(cache=True, nogil=True)
def _carry_over(flat_buf, starts, counts, acc, has_acc):
    """After a chunk's halving every non-empty bucket holds one point at its start: keep them
    for the window's next chunk."""
    for b in range(starts.shape[0]):
        if counts[b] > 0:
            for t in range(flat_buf.shape[1]):
                acc[b, t] = flat_buf[starts[b], t]
            has_acc[b] = 1


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
def _window_task_g1(src, scal, carries, c, w, t_lo, t_hi, nb, out_jac, slot, work):
    """The sum of window w over terms t_lo..t_hi − 1 into out_jac[slot] (Jacobian): one task of
    ``msm_work.tasks``. ``src`` and ``scal`` locate each term's base and scalar (``_scatter``,
    ``_window_digits``), ``carries`` its signed-digit carries; ``work`` is
    ``msm_work.carve``'s views (made in Python: a reshape in numba code compiles numba's
    reshape and its error-message string code, ~7 s cold)."""
    (
        buf,
        flat_buf,
        scratch,
        idx,
        chain_idx,
        digits,
        acc,
        fill,
        starts,
        counts,
        cnt,
        has_acc,
        state,
        K,
        L,
        m,
    ) = work
    for b in range(nb):
        has_acc[b] = 0
    for lo in range(t_lo, t_hi, m):  # in chunks of m terms, each bucket carried to the next
        hi = min(t_hi, lo + m)
        _window_digits(scal, carries, w, c, lo, hi, digits)
        _bucket_starts(digits, hi - lo, nb, starts, counts, has_acc)
        _scatter(src, digits, hi - lo, lo, starts, fill, flat_buf, acc, has_acc)
        for b in range(nb):  # not cnt[:] = counts: that compiles numba's broadcasting
            cnt[b] = counts[b]
        while True:
            p = _plan_round(starts, cnt, nb, idx)
            if p == 0:
                break
            g1.add_affine_indexed(buf, idx[0], buf, idx[1], buf, idx[2], p, scratch)
        if hi < t_hi:
            _carry_over(flat_buf, starts, counts, acc, has_acc)
    total = _window_sum_g1(buf, starts, counts, K, L, state, chain_idx, scratch)
    g1.store_jac(out_jac, slot, total)


@njit(cache=True, nogil=True)
def _window_task_g2(src, scal, carries, c, w, t_lo, t_hi, nb, out_jac, slot, work):
    """G2 twin of ``_window_task_g1``."""
    (
        buf,
        flat_buf,
        scratch,
        idx,
        chain_idx,
        digits,
        acc,
        fill,
        starts,
        counts,
        cnt,
        has_acc,
        state,
        K,
        L,
        m,
    ) = work
    for b in range(nb):
        has_acc[b] = 0
    for lo in range(t_lo, t_hi, m):  # in chunks of m terms, each bucket carried to the next
        hi = min(t_hi, lo + m)
        _window_digits(scal, carries, w, c, lo, hi, digits)
        _bucket_starts(digits, hi - lo, nb, starts, counts, has_acc)
        _scatter(src, digits, hi - lo, lo, starts, fill, flat_buf, acc, has_acc)
        for b in range(nb):  # not cnt[:] = counts: that compiles numba's broadcasting
            cnt[b] = counts[b]
        while True:
            p = _plan_round(starts, cnt, nb, idx)
            if p == 0:
                break
            g2.add_affine_indexed(buf, idx[0], buf, idx[1], buf, idx[2], p, scratch)
        if hi < t_hi:
            _carry_over(flat_buf, starts, counts, acc, has_acc)
    total = _window_sum_g2(buf, starts, counts, K, L, state, chain_idx, scratch)
    g2.store_jac(out_jac, slot, total)


@njit(cache=True)
def _horner_g1(parts, owner, nwin, c):
    """Σ_w 2^(cw)·W_w, W_w the sum of the parts whose owner is w, by Horner from the top."""
    acc = g1.jac_inf()
    for w in range(nwin - 1, -1, -1):
        for _ in range(c):
            acc = g1.jac_double(acc)
        for t in range(parts.shape[0]):
            if owner[t] == w:
                acc = g1.jac_add(acc, g1.load_jac(parts, t))
    return g1.jac_to_affine(acc)


@njit(cache=True)
def _horner_g2(parts, owner, nwin, c):
    """Σ_w 2^(cw)·W_w, W_w the sum of the parts whose owner is w, by Horner from the top."""
    acc = g2.jac_inf()
    for w in range(nwin - 1, -1, -1):
        for _ in range(c):
            acc = g2.jac_double(acc)
        for t in range(parts.shape[0]):
            if owner[t] == w:
                acc = g2.jac_add(acc, g2.load_jac(parts, t))
    return g2.jac_to_affine(acc)


def _msm(bases, scalars, rows, c, threads, curve):
    window_task, horner, point_shape, pair_shape, jac_shape = curve
    src, scal, n = msm_work.segments(bases, scalars, rows, point_shape)
    if n == 0:
        return None
    c = window_size(n) if c is None else c
    nwin = num_windows(c)
    nb = 1 << (c - 1)
    carries = np.empty((n, (nwin + 63) // 64), dtype=np.uint64)
    parts = chunks(n, worker_count(threads)) if n >= msm_work.DIGITS_SPLIT_FROM else [(0, n)]
    run_tasks(lambda b: _carry_rows(scal, np.int64(c), carries, np.int64(b[0]), np.int64(b[1])),
              parts, threads)  # fmt: skip
    tasks = msm_work.tasks(nwin, n, worker_count(threads))
    parts_out = np.empty((len(tasks), *jac_shape), dtype=np.uint64)
    owner = np.array([w for w, _, _ in tasks], dtype=np.int64)
    pool = msm_work.active_pool()
    m = msm_work.chunk_terms(n)
    words = msm_work.layout(n, m, nb, int(np.prod(point_shape)), int(np.prod(pair_shape)))[1]

    def run(slot: int) -> None:
        w, lo, hi = tasks[slot]
        block = pool.take(words)
        try:
            work = msm_work.carve(block, n, m, nb, point_shape, pair_shape)
            window_task(src, scal, carries, np.int64(c), w, lo, hi, nb, parts_out, slot, work)
        finally:
            pool.give(block)

    run_tasks(run, range(len(tasks)), threads)
    return horner(parts_out, owner, nwin, c)


_G1 = (_window_task_g1, _horner_g1, (2, 4), (4,), (3, 4))
_G2 = (_window_task_g2, _horner_g2, (2, 2, 4), (1, 2, 4), (3, 2, 4))

#: bases / scalars: one array, or a tuple of up to three segments summed as if concatenated
Terms = np.ndarray | tuple[np.ndarray, ...]


def msm_g1(
    bases: Terms,
    scalars: Terms,
    *,
    rows: np.ndarray | None = None,
    c: int | None = None,
    threads: int | None = None,
) -> G1Int:
    """Σ scalars[i]·bases[i] for (n, 2, 4) affine Montgomery bases and (n, 4) canonical scalars.

    ``bases`` and ``scalars`` may each be a tuple of up to three segments (equal lengths pairwise),
    summed as if concatenated, without copying them; ``rows`` (integer indices) keeps only those
    terms of the first segment: Σ_{i ∈ rows} s₀[i]·P₀[i] + Σ s₁·P₁ + Σ s₂·P₂.
    Returns the affine result as Python ints, or None for the point at infinity. Infinity bases
    (all-zero rows) are allowed. Scalars must be reduced (< r); this is not checked here.
    ``c`` overrides the window (default ``window_size(n)``); ``threads`` workers share the windows
    (default ``prover.threads.worker_count()``).
    """
    res = _msm(bases, scalars, rows, c, threads, _G1)
    if res is None:
        return None
    return g1_to_ints(np.array(res, dtype=np.uint64)[None])[0]


def msm_g2(
    bases: Terms,
    scalars: Terms,
    *,
    rows: np.ndarray | None = None,
    c: int | None = None,
    threads: int | None = None,
) -> G2Int:
    """Σ scalars[i]·bases[i] for (n, 2, 2, 4) affine bases → ((x0, x1), (y0, y1)) or None;
    segments and ``rows`` as in ``msm_g1``."""
    precompile.wait("prove")  # a cold cache: the kernels are being compiled in another process
    res = _msm(bases, scalars, rows, c, threads, _G2)
    if res is None:
        return None
    return g2_to_ints(np.array(res, dtype=np.uint64)[None])[0]
