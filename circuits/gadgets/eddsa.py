"""EdDSA-Poseidon signature verification on BabyJubJub, as circomlib ``eddsaposeidon.circom``.

For a public key A = (Ax, Ay), message M and signature (R8, S), with B8 = ``BASE8`` and
l = ``SUBGROUP_ORDER`` (circomlibjs ``verifyPoseidon`` / circomlib EdDSAPoseidonVerifier):

    h = Poseidon(R8x, R8y, Ax, Ay, M)                 (254 canonical bits, no alias h + r)
    S < l                                             (no malleable S + l)
    A and R8 on the curve
    A in the order-l subgroup and A ≠ O               (stricter than circomlib's 8·A ≠ O)
    S·B8 = R8 + h·(8·A)

The subgroup check matches the native ``protocol.eddsa.verify`` (circomlibjs plus a
subgroup check on A), so circuit and native code accept exactly the same keys: circomlib's
circuit only checks 8·A ≠ O and would accept A + T for a torsion point T. It is cheap because
the curve group is cyclic of order 8·l: A is in the subgroup iff A = 8·P for a point P on the
curve, and the prover supplies P = (8⁻¹ mod l)·A (3 + 15 + 2 rows). A ≠ O is then (A).x ≠ 0.
S·B8 and 8·A lie in the subgroup, so the equation also forces R8 into it; in the cofactored
verification form this is 8·S·B = 8·R8 + 8·h·A.

``enabled`` (optional, a boolean Variable) switches the S-range, small-order and equation checks
off as circomlib's ``enabled`` input does, for padding slots; the on-curve and subgroup checks
stay, so a disabled slot still needs valid points: use A = R8 = (0, 1), S = 0.

Cost: S bits 251 + S < l ≈ 250, on-curve 2·3, subgroup 20, A ≠ O 1, Poseidon(5) 321,
h bits 254 + ≈253, 8·A 15, h·(8A) 2,304 (Montgomery ladder, 9 rows per bit, safe because 8·A
has order l; +6 with ``enabled``), R8 + … 6, S·B8 512 (Montgomery 3-bit windows), equation 2:
4,195 in all (``python -m benchmarks.constraints``); circomlib's is ≈ 4,350 by our reading of
its templates (the same Montgomery ladders; its S < l and alias checks cost a little more).
"""

from __future__ import annotations

from circuits.api import API
from circuits.gadgets.babyjubjub import assert_on_curve, point_add, point_double
from circuits.gadgets.montgomery import scalar_mul_fixed_subgroup, scalar_mul_subgroup
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Value, Variable, as_variable
from protocol import babyjubjub as bjj
from protocol.fields import inverse_or_zero
from prover.fields import R

__all__ = ["SUBGROUP_BITS", "eddsa_poseidon_verify"]

#: l < 2^251: S is decomposed into 251 bits.
SUBGROUP_BITS = bjj.SUBGROUP_ORDER.bit_length()


_INV8 = pow(8, -1, bjj.SUBGROUP_ORDER)


def _eighth(x: int, y: int) -> list[int]:
    """(8⁻¹ mod l)·(x, y): the point P with 8·P = A when A is in the subgroup (else (0, 1))."""
    if not bjj.is_on_curve((x, y)):
        return [0, 1]
    return list(bjj.multiply((x, y), _INV8))


def _times8(api: API, p: tuple[Variable, Variable]) -> tuple[Variable, Variable]:
    """8·p by three doublings. 15 constraints."""
    return point_double(api, point_double(api, point_double(api, p, "x2"), "x4"), "x8")


def _inverse_or_zero(x: int, enabled: int) -> list[int]:
    return [inverse_or_zero(x) * enabled % R]


def eddsa_poseidon_verify(
    api: API,
    public_key: tuple[Value, Value],
    message: Value,
    signature: tuple[Value, Value, Value],
    *,
    enabled: Value | None = None,
    name: str = "eddsa",
) -> None:
    """Enforce that signature = (R8x, R8y, S) is a valid EdDSA-Poseidon signature of message
    under public_key (when ``enabled`` is None or 1). ≈ 4.9k constraints (see module doc)."""
    ax, ay = (as_variable(v) for v in public_key)
    r8x, r8y, s = (as_variable(v) for v in signature)
    with api.namespace(name):
        on = None
        if enabled is not None:
            on = as_variable(enabled)
            api.assert_boolean(on, "enabled")
        s_bits = api.to_bits(s, SUBGROUP_BITS, "s_bits")
        api._assert_bits_le(s_bits, bjj.SUBGROUP_ORDER - 1, "s_below_l", on)
        assert_on_curve(api, (ax, ay), "a_on_curve")
        assert_on_curve(api, (r8x, r8y), "r8_on_curve")
        h = poseidon(api, [r8x, r8y, ax, ay, message], "hash")
        h_bits = api.to_bits(h, 254, "h_bits")
        with api.namespace("a_in_subgroup"):
            p = api.hint(_eighth, [ax, ay], 2, "a_over_8")
            assert_on_curve(api, p, "on_curve")
            p8 = _times8(api, (p[0], p[1]))
            api.assert_equal(p8[0], ax, "x")
            api.assert_equal(p8[1], ay, "y")
        # A ≠ O  ⇔  A.x ≠ 0 for a point of the subgroup: A.x · inv = enabled.
        (inv,) = api._hint(
            _inverse_or_zero, [ax, on if on is not None else 1], 1, "a_inv", auxiliary=True
        )
        api.assert_product(ax, inv, on if on is not None else 1, "a_not_small_order")
        a8 = _times8(api, (ax, ay))
        # 8·A has order l (A in the subgroup, A ≠ O unless disabled): the Montgomery ladder is safe.
        h_a8 = scalar_mul_subgroup(api, h_bits, a8, may_be_identity=on is not None, name="h_a8")
        right = point_add(api, (r8x, r8y), h_a8, "right")
        left = scalar_mul_fixed_subgroup(api, s_bits, bjj.BASE8, "s_b8")
        for coord, label in ((0, "x"), (1, "y")):
            diff: Variable = left[coord] - right[coord]
            api.assert_product(diff, on if on is not None else 1, 0, f"equation_{label}")
