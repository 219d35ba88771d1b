"""Proving key on disk (round trip, corrupt / truncated / mismatched keys) and snarkjs JSON."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.artifacts import (
    proof_from_json,
    proof_to_json,
    public_from_json,
    public_to_json,
    read_json,
    vk_from_json,
    vk_to_json,
    write_json,
)
from prover.errors import FormatError, KeyMismatchError
from prover.fields import Q, R
from prover.keys import POINT_ARRAYS, load_proving_key, save_proving_key
from prover.prove import prove
from prover.r1cs import R1CS, SparseMatrix
from prover.setup import SeededRandom, setup

VECTOR_NAMES = (
    "poseidon2_tiny",
    "merkle_n1_d16",
    pytest.param("merkle_n16_d16", marks=pytest.mark.slow),
)


def _toy(k: int = 3) -> tuple[R1CS, list[int]]:
    """x·y = out (public), x·k = t."""
    a = SparseMatrix.from_rows([[(2, 1)], [(2, 1)]])
    b = SparseMatrix.from_rows([[(3, 1)], [(0, k)]])
    c = SparseMatrix.from_rows([[(1, 1)], [(4, 1)]])
    return R1CS(5, 1, 0, 2, a, b, c), [1, 42, 6, 7, 6 * k]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    r1cs, z = _toy()
    pk = setup(r1cs, SeededRandom(11))
    keydir = tmp_path_factory.mktemp("key") / "toy.zkr-key"
    save_proving_key(pk, keydir)
    return r1cs, z, pk, keydir


@pytest.fixture
def copy(saved, tmp_path: Path) -> Path:
    dst = tmp_path / "k"
    shutil.copytree(saved[3], dst)
    return dst


def test_round_trip(saved, verify) -> None:
    r1cs, z, pk, keydir = saved
    loaded = load_proving_key(keydir, r1cs)
    assert loaded.vk == pk.vk and loaded.r1cs_digest == r1cs.digest()
    assert loaded.insecure_single_party
    for name in POINT_ARRAYS:
        arr = getattr(loaded, name)
        assert isinstance(arr, np.memmap)
        np.testing.assert_array_equal(arr, getattr(pk, name))
    proof = prove(loaded, z, r=3, s=4)
    assert proof == prove(pk, z, r=3, s=4)
    assert verify(loaded.vk, [42], proof) and not verify(loaded.vk, [41], proof)
    vk_json = read_json(keydir / "verification_key.json")
    assert vk_json == vk_to_json(pk.vk)
    assert vk_from_json(vk_json) == pk.vk


def test_mismatched_circuit(saved) -> None:
    other, _ = _toy(k=5)
    with pytest.raises(KeyMismatchError, match="proving key is for circuit"):
        load_proving_key(saved[3], other)


def test_truncated_array(copy: Path) -> None:
    path = copy / "h_g1.npy"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(FormatError, match=r"h_g1\.npy: unreadable or truncated"):
        load_proving_key(copy)


def test_corrupt_array(copy: Path) -> None:
    path = copy / "b_g2.npy"
    data = bytearray(path.read_bytes())
    data[-7] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"b_g2\.npy: SHA-256 mismatch"):
        load_proving_key(copy)


def test_missing_array(copy: Path) -> None:
    (copy / "a_coeffs.npy").unlink()
    with pytest.raises(FormatError, match=r"a_coeffs\.npy: missing"):
        load_proving_key(copy)


def test_altered_header(copy: Path) -> None:
    path = copy / "header.json"
    header = json.loads(path.read_text())
    header["points"]["alpha_g1"][0] = "1"
    path.write_text(json.dumps(header))
    with pytest.raises(FormatError, match="header checksum mismatch"):
        load_proving_key(copy)


def test_not_a_key(tmp_path: Path, copy: Path) -> None:
    with pytest.raises(FormatError, match="nothing: no such file or directory"):
        load_proving_key(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FormatError, match="not a proving key directory"):
        load_proving_key(tmp_path / "empty")
    (copy / "header.json").write_text("{not json")
    with pytest.raises(FormatError, match="not valid JSON"):
        load_proving_key(copy)


def test_wrong_version(copy: Path) -> None:
    path = copy / "header.json"
    path.write_text(path.read_text().replace('"version": 2', '"version": 9'))
    with pytest.raises(
        FormatError, match="key format version 9, this prover reads 2: run the setup"
    ):
        load_proving_key(copy)


# ------------------------------------------------------------------ snarkjs JSON


@pytest.mark.parametrize("name", VECTOR_NAMES)
def test_snarkjs_json_round_trips_byte_exact(groth16_vectors: Path, tmp_path: Path, name: str):
    d = groth16_vectors / name
    vk_json = read_json(d / "verification_key.json")
    proof_json = read_json(d / "proof.json")
    public_json = read_json(d / "public.json")
    # field for field, including e(α, β) recomputed from α and β in ffjavascript's tower
    assert vk_to_json(vk_from_json(vk_json)) == vk_json
    assert proof_to_json(proof_from_json(proof_json)) == proof_json
    assert public_to_json(public_from_json(public_json)) == public_json
    for obj, fname in ((vk_json, "verification_key.json"), (proof_json, "proof.json")):
        write_json(obj, tmp_path / fname)
        assert (tmp_path / fname).read_bytes() == (d / fname).read_bytes()


def test_snarkjs_proof_verifies_with_our_reading(groth16_vectors: Path, verify) -> None:
    d = groth16_vectors / "poseidon2_tiny"
    vk = vk_from_json(read_json(d / "verification_key.json"))
    proof = proof_from_json(read_json(d / "proof.json"))
    public = public_from_json(read_json(d / "public.json"))
    assert verify(vk, public, proof)
    assert not verify(vk, [public[0] + 1], proof)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.update(pi_a=p["pi_a"][:2]), "pi_a: expected a G1 point"),
        (lambda p: p["pi_a"].__setitem__(0, str(Q)), "not a canonical field element"),
        (lambda p: p["pi_a"].__setitem__(0, "-5"), "not a canonical field element"),
        (lambda p: p["pi_c"].__setitem__(2, "2"), "projective z must be"),
        (lambda p: p["pi_b"][2].__setitem__(1, "1"), "projective z must be"),
        (lambda p: p.update(curve="bls12381"), "protocol/curve"),
        (lambda p: p.pop("pi_b"), "missing 'pi_b'"),
    ],
)
def test_malformed_proof_json(groth16_vectors: Path, edit, message: str) -> None:
    proof = read_json(groth16_vectors / "poseidon2_tiny" / "proof.json")
    edit(proof)
    with pytest.raises(FormatError, match=message):
        proof_from_json(proof)


def test_malformed_vk_and_public(groth16_vectors: Path, tmp_path: Path) -> None:
    vk = read_json(groth16_vectors / "poseidon2_tiny" / "verification_key.json")
    vk["nPublic"] = 2
    with pytest.raises(FormatError, match="IC does not hold"):
        vk_from_json(vk)
    with pytest.raises(FormatError, match="public signal 0"):
        public_from_json([str(2**254)])
    (tmp_path / "x.json").write_text("[1,")
    with pytest.raises(FormatError, match="not readable JSON"):
        read_json(tmp_path / "x.json")


_COEFF = st.one_of(st.sampled_from([1, R - 1, 2, 1 << 64, R - 2]), st.integers(0, R - 1))


@st.composite
def _repeating(draw: st.DrawFn) -> list[int]:
    """Coefficients drawn from a pool of at most 8 values: the distinct-value path."""
    pool = draw(st.lists(_COEFF, min_size=1, max_size=8))
    return draw(st.lists(st.sampled_from(pool), min_size=1, max_size=300))


@settings(max_examples=80, deadline=None)
@given(st.one_of(_repeating(), st.lists(_COEFF, min_size=1, max_size=50)))
def test_coeff_limbs_equal_the_plain_conversion(coeffs: list[int]) -> None:
    """Twin: the distinct-value path (most values repeated) and the plain one give what
    ``ints_to_limbs`` gives."""
    from prover.r1cs import ints_to_limbs

    mat = SparseMatrix.from_rows([[(0, c)] for c in coeffs])
    assert np.array_equal(mat.coeff_limbs(), ints_to_limbs(coeffs))


def test_coeff_limbs_keep_every_term_distinct_from_its_neighbours() -> None:
    """Negative twin: changing one repeated coefficient changes exactly that row of limbs (the
    gather cannot hand a term its neighbour's value)."""
    coeffs = [1, R - 1] * 50
    before = SparseMatrix.from_rows([[(0, c)] for c in coeffs]).coeff_limbs()
    coeffs[37] = 5
    after = SparseMatrix.from_rows([[(0, c)] for c in coeffs]).coeff_limbs()
    assert [i for i in range(100) if not np.array_equal(before[i], after[i])] == [37]
    assert after[37].tolist() == [5, 0, 0, 0]
