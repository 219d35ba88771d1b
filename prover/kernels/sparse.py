"""Sparse (CSR) matrix–vector products over Fr in numba, for the QAP and the setup.

With an R1CS matrix M (m rows, CSR: ``indptr``, ``indices``, Montgomery ``coeffs``):

    matvec:            out_i = Σ_k coeffs[k] · z[indices[k]]    for k in row i    (M · z)
    transpose_matvec:  out_j = Σ_{i, k : indices[k] = j} coeffs[k] · l_i          (Mᵀ · l)

The prover evaluates A·z, B·z, C·z on the domain (Groth16 §3: the witness's QAP polynomials in
evaluation form); the setup evaluates u_j(τ) = Σ_i A_ij · L_i(τ) and its B, C twins from the
Lagrange basis at τ. Arrays are ``(n, 4) uint64`` Montgomery Fr; outputs are written into
caller-allocated arrays (rows beyond the matrix are left untouched). Reference twin:
:mod:`prover.kernels.sparse_reference`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.kernels.field import fr_add, fr_mul, load, store


@njit(cache=True, nogil=True)
def _matvec(indptr, indices, coeffs, z, out):
    for i in range(indptr.shape[0] - 1):
        acc = (np.uint64(0), np.uint64(0), np.uint64(0), np.uint64(0))
        for k in range(indptr[i], indptr[i + 1]):
            acc = fr_add(acc, fr_mul(load(coeffs, k), load(z, indices[k])))
        store(out, i, acc)


@njit(cache=True, nogil=True)
def _transpose_matvec(indptr, indices, coeffs, lvec, out):
    for i in range(indptr.shape[0] - 1):
        li = load(lvec, i)
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            store(out, j, fr_add(load(out, j), fr_mul(load(coeffs, k), li)))


def matvec(
    indptr: np.ndarray, indices: np.ndarray, coeffs: np.ndarray, z: np.ndarray, out: np.ndarray
) -> None:
    """out[i] = (M·z)_i for the m rows of M; ``out`` has at least m rows."""
    _matvec(indptr, indices, coeffs, z, out)


def transpose_matvec(
    indptr: np.ndarray, indices: np.ndarray, coeffs: np.ndarray, lvec: np.ndarray, out: np.ndarray
) -> None:
    """out[j] += (Mᵀ·l)_j; ``out`` must be zero-initialised (or hold what to add to)."""
    _transpose_matvec(indptr, indices, coeffs, lvec, out)
