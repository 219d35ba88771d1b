"""verifier.prepared (prepared key, fixed-base tables, prepared Miller lines) against its twins
(py_ecc's multiply/add, the live Miller loop, ``verify_reference``), with negative twins, and the
loaders' hardening (deep JSON, huge numbers, public inputs that are not a list)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from py_ecc.optimized_bn128 import (
    FQ12,
    G1,
    G2,
    add,
    curve_order,
    is_inf,
    multiply,
    neg,
    normalize,
)

from verifier import pairing
from verifier import prepared as pv
from verifier.errors import MalformedInputError
from verifier.groth16 import (
    Proof,
    load_proof,
    load_public_inputs,
    load_verification_key,
    prepare_verifying_key,
    verify,
    verify_reference,
)

REPO = Path(__file__).resolve().parents[2]
scalars = st.integers(min_value=1, max_value=curve_order - 1)


def _g1(p) -> tuple[int, int] | None:
    if is_inf(p):
        return None
    x, y = normalize(p)
    return x.n, y.n


def _g2(p):
    x, y = normalize(p)
    return (x.coeffs[0], x.coeffs[1]), (y.coeffs[0], y.coeffs[1])


@settings(max_examples=6, deadline=None)
@given(st.lists(st.integers(0, curve_order - 1), min_size=1, max_size=3), scalars)
@example([1], curve_order - 1)  # IC_0 = −G1, IC_1 = r·G1 = O: the point at infinity in a table
def test_fixed_base_msm_matches_py_ecc(xs: list[int], k: int) -> None:
    points = [multiply(G1, k + i) for i in range(len(xs) + 1)]
    tables = [pv.fixed_base_table(_g1(p)) for p in points[1:]]
    expected = points[0]
    for x, p in zip(xs, points[1:], strict=True):
        expected = add(expected, multiply(p, x))
    got = pv.fixed_base_msm(_g1(points[0]), tables, xs)
    assert got == _g1(expected)
    # negative twin: a different scalar gives a different point (unless IC_1 is infinity)
    assert (
        is_inf(points[1])
        or pv.fixed_base_msm(_g1(points[0]), tables, [(xs[0] + 1) % curve_order, *xs[1:]]) != got
    )


@settings(max_examples=3, deadline=None)
@given(scalars, scalars)
@example(1, curve_order - 1)  # (b + 1)·G2 would be infinity
def test_prepared_lines_reproduce_the_live_miller_loop(a: int, b: int) -> None:
    p, q = _g1(multiply(G1, a)), _g2(multiply(G2, b))
    live = pairing.miller_loop([(p, q)])
    assert pv.miller_loop_prepared([], [(p, pv.prepare_g2(q))]) == live
    other = _g2(multiply(G2, (b + 1) % curve_order or 2))  # another finite point (b = r − 1: 2·G2)
    assert pv.miller_loop_prepared([], [(p, pv.prepare_g2(other))]) != live


def test_fq12_inverse_matches_py_ecc() -> None:
    a = [(i * 7919 + 3) ** 5 % pairing.Q for i in range(12)]
    assert FQ12(pairing.fq12_inv(a)) == FQ12(a).inv()
    with pytest.raises(ZeroDivisionError):
        pairing.fq12_inv([0] * 12)


@pytest.fixture(scope="module")
def tiny(groth16_vectors: Path):
    d = groth16_vectors / "poseidon2_tiny"
    return (
        load_verification_key(d / "verification_key.json"),
        load_public_inputs(d / "public.json"),
        load_proof(d / "proof.json"),
    )


@settings(max_examples=4, deadline=None)
@given(scalars)
def test_verify_and_reference_agree_on_rerandomised_proofs(tiny, t: int) -> None:
    """(t·A, t⁻¹·B, C) is valid whenever (A, B, C) is; C + G1 never is."""
    vk, public, proof = tiny
    valid = Proof(multiply(proof.a, t), multiply(proof.b, pow(t, -1, curve_order)), proof.c)
    assert verify(vk, public, valid) and verify_reference(vk, public, valid)
    bad = Proof(valid.a, valid.b, add(valid.c, G1))
    assert not verify(vk, public, bad) and not verify_reference(vk, public, bad)


def test_prepared_key_is_reused_and_accepted(tiny) -> None:
    vk, public, proof = tiny
    pvk = prepare_verifying_key(vk)
    assert pvk is vk.prepared and pvk.n_public == vk.n_public
    assert verify(pvk, public, proof)
    assert not verify(pvk, [(public[0] + 1) % curve_order], proof)
    assert not verify(vk, public, Proof(neg(proof.a), proof.b, proof.c))


@pytest.mark.parametrize("bad", [{"0": 1}, {1}, "1", 7, None])
def test_public_inputs_must_be_a_list_or_tuple(tiny, bad) -> None:
    vk, _, proof = tiny
    with pytest.raises(MalformedInputError, match="public inputs must be a list or tuple"):
        verify(vk, bad, proof)


def test_deeply_nested_json_is_malformed_not_a_crash(tmp_path: Path) -> None:
    """100,000 nested lists: one line, exit 2, in a fresh process (a C-stack overflow would kill
    it, so it must not run inside the test process)."""
    deep = tmp_path / "proof.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    code = (
        "import sys\nfrom cli import main\n"
        f"main(['groth16', 'verify', {str(deep)!r}, {str(deep)!r}, {str(deep)!r}])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300
    )
    assert out.returncode == 2, (out.returncode, out.stderr[-500:])
    assert out.stderr.strip().count("\n") == 0 and "nested 100000 deep" in out.stderr
    with pytest.raises(MalformedInputError, match="nested 100000 deep"):
        load_proof(deep)


def test_huge_numbers_are_malformed(tiny, tmp_path: Path, groth16_vectors: Path) -> None:
    d = json.loads((groth16_vectors / "poseidon2_tiny" / "proof.json").read_text())
    d["pi_a"][0] = "9" * 5000
    (tmp_path / "p.json").write_text(json.dumps(d))
    with pytest.raises(MalformedInputError, match="a number of 5000 digits"):
        load_proof(tmp_path / "p.json")
    (tmp_path / "q.json").write_text("[" + "9" * 5000 + "]")
    with pytest.raises(MalformedInputError, match="not valid JSON"):
        load_public_inputs(tmp_path / "q.json")
    (tmp_path / "ok.json").write_text('["' + "0" * 70 + '1"]')  # long but canonical: fine
    assert load_public_inputs(tmp_path / "ok.json") == (1,)
