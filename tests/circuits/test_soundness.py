"""The unconstrained-wire finder: it must flag forgotten constraints and stay quiet otherwise."""

from __future__ import annotations

import random

import numpy as np
import pytest

from circuits.api import API
from circuits.compiled import CompiledCircuit, compile_api
from circuits.errors import UnconstrainedWire, UnsatisfiedConstraint
from circuits.soundness import assert_sound, column_index, find_unconstrained
from prover.fields import R


def _compiled(build) -> CompiledCircuit:
    api = API()
    build(api)
    return compile_api(api)


def test_hint_without_constraint_is_reported() -> None:
    def build(api: API) -> None:
        x = api.private_input("x")
        (sq,) = api.hint(lambda v: [v * v % R], [x], 1, "square")
        api.mul(sq, x)  # sq is read but nothing pins it

    compiled = _compiled(build)
    z = compiled.solve({"x": 5})
    report = find_unconstrained(compiled, z, random.Random(0))
    assert [name for _, name in report.unconstrained] == ["square"]
    with pytest.raises(UnconstrainedWire, match="square"):
        assert_sound(compiled, z, random.Random(0))


def test_wires_free_only_together_are_reported() -> None:
    # h is a hint and only "h + 1 = out" mentions it: moving h alone breaks that row, moving h
    # and out together does not. The propagation pass must catch it.
    def build(api: API) -> None:
        x = api.private_input("x")
        (h,) = api.hint(lambda v: [v * v % R], [x], 1, "square")
        api.public_output("out", h + 1)

    compiled = _compiled(build)
    z = compiled.solve({"x": 5})
    assert [
        name for _, name in find_unconstrained(compiled, z, random.Random(0)).unconstrained
    ] == ["square"]


def test_constrained_hint_is_not_reported() -> None:
    def build(api: API) -> None:
        x = api.private_input("x")
        (sq,) = api.hint(lambda v: [v * v % R], [x], 1, "square")
        api.assert_equal(api.mul(x, x), sq)
        api.public_output("out", sq + 1)

    compiled = _compiled(build)
    z = compiled.solve({"x": 5})
    report = find_unconstrained(compiled, z, random.Random(0))
    assert report.ok
    assert report.wires_checked == compiled.r1cs.n_wires - 2  # all but one and x


def test_auxiliary_is_zero_inverse_is_reported_apart() -> None:
    def build(api: API) -> None:
        x = api.private_input("x")
        api.public_output("z", api.is_zero(x))

    compiled = _compiled(build)
    at_zero = find_unconstrained(compiled, compiled.solve({"x": 0}), random.Random(0))
    assert at_zero.ok
    assert [name for _, name in at_zero.auxiliary_free] == ["is_zero:inv"]
    nonzero = find_unconstrained(compiled, compiled.solve({"x": 7}), random.Random(0))
    assert nonzero.ok and not nonzero.auxiliary_free


def test_unsatisfying_witness_is_refused() -> None:
    def build(api: API) -> None:
        x = api.private_input("x")
        api.range_check(x, 8)

    compiled = _compiled(build)
    z = compiled.solve({"x": 200})
    z[compiled.wire("range_check/bit[0]")] ^= 1
    with pytest.raises(UnsatisfiedConstraint, match="range_check"):
        find_unconstrained(compiled, z, random.Random(0))


def test_column_index_matches_brute_force() -> None:
    def build(api: API) -> None:
        xs = api.private_input("x", 4)
        acc = xs[0]
        for x in xs[1:]:
            acc = api.mul(acc + 3, x - 1)
        api.less_than(xs[0], xs[1], 10)
        api.public_output("out", acc)

    compiled = _compiled(build)
    cols = column_index(compiled)
    r1cs = compiled.r1cs
    for w in range(r1cs.n_wires):
        rows = {
            i
            for i in range(r1cs.n_constraints)
            for mat in (r1cs.a, r1cs.b, r1cs.c)
            if any(wire == w for wire, _ in mat.row(i))
        }
        assert np.array_equal(cols[w], np.array(sorted(rows), dtype=np.int64))
