"""The numba witness solver (``circuits.solver_fast``) against its twin on Python ints
(``circuits.solver.run_program``): the same witness on random circuits and on a batch, the same
failing row and name when the inputs break a constraint, the division hints' zero cases."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from circuits.api import API
from circuits.compiled import compile_api
from circuits.errors import DefinitionError, UnsatisfiedConstraint
from circuits.gadgets.montgomery import _div
from prover.fields import R
from tests.circuits.test_api_solver import _build, _random_program

FIELD = st.integers(min_value=0, max_value=R - 1)


def _agree(compiled, assignment) -> list[int] | None:
    """Both solvers' witness (equal), or None after both failed on the same row."""
    try:
        fast = compiled.solve(assignment)
    except UnsatisfiedConstraint as exc:
        with pytest.raises(UnsatisfiedConstraint) as ref:
            compiled.solve_python(assignment)
        assert (ref.value.index, ref.value.name) == (exc.index, exc.name)
        return None
    assert compiled.solve_python(assignment) == fast
    return fast


@settings(max_examples=40, deadline=None)
@given(_random_program())
def test_random_circuits_solve_alike(program) -> None:
    steps, inputs = program
    api = API()
    try:
        _build(api, steps)
    except DefinitionError:
        assume(False)
    compiled = compile_api(api)
    z = _agree(compiled, {"x": inputs})
    if z is not None:
        compiled.r1cs.check(z)


def _division_circuit() -> API:
    api = API()
    a, b, c = api.private_input("v", 3)
    (q,) = api.hint(_div, [a, b], 1, "q")  # a two-argument field division hint
    api.assert_product(q, b, a, "q")
    inv = api.inverse(c, "inv")  # a one-argument one: c·inv = 1
    sq = api.mul(q + inv, q + inv, name="square")  # a shared combination, squared
    bits = api.to_bits(a - b * 3, 254, "bits")  # a Python hint with many outputs
    low = api.sum(bits[:16], [1 << i for i in range(16)])
    api.public_output("out", sq + low + api.sum([a, b], [-1, R - 5]))
    return api


@settings(max_examples=25, deadline=None)
@given(FIELD, FIELD, FIELD)
def test_divisions_and_hints_solve_alike(a: int, b: int, c: int) -> None:
    compiled = compile_api(_division_circuit())
    assert _agree(compiled, {"v": [a, b or 1, c or 1]}) is not None


@pytest.mark.parametrize(("a", "b", "c"), [(5, 0, 1), (0, 0, 1), (5, 2, 0)])
def test_a_zero_denominator_fails_on_the_same_row(a: int, b: int, c: int) -> None:
    """Negative twin: the division hints give 0 for a zero denominator (as inverse_or_zero),
    and the constraint after them fails identically (0·0 = 0 is satisfied: a = 0, b = 0)."""
    compiled = compile_api(_division_circuit())
    z = _agree(compiled, {"v": [a, b, c]})
    assert (z is None) == ((a != 0 and b == 0) or c == 0)


def test_a_hint_with_the_wrong_number_of_outputs_is_refused() -> None:
    api = API()
    (x,) = api.private_input("x", 1)
    (y,) = api.hint(lambda v: [v, v], [x], 1, "bad")
    api.public_output("y", y)
    compiled = compile_api(api)
    with pytest.raises(ValueError):
        compiled.solve({"x": [3]})
    with pytest.raises(ValueError):
        compiled.solve_python({"x": [3]})


def test_a_batch_solves_alike_and_a_tampered_one_fails_alike() -> None:
    from rollup.circuit_input import batch_assignment
    from rollup.tx import Liquidate
    from tests.batch_helpers import one_slot
    from tests.circuits.test_batch_soundness_bankruptcy import (
        BIG,
        PRICE,
        SHAPE,
        Q,
        levered,
        order,
    )
    from tests.circuits.test_batch_soundness_bankruptcy import compiled as _compiled

    compiled = _compiled.__wrapped__()
    o = PRICE * 85 // 100
    state = levered(o, fund=10**6 * Q)
    batch = one_slot(state, lambda s: s.apply(Liquidate(order(2, 0, BIG, o), 0, BIG // 3, o, 0)))
    assignment = batch_assignment(batch, SHAPE)
    assert _agree(compiled, assignment) is not None
    name = next(k for k, v in assignment.items() if isinstance(v, int) and v)
    tampered = {**assignment, name: assignment[name] + 1}
    assert _agree(compiled, tampered) is None
