"""Comparators and range checks on n-bit integers, built on ``API.range_check`` / ``less_than``.

Unsigned operands are enforced to lie in [0, 2^n); signed ones in [−2^(n−1), 2^(n−1)) (a
negative v is the field element r − |v|). Nothing holds only by wrapping mod r: every difference
that is range-checked is itself a difference of range-checked values, so it cannot wrap.

Costs (n-bit operands, once their own range checks are known or paid — n rows each):

=========================  =======================================================
``less_than``              n + 1 (``API.less_than``; circomlib LessThan)
``less_or_equal``          n + 1 (1 − (b < a))
``assert_less_than``       n     (b − a − 1 ∈ [0, 2^n))
``assert_less_or_equal``   n     (b − a ∈ [0, 2^n))
``assert_in_range``        2n    (lo ≤ x ≤ hi for constants or values)
=========================  =======================================================

Reference: circomlib ``comparators.circom`` (LessThan, LessEqThan, GreaterThan).
"""

from __future__ import annotations

from circuits.api import API
from circuits.linear import Value, Variable, as_variable

__all__ = [
    "assert_in_range",
    "assert_less_or_equal",
    "assert_less_than",
    "greater_or_equal",
    "greater_than",
    "less_or_equal",
    "less_than",
]

_SIGN = "signed"


def _operands(
    api: API, a: Value, b: Value, n: int, signed: bool, name: str
) -> tuple[Variable, Variable]:
    """Range-check a, b to n bits (after the signed offset 2^(n−1)) and return the offset values."""
    a, b = as_variable(a), as_variable(b)
    if signed:
        a, b = a + (1 << (n - 1)), b + (1 << (n - 1))
    api.range_check(a, n, name + ":range_a")
    api.range_check(b, n, name + ":range_b")
    return a, b


def less_than(
    api: API, a: Value, b: Value, n: int, *, signed: bool = False, name: str = "lt"
) -> Variable:
    """1 if a < b else 0 (see ``API.less_than``). n + 1 constraints plus operand range checks."""
    return api.less_than(a, b, n, signed=signed, name=name)


def less_or_equal(
    api: API, a: Value, b: Value, n: int, *, signed: bool = False, name: str = "le"
) -> Variable:
    """1 if a ≤ b else 0. n + 1 constraints plus operand range checks."""
    return 1 - api.less_than(b, a, n, signed=signed, name=name)


def greater_than(
    api: API, a: Value, b: Value, n: int, *, signed: bool = False, name: str = "gt"
) -> Variable:
    """1 if a > b else 0. n + 1 constraints plus operand range checks."""
    return api.less_than(b, a, n, signed=signed, name=name)


def greater_or_equal(
    api: API, a: Value, b: Value, n: int, *, signed: bool = False, name: str = "ge"
) -> Variable:
    """1 if a ≥ b else 0. n + 1 constraints plus operand range checks."""
    return 1 - api.less_than(a, b, n, signed=signed, name=name)


def assert_less_than(
    api: API, a: Value, b: Value, n: int, *, signed: bool = False, name: str = "assert_lt"
) -> None:
    """a < b. n constraints (b − a − 1 ∈ [0, 2^n)) plus operand range checks."""
    with api.namespace(name):
        a, b = _operands(api, a, b, n, signed, "operands")
        api.range_check(b - a - 1, n, "diff")


def assert_less_or_equal(
    api: API, a: Value, b: Value, n: int, *, signed: bool = False, name: str = "assert_le"
) -> None:
    """a ≤ b. n constraints (b − a ∈ [0, 2^n)) plus operand range checks."""
    with api.namespace(name):
        a, b = _operands(api, a, b, n, signed, "operands")
        api.range_check(b - a, n, "diff")


def assert_in_range(
    api: API,
    x: Value,
    lo: Value,
    hi: Value,
    n: int,
    *,
    signed: bool = False,
    name: str = "in_range",
) -> None:
    """lo ≤ x ≤ hi. 2n constraints plus operand range checks."""
    with api.namespace(name):
        assert_less_or_equal(api, lo, x, n, signed=signed, name="low")
        assert_less_or_equal(api, x, hi, n, signed=signed, name="high")
