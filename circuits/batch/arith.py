"""Integer gadgets the batch circuit shares: conditional range checks, signs, floor division.

Every gadget states the integer bound its caller must guarantee (|x| < 2^n); within it the check
is exact over the integers, because a negative x is the residue r − |x| > 2^253 − 2^n ≥ 2^n.

    cond_range(en, x, n):   en·x ∈ [0, 2^n)                 (x ∈ [0, 2^n) when en = 1)     n + 1
    sign_ge(x, n):          ge ∈ {0,1}, ge ? x : −x−1 ∈ [0, 2^n)   (ge = [x ≥ 0])            n + 2
    floor_div(x, d):        x = q·d + rem, 0 ≤ rem < d, q signed   (q = ⌊x/d⌋, Python //)
    bounded(x, n):          −(2^n − 1) ≤ x ≤ 2^n − 1                                      n + 2
    nonzero_if(en, x):      en ⇒ x ≠ 0                                                    2

References: circomlib ``comparators.circom`` (LessThan: the sign of a bounded difference),
rollup/effects.py (``check_range`` bounds, floor divisions).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.api import API
from circuits.gadgets.signed import assert_signed
from circuits.linear import Value, Variable, as_variable
from protocol.fields import inverse_or_zero
from prover.fields import R

__all__ = ["bounded", "cond_range", "floor_div", "nonzero_if", "pick", "sign_ge"]

_HALF = R >> 1


def _signed(v: int) -> int:
    v %= R
    return v - R if v > _HALF else v


def cond_range(api: API, en: Value, x: Value, n: int, name: str) -> None:
    """If en (a known boolean) is 1: 0 ≤ x < 2^n; nothing if en = 0. n + 1 constraints."""
    en = as_variable(en)
    if en.constant_value == 1:
        api.range_check(x, n, name)
    else:
        api.range_check(api.mul(en, x, name=name + ":en"), n, name)


def _ge_hint(x: int) -> list[int]:
    return [int(_signed(x) >= 0)]


def sign_ge(api: API, x: Value, n: int, name: str) -> Variable:
    """1 if x ≥ 0 else 0, for |x| < 2^n guaranteed by the caller. n + 2 constraints."""
    x = as_variable(x)
    with api.namespace(name):
        (ge,) = api.hint(_ge_hint, [x], 1, "ge")
        api.assert_boolean(ge, "ge_bool")
        api.range_check(api.select(ge, x, -x - 1, "magnitude"), n, "range")
    return ge


def floor_div(
    api: API, x: Value, d: int, q_bits: int, name: str, *, rem_bits: int | None = None
) -> Variable:
    """q = ⌊x / d⌋ for a constant d > 0 and |x| < d·2^(q_bits−1) < 2^250: x = q·d + rem with
    q ∈ [−2^(q_bits−1), 2^(q_bits−1)) and 0 ≤ rem < d. q_bits + 2·⌈log2 d⌉ constraints
    (⌈log2 d⌉ when d is a power of two)."""
    x = as_variable(x)
    width = (d - 1).bit_length()

    def hint(v: int) -> list[int]:
        q, rem = divmod(_signed(v), d)
        return [q, rem]

    with api.namespace(name):
        q, rem = api.hint(hint, [x], 2, "q_rem")
        assert_signed(api, q, q_bits, "q_range")
        api.range_check(rem, width, "rem_range")
        if d != 1 << width:
            api.range_check(d - 1 - rem, width, "rem_below_d")
        api.assert_equal(q * d + rem, x, "division")
    return q


def bounded(api: API, x: Value, n: int, name: str) -> None:
    """|x| ≤ 2^n − 1 (as rollup.effects.check_range(x, −(2^n−1), 2^n−1)). n + 2 constraints."""
    x = as_variable(x)
    with api.namespace(name):
        assert_signed(api, x, n + 1, "range")
        api.assert_nonzero(x + (1 << n), "not_min")


def pick(api: API, onehot: Sequence[Value], values: Sequence[Value], name: str) -> Variable:
    """Σ onehot_m · values_m (the selected entry, 0 if onehot is all zero). 1 constraint each."""
    terms = [
        api.mul(s, v, name=f"{name}{m}")
        for m, (s, v) in enumerate(zip(onehot, values, strict=True))
    ]
    return api.sum(terms)


def _inverse_if(x: int, en: int) -> list[int]:
    return [inverse_or_zero(x) if en else 0]


def nonzero_if(api: API, en: Value, x: Value, name: str) -> None:
    """en ⇒ x ≠ 0, for a known boolean en: x·inv = en, inv·(1 − en) = 0 (inv pinned to 0 when
    en = 0). 2 constraints."""
    x, en = as_variable(x), as_variable(en)
    (inv,) = api.hint(_inverse_if, [x, en], 1, name + ":inv")
    api.assert_product(x, inv, en, name)
    api.assert_product(inv, 1 - en, 0, name + ":pinned")
