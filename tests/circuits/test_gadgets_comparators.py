"""Comparators, signed integers, min/max/abs and fixed point against Python integers."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.api import API
from circuits.compiled import compile_circuit
from circuits.errors import DefinitionError, UnsatisfiedConstraint
from circuits.gadgets import comparators as cmp
from circuits.gadgets.fixedpoint import fixed_div, fixed_mul, signed_value
from circuits.gadgets.signed import abs_value, assert_signed, is_negative, max_value, min_value
from circuits.soundness import assert_sound
from prover.fields import R

N = 32
LO, HI = -(1 << (N - 1)), (1 << (N - 1)) - 1
SIGNED = st.integers(LO, HI)
UNSIGNED = st.integers(0, (1 << N) - 1)


@dataclass(frozen=True)
class Compare:
    signed: bool

    def define(self, api: API) -> None:
        a, b = api.private_input("a"), api.private_input("b")
        s = self.signed
        api.public_output("lt", cmp.less_than(api, a, b, N, signed=s))
        api.public_output("le", cmp.less_or_equal(api, a, b, N, signed=s))
        api.public_output("gt", cmp.greater_than(api, a, b, N, signed=s))
        api.public_output("ge", cmp.greater_or_equal(api, a, b, N, signed=s))


@settings(max_examples=30, deadline=None)
@given(st.booleans(), st.data())
def test_comparisons_match_python(signed: bool, data: st.DataObject) -> None:
    strat = SIGNED if signed else UNSIGNED
    a, b = data.draw(strat), data.draw(strat)
    compiled = compile_circuit(Compare(signed))
    z = compiled.solve({"a": a, "b": b})
    got = [compiled.output(z, k) for k in ("lt", "le", "gt", "ge")]
    assert got == [int(a < b), int(a <= b), int(a > b), int(a >= b)]
    assert_sound(compiled, z, random.Random(a ^ b))


@pytest.mark.parametrize("signed", [False, True])
def test_comparison_operands_out_of_range_rejected(signed: bool) -> None:
    compiled = compile_circuit(Compare(signed))
    too_big = HI + 1 if signed else 1 << N
    for bad in (too_big, R - 1 if not signed else LO - 1, (1 << N) + R // 2):
        with pytest.raises(UnsatisfiedConstraint, match="range_a"):
            compiled.solve({"a": bad, "b": 0})


@dataclass(frozen=True)
class Asserts:
    def define(self, api: API) -> None:
        a, b, x = api.private_input("a"), api.private_input("b"), api.private_input("x")
        cmp.assert_less_than(api, a, b, N)
        cmp.assert_less_or_equal(api, a, b, N)
        cmp.assert_in_range(api, x, -5, 7, N, signed=True)


@settings(max_examples=25, deadline=None)
@given(UNSIGNED, UNSIGNED, st.integers(-10, 12))
def test_assertions_accept_exactly_the_true_cases(a: int, b: int, x: int) -> None:
    compiled = compile_circuit(Asserts())
    if a < b and -5 <= x <= 7:
        z = compiled.solve({"a": a, "b": b, "x": x})
        assert_sound(compiled, z, random.Random(7))
    else:
        with pytest.raises(UnsatisfiedConstraint):
            compiled.solve({"a": a, "b": b, "x": x})


@dataclass(frozen=True)
class Signed:
    def define(self, api: API) -> None:
        a, b = api.private_input("a"), api.private_input("b")
        assert_signed(api, a, N, "a_range")
        api.public_output("neg", is_negative(api, a, N))
        api.public_output("abs", abs_value(api, a, N))
        api.public_output("min", min_value(api, a, b, N))
        api.public_output("max", max_value(api, a, b, N))


@settings(max_examples=30, deadline=None)
@given(SIGNED, SIGNED)
def test_signed_helpers_match_python(a: int, b: int) -> None:
    compiled = compile_circuit(Signed())
    z = compiled.solve({"a": a, "b": b})
    got = [signed_value(compiled.output(z, k)) for k in ("neg", "abs", "min", "max")]
    assert got == [int(a < 0), abs(a), min(a, b), max(a, b)]
    assert_sound(compiled, z, random.Random(a))


def test_signed_range_rejects_wrapped_values() -> None:
    compiled = compile_circuit(Signed())
    for bad in (HI + 1, LO - 1, R // 2):
        with pytest.raises(UnsatisfiedConstraint, match="a_range"):
            compiled.solve({"a": bad, "b": 0})


SCALE = 10**6


@dataclass(frozen=True)
class Fixed:
    def define(self, api: API) -> None:
        a, b = api.private_input("a"), api.private_input("b")
        api.public_output("mul", fixed_mul(api, a, b, SCALE, N))
        api.public_output("div", fixed_div(api, a, b, SCALE, N))


@settings(max_examples=30, deadline=None)
@given(SIGNED, st.integers(1, HI))
def test_fixed_point_matches_python_floor(a: int, b: int) -> None:
    compiled = compile_circuit(Fixed())
    z = compiled.solve({"a": a, "b": b})
    assert signed_value(compiled.output(z, "mul")) == a * b // SCALE
    assert signed_value(compiled.output(z, "div")) == a * SCALE // b
    assert_sound(compiled, z, random.Random(b))


def test_fixed_point_rejects_wrong_quotient_and_bad_divisor() -> None:
    compiled = compile_circuit(Fixed())
    z = compiled.solve({"a": 7 * SCALE + 3, "b": 2 * SCALE})
    q = compiled.outputs["mul"]  # the quotient wire, exposed as the output
    rem = compiled.wire("fixed_mul/quotient[1]")
    forged = list(z)
    forged[q] += 1  # q + 1 with rem − scale: the equation holds mod r, the remainder range fails
    forged[rem] = (forged[rem] - SCALE) % R
    offset_q = signed_value(forged[q]) + (1 << (2 * N - 1))  # its signed range check's bits
    for i in range(2 * N - 1):
        forged[compiled.wire(f"fixed_mul/range_q/bit[{i}]")] = (offset_q >> i) & 1
    with pytest.raises(UnsatisfiedConstraint, match="fixed_mul/rem"):
        compiled.check(forged)
    for bad_b in (0, -3):
        with pytest.raises(UnsatisfiedConstraint, match="fixed_div"):
            compiled.solve({"a": 5, "b": bad_b})
    with pytest.raises(DefinitionError, match="wrap"):
        fixed_mul(API(), 1, 2, SCALE, 126)
