"""Pure-Python twin of :mod:`prover.kernels.sparse` (same names and signatures, Python ints).

    matvec:            out_i = Σ_k coeffs[k] · z[indices[k]]    for k in row i    (M · z)
    transpose_matvec:  out_j += Σ_{i, k : indices[k] = j} coeffs[k] · l_i        (Mᵀ · l)

Arrays are ``(n, 4) uint64`` Montgomery Fr; the product of two Montgomery elements is
a·b·2^(−256), which keeps the Montgomery form.
"""

from __future__ import annotations

import numpy as np

from prover.fields import R
from prover.r1cs import ints_to_limbs, limbs_to_ints

_MONT_INV = pow(1 << 256, -1, R)


def matvec(
    indptr: np.ndarray, indices: np.ndarray, coeffs: np.ndarray, z: np.ndarray, out: np.ndarray
) -> None:
    """out[i] = (M·z)_i for the m rows of M; ``out`` has at least m rows."""
    c, zi = limbs_to_ints(coeffs), limbs_to_ints(z)
    rows = []
    for i in range(len(indptr) - 1):
        acc = sum(c[k] * zi[int(indices[k])] for k in range(int(indptr[i]), int(indptr[i + 1])))
        rows.append(acc * _MONT_INV % R)
    if rows:
        out[: len(rows)] = ints_to_limbs(rows)


def transpose_matvec(
    indptr: np.ndarray, indices: np.ndarray, coeffs: np.ndarray, lvec: np.ndarray, out: np.ndarray
) -> None:
    """out[j] += (Mᵀ·l)_j; ``out`` must be zero-initialised (or hold what to add to)."""
    c, li, acc = limbs_to_ints(coeffs), limbs_to_ints(lvec), limbs_to_ints(out)
    for i in range(len(indptr) - 1):
        for k in range(int(indptr[i]), int(indptr[i + 1])):
            j = int(indices[k])
            acc[j] = (acc[j] + c[k] * li[i] * _MONT_INV) % R
    if acc:
        out[:] = ints_to_limbs(acc)


def _record_coef(row: np.ndarray) -> int:
    return sum(int(row[3 + i]) << (32 * i) for i in range(8))


def check_records(rec: np.ndarray, n_rows: int, n_wires: int) -> int:
    """Index of the first record with matrix > 1, row ≥ n_rows, wire ≥ n_wires or coefficient
    ≥ r; -1 if none (twin of ``prover.kernels.coefs.check_records``)."""
    for k, row in enumerate(rec):
        if row[0] > 1 or row[1] >= n_rows or row[2] >= n_wires or _record_coef(row) >= R:
            return k
    return -1


def qap_matvec(rec: np.ndarray, z: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(A·z, B·z) in Montgomery form from zkey coefficient records (c·R² mod r) and canonical z:
    Σ (c·R²)·z_j·R⁻¹ = c·z_j·R (twin of ``prover.kernels.coefs.qap_matvec``)."""
    zi = limbs_to_ints(z)
    acc = [[0] * n, [0] * n]
    for row in rec:
        acc[int(row[0])][int(row[1])] += _record_coef(row) * zi[int(row[2])]
    a, b = ([v * _MONT_INV % R for v in col] for col in acc)
    return ints_to_limbs(a), ints_to_limbs(b)


def records(a, b) -> np.ndarray:
    """Twin of ``prover.kernels.coefs.records``: every term as a record, stably sorted by (row,
    matrix) — snarkjs's order for section 4."""
    parts = []
    for k, mat in enumerate((a, b)):
        rows = np.repeat(np.arange(mat.indptr.shape[0] - 1), np.diff(mat.indptr))
        rec = np.empty((rows.shape[0], 11), dtype="<u4")
        rec[:, 0], rec[:, 1], rec[:, 2] = k, rows, mat.indices
        rec[:, 3:] = np.ascontiguousarray(mat.coeffs, dtype="<u8").view("<u4")
        parts.append(rec)
    rec = np.concatenate(parts)
    return np.ascontiguousarray(rec[np.lexsort((rec[:, 0], rec[:, 1]))], dtype=np.uint32)
