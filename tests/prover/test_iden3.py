"""iden3 .r1cs / .wtns readers and writers: vectors, round trips, malformed files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.errors import FormatError
from prover.fields import R
from prover.iden3 import binfile_sections, read_r1cs, read_wtns, write_r1cs, write_wtns
from prover.r1cs import R1CS, SparseMatrix

SMALL = ("poseidon2_tiny", "merkle_n1_d16")


@pytest.mark.parametrize("name", SMALL)
def test_vectors_read_and_witness_satisfies(groth16_vectors: Path, name: str) -> None:
    r1cs = read_r1cs(groth16_vectors / name / "circuit.r1cs")
    witness = read_wtns(groth16_vectors / name / "witness.wtns")
    assert len(witness) == r1cs.n_wires and witness[0] == 1
    assert r1cs.n_public == 1
    r1cs.check(witness)
    public = (groth16_vectors / name / "public.json").read_text()
    assert str(r1cs.public_signals(witness)[0]) in public


def test_vector_sizes(groth16_vectors: Path) -> None:
    r1cs = read_r1cs(groth16_vectors / "merkle_n1_d16" / "circuit.r1cs")
    assert r1cs.n_constraints == 3872
    assert read_r1cs(groth16_vectors / "poseidon2_tiny" / "circuit.r1cs").n_constraints == 240


def test_vector_wrong_witness_is_caught(groth16_vectors: Path) -> None:
    r1cs = read_r1cs(groth16_vectors / "poseidon2_tiny" / "circuit.r1cs")
    witness = read_wtns(groth16_vectors / "poseidon2_tiny" / "witness.wtns")
    witness[-1] = (witness[-1] + 1) % R
    with pytest.raises(Exception, match="constraint"):
        r1cs.check(witness)


@pytest.mark.parametrize("name", SMALL)
def test_round_trip_vectors(groth16_vectors: Path, tmp_path: Path, name: str) -> None:
    r1cs = read_r1cs(groth16_vectors / name / "circuit.r1cs")
    witness = read_wtns(groth16_vectors / name / "witness.wtns")
    write_r1cs(r1cs, tmp_path / "c.r1cs")
    write_wtns(witness, tmp_path / "w.wtns")
    assert read_r1cs(tmp_path / "c.r1cs").digest() == r1cs.digest()
    assert read_wtns(tmp_path / "w.wtns") == witness
    # our .wtns writer produces snarkjs's bytes exactly
    assert (tmp_path / "w.wtns").read_bytes() == (
        groth16_vectors / name / "witness.wtns"
    ).read_bytes()


_fe = st.integers(min_value=0, max_value=R - 1)


@st.composite
def _systems(draw) -> R1CS:
    n_wires = draw(st.integers(min_value=3, max_value=8))
    m = draw(st.integers(min_value=0, max_value=6))
    term = st.tuples(st.integers(min_value=0, max_value=n_wires - 1), _fe)
    mats = [
        SparseMatrix.from_rows([draw(st.lists(term, max_size=4)) for _ in range(m)])
        for _ in range(3)
    ]
    return R1CS(n_wires, 1, 1, 0, *mats)


@settings(max_examples=30, deadline=None)
@given(system=_systems())
def test_round_trip_random_systems(tmp_path_factory, system: R1CS) -> None:
    path = tmp_path_factory.mktemp("r") / "x.r1cs"
    write_r1cs(system, path)
    back = read_r1cs(path)
    assert back.digest() == system.digest()
    for a, b in ((back.a, system.a), (back.b, system.b), (back.c, system.c)):
        assert [a.row(i) for i in range(a.n_rows)] == [b.row(i) for i in range(b.n_rows)]


@settings(max_examples=30, deadline=None)
@given(values=st.lists(_fe, max_size=20))
def test_round_trip_random_witness(tmp_path_factory, values: list[int]) -> None:
    path = tmp_path_factory.mktemp("w") / "x.wtns"
    write_wtns(values, path)
    assert read_wtns(path) == values


# ------------------------------------------------------------------ malformed files


@pytest.fixture
def tiny(groth16_vectors: Path) -> tuple[bytes, bytes]:
    d = groth16_vectors / "poseidon2_tiny"
    return (d / "circuit.r1cs").read_bytes(), (d / "witness.wtns").read_bytes()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("cut", [0, 5, 11, 20, 100, 5000, -1])
def test_truncated_r1cs(tmp_path: Path, tiny, cut: int) -> None:
    with pytest.raises(FormatError, match=r"x\.r1cs: .*(short|truncated|ends inside)"):
        read_r1cs(_write(tmp_path, "x.r1cs", tiny[0][:cut]))


@pytest.mark.parametrize("cut", [0, 11, 30, 100, -1])
def test_truncated_wtns(tmp_path: Path, tiny, cut: int) -> None:
    with pytest.raises(FormatError, match=r"x\.wtns: .*(short|truncated)"):
        read_wtns(_write(tmp_path, "x.wtns", tiny[1][:cut]))


def test_wrong_magic(tmp_path: Path, tiny) -> None:
    with pytest.raises(FormatError, match="wrong magic"):
        read_r1cs(_write(tmp_path, "x.r1cs", tiny[1]))
    with pytest.raises(FormatError, match="wrong magic"):
        read_wtns(_write(tmp_path, "x.wtns", tiny[0]))


def test_wrong_version(tmp_path: Path, tiny) -> None:
    data = tiny[0][:4] + struct.pack("<I", 7) + tiny[0][8:]
    with pytest.raises(FormatError, match="version 7"):
        read_r1cs(_write(tmp_path, "x.r1cs", data))


def _replace_prime(data: bytes, new: int) -> bytes:
    prime = R.to_bytes(32, "little")
    i = data.index(prime)
    return data[:i] + new.to_bytes(32, "little") + data[i + 32 :]


def test_wrong_prime(tmp_path: Path, tiny) -> None:
    from prover.fields import Q

    with pytest.raises(FormatError, match="not the BN254 scalar field"):
        read_r1cs(_write(tmp_path, "x.r1cs", _replace_prime(tiny[0], Q)))
    with pytest.raises(FormatError, match="not the BN254 scalar field"):
        read_wtns(_write(tmp_path, "x.wtns", _replace_prime(tiny[1], Q)))


def test_non_canonical_witness_value(tmp_path: Path, tiny) -> None:
    data = tiny[1][:-32] + (R + 5).to_bytes(32, "little")
    with pytest.raises(FormatError, match="not a canonical field element"):
        read_wtns(_write(tmp_path, "x.wtns", data))


def test_witness_count_mismatch(tmp_path: Path, tiny) -> None:
    data = bytearray(tiny[1])
    hdr = 12 + 12 + 4 + 32  # magic/version/nsec, section header, n8, prime
    data[hdr : hdr + 4] = struct.pack("<I", 244)
    with pytest.raises(FormatError, match="header says 244 values"):
        read_wtns(_write(tmp_path, "x.wtns", bytes(data)))


def test_trailing_bytes(tmp_path: Path, tiny) -> None:
    with pytest.raises(FormatError, match="trailing bytes"):
        read_wtns(_write(tmp_path, "x.wtns", tiny[1] + b"\0"))


def test_wire_out_of_range(tmp_path: Path) -> None:
    good = R1CS(3, 1, 0, 0, *(SparseMatrix.from_rows([[(2, 1)]]) for _ in range(3)))
    path = tmp_path / "x.r1cs"
    write_r1cs(good, path)
    read_r1cs(path)
    data = path.read_bytes()
    term = struct.pack("<II", 1, 2) + (1).to_bytes(32, "little")  # first LC: one term, wire 2
    i = data.index(term)
    bad = data[:i] + struct.pack("<II", 1, 9) + data[i + 8 :]
    with pytest.raises(FormatError, match="wire 9"):
        read_r1cs(_write(tmp_path, "y.r1cs", bad))


def test_write_rejects_non_canonical_witness(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="not in"):
        write_wtns([1, R], tmp_path / "x.wtns")
    assert not (tmp_path / "x.wtns").exists()


def test_constraint_count_beyond_the_section_is_refused_before_allocating(
    tmp_path: Path, tiny
) -> None:
    """A header claiming 2^32 − 1 constraints must not make the reader allocate 3·m rows."""
    data = bytearray(tiny[0])
    sections = binfile_sections(bytes(data), b"r1cs", (1, 2), "x")
    header = sections[1][0]
    (m,) = struct.unpack_from("<I", data, header + 4 + 32 + 24)
    assert read_r1cs(_write(tmp_path, "ok.r1cs", bytes(data))).n_constraints == m
    struct.pack_into("<I", data, header + 4 + 32 + 24, 2**32 - 1)
    with pytest.raises(FormatError, match="4294967295 constraints need at least"):
        read_r1cs(_write(tmp_path, "x.r1cs", bytes(data)))
