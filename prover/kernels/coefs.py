"""A·z and B·z straight from snarkjs's coefficient records (zkey section 4), in numba.

A record is 11 little-endian u32 words: matrix (0 = A, 1 = B), row, wire, then the coefficient
c·R² mod r (R = 2^256) as eight words, low first (snarkjs ``src/zkey_new.js``, ``writeCoef``;
rapidsnark ``src/groth16.cpp`` reads the same). The prover's matrices are an ``(n, 11) uint32``
array of them — a view into a mapped ``.zkey``, so nothing is parsed or copied when a key loads.

    check_records(rec, n_rows, n_wires) -> index of the first record with a matrix other than
        0/1, a row ≥ n_rows, a wire ≥ n_wires or a coefficient ≥ r; -1 if none
    qap_matvec(rec, z, n) -> (A·z, B·z) over n rows, Montgomery (n, 4) arrays

For canonical z, montmul(c·R², z_j) = c·z_j·R: the Montgomery form of c·z_j, so the witness needs
no conversion (rapidsnark's trick). Records may come in any order; the work is cut into one
chunk per worker (:mod:`prover.threads`), each summing into its own outputs, added at the end.
Reference twin: :func:`prover.kernels.sparse_reference.qap_matvec`.
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
