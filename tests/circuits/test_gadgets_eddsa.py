"""EdDSA-Poseidon verification gadget: circomlibjs vectors, native twin, forgeries rejected."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.api import API
from circuits.compiled import compile_api, compile_circuit
from circuits.errors import UnsatisfiedConstraint
from circuits.gadgets.babyjubjub import point_add, point_double, scalar_mul, scalar_mul_fixed
from circuits.gadgets.eddsa import eddsa_poseidon_verify
from circuits.gadgets.montgomery import scalar_mul_fixed_subgroup, scalar_mul_subgroup
from circuits.soundness import assert_sound
from protocol import babyjubjub as bjj
from protocol.poseidon import poseidon_hash
from prover.fields import R

L = bjj.SUBGROUP_ORDER


@pytest.fixture(scope="module")
def eddsa_vectors(load_vectors) -> list[dict]:
    """circomlibjs signPoseidon vectors (``load_vectors`` is the conftest's shared-path helper)."""
    return load_vectors("eddsa_poseidon_circomlibjs.json")["vectors"]


@dataclass(frozen=True)
class Verify:
    gated: bool = False

    def define(self, api: API) -> None:
        a = api.public_input("A", 2)
        m = api.public_input("M")
        sig = api.private_input("sig", 3)
        enabled = api.private_input("enabled") if self.gated else None
        eddsa_poseidon_verify(api, (a[0], a[1]), m, (sig[0], sig[1], sig[2]), enabled=enabled)


def _assignment(v: dict) -> dict:
    return {
        "A": [int(v["Ax"]), int(v["Ay"])],
        "M": int(v["message"]),
        "sig": [int(v["R8x"]), int(v["R8y"]), int(v["S"])],
    }


def _sign(k: int, r: int, message: int) -> dict:
    """circomlibjs signPoseidon given s = 8k and nonce r: A = k·B8, S = r + h·8k mod l."""
    a, r8 = bjj.multiply_base8(k), bjj.multiply_base8(r)
    h = poseidon_hash([r8[0], r8[1], a[0], a[1], message])
    return {"A": list(a), "M": message, "sig": [r8[0], r8[1], (r + h * 8 * k) % L]}


def test_circomlibjs_vectors_verify(eddsa_vectors: list[dict]) -> None:
    compiled = compile_circuit(Verify())
    for v in eddsa_vectors:
        compiled.solve(_assignment(v))


def test_vector_witness_is_sound(eddsa_vectors: list[dict]) -> None:
    compiled = compile_circuit(Verify())
    z = compiled.solve(_assignment(eddsa_vectors[0]))
    assert_sound(compiled, z, random.Random(0))


@pytest.mark.parametrize("index", range(4))
def test_vector_forgeries_are_rejected(index: int, eddsa_vectors: list[dict]) -> None:
    compiled = compile_circuit(Verify())
    good = _assignment(eddsa_vectors[index])
    r8x, r8y, s = good["sig"]
    other = bjj.multiply_base8(12345)
    cases = {
        "wrong message": ({**good, "M": (good["M"] + 1) % R}, "equation"),
        "forged R": ({**good, "sig": [other[0], other[1], s]}, "equation"),
        "R off the curve": ({**good, "sig": [r8x, (r8y + 1) % R, s]}, "r8_on_curve"),
        "A off the curve": ({**good, "A": [good["A"][0], (good["A"][1] + 1) % R]}, "a_on_curve"),
        "wrong key": ({**good, "A": list(bjj.multiply_base8(777))}, "equation"),
        "S + l": ({**good, "sig": [r8x, r8y, s + L]}, "s_bits|s_below_l"),
        "S = l": ({**good, "sig": [r8x, r8y, L]}, "s_below_l"),
    }
    for what, (assignment, where) in cases.items():
        with pytest.raises(UnsatisfiedConstraint, match=where):
            compiled.solve(assignment)
            pytest.fail(what)


def test_small_order_key_is_rejected_even_with_a_matching_equation() -> None:
    # A of order 2: 8·A = O, so S·B8 = R8 + h·O holds for R8 = S·B8 and any message.
    compiled = compile_circuit(Verify())
    s = 99
    r8 = bjj.multiply_base8(s)
    with pytest.raises(UnsatisfiedConstraint, match="a_in_subgroup"):
        compiled.solve({"A": [0, R - 1], "M": 5, "sig": [r8[0], r8[1], s]})


def test_key_with_a_torsion_component_is_rejected_as_natively() -> None:
    # A' = k·B8 + T (T of order 2) is on the curve, 8·A' = 8·k·B8 and S = r + 8hk satisfies
    # circomlib's equation; the native verify rejects A' (not in the subgroup), so must we.
    compiled = compile_circuit(Verify())
    k, r, message = 1234567, 7654321, 42
    a = bjj.add(bjj.multiply_base8(k), (0, R - 1))
    r8 = bjj.multiply_base8(r)
    h = poseidon_hash([r8[0], r8[1], a[0], a[1], message])
    forged = {"A": list(a), "M": message, "sig": [r8[0], r8[1], (r + h * 8 * k) % L]}
    with pytest.raises(UnsatisfiedConstraint, match="a_in_subgroup"):
        compiled.solve(forged)
    eddsa = pytest.importorskip("protocol.eddsa")
    assert not eddsa.verify(a, message, eddsa.Signature(*forged["sig"]))


@settings(max_examples=8, deadline=None)
@given(st.integers(1, L - 1), st.integers(1, L - 1), st.integers(0, R - 1))
def test_random_signatures_verify(k: int, r: int, message: int) -> None:
    compiled = compile_circuit(Verify())
    good = _sign(k, r, message)
    compiled.solve(good)
    with pytest.raises(UnsatisfiedConstraint, match="equation"):
        compiled.solve({**good, "M": (message + 1) % R})


def test_native_twin_agrees() -> None:
    eddsa = pytest.importorskip("protocol.eddsa")
    compiled = compile_circuit(Verify())
    rng = random.Random(3)
    for _ in range(3):
        key = rng.randbytes(32)
        message = rng.randrange(R)
        sig = eddsa.sign(key, message)
        a = eddsa.derive_public_key(key)
        good = {"A": list(a), "M": message, "sig": [sig.r8_x, sig.r8_y, sig.s]}
        assert eddsa.verify(a, message, sig)
        compiled.solve(good)
        bad = eddsa.Signature(sig.r8_x, sig.r8_y, (sig.s + 1) % L)
        assert not eddsa.verify(a, message, bad)
        with pytest.raises(UnsatisfiedConstraint):
            compiled.solve({**good, "sig": [bad.r8_x, bad.r8_y, bad.s]})


def test_disabled_slot_accepts_the_dummy_and_enabled_still_checks(
    eddsa_vectors: list[dict],
) -> None:
    compiled = compile_circuit(Verify(gated=True))
    dummy = {"A": [0, 1], "M": 0, "sig": [0, 1, 0], "enabled": 0}
    z = compiled.solve(dummy)
    assert_sound(compiled, z, random.Random(1))  # the a8 inverse is auxiliary (free at x = 0)
    with pytest.raises(UnsatisfiedConstraint, match="a_not_small_order"):
        compiled.solve({**dummy, "enabled": 1})  # A = O is rejected when enabled
    good = _assignment(eddsa_vectors[1])
    compiled.solve({**good, "enabled": 1})
    with pytest.raises(UnsatisfiedConstraint, match="enabled"):
        compiled.solve({**good, "enabled": 2})


@settings(max_examples=10, deadline=None)
@given(st.integers(0, (1 << 12) - 1), st.integers(1, L - 1))
def test_point_gadgets_match_native(k: int, p_scalar: int) -> None:
    p = bjj.multiply_base8(p_scalar)
    api = API()
    px, py = api.private_input("px"), api.private_input("py")
    bits = api.private_input("bits", 12)
    for b in bits:
        api.assert_boolean(b)
    outs = {
        "dbl": point_double(api, (px, py)),
        "add": point_add(api, (px, py), bjj.BASE8),
        "mul": scalar_mul(api, bits, (px, py)),
        "fixed": scalar_mul_fixed(api, bits, bjj.BASE8),
    }
    for key, (x, y) in outs.items():
        api.public_output(key + "_x", x)
        api.public_output(key + "_y", y)
    compiled = compile_api(api)
    z = compiled.solve({"px": p[0], "py": p[1], "bits": [(k >> i) & 1 for i in range(12)]})
    expected = {
        "dbl": bjj.double(p),
        "add": bjj.add(p, bjj.BASE8),
        "mul": bjj.multiply(p, k),
        "fixed": bjj.multiply_base8(k),
    }
    for key, point in expected.items():
        assert (compiled.output(z, key + "_x"), compiled.output(z, key + "_y")) == point


@dataclass(frozen=True)
class Ladders:
    """Both Montgomery ladders (fast) beside the complete Edwards ones (reference twins)."""

    n_bits: int

    def define(self, api: API) -> None:
        px, py = api.private_input("px"), api.private_input("py")
        bits = api.private_input("bits", self.n_bits)
        for b in bits:
            api.assert_boolean(b)
        outs = {
            "mont": scalar_mul_subgroup(api, bits, (px, py)),
            "edw": scalar_mul(api, bits, (px, py)),
            "mont_fixed": scalar_mul_fixed_subgroup(api, bits, bjj.BASE8),
            "edw_fixed": scalar_mul_fixed(api, bits, bjj.BASE8),
        }
        for key, (x, y) in outs.items():
            api.public_output(key + "_x", x)
            api.public_output(key + "_y", y)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, (1 << 254) - 1), st.integers(0, L - 1))
def test_montgomery_ladders_match_edwards_twins_and_native(k: int, p_scalar: int) -> None:
    compiled = compile_circuit(Ladders(254))
    p = bjj.multiply_base8(p_scalar)  # p_scalar = 0 gives the identity (handled by a mux)
    z = compiled.solve({"px": p[0], "py": p[1], "bits": [(k >> i) & 1 for i in range(254)]})
    expected = {"mont": bjj.multiply(p, k), "mont_fixed": bjj.multiply_base8(k % L)}
    expected["edw"], expected["edw_fixed"] = expected["mont"], expected["mont_fixed"]
    for key, point in expected.items():
        assert (compiled.output(z, key + "_x"), compiled.output(z, key + "_y")) == point


@pytest.mark.parametrize("k", [0, 1, 2, (1 << 20) - 1, 1 << 19])
def test_montgomery_ladders_edge_scalars_are_sound(k: int) -> None:
    compiled = compile_circuit(Ladders(20))
    p = bjj.multiply_base8(987654321)
    z = compiled.solve({"px": p[0], "py": p[1], "bits": [(k >> i) & 1 for i in range(20)]})
    assert (compiled.output(z, "mont_x"), compiled.output(z, "mont_y")) == bjj.multiply(p, k)
    assert_sound(compiled, z, random.Random(k))
    for wire in ("mul_subgroup/segment0/add5:lambda", "mul_fixed_subgroup/segment0/add2:lambda"):
        forged = list(z)
        forged[compiled.wire(wire)] = (forged[compiled.wire(wire)] + 1) % R
        with pytest.raises(UnsatisfiedConstraint, match=wire):
            compiled.check(forged)
