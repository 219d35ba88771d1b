"""A·z and B·z straight from snarkjs's coefficient records (zkey section 4), in numba.

A record is 11 little-endian u32 words: matrix (0 = A, 1 = B), row, wire, then the coefficient
c·R² mod r (R = 2^256) as eight words, low first (snarkjs ``src/zkey_new.js``, ``writeCoef``;
rapidsnark ``src/groth16.cpp`` reads the same). The prover's matrices are an ``(n, 11) uint32``
array of them — a view into a mapped ``.zkey``, so nothing is parsed or copied when a key loads.

    check_records(rec, n_rows, n_wires) -> index of the first record with a matrix other than
        0/1, a row ≥ n_rows, a wire ≥ n_wires or a coefficient ≥ r; -1 if none
    qap_matvec(rec, z, n) -> (A·z, B·z) over n rows, Montgomery (n, 4) arrays
    records(a, b) -> the records of CSR matrices A and B (coefficients c·R²) in snarkjs's
        order: row by row, A's terms of a row before B's, each in CSR order

For canonical z, montmul(c·R², z_j) = c·z_j·R: the Montgomery form of c·z_j, so the witness needs
no conversion (rapidsnark's trick). Records may come in any order; the work is cut into one
chunk per worker (:mod:`prover.threads`), each summing into its own outputs, added at the end.
Reference twins: :func:`prover.kernels.sparse_reference.qap_matvec` and ``records``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.fields import R
from prover.kernels.field import fr_add, fr_mul, limbs, load, store
from prover.threads import chunks, run_tasks, worker_count

_R = limbs(R)


@njit(cache=True, nogil=True, inline="always")
def _coef(rec, k):
    """The coefficient of record k as a 4-limb tuple (two u32 words per limb)."""
    return (
        np.uint64(rec[k, 3]) | (np.uint64(rec[k, 4]) << np.uint64(32)),
        np.uint64(rec[k, 5]) | (np.uint64(rec[k, 6]) << np.uint64(32)),
        np.uint64(rec[k, 7]) | (np.uint64(rec[k, 8]) << np.uint64(32)),
        np.uint64(rec[k, 9]) | (np.uint64(rec[k, 10]) << np.uint64(32)),
    )


@njit(cache=True, nogil=True)
def _check_records(rec, n_rows, n_wires):
    r = (np.uint64(_R[0]), np.uint64(_R[1]), np.uint64(_R[2]), np.uint64(_R[3]))
    for k in range(rec.shape[0]):
        if rec[k, 0] > 1 or rec[k, 1] >= n_rows or rec[k, 2] >= n_wires:
            return k
        v = _coef(rec, k)
        below = False
        for i in range(3, -1, -1):
            if v[i] != r[i]:
                below = v[i] < r[i]
                break
        if not below:
            return k
    return -1


@njit(cache=True, nogil=True)
def _matvec_records(rec, lo, hi, z, out_a, out_b):
    for k in range(lo, hi):
        row = rec[k, 1]
        term = fr_mul(_coef(rec, k), load(z, rec[k, 2]))
        if rec[k, 0] == 0:
            store(out_a, row, fr_add(load(out_a, row), term))
        else:
            store(out_b, row, fr_add(load(out_b, row), term))


@njit(cache=True, nogil=True)
def _add_into(acc, x):
    for i in range(acc.shape[0]):
        store(acc, i, fr_add(load(acc, i), load(x, i)))


def check_records(rec: np.ndarray, n_rows: int, n_wires: int) -> int:
    """Index of the first malformed record, or -1 (see the module docstring)."""
    return int(_check_records(rec, n_rows, n_wires))


def qap_matvec(rec: np.ndarray, z: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(A·z, B·z) on n rows from the records ``rec``; z canonical (n_wires, 4) limbs."""
    parts = chunks(rec.shape[0], worker_count())

    def run(bounds: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        out_a = np.zeros((n, 4), dtype=np.uint64)
        out_b = np.zeros((n, 4), dtype=np.uint64)
        _matvec_records(rec, bounds[0], bounds[1], z, out_a, out_b)
        return out_a, out_b

    results = run_tasks(run, parts) or [run((0, 0))]
    a, b = results[0]
    for other_a, other_b in results[1:]:
        _add_into(a, other_a)
        _add_into(b, other_b)
    return a, b


@njit(cache=True, nogil=True)
def _place(indptr, before, indices, coeffs, k, rec, lo, hi):
    """Records of one matrix's rows lo..hi−1 into ``rec``: its term t of row i goes to
    t + before[i] (the other matrix's terms that precede row i's)."""
    for i in range(lo, hi):
        shift = before[i]
        for t in range(indptr[i], indptr[i + 1]):
            p = t + shift
            rec[p, 0] = np.uint32(k)
            rec[p, 1] = np.uint32(i)
            rec[p, 2] = np.uint32(indices[t])
            for j in range(4):
                c = coeffs[t, j]
                rec[p, 3 + 2 * j] = np.uint32(c & np.uint64(0xFFFFFFFF))
                rec[p, 4 + 2 * j] = np.uint32(c >> np.uint64(32))


def _frozen(a: np.ndarray, dtype: str) -> np.ndarray:
    """A read-only C-contiguous view (one compiled specialisation for mapped and built arrays)."""
    out = np.ascontiguousarray(a, dtype=dtype).view()
    out.flags.writeable = False
    return out


def records(a, b) -> np.ndarray:
    """The ``(nnz_A + nnz_B, 11) uint32`` records of A and B (CSR with ``indptr``, ``indices``,
    ``coeffs`` (nnz, 4) holding c·R² mod r), merged in row order without sorting: A's term t of
    row i at t + |B terms in rows < i|, B's at t + |A terms in rows ≤ i|; rows cut into ranges
    for the workers."""
    n_rows = max(a.indptr.shape[0], b.indptr.shape[0]) - 1
    ia, ib = (
        _frozen(np.concatenate((m.indptr, np.full(n_rows + 1 - m.indptr.shape[0], m.indptr[-1]))),
                "<i8")
        for m in (a, b)
    )  # fmt: skip
    rec = np.empty((int(ia[-1] + ib[-1]), 11), dtype=np.uint32)
    tasks = [
        (own, before, _frozen(m.indices, "<i8"), _frozen(m.coeffs, "<u8"), k, lo, hi)
        for k, m, own, before in ((0, a, ia, ib[:-1]), (1, b, ib, ia[1:]))
        for lo, hi in chunks(n_rows, worker_count())
    ]
    run_tasks(
        lambda t: _place(t[0], t[1], t[2], t[3], np.int64(t[4]), rec, np.int64(t[5]),
                         np.int64(t[6])),
        tasks,
    )  # fmt: skip
    return rec
