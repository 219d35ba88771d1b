"""The constraint-building API: costs, solving, named failures, determinism, the solver twins."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.api import API
from circuits.compiled import compile_api, compile_circuit
from circuits.errors import DefinitionError, InputError, UnsatisfiedConstraint
from circuits.soundness import assert_sound
from prover.errors import WitnessError
from prover.fields import R

FIELD = st.integers(min_value=0, max_value=R - 1)


@dataclass(frozen=True)
class Arith:
    """Exercises every arithmetic method once; outputs expose the results."""

    def define(self, api: API) -> None:
        a, b = api.private_input("a"), api.private_input("b")
        c = api.public_input("c")
        with api.namespace("arith"):
            api.public_output("sum", api.add(a, b, 3))
            api.public_output("prod", api.mul(a, b, c))
            api.public_output("quot", api.div(a, b))
            api.public_output("inv", api.inverse(b))
            api.public_output("lin", api.sum([a, b], [2, -1]) + api.scale(c, 5) - api.neg(a))
            api.public_output("eq", api.is_equal(a, c))
            api.public_output("z", api.is_zero(api.sub(a, a)))


def _arith_expected(a: int, b: int, c: int) -> dict[str, int]:
    inv = pow(b, R - 2, R)
    return {
        "sum": (a + b + 3) % R,
        "prod": a * b * c % R,
        "quot": a * inv % R,
        "inv": inv,
        "lin": (2 * a - b + 5 * c + a) % R,
        "eq": int(a == c),
        "z": 1,
    }


@settings(max_examples=25, deadline=None)
@given(FIELD, FIELD.filter(lambda v: v != 0), FIELD)
def test_arithmetic_matches_python(a: int, b: int, c: int) -> None:
    compiled = compile_circuit(Arith())
    z = compiled.solve({"a": a, "b": b, "c": c})
    for name, value in _arith_expected(a, b, c).items():
        assert compiled.output(z, name) == value
    compiled.r1cs.check(z)


def test_assert_not_equal() -> None:
    api = API()
    a, b = api.private_input("a"), api.private_input("b")
    api.assert_not_equal(a, b, "distinct")
    compiled = compile_api(api)
    compiled.solve({"a": 1, "b": 2})
    with pytest.raises(UnsatisfiedConstraint, match="'distinct'"):
        compiled.solve({"a": 5, "b": 5})


def test_assert_product_gates_a_check() -> None:
    api = API()
    en, a, b = api.private_input("en"), api.private_input("a"), api.private_input("b")
    api.assert_product(en, a - b, 0, "gated_equal")
    compiled = compile_api(api)
    compiled.solve({"en": 0, "a": 1, "b": 2})
    compiled.solve({"en": 1, "a": 2, "b": 2})
    with pytest.raises(UnsatisfiedConstraint, match="'gated_equal'"):
        compiled.solve({"en": 1, "a": 1, "b": 2})


def test_division_by_zero_is_unsatisfiable_and_named() -> None:
    compiled = compile_circuit(Arith())
    with pytest.raises(UnsatisfiedConstraint, match=r"'arith/div:inv'") as info:
        compiled.solve({"a": 4, "b": 0, "c": 1})
    assert info.value.namespace == "arith"


def test_linear_operations_are_free() -> None:
    api = API()
    a, b = api.private_input("a"), api.private_input("b")
    _ = api.add(a, b) * 7 - api.scale(b, 3) + 11
    assert api.rows == []
    with pytest.raises(TypeError, match=r"api\.mul"):
        _ = a * b


@pytest.mark.parametrize(
    ("method", "cost"),
    [
        (lambda api, x, y: api.mul(x, y), 1),
        (lambda api, x, y: api.div(x, y), 2),
        (lambda api, x, y: api.div(5, y), 1),
        (lambda api, x, y: api.inverse(x), 1),
        (lambda api, x, y: api.assert_equal(x, y), 1),
        (lambda api, x, y: api.assert_boolean(x), 1),
        (lambda api, x, y: api.assert_not_equal(x, y), 1),
        (lambda api, x, y: api.assert_product(x, y - 1, 0), 1),
        (lambda api, x, y: api.assert_product(0, y, 0), 0),
        (lambda api, x, y: api.select(x, y, 3), 2),
        (lambda api, x, y: api.is_zero(x), 2),
        (lambda api, x, y: api.is_equal(x, y), 2),
        (lambda api, x, y: api.to_bits(x, 64), 64),
        (lambda api, x, y: api.to_bits(x, 254), 254 + 253),
        (lambda api, x, y: api.range_check(x, 64), 64),
        (lambda api, x, y: api.less_than(x, y, 32), 32 + 32 + 33),
        (lambda api, x, y: api.less_than(x, y, 32, signed=True), 32 + 32 + 33),
        (lambda api, x, y: api.from_bits([x, y]), 2),
    ],
)
def test_documented_costs(method, cost: int) -> None:
    api = API()
    x, y = api.private_input("x"), api.private_input("y")
    method(api, x, y)
    assert len(api.rows) == cost


def test_known_bounds_are_not_paid_twice() -> None:
    api = API()
    x, y = api.private_input("x"), api.private_input("y")
    api.range_check(x, 16)
    api.range_check(y, 16)
    before = len(api.rows)
    api.range_check(x, 20)  # implied by the 16-bit check
    lt = api.less_than(x, y, 16)
    assert len(api.rows) - before == 17
    api.select(lt, x, y)  # lt is known boolean: only the mux row
    assert len(api.rows) - before == 18


@dataclass(frozen=True)
class Bits:
    n: int

    def define(self, api: API) -> None:
        x, y = api.private_input("x"), api.private_input("y")
        bits = api.to_bits(x, self.n)
        again = api.from_bits(bits) if self.n < 254 else api.sum(bits, [1 << i for i in range(254)])
        api.public_output("x_again", again)
        if self.n <= 252:
            api.public_output("lt", api.less_than(x, y, self.n))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 252), st.data())
def test_bits_and_unsigned_less_than(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, (1 << n) - 1))
    y = data.draw(st.integers(0, (1 << n) - 1))
    compiled = compile_circuit(Bits(n))
    z = compiled.solve({"x": x, "y": y})
    assert compiled.output(z, "x_again") == x
    assert compiled.output(z, "lt") == int(x < y)
    assert_sound(compiled, z, random.Random(n))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 252), st.data())
def test_signed_less_than(n: int, data: st.DataObject) -> None:
    lo, hi = -(1 << (n - 1)), (1 << (n - 1)) - 1
    x, y = data.draw(st.integers(lo, hi)), data.draw(st.integers(lo, hi))
    api = API()
    a, b = api.private_input("a"), api.private_input("b")
    api.public_output("lt", api.less_than(a, b, n, signed=True))
    compiled = compile_api(api)
    z = compiled.solve({"a": x, "b": y})
    assert compiled.output(z, "lt") == int(x < y)
    with pytest.raises(UnsatisfiedConstraint, match="less_than/range_a"):
        compiled.solve({"a": hi + 1, "b": y})
    with pytest.raises(UnsatisfiedConstraint, match="less_than/range_b"):
        compiled.solve({"a": x, "b": lo - 1})


@pytest.mark.parametrize("n", [1, 8, 64, 253])
def test_range_check_rejects_out_of_range_and_wrapped_values(n: int) -> None:
    compiled = compile_circuit(Bits(min(n, 252)))
    top = min(n, 252)
    for bad in (1 << top, R - 1, R - (1 << top), (1 << top) + R // 2):
        with pytest.raises(UnsatisfiedConstraint, match=f"to_bits/bit{top - 1}"):
            compiled.solve({"x": bad, "y": 0})


def test_64_bit_range_check_rejects_r_minus_1() -> None:
    api = API()
    x = api.private_input("x")
    api.range_check(x, 64, "amount")
    compiled = compile_api(api)
    compiled.solve({"x": (1 << 64) - 1})
    with pytest.raises(UnsatisfiedConstraint, match="amount/bit63"):
        compiled.solve({"x": R - 1})


@settings(max_examples=20, deadline=None)
@given(FIELD)
def test_strict_254_bit_decomposition(x: int) -> None:
    compiled = compile_circuit(Bits(254))
    z = compiled.solve({"x": x, "y": 0})
    assert compiled.output(z, "x_again") == x
    assert_sound(compiled, z, random.Random(x))


def test_strict_decomposition_rejects_the_alias_x_plus_r() -> None:
    compiled = compile_circuit(Bits(254))
    x = 5
    z = compiled.solve({"x": x, "y": 0})
    alias = x + R  # < 2^254: the other 254-bit decomposition of the same field element
    bits = [(alias >> i) & 1 for i in range(254)]
    bit_wires = [compiled.wire(f"to_bits/bit[{i}]") for i in range(253)]
    forged = list(z)
    for w, b in zip(bit_wires, bits, strict=False):
        forged[w] = b
    for i, name in enumerate(compiled.wire_names):
        if name.startswith("to_bits/alias"):
            forged[i] = 0
    with pytest.raises(UnsatisfiedConstraint, match="alias"):
        compiled.check(forged)


def test_select_booleans_and_constants() -> None:
    api = API()
    c, a, b = api.private_input("c"), api.private_input("a"), api.private_input("b")
    api.public_output("sel", api.select(c, a, b))
    api.public_output("and", api.and_(c, api.not_(c)))
    api.public_output("xor", api.xor(c, 1))
    compiled = compile_api(api)
    z = compiled.solve({"c": 1, "a": 10, "b": 20})
    assert [compiled.output(z, k) for k in ("sel", "and", "xor")] == [10, 0, 0]
    z = compiled.solve({"c": 0, "a": 10, "b": 20})
    assert [compiled.output(z, k) for k in ("sel", "and", "xor")] == [20, 0, 1]
    with pytest.raises(UnsatisfiedConstraint, match="select:bool"):
        compiled.solve({"c": 2, "a": 10, "b": 20})


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 7), st.lists(FIELD, min_size=8, max_size=8))
def test_mux_selects_by_index(index: int, values: list[int]) -> None:
    api = API()
    idx = api.private_input("i")
    xs = api.private_input("x", 8)
    bits = api.to_bits(idx, 3)
    api.public_output("var", api.mux(bits, xs))
    before = len(api.rows)
    api.public_output("const", api.mux(bits, values))
    assert len(api.rows) - before <= 3 + 1  # 2^(k-1) - 1 rows for a constant table, + output
    compiled = compile_api(api)
    z = compiled.solve({"i": index, "x": values})
    assert compiled.output(z, "var") == compiled.output(z, "const") == values[index]
    assert_sound(compiled, z, random.Random(index))
    with pytest.raises(UnsatisfiedConstraint, match="to_bits"):
        compiled.solve({"i": 8, "x": values})


def test_definition_errors() -> None:
    api = API()
    x = api.private_input("x")
    with pytest.raises(DefinitionError, match="declared twice"):
        api.public_input("x")
    with pytest.raises(DefinitionError, match=r"outside 0\.\.253"):
        api.range_check(x, 254)
    with pytest.raises(DefinitionError, match=r"outside 1\.\.252"):
        api.less_than(x, x, 253)
    with pytest.raises(DefinitionError, match="every witness"):
        api.assert_equal(3, 4)
    with pytest.raises(DefinitionError, match="does not fit"):
        api.to_bits(300, 8)
    with pytest.raises(DefinitionError, match="needs"):
        api.mux([x], [1, 2, 3])
    with pytest.raises(DefinitionError, match="namespace"), api.namespace("a/b"):
        pass


def test_input_errors() -> None:
    compiled = compile_circuit(Arith())
    with pytest.raises(InputError, match="'c' is not assigned"):
        compiled.solve({"a": 1, "b": 2})
    with pytest.raises(InputError, match="undeclared"):
        compiled.solve({"a": 1, "b": 2, "c": 3, "d": 4})
    with pytest.raises(InputError, match="non-integer"):
        compiled.solve({"a": 1, "b": 2, "c": 1.5})


def test_wire_layout_is_iden3() -> None:
    compiled = compile_circuit(Arith())
    r1cs = compiled.r1cs
    assert (r1cs.n_pub_out, r1cs.n_pub_in, r1cs.n_prv_in) == (7, 1, 2)
    assert compiled.wire_names[0] == "one"
    assert compiled.wire_names[1:8] == ("sum", "prod", "quot", "inv", "lin", "eq", "z")
    assert compiled.wire_names[8:11] == ("c", "a", "b")
    z = compiled.solve({"a": 2, "b": 3, "c": 4})
    assert compiled.public_signals(z)[-1] == 4
    assert compiled.public_signals(z)[:7] == [
        compiled.output(z, k) for k in _arith_expected(2, 3, 4)
    ]


def test_compile_is_deterministic_and_cached() -> None:
    one = compile_circuit(Bits(16), cache=False)
    two = compile_circuit(Bits(16), cache=False)
    assert one.digest() == two.digest()
    assert one.constraint_names == two.constraint_names
    assert compile_circuit(Bits(16)) is compile_circuit(Bits(16))
    assert compile_circuit(Bits(17)).digest() != one.digest()


@settings(max_examples=20, deadline=None)
@given(st.integers(0, (1 << 40) - 1), st.integers(0, (1 << 41) - 1))
def test_fast_solver_matches_reference(x: int, y: int) -> None:
    compiled = compile_circuit(Bits(40))
    try:
        fast = compiled.solve({"x": x, "y": y})
    except UnsatisfiedConstraint as exc:
        with pytest.raises(UnsatisfiedConstraint) as ref_exc:
            compiled.solve_reference({"x": x, "y": y})
        assert ref_exc.value.index == exc.index
        return
    assert compiled.solve_reference({"x": x, "y": y}) == fast


def test_unsatisfied_witness_is_named_by_check() -> None:
    compiled = compile_circuit(Arith())
    z = compiled.solve({"a": 2, "b": 3, "c": 4})
    tampered = list(z)
    tampered[compiled.wire("arith/mul")] += 1
    with pytest.raises(UnsatisfiedConstraint, match="constraint 1 'arith/mul'"):
        compiled.check(tampered)
    with pytest.raises(WitnessError):
        compiled.r1cs.check(tampered)


def test_export_round_trips_through_the_iden3_readers(tmp_path) -> None:
    from circuits.export import export_circuit
    from prover.iden3 import read_r1cs, read_wtns

    compiled = compile_circuit(Arith())
    z = compiled.solve({"a": 2, "b": 3, "c": 4})
    paths = export_circuit(compiled, z, tmp_path, "arith")
    back = read_r1cs(paths["r1cs"])
    assert back.digest() == compiled.digest()
    assert read_wtns(paths["wtns"]) == z
    sym = paths["sym"].read_text().splitlines()
    assert sym[0] == "1,1,0,main.sum" and len(sym) == compiled.r1cs.n_wires - 1
    tampered = list(z)
    tampered[compiled.outputs["prod"]] = (tampered[compiled.outputs["prod"]] + 1) % R
    with pytest.raises(UnsatisfiedConstraint, match="arith/mul"):
        export_circuit(compiled, tampered, tmp_path, "bad")
    assert not (tmp_path / "bad.wtns").exists() and not (tmp_path / "bad.r1cs").exists()
