"""Fixed-point multiply and divide on signed integers, with range-checked remainders.

Values are signed integers of ``bits`` bits (quanta); a fixed-point number x stands for
x / scale for a positive constant ``scale``. Results round toward −∞ (Python's ``//``), the
same as the native state machine:

    fixed_mul(a, b) = ⌊a·b / scale⌋:     a·b = q·scale + rem,  0 ≤ rem < scale
    fixed_div(a, b) = ⌊a·scale / b⌋:     a·scale = q·b + rem,  0 ≤ rem < b,  b > 0

The quotient q comes from a hint and is range-checked (signed, ``out_bits`` bits), the remainder
is range-checked against its bound, and the widths are limited so that every term of the
equation is below r/2 in absolute value: the equation then holds over the integers, not
merely mod r (no wrapping), which makes q and rem unique.

Costs (a, b already range-checked): ``fixed_mul`` 1 + out_bits + rem_bits (+ rem_bits when
scale is not a power of two); ``fixed_div`` 2 + out_bits + 2·bits (b > 0 follows from 0 ≤ rem < b).
"""

from __future__ import annotations

from circuits.api import API
from circuits.errors import DefinitionError
from circuits.gadgets.comparators import assert_less_than
from circuits.gadgets.signed import assert_signed
from circuits.linear import Value, Variable, as_variable
from prover.fields import R

__all__ = ["fixed_div", "fixed_mul", "signed_value"]

#: |every term| < 2^MAX_TERM_BITS < r/2 keeps the equations exact over the integers.
MAX_TERM_BITS = 250


def signed_value(v: int) -> int:
    """The signed integer a field element stands for (r − k ↦ −k)."""
    v %= R
    return v - R if v > R // 2 else v


def _floor_div_hint(scale_mul: int):
    def hint(num: int, den: int) -> list[int]:
        n, d = signed_value(num) * scale_mul, signed_value(den)
        if d == 0:
            return [0, 0]
        q = n // d
        return [q, n - q * d]

    return hint


def fixed_mul(
    api: API,
    a: Value,
    b: Value,
    scale: int,
    bits: int,
    out_bits: int | None = None,
    name: str = "fixed_mul",
) -> Variable:
    """⌊a·b / scale⌋ for signed ``bits``-bit a, b (enforced). Quotient enforced signed in
    ``out_bits`` bits (default 2·bits). 1 + out_bits + rem constraints (see module doc)."""
    out_bits = 2 * bits if out_bits is None else out_bits
    if scale < 1 or 2 * bits > MAX_TERM_BITS or out_bits + scale.bit_length() > MAX_TERM_BITS:
        raise DefinitionError(
            f"fixed_mul widths bits={bits}, out_bits={out_bits}, scale={scale} would wrap mod r"
        )
    with api.namespace(name):
        assert_signed(api, a, bits, "range_a")
        assert_signed(api, b, bits, "range_b")
        prod = api.mul(a, b, name="product")
        q, rem = api.hint(_floor_div_hint(1), [prod, scale], 2, "quotient")
        assert_signed(api, q, out_bits, "range_q")
        _remainder_below(api, rem, scale, "rem")
        api.assert_equal(prod, q * scale + rem, "division")
    return q


def fixed_div(
    api: API,
    a: Value,
    b: Value,
    scale: int,
    bits: int,
    out_bits: int | None = None,
    name: str = "fixed_div",
) -> Variable:
    """⌊a·scale / b⌋ for signed ``bits``-bit a and 0 < b < 2^bits (enforced). Quotient enforced
    signed in ``out_bits`` bits (default bits + bit length of scale). 2 + out_bits + 2·bits rows."""
    out_bits = bits + scale.bit_length() if out_bits is None else out_bits
    if scale < 1 or bits + scale.bit_length() > MAX_TERM_BITS or out_bits + bits > MAX_TERM_BITS:
        raise DefinitionError(
            f"fixed_div widths bits={bits}, out_bits={out_bits}, scale={scale} would wrap mod r"
        )
    b = as_variable(b)
    with api.namespace(name):
        assert_signed(api, a, bits, "range_a")
        api.range_check(b, bits, "range_b")
        q, rem = api.hint(_floor_div_hint(scale), [a, b], 2, "quotient")
        assert_signed(api, q, out_bits, "range_q")
        assert_less_than(api, rem, b, bits, name="rem")  # 0 ≤ rem < b, hence b ≥ 1
        api.assert_equal(as_variable(a) * scale, api.mul(q, b, name="q_b") + rem, "division")
    return q


def _remainder_below(api: API, rem: Variable, bound: int, name: str) -> None:
    """0 ≤ rem < bound for a constant bound: a range check, plus one more if not a power of 2."""
    k = max(1, (bound - 1).bit_length())
    api.range_check(rem, k, name)
    if bound != 1 << k:
        api.range_check(bound - 1 - rem, k, name + ":below")
