"""Pure-Python twin of :mod:`prover.kernels.ntt`: the naive O(n²) DFT over Fr.

Same names, signatures and array conventions as the fast kernels — ``(n, 4) uint64`` arrays of Fr
elements in Montgomery form (x·2^256 mod r), n a power of two — so tests can run either. The
transform is the definition itself,

    NTT(a)_k = Σ_j a_j · ω^(j·k),      INTT(A)_j = n⁻¹ · Σ_k A_k · ω^(−j·k),

with ω = ``prover.fields.root_of_unity(log2 n)`` (5^((r−1)/n), as ffjavascript), and the coset
variants evaluate / interpolate on g·⟨ω⟩: ``coset_ntt(a, g) = NTT(a_j · g^j)``,
``coset_intt(A, g)_j = INTT(A)_j · g^(−j)``. ``overwrite`` is accepted and ignored: the twin
always returns a new array and leaves its input as it was (allowed: the fast kernels *may* reuse
the input's memory, and callers must not read it afterwards).
"""

from __future__ import annotations

import numpy as np

from prover.fields import R, root_of_unity
from prover.r1cs import ints_to_limbs, limbs_to_ints

_MONT = (1 << 256) % R
_MONT_INV = pow(_MONT, -1, R)


def _dec(a: np.ndarray) -> list[int]:
    return [v * _MONT_INV % R for v in limbs_to_ints(a)]


def _enc(values: list[int]) -> np.ndarray:
    return ints_to_limbs([v % R * _MONT % R for v in values])


def _log2(n: int) -> int:
    log_n = n.bit_length() - 1
    if n < 1 or 1 << log_n != n:
        raise ValueError(f"NTT length {n} is not a power of two")
    return log_n


def _dft(values: list[int], w: int) -> list[int]:
    """X_k = Σ_j x_j · w^(j·k mod n): the definition, O(n²) products."""
    n = len(values)
    pw = [pow(w, e, R) for e in range(n)]
    return [sum(v * pw[j * k % n] for j, v in enumerate(values)) % R for k in range(n)]


def ntt(a: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Evaluations of the polynomial with coefficients ``a`` on ⟨ω⟩, in natural order."""
    w = root_of_unity(_log2(a.shape[0]))
    return _enc(_dft(_dec(a), w))


def intt(a: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Coefficients of the polynomial whose evaluations on ⟨ω⟩ are ``a``."""
    n = a.shape[0]
    w_inv = pow(root_of_unity(_log2(n)), -1, R)
    n_inv = pow(n, -1, R)
    return _enc([v * n_inv for v in _dft(_dec(a), w_inv)])


def coset_ntt(a: np.ndarray, shift: int, *, overwrite: bool = False) -> np.ndarray:
    """Evaluations of the polynomial with coefficients ``a`` on the coset shift·⟨ω⟩."""
    vals = _dec(a)
    return _enc(
        _dft([v * pow(shift, j, R) for j, v in enumerate(vals)], root_of_unity(_log2(len(vals))))
    )


def coset_evaluations(a: np.ndarray, shift: int, *, overwrite: bool = False) -> np.ndarray:
    """Evaluations on shift·⟨ω⟩ of the polynomial whose evaluations on ⟨ω⟩ are ``a``."""
    return coset_ntt(intt(a), shift)


def coset_intt(a: np.ndarray, shift: int, *, overwrite: bool = False) -> np.ndarray:
    """Coefficients of the polynomial whose evaluations on shift·⟨ω⟩ are ``a``."""
    coeffs = _dec(intt(a))
    s_inv = pow(shift, -1, R)
    return _enc([v * pow(s_inv, j, R) for j, v in enumerate(coeffs)])


def powers(x: int, n: int, start: int = 1) -> np.ndarray:
    """start·x^0, …, start·x^(n−1) (canonical ints) as a Montgomery (n, 4) array."""
    out, acc = [], start % R
    for _ in range(n):
        out.append(acc)
        acc = acc * x % R
    return _enc(out) if n else np.zeros((0, 4), dtype=np.uint64)
