"""G2 subgroup membership on plain ints: [r]Q = O, the fast twin of py_ecc's ``multiply``.

The twist E'(Fq2): y^2 = x^3 + 3/(9+i) has order r·(2q − r); its cofactor has small factors (10069
among them), so a point on the twist need not be in the order-r subgroup G2 that the pairing is
defined on. A verifier must check it for every G2 point it is given (EIP-197 does). Double-and-add
in Jacobian coordinates (dbl-2009-l, madd-2007-bl from the Explicit-Formulas Database), Fq2
arithmetic from :mod:`verifier.pairing`; py_ecc's ``is_inf(multiply(Q, curve_order))`` is the
twin in the tests.
"""

from __future__ import annotations

from verifier.pairing import Fq2, G2Affine, Q, R, fq2_mul


def _fq2_sub(a: Fq2, b: Fq2) -> Fq2:
    return ((a[0] - b[0]) % Q, (a[1] - b[1]) % Q)


def _jacobian_double(p: tuple[Fq2, Fq2, Fq2]) -> tuple[Fq2, Fq2, Fq2]:
    """2P in Jacobian coordinates on y^2 = x^3 + b (dbl-2009-l); infinity (Z = 0) stays infinity."""
    x, y, z = p
    a, b = fq2_mul(x, x), fq2_mul(y, y)
    c = fq2_mul(b, b)
    xb = ((x[0] + b[0]) % Q, (x[1] + b[1]) % Q)
    d = _fq2_sub(fq2_mul(xb, xb), (a[0] + c[0], a[1] + c[1]))
    d = (2 * d[0] % Q, 2 * d[1] % Q)
    e = (3 * a[0] % Q, 3 * a[1] % Q)
    x3 = _fq2_sub(fq2_mul(e, e), (2 * d[0], 2 * d[1]))
    y3 = _fq2_sub(fq2_mul(e, _fq2_sub(d, x3)), (8 * c[0], 8 * c[1]))
    return x3, y3, fq2_mul((2 * y[0], 2 * y[1]), z)


def _jacobian_add_affine(p: tuple[Fq2, Fq2, Fq2], q: G2Affine) -> tuple[Fq2, Fq2, Fq2]:
    """P + Q, P Jacobian and Q affine (madd-2007-bl), with the P = ±Q and P = O cases."""
    x1, y1, z1 = p
    if z1 == (0, 0):
        return q[0], q[1], (1, 0)
    zz = fq2_mul(z1, z1)
    h = _fq2_sub(fq2_mul(q[0], zz), x1)
    rr = _fq2_sub(fq2_mul(q[1], fq2_mul(z1, zz)), y1)
    if h == (0, 0):
        return _jacobian_double(p) if rr == (0, 0) else ((1, 0), (1, 0), (0, 0))
    rr = (2 * rr[0] % Q, 2 * rr[1] % Q)
    hh = fq2_mul(h, h)
    i = (4 * hh[0] % Q, 4 * hh[1] % Q)
    j, v = fq2_mul(h, i), fq2_mul(x1, i)
    x3 = _fq2_sub(_fq2_sub(fq2_mul(rr, rr), j), (2 * v[0], 2 * v[1]))
    y1j = fq2_mul(y1, j)
    y3 = _fq2_sub(fq2_mul(rr, _fq2_sub(v, x3)), (2 * y1j[0], 2 * y1j[1]))
    zh = ((z1[0] + h[0]) % Q, (z1[1] + h[1]) % Q)
    z3 = _fq2_sub(fq2_mul(zh, zh), (zz[0] + hh[0], zz[1] + hh[1]))
    return x3, y3, z3


def g2_times_order_is_zero(point: G2Affine) -> bool:
    """[r]Q == O for an affine Q on the twist: membership in the order-r subgroup G2.

    Double-and-add on plain ints, the fast twin of ``is_inf(multiply(Q, curve_order))`` in py_ecc.
    """
    acc = (point[0], point[1], (1, 0))
    for bit in bin(R)[3:]:
        acc = _jacobian_double(acc)
        if bit == "1":
            acc = _jacobian_add_affine(acc, point)
    return acc[2] == (0, 0)
