"""snarkjs ``.zkey``: the shipped keys parse, prove and verify with the shipped verification keys;
a zkey written from our setup proves exactly as the key it came from; corrupt or mismatched files
fail with one line before anything large is allocated."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from prover.artifacts import proof_to_json, public_to_json, read_json, vk_from_json
from prover.errors import FormatError, KeyMismatchError
from prover.fields import R
from prover.iden3 import binfile_sections, read_r1cs, read_wtns, read_wtns_limbs
from prover.prove import prove
from prover.setup import SeededRandom, setup
from prover.zkey import load_key, read_zkey, write_zkey
from verifier import groth16 as v

SMALL = ["poseidon2_tiny", "merkle_n1_d16"]


@pytest.fixture(scope="module")
def tiny(groth16_vectors: Path) -> Path:
    return groth16_vectors / "poseidon2_tiny"


def _verify_snarkjs_json(vk_path: Path, public: list[int], proof) -> bool:
    vk = v.load_verification_key(vk_path)
    return v.verify(
        vk, v.parse_public_inputs(public_to_json(public)), v.parse_proof(proof_to_json(proof))
    )


@pytest.mark.parametrize("name", SMALL)
def test_shipped_zkey_proves_for_the_shipped_verification_key(
    groth16_vectors: Path, name: str
) -> None:
    d = groth16_vectors / name
    pk = read_zkey(d / "circuit_final.zkey")
    r1cs = read_r1cs(d / "circuit.r1cs")
    pk.check_circuit(r1cs)
    assert pk.vk == vk_from_json(read_json(d / "verification_key.json"))
    assert not pk.insecure_single_party  # the vectors' zkeys carry a phase-2 contribution
    witness = read_wtns(d / "witness.wtns")
    proof = prove(pk, read_wtns_limbs(d / "witness.wtns"), rng=SeededRandom(1))
    public = r1cs.public_signals(witness)
    assert _verify_snarkjs_json(d / "verification_key.json", public, proof)
    # negative twin: the same proof for another public input
    assert not _verify_snarkjs_json(d / "verification_key.json", [(public[0] + 1) % R], proof)


def test_int_and_limb_witnesses_give_the_same_proof(tiny: Path) -> None:
    pk = read_zkey(tiny / "circuit_final.zkey")
    ints = read_wtns(tiny / "witness.wtns")
    assert prove(pk, ints, r=3, s=4) == prove(pk, read_wtns_limbs(tiny / "witness.wtns"), r=3, s=4)
    assert prove(pk, ints, r=3, s=4) != prove(pk, ints, r=3, s=5)


def test_zkey_key_has_no_c_matrix_for_check(tiny: Path) -> None:
    pk = read_zkey(tiny / "circuit_final.zkey")
    with pytest.raises(KeyMismatchError, match=r"a \.zkey key has no C"):
        prove(pk, read_wtns(tiny / "witness.wtns"), check=True)


@pytest.mark.parametrize("name", SMALL)
def test_write_zkey_round_trips_sections_1_to_9(
    groth16_vectors: Path, tmp_path: Path, name: str
) -> None:
    src = groth16_vectors / name / "circuit_final.zkey"
    write_zkey(read_zkey(src), tmp_path / "out.zkey")
    a, b = src.read_bytes(), (tmp_path / "out.zkey").read_bytes()
    sa = binfile_sections(a, b"zkey", (1,), "a")
    sb = binfile_sections(b, b"zkey", (1,), "b")
    for k in range(1, 10):
        (oa, na), (ob, nb) = sa[k], sb[k]
        assert a[oa : oa + na] == b[ob : ob + nb], f"section {k} differs"
    assert sa[10][1] != sb[10][1]  # ours records no contribution


def test_our_setup_as_zkey_proves_like_the_key_it_came_from(
    tiny: Path, tmp_path: Path, verify
) -> None:
    r1cs = read_r1cs(tiny / "circuit.r1cs")
    witness = read_wtns(tiny / "witness.wtns")
    pk = setup(r1cs, SeededRandom(5))
    write_zkey(pk, tmp_path / "ours.zkey")
    back = load_key(tmp_path / "ours.zkey")
    assert back.insecure_single_party and back.vk == pk.vk
    assert back.by_wire and not pk.by_wire
    for name in ("a_g1", "b_g1", "b_g2"):  # the zkey's sections whole, ours compact
        assert len(getattr(back, name)) == pk.n_wires
        np.testing.assert_array_equal(back.wire_points(name), pk.wire_points(name))
    for name in ("l_g1", "h_g1", "a_wires", "b_wires"):
        np.testing.assert_array_equal(getattr(back, name), getattr(pk, name))
    proof = prove(back, witness, r=7, s=8)
    assert proof == prove(pk, witness, r=7, s=8)
    public = r1cs.public_signals(witness)
    assert verify(pk.vk, public, proof) and not verify(pk.vk, [(public[0] + 1) % R], proof)


def test_unsorted_coefficients_are_sorted(tiny: Path, tmp_path: Path) -> None:
    """snarkjs writes section 4 row by row; a file in another order proves the same."""
    data = bytearray((tiny / "circuit_final.zkey").read_bytes())
    off, size = binfile_sections(bytes(data), b"zkey", (1,), "z")[4]
    n = struct.unpack_from("<I", data, off)[0]
    rec = np.frombuffer(bytes(data[off + 4 : off + size]), dtype="<u4").reshape(n, 11)
    data[off + 4 : off + size] = rec[::-1].tobytes()
    (tmp_path / "rev.zkey").write_bytes(bytes(data))
    assert n == rec.shape[0]
    w = read_wtns(tiny / "witness.wtns")
    assert prove(read_zkey(tmp_path / "rev.zkey"), w, r=1, s=2) == prove(
        read_zkey(tiny / "circuit_final.zkey"), w, r=1, s=2
    )


# ------------------------------------------------------------------ malformed files


def _patched(tiny: Path, tmp_path: Path, edit) -> Path:
    data = bytearray((tiny / "circuit_final.zkey").read_bytes())
    sections = binfile_sections(bytes(data), b"zkey", (1,), "z")
    edit(data, sections)
    out = tmp_path / "bad.zkey"
    out.write_bytes(bytes(data))
    return out


def _set_u32(section: int, offset: int, value: int):
    def edit(data: bytearray, sections: dict) -> None:
        struct.pack_into("<I", data, sections[section][0] + offset, value)

    return edit


def _fill(section: int, offset: int, length: int, byte: int):
    def edit(data: bytearray, sections: dict) -> None:
        start = sections[section][0] + offset
        data[start : start + length] = bytes([byte]) * length

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d, s: d.__setitem__(slice(0, 4), b"zkez"), "wrong magic"),
        (lambda d, s: d.__delitem__(slice(len(d) - 100, len(d))), "truncated"),
        (_set_u32(1, 0, 2), "not a Groth16 zkey"),
        (lambda d, s: d.__setitem__(slice(s[2][0] + 4, s[2][0] + 5), b"\x01"), "not for BN254"),
        (_set_u32(2, 72, 2**32 - 1), r"section 5 \(a_g1\) is \d+ bytes, expected 274877906880"),
        (_set_u32(2, 76, 2**32 - 1), "cannot hold 1 \\+ 4294967295 public"),
        (_set_u32(2, 80, 2**31), "domainSize 2147483648 is not a power of two in"),
        (_set_u32(2, 80, 100), "domainSize 100 is not a power of two"),
        (_set_u32(4, 0, 2**32 - 1), "4294967295 coefficients need"),
        (_set_u32(4, 4 + 8, 10**6), r"coefficient 0 \(matrix 0, row 0, signal 1000000\)"),
        (_set_u32(4, 4, 7), r"coefficient 0 \(matrix 7, row 0, signal 0\)"),
        (_set_u32(4, 4 + 44 + 4, 256), r"coefficient 1 \(matrix 0, row 256, .* a row < 256"),
        (_fill(4, 16, 32, 0xFF), "coefficient 0 .* or not a canonical Fr element"),
        (_fill(2, 84, 8, 0x07), "alpha_g1 is not on the curve"),
        (_fill(3, 0, 32, 0xFF), r"IC\[0\] has a coordinate ≥ q"),
    ],
)  # fmt: skip
def test_malformed_zkey_is_one_line(tiny: Path, tmp_path: Path, edit, message: str) -> None:
    path = _patched(tiny, tmp_path, edit)
    with pytest.raises(FormatError, match=message) as info:
        read_zkey(path)
    assert "\n" not in str(info.value)


def test_empty_and_foreign_files(tiny: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.zkey").write_bytes(b"")
    with pytest.raises(FormatError, match="file is empty"):
        read_zkey(tmp_path / "empty.zkey")
    with pytest.raises(FormatError, match="wrong magic"):
        read_zkey(tiny / "circuit.r1cs")
    with pytest.raises(FormatError, match="not a proving key directory"):
        load_key(tmp_path)


def test_zkey_for_another_circuit_is_a_mismatch(groth16_vectors: Path) -> None:
    pk = read_zkey(groth16_vectors / "poseidon2_tiny" / "circuit_final.zkey")
    with pytest.raises(KeyMismatchError, match="243 wires"):
        pk.check_circuit(read_r1cs(groth16_vectors / "merkle_n1_d16" / "circuit.r1cs"))
    with pytest.raises(Exception, match="witness has"):
        prove(pk, read_wtns(groth16_vectors / "merkle_n1_d16" / "witness.wtns"))


def test_zkey_sections_used_in_place_prove_and_need_every_wire(
    tiny: Path,
) -> None:
    """A zkey's A/B sections are used whole (``by_wire``), the MSMs taking a_wires / b_wires as
    rows (the MSM's rows are checked against the twin in test_msm): the proof verifies, and a
    key that drops one wire of A from its rows proves nothing (negative twin)."""
    import dataclasses

    pk = read_zkey(tiny / "circuit_final.zkey")
    assert pk.by_wire and len(pk.a_g1) == pk.n_wires and len(pk.a_wires) < pk.n_wires
    z = read_wtns_limbs(tiny / "witness.wtns")
    fast = prove(pk, z, r=5, s=6)
    public = read_r1cs(tiny / "circuit.r1cs").public_signals(read_wtns(tiny / "witness.wtns"))
    vk_path = tiny / "verification_key.json"
    assert _verify_snarkjs_json(vk_path, public, fast)
    used = [j for j in pk.a_wires if z[j].any()]  # a wire whose term is not zero
    short = dataclasses.replace(pk, a_wires=pk.a_wires[pk.a_wires != used[-1]])
    assert not _verify_snarkjs_json(vk_path, public, prove(short, z, r=5, s=6))


def _rebuilt(data: bytes, sections: list[tuple[int, bytes]]) -> bytes:
    """The binfile header of ``data`` with these (type, payload) sections, in this order."""
    out = data[:8] + struct.pack("<I", len(sections))
    for kind, payload in sections:
        out += struct.pack("<IQ", kind, len(payload)) + payload
    return out


@pytest.mark.parametrize("payload", [b"", b"\0\0"])
def test_coefficients_section_too_short_for_its_count(
    tiny: Path, tmp_path: Path, payload: bytes
) -> None:
    """Section 4 shorter than its 4-byte count, placed last: one line, not a struct.error."""
    data = (tiny / "circuit_final.zkey").read_bytes()
    found = binfile_sections(data, b"zkey", (1,), "z")
    order = sorted(found, key=lambda k: found[k][0])
    kept = [(k, data[found[k][0] : found[k][0] + found[k][1]]) for k in order if k != 4]
    path = tmp_path / "short.zkey"
    path.write_bytes(_rebuilt(data, [*kept, (4, payload)]))
    with pytest.raises(FormatError, match=f"section 4 is {len(payload)} bytes, too short"):
        read_zkey(path)
    whole = [(k, data[found[k][0] : found[k][0] + found[k][1]]) for k in order]
    path.write_bytes(_rebuilt(data, whole))  # the same layout, intact: read as before
    assert read_zkey(path).n_public == read_zkey(tiny / "circuit_final.zkey").n_public


@pytest.mark.parametrize(
    ("n_public", "message"),
    [("3", "nPublic '3' is not a count"), (None, "nPublic None is not a count"),
     (-1, "nPublic -1 is not a count")],
)  # fmt: skip
def test_verification_key_json_with_a_bad_count(tiny: Path, n_public, message: str) -> None:
    vk = read_json(tiny / "verification_key.json")
    assert vk_from_json(vk).n_public == vk["nPublic"]
    with pytest.raises(FormatError, match=message):
        vk_from_json(dict(vk, nPublic=n_public))


@pytest.mark.parametrize("coordinate", ["²", "9" * 5000, "-1", "1.0"])
def test_verification_key_json_with_a_bad_number(tiny: Path, coordinate: str) -> None:
    vk = read_json(tiny / "verification_key.json")
    bad = dict(vk, vk_alpha_1=[coordinate, *vk["vk_alpha_1"][1:]])
    with pytest.raises(FormatError, match="is not a canonical field element in decimal"):
        vk_from_json(bad)


def test_deeply_nested_artifact_json_is_a_format_error(tmp_path: Path) -> None:
    """py_ecc raises the recursion limit; 100,000 nested lists would crash json in C."""
    import protocol.jsonio as jsonio

    deep = tmp_path / "verification_key.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FormatError, match="JSON nested 100000 deep"):
        read_json(deep)
    deep.write_text("[" * jsonio.MAX_JSON_DEPTH + "]" * jsonio.MAX_JSON_DEPTH)
    value, depth = read_json(deep), 1
    while value:
        value, depth = value[0], depth + 1
    assert depth == jsonio.MAX_JSON_DEPTH  # as deep as allowed: read
