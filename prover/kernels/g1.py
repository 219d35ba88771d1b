"""BN254 G1 point arithmetic for numba: y² = x³ + 3 over Fq.

Coordinates are Fq elements in Montgomery form (see :mod:`prover.kernels.field` for the element
convention). Two representations:

- affine ``(x, y)``; the point at infinity is ``(0, 0)`` (not on the curve, since 3 is not a
  square mod q). Arrays: ``(n, 2, 4) uint64``.
- Jacobian ``(X, Y, Z)`` meaning ``(X/Z², Y/Z³)``; infinity is any point with ``Z = 0``.
  Arrays: ``(n, 3, 4) uint64``.

Formulas for a = 0 from the Explicit-Formulas Database (Bernstein–Lange, hyperelliptic.org/EFD,
``g1p/auto-shortw-jacobian-0``): ``dbl-2009-l`` (2M + 5S), ``add-2007-bl`` (11M + 5S),
``madd-2007-bl`` (7M + 4S). Each handles the exceptional cases (P = Q, P = −Q, infinity) explicitly.

Batch-affine addition (``add_affine_indexed``) adds many independent affine pairs with one shared
field inversion (Montgomery's trick): per pair λ = (y₂ − y₁)/(x₂ − x₁) (or 3x²/2y when doubling),
x₃ = λ² − x₁ − x₂, y₃ = λ(x₁ − x₃) − y₁. It is the inner loop of the MSM and of fixed-base
multiplication. Pure-Python twin: ``py_ecc.optimized_bn128`` (the tests compare against it).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.kernels.field import (
    FQ_ONE,
    FQ_ZERO,
    fq_add,
    fq_double,
    fq_eq,
    fq_inverse,
    fq_is_zero,
    fq_mul,
    fq_neg,
    fq_square,
    fq_sub,
    u4,
)

_INLINE = {"cache": True, "inline": "always"}


@njit(**_INLINE)
def load_affine(arr, i):
    """Point i of an (n, 2, 4) array as ((x limbs), (y limbs))."""
    return (
        (arr[i, 0, 0], arr[i, 0, 1], arr[i, 0, 2], arr[i, 0, 3]),
        (arr[i, 1, 0], arr[i, 1, 1], arr[i, 1, 2], arr[i, 1, 3]),
    )


@njit(**_INLINE)
def store_affine(arr, i, p):
    for c in range(2):
        for k in range(4):
            arr[i, c, k] = p[c][k]


@njit(**_INLINE)
def load_jac(arr, i):
    """Point i of an (n, 3, 4) array as (X, Y, Z)."""
    return (
        (arr[i, 0, 0], arr[i, 0, 1], arr[i, 0, 2], arr[i, 0, 3]),
        (arr[i, 1, 0], arr[i, 1, 1], arr[i, 1, 2], arr[i, 1, 3]),
        (arr[i, 2, 0], arr[i, 2, 1], arr[i, 2, 2], arr[i, 2, 3]),
    )


@njit(**_INLINE)
def store_jac(arr, i, p):
    for c in range(3):
        for k in range(4):
            arr[i, c, k] = p[c][k]


@njit(**_INLINE)
def affine_is_inf(p):
    return fq_is_zero(p[0]) and fq_is_zero(p[1])


@njit(**_INLINE)
def jac_is_inf(p):
    return fq_is_zero(p[2])


@njit(**_INLINE)
def jac_inf():
    return (u4(FQ_ONE), u4(FQ_ONE), u4(FQ_ZERO))


@njit(**_INLINE)
def affine_inf():
    return (u4(FQ_ZERO), u4(FQ_ZERO))


@njit(**_INLINE)
def affine_neg(p):
    if affine_is_inf(p):
        return p
    return (p[0], fq_neg(p[1]))


@njit(**_INLINE)
def affine_to_jac(p):
    if affine_is_inf(p):
        return jac_inf()
    return (p[0], p[1], u4(FQ_ONE))


@njit(cache=True)
def jac_double(p):
    """dbl-2009-l."""
    X, Y, Z = p
    if fq_is_zero(Z):
        return p
    A = fq_square(X)
    B = fq_square(Y)
    C = fq_square(B)
    D = fq_double(fq_sub(fq_sub(fq_square(fq_add(X, B)), A), C))
    E = fq_add(fq_double(A), A)
    F = fq_square(E)
    X3 = fq_sub(F, fq_double(D))
    C8 = fq_double(fq_double(fq_double(C)))
    Y3 = fq_sub(fq_mul(E, fq_sub(D, X3)), C8)
    Z3 = fq_double(fq_mul(Y, Z))
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_add(p, q):
    """add-2007-bl with the exceptional cases: p + q for Jacobian p, q."""
    X1, Y1, Z1 = p
    X2, Y2, Z2 = q
    if fq_is_zero(Z1):
        return q
    if fq_is_zero(Z2):
        return p
    Z1Z1 = fq_square(Z1)
    Z2Z2 = fq_square(Z2)
    U1 = fq_mul(X1, Z2Z2)
    U2 = fq_mul(X2, Z1Z1)
    S1 = fq_mul(fq_mul(Y1, Z2), Z2Z2)
    S2 = fq_mul(fq_mul(Y2, Z1), Z1Z1)
    H = fq_sub(U2, U1)
    r = fq_double(fq_sub(S2, S1))
    if fq_is_zero(H):
        if fq_is_zero(r):
            return jac_double(p)
        return jac_inf()
    I = fq_square(fq_double(H))
    J = fq_mul(H, I)
    V = fq_mul(U1, I)
    X3 = fq_sub(fq_sub(fq_square(r), J), fq_double(V))
    Y3 = fq_sub(fq_mul(r, fq_sub(V, X3)), fq_double(fq_mul(S1, J)))
    Z3 = fq_mul(fq_sub(fq_sub(fq_square(fq_add(Z1, Z2)), Z1Z1), Z2Z2), H)
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_add_affine(p, q):
    """madd-2007-bl with the exceptional cases: Jacobian p + affine q."""
    if affine_is_inf(q):
        return p
    X1, Y1, Z1 = p
    if fq_is_zero(Z1):
        return affine_to_jac(q)
    X2, Y2 = q
    Z1Z1 = fq_square(Z1)
    U2 = fq_mul(X2, Z1Z1)
    S2 = fq_mul(fq_mul(Y2, Z1), Z1Z1)
    H = fq_sub(U2, X1)
    r = fq_double(fq_sub(S2, Y1))
    if fq_is_zero(H):
        if fq_is_zero(r):
            return jac_double(p)
        return jac_inf()
    HH = fq_square(H)
    I = fq_double(fq_double(HH))
    J = fq_mul(H, I)
    V = fq_mul(X1, I)
    X3 = fq_sub(fq_sub(fq_square(r), J), fq_double(V))
    Y3 = fq_sub(fq_mul(r, fq_sub(V, X3)), fq_double(fq_mul(Y1, J)))
    Z3 = fq_sub(fq_sub(fq_square(fq_add(Z1, H)), Z1Z1), HH)
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_to_affine(p):
    if fq_is_zero(p[2]):
        return affine_inf()
    zi = fq_inverse(p[2])
    zi2 = fq_square(zi)
    return (fq_mul(p[0], zi2), fq_mul(fq_mul(p[1], zi2), zi))


@njit(cache=True)
def batch_to_affine(jac, out):
    """(n, 3, 4) Jacobian → (n, 2, 4) affine with one shared inversion (infinity → (0, 0))."""
    n = jac.shape[0]
    prefix = np.empty((n, 4), dtype=np.uint64)
    acc = u4(FQ_ONE)
    for i in range(n):
        z = (jac[i, 2, 0], jac[i, 2, 1], jac[i, 2, 2], jac[i, 2, 3])
        for k in range(4):
            prefix[i, k] = acc[k]
        if not fq_is_zero(z):
            acc = fq_mul(acc, z)
    acc = fq_inverse(acc)
    for i in range(n - 1, -1, -1):
        p = load_jac(jac, i)
        if fq_is_zero(p[2]):
            store_affine(out, i, affine_inf())
            continue
        pre = (prefix[i, 0], prefix[i, 1], prefix[i, 2], prefix[i, 3])
        zi = fq_mul(acc, pre)
        acc = fq_mul(acc, p[2])
        zi2 = fq_square(zi)
        store_affine(out, i, (fq_mul(p[0], zi2), fq_mul(fq_mul(p[1], zi2), zi)))
    return out


@njit(cache=True)
def add_affine_indexed(a, ia, b, ib, dst, iout, m, scratch):
    """dst[iout[k]] = a[ia[k]] + b[ib[k]] for k < m, in affine, with one shared inversion.

    ``scratch`` is an (≥ m, 4) uint64 work array. ``dst`` may be the array ``a`` only when
    ``iout[k] == ia[k]`` for every k and these indices are distinct (each slot is read and
    written by its own pair alone); otherwise ``dst`` must not alias ``a`` or ``b``.
    Exceptional cases: an infinite operand yields the other one; P + P doubles (λ = 3x²/2y);
    P + (−P) yields infinity.
    """
    acc = u4(FQ_ONE)
    for k in range(m):
        p = load_affine(a, ia[k])
        q = load_affine(b, ib[k])
        for t in range(4):
            scratch[k, t] = acc[t]
        if affine_is_inf(p) or affine_is_inf(q):
            continue
        if fq_eq(p[0], q[0]):
            if fq_eq(p[1], q[1]):
                acc = fq_mul(acc, fq_double(p[1]))
            continue
        acc = fq_mul(acc, fq_sub(q[0], p[0]))
    acc = fq_inverse(acc)
    for k in range(m - 1, -1, -1):
        p = load_affine(a, ia[k])
        q = load_affine(b, ib[k])
        if affine_is_inf(p):
            store_affine(dst, iout[k], q)
            continue
        if affine_is_inf(q):
            store_affine(dst, iout[k], p)
            continue
        pre = (scratch[k, 0], scratch[k, 1], scratch[k, 2], scratch[k, 3])
        if fq_eq(p[0], q[0]):
            if not fq_eq(p[1], q[1]):
                store_affine(dst, iout[k], affine_inf())
                continue
            den = fq_double(p[1])
            x2 = fq_square(p[0])
            num = fq_add(fq_double(x2), x2)
        else:
            den = fq_sub(q[0], p[0])
            num = fq_sub(q[1], p[1])
        inv = fq_mul(acc, pre)
        acc = fq_mul(acc, den)
        lam = fq_mul(num, inv)
        x3 = fq_sub(fq_sub(fq_square(lam), p[0]), q[0])
        y3 = fq_sub(fq_mul(lam, fq_sub(p[0], x3)), p[1])
        store_affine(dst, iout[k], (x3, y3))
