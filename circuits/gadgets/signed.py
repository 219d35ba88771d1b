"""Signed integers in a bounded range, and min / max / abs.

A signed n-bit value v ∈ [−2^(n−1), 2^(n−1)) is the field element v mod r (so −1 is r − 1).
``assert_signed`` enforces the range by range-checking v + 2^(n−1) to n bits; the top bit of that
decomposition is 1 exactly when v ≥ 0, which gives ``is_negative`` for the same n rows. Every
result below is range-checked or derived from range-checked values by a selection, so it cannot
hold only by wrapping mod r.

Costs: ``assert_signed`` n; ``is_negative`` n; ``abs_value`` n + 1; ``min_value``/``max_value``
n + 1 + the operands' range checks (2n when not already known).
"""

from __future__ import annotations

from circuits.api import API
from circuits.errors import DefinitionError
from circuits.linear import Value, Variable, as_variable

__all__ = ["abs_value", "assert_signed", "is_negative", "max_value", "min_value"]


def _check_width(n: int) -> None:
    if not 1 <= n <= 252:
        raise DefinitionError(f"signed width {n} outside 1..252")


def assert_signed(api: API, x: Value, n: int, name: str = "signed") -> None:
    """x ∈ [−2^(n−1), 2^(n−1)). n constraints (0 if already known)."""
    _check_width(n)
    api.range_check(as_variable(x) + (1 << (n - 1)), n, name)


def is_negative(api: API, x: Value, n: int, name: str = "is_negative") -> Variable:
    """1 if x < 0 else 0, enforcing x ∈ [−2^(n−1), 2^(n−1)). n constraints."""
    _check_width(n)
    top = api.to_bits(as_variable(x) + (1 << (n - 1)), n, name)[n - 1]
    out = 1 - top
    api._set_bits(out, 1)  # 1 − (a boolean-constrained bit)
    return out


def abs_value(api: API, x: Value, n: int, name: str = "abs") -> Variable:
    """|x| ∈ [0, 2^(n−1)] for x ∈ [−2^(n−1), 2^(n−1)) (enforced). n + 1 constraints."""
    x = as_variable(x)
    with api.namespace(name):
        neg = is_negative(api, x, n, "sign")
        out = api.select(neg, -x, x, "select")
    api._set_bits(out, n)
    return out


def min_value(
    api: API, a: Value, b: Value, n: int, *, signed: bool = True, name: str = "min"
) -> Variable:
    """min(a, b) of n-bit (signed by default) integers, operands enforced in range. n + 2 rows
    plus the operands' range checks."""
    with api.namespace(name):
        lt = api.less_than(a, b, n, signed=signed, name="lt")
        return api.select(lt, a, b, "select")


def max_value(
    api: API, a: Value, b: Value, n: int, *, signed: bool = True, name: str = "max"
) -> Variable:
    """max(a, b) of n-bit (signed by default) integers, operands enforced in range. n + 2 rows
    plus the operands' range checks."""
    with api.namespace(name):
        lt = api.less_than(a, b, n, signed=signed, name="lt")
        return api.select(lt, b, a, "select")
