"""Many scalars times one fixed point: k₁·P, …, kₙ·P on BN254 G1 / G2 (trusted-setup workhorse).

Fixed-base windowing (Brickell–Gordon–McCurley–Wilson 1992, the comb-free "BGMW" table form) with
signed digits and batch-affine accumulation:

- every scalar is written in W = ⌈255/c⌉ signed base-2^c digits dⱼ (see :mod:`prover.kernels.msm`);
- a table holds ±(m·2^(cj))·P for m = 1 … 2^(c−1) and every window j, in affine form
  (W·2^c points, built with Jacobian additions and one batch normalisation);
- k·P = Σⱼ T[j][dⱼ]: window by window, all n accumulators add their table entry at once with
  ``add_affine_indexed`` (one shared inversion per window), so results come out affine directly.

Cost ≈ n·W affine additions plus the table, e.g. c = 13 for n ≈ 10^6 (W = 20).
Reference twin: :func:`prover.kernels.reference.batch_mul_g1_naive` / ``batch_mul_g2_naive``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.kernels import g1, g2, precompile
from prover.kernels.msm import num_windows, signed_digits
from prover.threads import chunks, run_tasks, worker_count


def table_window(n: int) -> int:
    """Window c for n scalars: the table (W·2^c points) stays well below the n·W additions."""
    return max(4, min(13, n.bit_length() - 6))


@njit(cache=True, nogil=True)
def _plan_window(digits_w, w, c, ia, ib):
    """Points with a non-zero digit in window w and their table rows; returns their count."""
    half = 1 << (c - 1)
    m = 0
    for i in range(digits_w.shape[0]):
        d = digits_w[i]
        if d == 0:
            continue
        ia[m] = i
        row = (w << c) + abs(d) - 1
        ib[m] = row + half if d < 0 else row
        m += 1
    return m


@njit(cache=True)
def _table_g1(base, c, nwin):
    """T[(j << c) + m − 1] = m·2^(cj)·P, and the same + 2^(c−1) for −m·2^(cj)·P."""
    half = 1 << (c - 1)
    jac = np.empty((nwin << c, 3, 4), dtype=np.uint64)
    step = g1.affine_to_jac(g1.load_affine(base, 0))
    for j in range(nwin):
        step_aff = g1.jac_to_affine(step)
        acc = step
        for m in range(half):
            g1.store_jac(jac, (j << c) + m, acc)
            g1.store_jac(jac, (j << c) + half + m, (acc[0], g1.fq_neg(acc[1]), acc[2]))
            acc = g1.jac_add_affine(acc, step_aff)
        for _ in range(c):
            step = g1.jac_double(step)
    return g1.batch_to_affine(jac, np.empty((nwin << c, 2, 4), dtype=np.uint64))


@njit(cache=True)
def _table_g2(base, c, nwin):
    """G2 twin of ``_table_g1``."""
    half = 1 << (c - 1)
    jac = np.empty((nwin << c, 3, 2, 4), dtype=np.uint64)
    step = g2.affine_to_jac(g2.load_affine(base, 0))
    for j in range(nwin):
        step_aff = g2.jac_to_affine(step)
        acc = step
        for m in range(half):
            g2.store_jac(jac, (j << c) + m, acc)
            g2.store_jac(jac, (j << c) + half + m, (acc[0], g2.fq2_neg(acc[1]), acc[2]))
            acc = g2.jac_add_affine(acc, step_aff)
        for _ in range(c):
            step = g2.jac_double(step)
    return g2.batch_to_affine(jac, np.empty((nwin << c, 2, 2, 4), dtype=np.uint64))


@njit(cache=True, nogil=True)
def _accumulate_g1(table, digits, c, out, ia, ib, scratch):
    for w in range(digits.shape[0]):
        m = _plan_window(digits[w], w, c, ia, ib)
        g1.add_affine_indexed(out, ia, table, ib, out, ia, m, scratch)


@njit(cache=True, nogil=True)
def _accumulate_g2(table, digits, c, out, ia, ib, scratch):
    for w in range(digits.shape[0]):
        m = _plan_window(digits[w], w, c, ia, ib)
        g2.add_affine_indexed(out, ia, table, ib, out, ia, m, scratch)


def _batch_mul(base, scalars, threads, point_shape, scratch_shape, table_fn, accumulate):
    base = np.ascontiguousarray(base, dtype=np.uint64)
    scalars = np.ascontiguousarray(scalars, dtype=np.uint64)
    if base.shape != point_shape:
        raise ValueError(f"base must have shape {point_shape}")
    if scalars.ndim != 2 or scalars.shape[1] != 4:
        raise ValueError("scalars must have shape (n, 4)")
    n = scalars.shape[0]
    out = np.zeros((n, *point_shape), dtype=np.uint64)
    if n == 0 or not base.any():
        return out
    c = table_window(n)
    nwin = num_windows(c)
    table = table_fn(base[None], c, nwin)
    # pieces handed out to the workers as they free up (prover.threads: no static halves)
    pieces = chunks(n, 4 * worker_count(threads))

    def run(bounds: tuple[int, int]) -> None:
        lo, hi = bounds
        digits = signed_digits(scalars[lo:hi], c, nwin, 1)  # already one of the workers
        ia = np.empty(hi - lo, dtype=np.int64)
        ib = np.empty(hi - lo, dtype=np.int64)
        scratch = np.empty((hi - lo, *scratch_shape), dtype=np.uint64)
        accumulate(table, digits, c, out[lo:hi], ia, ib, scratch)

    run_tasks(run, pieces, threads)
    return out


def batch_mul_g1(
    base: np.ndarray, scalars: np.ndarray, *, threads: int | None = None
) -> np.ndarray:
    """k·P for (n, 4) canonical scalars k and one (2, 4) affine P → (n, 2, 4) affine points.

    ``threads`` workers share the pieces of the scalars (default ``prover.threads.worker_count()``).
    """
    return _batch_mul(base, scalars, threads, (2, 4), (4,), _table_g1, _accumulate_g1)


def batch_mul_g2(
    base: np.ndarray, scalars: np.ndarray, *, threads: int | None = None
) -> np.ndarray:
    """k·P for (n, 4) scalars and one (2, 2, 4) affine G2 point P → (n, 2, 2, 4) affine."""
    precompile.wait("setup")  # a cold cache: the kernels are being compiled in another process
    return _batch_mul(base, scalars, threads, (2, 2, 4), (1, 2, 4), _table_g2, _accumulate_g2)
