"""verifier.pairing (plain-int optimal ate) against its reference twin, py_ecc.optimized_bn128."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bn128 import (
    FQ12,
    G1,
    G2,
    add,
    curve_order,
    field_modulus,
    final_exponentiate,
    is_inf,
    multiply,
    neg,
    normalize,
    pairing,
)

from verifier import pairing as fast
from verifier.g2_subgroup import g2_times_order_is_zero

scalars = st.integers(min_value=1, max_value=curve_order - 1)
fq12s = st.lists(st.integers(0, field_modulus - 1), min_size=12, max_size=12).filter(any)


@settings(max_examples=8, deadline=None)
@given(fq12s)
def test_frobenius_is_the_q_power(coeffs: list[int]) -> None:
    x = FQ12(coeffs)
    assert FQ12(fast.frobenius(coeffs)) == x**field_modulus
    assert fast.frobenius2(coeffs) == fast.frobenius(fast.frobenius(coeffs))
    assert FQ12(fast.fq12_conj(coeffs)) == FQ12(fast.fq12_pow(coeffs, field_modulus**6))


@settings(max_examples=10, deadline=None)
@given(fq12s, fq12s)
def test_fq12_mul_sqr_inv_match_py_ecc(a: list[int], b: list[int]) -> None:
    assert FQ12(fast.fq12_mul(a, b)) == FQ12(a) * FQ12(b)
    assert FQ12(fast.fq12_sqr(a)) == FQ12(a) * FQ12(a)
    assert fast.fq12_mul(a, fast.fq12_inv(a)) == fast.ONE


@settings(max_examples=4, deadline=None)
@given(fq12s)
def test_final_exponentiation_matches_py_ecc(coeffs: list[int]) -> None:
    assert FQ12(fast.final_exponentiation(coeffs)) == final_exponentiate(FQ12(coeffs))


@settings(max_examples=3, deadline=None)
@given(scalars, scalars)
def test_pairing_matches_py_ecc(a: int, b: int) -> None:
    p, q = multiply(G1, a), multiply(G2, b)
    assert fast.pairing(q, p) == pairing(q, p)


@settings(max_examples=10, deadline=None)
@given(scalars, scalars)
def test_bilinearity_and_product_check(a: int, b: int) -> None:
    """e(aP, bQ) · e(-abP, Q) = 1, and with a wrong exponent it is not 1 (negative twin)."""
    pairs = [(multiply(G1, a), multiply(G2, b)), (neg(multiply(G1, a * b % curve_order)), G2)]
    assert fast.pairing_product_is_one(pairs)
    wrong = [pairs[0], (neg(multiply(G1, (a * b + 1) % curve_order)), G2)]
    assert not fast.pairing_product_is_one(wrong)


def test_non_degenerate_and_infinity_pairs_skipped() -> None:
    e = fast.pairing(G2, G1)
    assert e != FQ12.one() and e**curve_order == FQ12.one()
    z1 = multiply(G1, 0)
    assert fast.pairing(G2, z1) == FQ12.one()
    assert fast.pairing_product_is_one([(z1, G2)])
    assert not fast.pairing_product_is_one(
        [(z1, G2), (G1, multiply(G2, random.Random(1).randrange(1, 99)))]
    )


def _affine(point) -> fast.G2Affine:
    x, y = normalize(point)
    return (x.coeffs[0], x.coeffs[1]), (y.coeffs[0], y.coeffs[1])


@settings(max_examples=6, deadline=None)
@given(scalars)
def test_subgroup_check_matches_py_ecc_on_g2(k: int) -> None:
    point = multiply(G2, k)
    assert g2_times_order_is_zero(_affine(point)) is True
    assert is_inf(multiply(point, curve_order))


def test_subgroup_check_rejects_points_outside(twist_point_outside_subgroup) -> None:
    """A random twist point, a point of order 10069 (a factor of the cofactor 2q - r) and sums."""
    outside = twist_point_outside_subgroup
    cofactor = 2 * field_modulus - curve_order
    small = multiply(outside, curve_order * (cofactor // 10069))
    assert not is_inf(small) and is_inf(multiply(small, 10069))
    for point in (outside, small, add(small, G2), add(outside, multiply(G2, 5))):
        assert g2_times_order_is_zero(_affine(point)) is False
        assert not is_inf(multiply(point, curve_order))
