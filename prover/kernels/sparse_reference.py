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
