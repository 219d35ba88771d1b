"""verifier.groth16 against snarkjs 0.7.6's proofs in shared/vectors/groth16, and negative twins.

Positive: snarkjs's proof of each circuit verifies (fast path and py_ecc reference twin agree).
Negative: a changed coordinate, swapped or negated points, a wrong / extra / missing public input,
another circuit's key → False or a precise MalformedInputError; points off the curve, G2 points
off the subgroup, coordinates >= q, public inputs >= r, malformed JSON → MalformedInputError.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from py_ecc.optimized_bn128 import G1, add, curve_order, is_inf, multiply, neg

from verifier.errors import MalformedInputError, VerifierError
from verifier.groth16 import (
    Proof,
    VerifyingKey,
    load_proof,
    load_public_inputs,
    load_verification_key,
    parse_proof,
    parse_public_inputs,
    parse_verification_key,
    verify,
    verify_reference,
)

Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583
CIRCUITS = [
    "poseidon2_tiny",
    "merkle_n1_d16",
    pytest.param("merkle_n16_d16", marks=pytest.mark.slow),
]
COORDINATES = (
    [("pi_a", (i,)) for i in range(3)]
    + [("pi_b", (i, j)) for i in range(3) for j in range(2)]
    + [("pi_c", (i,)) for i in range(3)]
)


def _json(folder: Path, name: str):
    return json.loads((folder / name).read_text())


@pytest.fixture(scope="module")
def tiny(groth16_vectors: Path) -> dict:
    """The poseidon2_tiny artifacts, raw JSON and parsed."""
    folder = groth16_vectors / "poseidon2_tiny"
    raw = {n: _json(folder, f"{n}.json") for n in ("verification_key", "proof", "public")}
    return {
        **raw,
        "vk_obj": parse_verification_key(raw["verification_key"]),
        "proof_obj": parse_proof(raw["proof"]),
        "inputs": parse_public_inputs(raw["public"]),
    }


def _tamper(d: dict, key: str, path: tuple[int, ...], value) -> dict:
    out = copy.deepcopy(d)
    target = out[key]
    for i in path[:-1]:
        target = target[i]
    target[path[-1]] = value
    return out


def _get(d: dict, key: str, path: tuple[int, ...]):
    target = d[key]
    for i in path:
        target = target[i]
    return target


def _g2_json(point) -> list:
    x, y, _ = (c / point[2] for c in point)
    return [[str(c) for c in x.coeffs], [str(c) for c in y.coeffs], ["1", "0"]]


# --- positive -----------------------------------------------------------------------------------


@pytest.mark.parametrize("circuit", CIRCUITS)
def test_snarkjs_proof_verifies(groth16_vectors: Path, circuit: str) -> None:
    folder = groth16_vectors / circuit
    vk = load_verification_key(folder / "verification_key.json")
    proof = load_proof(folder / "proof.json")
    inputs = load_public_inputs(folder / "public.json")
    assert len(inputs) == vk.n_public == 1
    assert verify(vk, inputs, proof) is True
    # Negative twin: the same proof for public input + 1.
    assert verify(vk, [(inputs[0] + 1) % curve_order], proof) is False


def test_reference_twin_agrees(tiny: dict) -> None:
    vk, proof, inputs = tiny["vk_obj"], tiny["proof_obj"], tiny["inputs"]
    assert verify_reference(vk, inputs, proof) is True
    wrong = [(inputs[0] + 1) % curve_order]
    assert verify_reference(vk, wrong, proof) is False


# --- well-formed proofs that do not verify → False ----------------------------------------------


def test_swapped_and_negated_points_do_not_verify(tiny: dict) -> None:
    vk, p, x = tiny["vk_obj"], tiny["proof_obj"], tiny["inputs"]
    assert verify(vk, x, Proof(a=p.c, b=p.b, c=p.a)) is False
    assert verify(vk, x, Proof(a=neg(p.a), b=p.b, c=p.c)) is False
    assert verify(vk, x, Proof(a=p.a, b=p.b, c=add(p.c, G1))) is False


def test_another_circuits_key_does_not_verify(tiny: dict, groth16_vectors: Path) -> None:
    other = load_verification_key(groth16_vectors / "merkle_n1_d16" / "verification_key.json")
    assert other.n_public == tiny["vk_obj"].n_public
    assert verify(other, tiny["inputs"], tiny["proof_obj"]) is False


def test_public_input_zero_and_r_minus_one_are_well_formed(tiny: dict) -> None:
    vk, p = tiny["vk_obj"], tiny["proof_obj"]
    assert verify(vk, [curve_order - 1], p) is False
    assert parse_public_inputs([str(curve_order - 1)]) == (curve_order - 1,)


# --- malformed input → MalformedInputError ------------------------------------------------------


@pytest.mark.parametrize(("key", "path"), COORDINATES)
def test_every_proof_coordinate_changed_is_rejected(tiny: dict, key: str, path) -> None:
    """+1 on any coordinate leaves the curve (x, y) or the affine form (z): a precise error."""
    changed = _tamper(tiny["proof"], key, path, str(int(_get(tiny["proof"], key, path)) + 1))
    with pytest.raises(MalformedInputError, match=rf"{key}.*(not on the|z must be)"):
        parse_proof(changed)


def test_coordinate_not_below_q_is_rejected(tiny: dict) -> None:
    x = int(tiny["proof"]["pi_a"][0])
    with pytest.raises(MalformedInputError, match=r"pi_a\[0\]: \d+ is not a canonical Fq element"):
        parse_proof(_tamper(tiny["proof"], "pi_a", (0,), str(x + Q)))
    with pytest.raises(MalformedInputError, match=r"pi_b\[1\]\[0\].*canonical Fq"):
        parse_proof(_tamper(tiny["proof"], "pi_b", (1, 0), str(Q)))
    with pytest.raises(MalformedInputError, match=r"vk_alpha_1\[1\].*canonical Fq"):
        parse_verification_key(_tamper(tiny["verification_key"], "vk_alpha_1", (1,), str(Q + 2)))


def test_point_off_the_curve_in_key_is_rejected(tiny: dict) -> None:
    vk = tiny["verification_key"]
    with pytest.raises(MalformedInputError, match=r"alpha_g1 \(vk_alpha_1\) is not on the curve"):
        parse_verification_key(_tamper(vk, "vk_alpha_1", (0,), "1"))
    with pytest.raises(MalformedInputError, match=r"IC\[1\]\) is not on the curve"):
        parse_verification_key(_tamper(vk, "IC", (1, 1), "5"))
    with pytest.raises(MalformedInputError, match=r"delta_g2 \(vk_delta_2\) is not on the twist"):
        parse_verification_key(_tamper(vk, "vk_delta_2", (0, 0), "7"))


def test_g2_point_outside_subgroup_is_rejected(tiny: dict, twist_point_outside_subgroup) -> None:
    bad = _g2_json(twist_point_outside_subgroup)
    with pytest.raises(MalformedInputError, match=r"b \(pi_b\) is not in the order-r subgroup"):
        parse_proof({**tiny["proof"], "pi_b": bad})
    with pytest.raises(MalformedInputError, match=r"gamma_g2 .* not in the order-r subgroup"):
        parse_verification_key({**tiny["verification_key"], "vk_gamma_2": bad})
    p = tiny["proof_obj"]
    cofactor = 2 * Q - curve_order  # has the factor 10069: a point of that small order
    small = multiply(twist_point_outside_subgroup, curve_order * (cofactor // 10069))
    with pytest.raises(MalformedInputError, match=r"pi_b\) is not in the order-r subgroup"):
        Proof(a=p.a, b=small, c=p.c)
    with pytest.raises(MalformedInputError, match="order-r subgroup"):
        Proof(a=p.a, b=twist_point_outside_subgroup, c=p.c)


def test_public_input_not_below_r_is_rejected(tiny: dict) -> None:
    x = tiny["inputs"][0]
    with pytest.raises(MalformedInputError, match=r"public\[0\]: \d+ is not a canonical Fr"):
        parse_public_inputs([str(x + curve_order)])
    with pytest.raises(
        MalformedInputError, match=r"public input \[0\] is not an integer in \[0, r\)"
    ):
        verify(tiny["vk_obj"], [x + curve_order], tiny["proof_obj"])
    with pytest.raises(MalformedInputError, match=r"public input \[0\]"):
        verify(tiny["vk_obj"], [-1], tiny["proof_obj"])


def test_extra_or_missing_public_input_is_rejected(tiny: dict) -> None:
    vk, p, x = tiny["vk_obj"], tiny["proof_obj"], tiny["inputs"]
    with pytest.raises(
        MalformedInputError, match="2 public inputs given, the verifying key expects 1"
    ):
        verify(vk, [*x, 0], p)
    with pytest.raises(MalformedInputError, match="0 public inputs given"):
        verify(vk, [], p)


def test_header_and_shape_errors(tiny: dict) -> None:
    vk, proof = tiny["verification_key"], tiny["proof"]
    with pytest.raises(MalformedInputError, match="protocol is 'plonk', expected 'groth16'"):
        parse_verification_key({**vk, "protocol": "plonk"})
    with pytest.raises(MalformedInputError, match="curve is 'bls12381', expected 'bn128'"):
        parse_proof({**proof, "curve": "bls12381"})
    with pytest.raises(MalformedInputError, match="nPublic is 2 but IC has 2 points"):
        parse_verification_key({**vk, "nPublic": 2})
    with pytest.raises(MalformedInputError, match="missing 'pi_c'"):
        parse_proof({k: v for k, v in proof.items() if k != "pi_c"})
    with pytest.raises(MalformedInputError, match=r"pi_b\[2\]: expected a list of 2"):
        parse_proof(_tamper(proof, "pi_b", (2,), ["1"]))
    with pytest.raises(MalformedInputError, match=r"pi_a\[1\]: '0x1f' is not a decimal"):
        parse_proof(_tamper(proof, "pi_a", (1,), "0x1f"))
    with pytest.raises(MalformedInputError, match="expected a JSON list"):
        parse_public_inputs({"0": "1"})
    with pytest.raises(MalformedInputError, match="vk must be a VerifyingKey"):
        verify(vk, tiny["inputs"], tiny["proof_obj"])


def test_point_at_infinity_parses_and_proof_fails(tiny: dict) -> None:
    proof = parse_proof({**tiny["proof"], "pi_c": ["0", "1", "0"]})
    assert is_inf(proof.c)
    assert verify(tiny["vk_obj"], tiny["inputs"], proof) is False
    with pytest.raises(MalformedInputError, match=r"pi_c: z must be 1"):
        parse_proof({**tiny["proof"], "pi_c": ["5", "1", "0"]})


def test_files_missing_or_not_json(tmp_path: Path, groth16_vectors: Path) -> None:
    with pytest.raises(MalformedInputError, match=r"nope\.json: cannot read \(No such file"):
        load_proof(tmp_path / "nope.json")
    bad = tmp_path / "proof.json"
    bad.write_text('{"pi_a": [')
    with pytest.raises(MalformedInputError, match=r"proof\.json: not valid JSON"):
        load_proof(bad)
    bad.write_text(json.dumps({"pi_a": ["1", "2", "1"]}))
    with pytest.raises(MalformedInputError, match=r"proof\.json: proof: missing 'pi_b'"):
        load_proof(bad)
    proof = json.loads((groth16_vectors / "poseidon2_tiny" / "proof.json").read_text())
    bad.write_text(json.dumps({**proof, "pi_a": ["1", "3", "1"]}))
    with pytest.raises(MalformedInputError, match=r"proof\.json: proof: a \(pi_a\) is not on the"):
        load_proof(bad)
    assert issubclass(MalformedInputError, VerifierError)


def test_dataclasses_are_frozen_and_checked(tiny: dict) -> None:
    vk = tiny["vk_obj"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        vk.alpha_g1 = G1  # type: ignore[misc]
    with pytest.raises(MalformedInputError, match=r"gamma_abc_g1 .* non-empty tuple"):
        dataclasses.replace(vk, gamma_abc_g1=())
    with pytest.raises(MalformedInputError, match=r"a \(pi_a\) is not a G1 point"):
        Proof(a=(1, 2, 1), b=tiny["proof_obj"].b, c=tiny["proof_obj"].c)  # type: ignore[arg-type]
    assert isinstance(vk, VerifyingKey)


def test_import_does_not_pull_numba_or_prover() -> None:
    code = (
        "import sys, verifier.groth16\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('numba', 'prover', 'numpy')]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- exhaustive sweep (slow) --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("circuit", CIRCUITS)
def test_sweep_every_coordinate_every_circuit(groth16_vectors: Path, circuit: str) -> None:
    """Every coordinate of every proof, changed by ±1 and by +q - 1 (mod q): never accepted."""
    folder = groth16_vectors / circuit
    raw = _json(folder, "proof.json")
    vk = load_verification_key(folder / "verification_key.json")
    inputs = load_public_inputs(folder / "public.json")
    for key, path in COORDINATES:
        original = int(_get(raw, key, path))
        for value in {(original + 1) % Q, (original - 1) % Q, original + Q}:
            try:
                proof = parse_proof(_tamper(raw, key, path, str(value)))
            except MalformedInputError:
                continue
            assert verify(vk, inputs, proof) is False, (key, path, value)


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 3, curve_order - 1])
def test_valid_points_replaced_do_not_verify(tiny: dict, k: int) -> None:
    """Points replaced by other valid subgroup points (k·A, k·B, k·C): well-formed, False."""
    vk, p, x = tiny["vk_obj"], tiny["proof_obj"], tiny["inputs"]
    for proof in (
        Proof(a=multiply(p.a, k), b=p.b, c=p.c),
        Proof(a=p.a, b=multiply(p.b, k), c=p.c),
        Proof(a=p.a, b=p.b, c=multiply(p.c, k)),
    ):
        assert verify(vk, x, proof) is False
        assert verify_reference(vk, x, proof) is False


@pytest.mark.parametrize("field", ["vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2"])
def test_a_verifying_key_point_at_infinity_is_malformed(tiny, field: str) -> None:
    """γ = O makes e(L, γ) = 1 whatever the inputs: (α, β, O) would verify for any of them."""
    vk = tiny["verification_key"]
    infinity = ["0", "1", "0"] if field == "vk_alpha_1" else [["0", "0"], ["1", "0"], ["0", "0"]]
    name = {"vk_alpha_1": "alpha_g1", "vk_beta_2": "beta_g2", "vk_gamma_2": "gamma_g2",
            "vk_delta_2": "delta_g2"}[field]  # fmt: skip
    with pytest.raises(MalformedInputError, match=f"{name} is the point at infinity"):
        parse_verification_key(dict(vk, **{field: infinity}))
    assert parse_verification_key(vk).n_public == len(tiny["inputs"])  # the key as shipped


def test_the_settlement_checker_wants_three_public_inputs(tiny) -> None:
    from verifier.checker import groth16_checker

    vk = tiny["verification_key"]
    assert vk["nPublic"] != 3
    with pytest.raises(MalformedInputError, match=r"3 public inputs .*, this one 1"):
        groth16_checker(vk)
