"""Pure-Python reference twins of the numba kernels (plain ints and py_ecc, no numba).

Every function here has the same name and signature as its fast twin and is what the hypothesis
tests compare the fast path against:

- field: ``fr_*`` / ``fq_*`` / ``fq2_*`` scalar functions on Montgomery-form limb tuples, and the
  ``*_array`` / ``*_batch_inverse`` functions on ``(n, 4) uint64`` arrays, as in
  :mod:`prover.kernels.field`. They convert limbs to an int, leave Montgomery form
  (x·2^-256 mod p), compute with Python's ``%``/``pow``, and convert back.
- MSM: ``msm_g1_naive`` / ``msm_g2_naive`` (py_ecc multiply + add), twins of
  :func:`prover.kernels.msm.msm_g1` / ``msm_g2``.
- fixed base: ``batch_mul_g1_naive`` / ``batch_mul_g2_naive``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from prover.fields import Q, R
from prover.kernels import convert

Limbs = tuple[int, int, int, int]
_MASK = (1 << 64) - 1


def to_int(x: Sequence[int]) -> int:
    """The integer whose little-endian 64-bit limbs are x."""
    return sum(int(v) << (64 * i) for i, v in enumerate(x))


def to_limbs(x: int) -> Limbs:
    """Little-endian 64-bit limbs of 0 ≤ x < 2^256."""
    return tuple((x >> (64 * i)) & _MASK for i in range(4))  # type: ignore[return-value]


@dataclass(frozen=True)
class MontField:
    """Z/pZ with elements given as Montgomery-form limb tuples (value·2^256 mod p)."""

    p: int

    def enc(self, x: int) -> Limbs:
        """Canonical int → Montgomery limbs."""
        return to_limbs((x << 256) % self.p)

    def dec(self, a: Sequence[int]) -> int:
        """Montgomery limbs → canonical int."""
        return to_int(a) * pow(1 << 256, -1, self.p) % self.p

    def mul(self, a: Sequence[int], b: Sequence[int]) -> Limbs:
        return self.enc(self.dec(a) * self.dec(b) % self.p)

    def square(self, a: Sequence[int]) -> Limbs:
        return self.mul(a, a)

    def add(self, a: Sequence[int], b: Sequence[int]) -> Limbs:
        return self.enc((self.dec(a) + self.dec(b)) % self.p)

    def double(self, a: Sequence[int]) -> Limbs:
        return self.add(a, a)

    def sub(self, a: Sequence[int], b: Sequence[int]) -> Limbs:
        return self.enc((self.dec(a) - self.dec(b)) % self.p)

    def neg(self, a: Sequence[int]) -> Limbs:
        return self.enc(-self.dec(a) % self.p)

    def inverse(self, a: Sequence[int]) -> Limbs:
        return self.enc(pow(self.dec(a), self.p - 2, self.p))

    def is_zero(self, a: Sequence[int]) -> bool:
        return to_int(a) == 0

    def eq(self, a: Sequence[int], b: Sequence[int]) -> bool:
        return to_int(a) == to_int(b)

    def to_mont(self, a: Sequence[int]) -> Limbs:
        return self.enc(to_int(a) % self.p)

    def from_mont(self, a: Sequence[int]) -> Limbs:
        return to_limbs(self.dec(a))

    # ---- arrays
    def _rows(self, a: np.ndarray) -> list[Limbs]:
        return [tuple(int(v) for v in row) for row in np.asarray(a, dtype=np.uint64)]

    def _array(self, rows: list[Sequence[int]]) -> np.ndarray:
        return np.array(rows, dtype=np.uint64).reshape(len(rows), 4)

    def _pairs(self, a: np.ndarray, b: np.ndarray) -> list[tuple[Limbs, Limbs]]:
        return list(zip(self._rows(a), self._rows(b), strict=True))

    def mul_array(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._array([self.mul(x, y) for x, y in self._pairs(a, b)])

    def add_array(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._array([self.add(x, y) for x, y in self._pairs(a, b)])

    def sub_array(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._array([self.sub(x, y) for x, y in self._pairs(a, b)])

    def to_mont_array(self, a: np.ndarray) -> np.ndarray:
        return self._array([self.to_mont(x) for x in self._rows(a)])

    def from_mont_array(self, a: np.ndarray) -> np.ndarray:
        return self._array([self.from_mont(x) for x in self._rows(a)])

    def batch_inverse(self, a: np.ndarray) -> np.ndarray:
        return self._array([self.inverse(x) for x in self._rows(a)])


FR = MontField(R)
FQ = MontField(Q)

Fq2Limbs = tuple[Limbs, Limbs]


def _fq2_dec(a: Sequence[Sequence[int]]) -> tuple[int, int]:
    return FQ.dec(a[0]), FQ.dec(a[1])


def _fq2_enc(c0: int, c1: int) -> Fq2Limbs:
    return FQ.enc(c0 % Q), FQ.enc(c1 % Q)


def fq2_mul(a, b) -> Fq2Limbs:
    (a0, a1), (b0, b1) = _fq2_dec(a), _fq2_dec(b)
    return _fq2_enc(a0 * b0 - a1 * b1, a0 * b1 + a1 * b0)


def fq2_square(a) -> Fq2Limbs:
    return fq2_mul(a, a)


def fq2_add(a, b) -> Fq2Limbs:
    (a0, a1), (b0, b1) = _fq2_dec(a), _fq2_dec(b)
    return _fq2_enc(a0 + b0, a1 + b1)


def fq2_sub(a, b) -> Fq2Limbs:
    (a0, a1), (b0, b1) = _fq2_dec(a), _fq2_dec(b)
    return _fq2_enc(a0 - b0, a1 - b1)


def fq2_neg(a) -> Fq2Limbs:
    a0, a1 = _fq2_dec(a)
    return _fq2_enc(-a0, -a1)


def fq2_inverse(a) -> Fq2Limbs:
    a0, a1 = _fq2_dec(a)
    t = pow((a0 * a0 + a1 * a1) % Q, Q - 2, Q)
    return _fq2_enc(a0 * t, -a1 * t)


# Same names as prover.kernels.field.
fr_mul, fr_square, fr_add, fr_sub, fr_neg = FR.mul, FR.square, FR.add, FR.sub, FR.neg
fr_double, fr_inverse, fr_is_zero, fr_eq = FR.double, FR.inverse, FR.is_zero, FR.eq
fr_to_mont, fr_from_mont = FR.to_mont, FR.from_mont
fr_mul_array, fr_add_array, fr_sub_array = FR.mul_array, FR.add_array, FR.sub_array
fr_to_mont_array, fr_from_mont_array = FR.to_mont_array, FR.from_mont_array
fr_batch_inverse = FR.batch_inverse
fq_mul, fq_square, fq_add, fq_sub, fq_neg = FQ.mul, FQ.square, FQ.add, FQ.sub, FQ.neg
fq_double, fq_inverse, fq_is_zero, fq_eq = FQ.double, FQ.inverse, FQ.is_zero, FQ.eq
fq_to_mont, fq_from_mont = FQ.to_mont, FQ.from_mont
fq_mul_array, fq_add_array, fq_sub_array = FQ.mul_array, FQ.add_array, FQ.sub_array
fq_to_mont_array, fq_from_mont_array = FQ.to_mont_array, FQ.from_mont_array
fq_batch_inverse = FQ.batch_inverse


# ---------------------------------------------------------------- MSM and fixed-base twins


def _terms(bases, scalars, rows) -> tuple[np.ndarray, np.ndarray]:
    """The segments concatenated, the first cut to ``rows`` (``msm.msm_g1``'s terms, copied)."""
    bs = list(bases) if isinstance(bases, tuple) else [bases]
    ss = list(scalars) if isinstance(scalars, tuple) else [scalars]
    if rows is not None:
        bs[0], ss[0] = np.asarray(bs[0])[rows], np.asarray(ss[0])[rows]
    return np.concatenate(bs), np.concatenate(ss)


def _msm_naive(bases_py, scalars: np.ndarray, zero, from_py):
    from py_ecc import optimized_bn128 as bn

    acc = zero
    for p, s in zip(bases_py, convert.scalars_to_ints(scalars), strict=True):
        acc = bn.add(acc, bn.multiply(p, s))
    return from_py(acc)


def msm_g1_naive(bases, scalars, *, rows=None) -> convert.G1Int:
    """Σ scalars[i]·bases[i] with py_ecc (twin of ``msm.msm_g1``: segments and ``rows`` too)."""
    from py_ecc import optimized_bn128 as bn

    bases, scalars = _terms(bases, scalars, rows)
    pts = [convert.g1_to_py_ecc(p) for p in convert.g1_to_ints(bases)]
    return _msm_naive(pts, scalars, bn.Z1, convert.g1_from_py_ecc)


def msm_g2_naive(bases, scalars, *, rows=None) -> convert.G2Int:
    """Σ scalars[i]·bases[i] with py_ecc (twin of ``msm.msm_g2``: segments and ``rows`` too)."""
    from py_ecc import optimized_bn128 as bn

    bases, scalars = _terms(bases, scalars, rows)
    pts = [convert.g2_to_py_ecc(p) for p in convert.g2_to_ints(bases)]
    return _msm_naive(pts, scalars, bn.Z2, convert.g2_from_py_ecc)


def batch_mul_g1_naive(base: np.ndarray, scalars: np.ndarray) -> np.ndarray:
    """k·P for every scalar row with py_ecc (twin of ``fixed_base.batch_mul_g1``)."""
    from py_ecc import optimized_bn128 as bn

    p = convert.g1_to_py_ecc(convert.g1_to_ints(np.asarray(base)[None])[0])
    ks = convert.scalars_to_ints(scalars)
    return convert.g1_from_ints([convert.g1_from_py_ecc(bn.multiply(p, k)) for k in ks])


def batch_mul_g2_naive(base: np.ndarray, scalars: np.ndarray) -> np.ndarray:
    """k·P for every scalar row with py_ecc (twin of ``fixed_base.batch_mul_g2``)."""
    from py_ecc import optimized_bn128 as bn

    p = convert.g2_to_py_ecc(convert.g2_to_ints(np.asarray(base)[None])[0])
    ks = convert.scalars_to_ints(scalars)
    return convert.g2_from_ints([convert.g2_from_py_ecc(bn.multiply(p, k)) for k in ks])
