"""BN254 G2 point arithmetic for numba: the sextic twist y² = x³ + 3/(9 + u) over Fq2.

The same algorithms as :mod:`prover.kernels.g1` (EFD ``dbl-2009-l``, ``add-2007-bl``,
``madd-2007-bl``, batch-affine addition with one shared inversion) with Fq2 = Fq[u]/(u² + 1)
coordinates; the curve constant b never enters these formulas (a = 0). Element convention: an Fq2
element is a pair of Fq Montgomery tuples (see :mod:`prover.kernels.field`).

- affine ``(x, y)``, infinity ``(0, 0)``; arrays ``(n, 2, 2, 4) uint64`` (point, coordinate,
  Fq2 component, limb).
- Jacobian ``(X, Y, Z)``, infinity when ``Z = 0``; arrays ``(n, 3, 2, 4) uint64``.

Kept as a twin file of ``g1.py`` rather than generated from it, so that each reads on its own;
tests check both against ``py_ecc.optimized_bn128``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.kernels.field import (
    FQ2_ONE,
    FQ2_ZERO,
    FQ_ONE,
    fq2_add,
    fq2_double,
    fq2_eq,
    fq2_inverse,
    fq2_is_zero,
    fq2_mul,
    fq2_neg,
    fq2_square,
    fq2_sub,
    fq_add,
    fq_inverse,
    fq_mul,
    fq_neg,
    fq_square,
    load2,
    store2,
    u4,
    u4x2,
)

_INLINE = {"cache": True, "inline": "always"}


@njit(**_INLINE)
def load_affine(arr, i):
    """Point i of an (n, 2, 2, 4) array as (x, y) Fq2 elements."""
    return (load2(arr, i, 0), load2(arr, i, 1))


@njit(**_INLINE)
def store_affine(arr, i, p):
    store2(arr, i, 0, p[0])
    store2(arr, i, 1, p[1])


@njit(**_INLINE)
def load_jac(arr, i):
    """Point i of an (n, 3, 2, 4) array as (X, Y, Z)."""
    return (load2(arr, i, 0), load2(arr, i, 1), load2(arr, i, 2))


@njit(**_INLINE)
def store_jac(arr, i, p):
    store2(arr, i, 0, p[0])
    store2(arr, i, 1, p[1])
    store2(arr, i, 2, p[2])


@njit(**_INLINE)
def affine_is_inf(p):
    return fq2_is_zero(p[0]) and fq2_is_zero(p[1])


@njit(**_INLINE)
def jac_is_inf(p):
    return fq2_is_zero(p[2])


@njit(**_INLINE)
def jac_inf():
    return (u4x2(FQ2_ONE), u4x2(FQ2_ONE), u4x2(FQ2_ZERO))


@njit(**_INLINE)
def affine_inf():
    return (u4x2(FQ2_ZERO), u4x2(FQ2_ZERO))


@njit(**_INLINE)
def affine_neg(p):
    if affine_is_inf(p):
        return p
    return (p[0], fq2_neg(p[1]))


@njit(**_INLINE)
def affine_to_jac(p):
    if affine_is_inf(p):
        return jac_inf()
    return (p[0], p[1], u4x2(FQ2_ONE))


@njit(cache=True)
def jac_double(p):
    """dbl-2009-l."""
    X, Y, Z = p
    if fq2_is_zero(Z):
        return p
    A = fq2_square(X)
    B = fq2_square(Y)
    C = fq2_square(B)
    D = fq2_double(fq2_sub(fq2_sub(fq2_square(fq2_add(X, B)), A), C))
    E = fq2_add(fq2_double(A), A)
    F = fq2_square(E)
    X3 = fq2_sub(F, fq2_double(D))
    C8 = fq2_double(fq2_double(fq2_double(C)))
    Y3 = fq2_sub(fq2_mul(E, fq2_sub(D, X3)), C8)
    Z3 = fq2_double(fq2_mul(Y, Z))
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_add(p, q):
    """add-2007-bl with the exceptional cases: p + q for Jacobian p, q."""
    X1, Y1, Z1 = p
    X2, Y2, Z2 = q
    if fq2_is_zero(Z1):
        return q
    if fq2_is_zero(Z2):
        return p
    Z1Z1 = fq2_square(Z1)
    Z2Z2 = fq2_square(Z2)
    U1 = fq2_mul(X1, Z2Z2)
    U2 = fq2_mul(X2, Z1Z1)
    S1 = fq2_mul(fq2_mul(Y1, Z2), Z2Z2)
    S2 = fq2_mul(fq2_mul(Y2, Z1), Z1Z1)
    H = fq2_sub(U2, U1)
    r = fq2_double(fq2_sub(S2, S1))
    if fq2_is_zero(H):
        if fq2_is_zero(r):
            return jac_double(p)
        return jac_inf()
    I = fq2_square(fq2_double(H))
    J = fq2_mul(H, I)
    V = fq2_mul(U1, I)
    X3 = fq2_sub(fq2_sub(fq2_square(r), J), fq2_double(V))
    Y3 = fq2_sub(fq2_mul(r, fq2_sub(V, X3)), fq2_double(fq2_mul(S1, J)))
    Z3 = fq2_mul(fq2_sub(fq2_sub(fq2_square(fq2_add(Z1, Z2)), Z1Z1), Z2Z2), H)
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_add_affine(p, q):
    """madd-2007-bl with the exceptional cases: Jacobian p + affine q."""
    if affine_is_inf(q):
        return p
    X1, Y1, Z1 = p
    if fq2_is_zero(Z1):
        return affine_to_jac(q)
    X2, Y2 = q
    Z1Z1 = fq2_square(Z1)
    U2 = fq2_mul(X2, Z1Z1)
    S2 = fq2_mul(fq2_mul(Y2, Z1), Z1Z1)
    H = fq2_sub(U2, X1)
    r = fq2_double(fq2_sub(S2, Y1))
    if fq2_is_zero(H):
        if fq2_is_zero(r):
            return jac_double(p)
        return jac_inf()
    HH = fq2_square(H)
    I = fq2_double(fq2_double(HH))
    J = fq2_mul(H, I)
    V = fq2_mul(X1, I)
    X3 = fq2_sub(fq2_sub(fq2_square(r), J), fq2_double(V))
    Y3 = fq2_sub(fq2_mul(r, fq2_sub(V, X3)), fq2_double(fq2_mul(Y1, J)))
    Z3 = fq2_sub(fq2_sub(fq2_square(fq2_add(Z1, H)), Z1Z1), HH)
    return (X3, Y3, Z3)


@njit(cache=True)
def jac_to_affine(p):
    if fq2_is_zero(p[2]):
        return affine_inf()
    zi = fq2_inverse(p[2])
    zi2 = fq2_square(zi)
    return (fq2_mul(p[0], zi2), fq2_mul(fq2_mul(p[1], zi2), zi))


@njit(cache=True)
def batch_to_affine(jac, out):
    """(n, 3, 2, 4) Jacobian → (n, 2, 2, 4) affine, one shared inversion (infinity → (0, 0))."""
    n = jac.shape[0]
    prefix = np.empty((n, 1, 2, 4), dtype=np.uint64)
    acc = u4x2(FQ2_ONE)
    for i in range(n):
        z = load2(jac, i, 2)
        store2(prefix, i, 0, acc)
        if not fq2_is_zero(z):
            acc = fq2_mul(acc, z)
    acc = fq2_inverse(acc)
    for i in range(n - 1, -1, -1):
        p = load_jac(jac, i)
        if fq2_is_zero(p[2]):
            store_affine(out, i, affine_inf())
            continue
        pre = load2(prefix, i, 0)
        zi = fq2_mul(acc, pre)
        acc = fq2_mul(acc, p[2])
        zi2 = fq2_square(zi)
        store_affine(out, i, (fq2_mul(p[0], zi2), fq2_mul(fq2_mul(p[1], zi2), zi)))
    return out


@njit(cache=True)
def add_affine_indexed(a, ia, b, ib, dst, iout, m, scratch):
    """dst[iout[k]] = a[ia[k]] + b[ib[k]] for k < m, in affine, with one shared inversion.

    ``scratch`` is an (≥ m, 1, 2, 4) uint64 work array. ``dst`` may be the array ``a`` only when
    ``iout[k] == ia[k]`` for every k and these indices are distinct (each slot is read and
    written by its own pair alone); otherwise ``dst`` must not alias ``a`` or ``b``.
    Exceptional cases: an infinite operand yields the other one; P + P doubles (λ = 3x²/2y);
    P + (−P) yields infinity.

    Only the Fq norms N(d) = d₀² + d₁² of the denominators are batch-inverted, in Fq:
    1/d = conj(d)·N(d)^−1 (scratch[k] holds the Fq prefix product and N(d)), which saves two Fq
    products per addition over batch-inverting in Fq2.
    """
    acc = u4(FQ_ONE)
    for k in range(m):
        p = load_affine(a, ia[k])
        q = load_affine(b, ib[k])
        if affine_is_inf(p) or affine_is_inf(q):
            continue
        if fq2_eq(p[0], q[0]):
            if not fq2_eq(p[1], q[1]):
                continue
            den = fq2_double(p[1])
        else:
            den = fq2_sub(q[0], p[0])
        norm = fq_add(fq_square(den[0]), fq_square(den[1]))
        store2(scratch, k, 0, (acc, norm))
        acc = fq_mul(acc, norm)
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
        if fq2_eq(p[0], q[0]):
            if not fq2_eq(p[1], q[1]):
                store_affine(dst, iout[k], affine_inf())
                continue
            den = fq2_double(p[1])
            x2 = fq2_square(p[0])
            num = fq2_add(fq2_double(x2), x2)
        else:
            den = fq2_sub(q[0], p[0])
            num = fq2_sub(q[1], p[1])
        pre, norm = load2(scratch, k, 0)
        inv_norm = fq_mul(acc, pre)
        acc = fq_mul(acc, norm)
        inv = (fq_mul(den[0], inv_norm), fq_neg(fq_mul(den[1], inv_norm)))
        lam = fq2_mul(num, inv)
        x3 = fq2_sub(fq2_sub(fq2_square(lam), p[0]), q[0])
        y3 = fq2_sub(fq2_mul(lam, fq2_sub(p[0], x3)), p[1])
        store_affine(dst, iout[k], (x3, y3))
