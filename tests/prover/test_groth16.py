"""Groth16 setup + prove: proofs verify (py_ecc pairing check), fail for wrong public inputs,
fast and reference engines agree, public inputs are bound, bad witnesses are rejected."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.errors import WitnessError
from prover.fields import R
from prover.iden3 import read_r1cs, read_wtns
from prover.prove import prove
from prover.qap import ConstraintMatrices
from prover.r1cs import R1CS, SparseMatrix
from prover.setup import SeededRandom, setup, setup_matrices


def _toy() -> tuple[R1CS, list[int]]:
    """wires 0 = 1, 1 = out (public), 2 = x, 3 = y, 4 = t: x·y = out, (x + y)·(x + 3) = t."""
    a = SparseMatrix.from_rows([[(2, 1)], [(2, 1), (3, 1)]])
    b = SparseMatrix.from_rows([[(3, 1)], [(2, 1), (0, 3)]])
    c = SparseMatrix.from_rows([[(1, 1)], [(4, 1)]])
    x, y = 6, 7
    return R1CS(5, 1, 0, 2, a, b, c), [1, x * y, x, y, (x + y) * (x + 3)]


@pytest.fixture(scope="module")
def toy_key():
    r1cs, z = _toy()
    return r1cs, z, setup(r1cs, SeededRandom(7))


def test_toy_proof_verifies(toy_key, verify) -> None:
    _, z, pk = toy_key
    proof = prove(pk, z, rng=SeededRandom(1))
    assert verify(pk.vk, [42], proof)
    assert not verify(pk.vk, [43], proof)
    assert pk.insecure_single_party


def test_setup_fast_equals_reference(toy_key) -> None:
    r1cs, _, pk = toy_key
    ref = setup(r1cs, SeededRandom(7), engine="reference")
    assert ref.vk == pk.vk and ref.beta_g1 == pk.beta_g1 and ref.delta_g1 == pk.delta_g1
    for name in ("a_g1", "b_g1", "b_g2", "l_g1", "h_g1", "a_wires", "b_wires"):
        np.testing.assert_array_equal(getattr(ref, name), getattr(pk, name))


def test_prove_fast_equals_reference(toy_key, verify) -> None:
    _, z, pk = toy_key
    fast = prove(pk, z, r=11, s=13)
    ref = prove(pk, z, r=11, s=13, engine="reference")
    assert fast == ref
    assert verify(pk.vk, [42], ref)
    assert prove(pk, z, r=11, s=14) != fast  # s enters the proof


@settings(max_examples=5, deadline=None)
@given(r=st.integers(min_value=0, max_value=R - 1), s=st.integers(min_value=0, max_value=R - 1))
def test_prove_twins_agree_on_random_randomness(toy_key, verify, r: int, s: int) -> None:
    _, z, pk = toy_key
    proof = prove(pk, z, r=r, s=s)
    assert proof == prove(pk, z, r=r, s=s, engine="reference")
    assert verify(pk.vk, [42], proof) and not verify(pk.vk, [0], proof)


def test_key_does_not_hold_toxic_waste(toy_key) -> None:
    _, _, pk = toy_key
    names = {f.name for f in dataclasses.fields(pk)} | {f.name for f in dataclasses.fields(pk.vk)}
    assert not names & {"tau", "alpha", "beta", "gamma", "delta"}


def test_seeded_setup_is_deterministic_and_seed_dependent(toy_key) -> None:
    r1cs, _, pk = toy_key
    assert setup(r1cs, SeededRandom(7)).vk == pk.vk
    assert setup(r1cs, SeededRandom(8)).vk != pk.vk


def test_wrong_witness_gives_invalid_proof(toy_key, verify) -> None:
    _, z, pk = toy_key
    bad = list(z)
    bad[4] += 1
    assert not verify(pk.vk, [42], prove(pk, bad, r=1, s=2))
    with pytest.raises(WitnessError, match="constraint 1 is not satisfied"):
        prove(pk, bad, r=1, s=2, check=True)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda z: z[:-1], "witness has 4 values, the proving key has 5 wires"),
        (lambda z: [*z, 0], "witness has 6 values"),
        (lambda z: [2, *z[1:]], "wire 0 is 2, must be 1"),
        (lambda z: [*z[:2], R, *z[3:]], "witness value 2 is"),
    ],
)
def test_malformed_witness(toy_key, mutate, message: str) -> None:
    _, z, pk = toy_key
    with pytest.raises(WitnessError, match=message):
        prove(pk, mutate(list(z)))


def _unused_public() -> tuple[R1CS, list[int]]:
    """wires 0 = 1, 1 = p (public input, in no constraint), 2 = x, 3 = y: x·x = y."""
    a = SparseMatrix.from_rows([[(2, 1)]])
    b = SparseMatrix.from_rows([[(2, 1)]])
    c = SparseMatrix.from_rows([[(3, 1)]])
    return R1CS(4, 0, 1, 1, a, b, c), [1, 5, 3, 9]


def test_public_inputs_are_bound(verify) -> None:
    r1cs, z = _unused_public()
    mats = ConstraintMatrices.from_r1cs(r1cs)
    # Without the binding rows the public wire has u = v = w = 0, so IC_1 is the point at
    # infinity and the proof verifies for any value of the public input: malleable.
    loose = setup_matrices(
        dataclasses.replace(mats, bind_public=False), r1cs.digest(), SeededRandom(3)
    )
    proof = prove(loose, z, r=4, s=5)
    assert loose.vk.ic[1] is None
    assert verify(loose.vk, [5], proof) and verify(loose.vk, [6], proof)
    # With them (the default, as snarkjs) only the true value verifies.
    pk = setup(r1cs, SeededRandom(3))
    proof = prove(pk, z, r=4, s=5)
    assert verify(pk.vk, [5], proof)
    assert not verify(pk.vk, [6], proof)


def _vector_case(groth16_vectors: Path, name: str, verify) -> None:
    d = groth16_vectors / name
    r1cs = read_r1cs(d / "circuit.r1cs")
    witness = read_wtns(d / "witness.wtns")
    pk = setup(r1cs, SeededRandom(2026))
    proof = prove(pk, witness, rng=SeededRandom(5))
    public = r1cs.public_signals(witness)
    assert verify(pk.vk, public, proof)
    assert not verify(pk.vk, [(public[0] + 1) % R], proof)
    assert (d / "public.json").read_text().count(str(public[0])) == 1


@pytest.mark.parametrize("name", ["poseidon2_tiny", "merkle_n1_d16"])
def test_vectors_prove_and_verify(groth16_vectors: Path, verify, name: str) -> None:
    _vector_case(groth16_vectors, name, verify)


@pytest.mark.slow
def test_vector_merkle_n16(groth16_vectors: Path, verify) -> None:
    _vector_case(groth16_vectors, "merkle_n16_d16", verify)


def test_progress_reports_steps(toy_key) -> None:
    r1cs, z, pk = toy_key
    seen: list[tuple[str, int, int]] = []
    prove(pk, z, r=1, s=1, progress=lambda *a: seen.append(a))
    setup(r1cs, SeededRandom(1), progress=lambda *a: seen.append(a))
    assert seen[0][1:] == (0, 5) and seen[5] == ("done", 5, 5)
    assert seen[-1] == ("done", 6, 6)


def test_our_json_artifacts_verify_with_the_settlement_verifier(
    groth16_vectors: Path, tmp_path: Path
) -> None:
    """Cross-implementation: our setup + prove on a circom vector, written as snarkjs JSON, is
    accepted by ``verifier.groth16`` (independent code) and rejected with a wrong public input."""
    from prover.artifacts import proof_to_json, public_to_json, vk_to_json, write_json
    from verifier import groth16 as v

    d = groth16_vectors / "poseidon2_tiny"
    r1cs = read_r1cs(d / "circuit.r1cs")
    witness = read_wtns(d / "witness.wtns")
    pk = setup(r1cs, SeededRandom(99))
    proof = prove(pk, witness, rng=SeededRandom(100))
    write_json(vk_to_json(pk.vk), tmp_path / "verification_key.json")
    write_json(proof_to_json(proof), tmp_path / "proof.json")
    write_json(public_to_json(r1cs.public_signals(witness)), tmp_path / "public.json")
    vk = v.load_verification_key(tmp_path / "verification_key.json")
    pf = v.load_proof(tmp_path / "proof.json")
    public = v.load_public_inputs(tmp_path / "public.json")
    assert v.verify(vk, public, pf)
    assert not v.verify(vk, [(public[0] + 1) % R], pf)
