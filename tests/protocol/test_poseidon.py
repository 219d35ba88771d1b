"""Native Poseidon: circomlibjs vectors, Grain LFSR twin, optimised vs textbook, sponge, Merkle."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import poseidon as pos
from protocol.errors import PrimitiveError
from protocol.poseidon_constants import (
    N_ROUNDS_F,
    N_ROUNDS_P,
    GrainLFSR,
    optimized_params,
    poseidon_params,
)
from prover.fields import curve_order as r

fr = st.integers(min_value=0, max_value=r - 1)


def test_circomlibjs_vectors(load_vectors) -> None:
    data = load_vectors("poseidon_circomlibjs.json")
    assert int(data["field_modulus"]) == r
    for v in data["vectors"]:
        inputs = [int(x) for x in v["inputs"]]
        assert v["t"] == len(inputs) + 1
        assert pos.poseidon_hash(inputs) == int(v["output"])
        assert pos.poseidon_permutation_reference([0, *inputs])[0] == int(v["output"])


def test_circomlibjs_init_state_vector(load_vectors) -> None:
    case = load_vectors("poseidon_circomlibjs.json")["with_init_state"]
    inputs = [int(x) for x in case["inputs"]]
    out = pos.poseidon_hash(inputs, init_state=int(case["init_state"]))
    assert out == int(case["output"])
    assert pos.poseidon_hash(inputs) != out


def test_wrong_output_is_detected(load_vectors) -> None:
    v = load_vectors("poseidon_circomlibjs.json")["vectors"][3]
    inputs = [int(x) for x in v["inputs"]]
    assert pos.poseidon_hash(inputs[::-1]) != int(v["output"])
    assert pos.poseidon_hash([inputs[0], inputs[1] + 1]) != int(v["output"])


def test_circomlib_constants_pinned() -> None:
    # First round constant for t = 2, 3 and the first MDS entry for t = 3, as in circomlib.
    rc2 = poseidon_params(2).round_constants[0]
    assert rc2 == 0x09C46E9EC68E9BD4FE1FAABA294CBA38A71AA177534CDD1B6C7DC0DBD0ABD7A7
    p3 = poseidon_params(3)
    assert (
        p3.round_constants[0] == 0x0EE9A592BA9A9518D05986D656F40C2114C4993C11BB29938D21D47304CD8E6E
    )
    assert p3.mds[0][0] == 0x109B7F411BA0E4C9B2B70CAF5C36A7B194BE7C11AD24378BFEDB68592BA8118B


def test_circomlib_optimised_constants_pinned() -> None:
    # circomlib poseidon_constants_opt for t = 3: C[3], C[4] (first compressed constants) and
    # S[1] (ŵ_1 of the first sparse matrix); S[0] is M[0][0].
    o = optimized_params(3)
    assert o.C[3] == 0x084D520E4E5BB469E1F9075CB7C490EFA59565EEDAE2D00CA8EF88CEEA2B0197
    assert o.C[4] == 0x2D15D982D99577FA33DA56722416FD734B3E667A2F9F15D8EB3E767AE0FD811E
    assert o.S[1] == 0x03F0815AB463F1B76EE25A9B8768B3231A89752F427F4F063AB718E707576B31
    assert o.S[0] == poseidon_params(3).mds[0][0]


#: SHA-256 of C, S, M, P (32-byte big-endian each, t = 2..17 in order) — equal, table by table,
#: to circomlib's circuits/poseidon_constants.circom (checked once against that file).
CIRCOMLIB_OPT_DIGEST = "3f6429a8d3d3b5b13baa028f321192a162d113bf41b2c88a2b6cea55a4596dec"


def _opt_digest(tamper: int = 0) -> str:
    h = hashlib.sha256()
    for t in range(2, 18):
        o = optimized_params(t)
        flat = (*o.C, *o.S, *(v for row in o.M for v in row), *(v for row in o.P for v in row))
        for x in flat:
            h.update(((x + tamper) % r).to_bytes(32, "big"))
    return h.hexdigest()


def test_all_widths_match_circomlib_digest() -> None:
    assert _opt_digest() == CIRCOMLIB_OPT_DIGEST
    assert _opt_digest(tamper=1) != CIRCOMLIB_OPT_DIGEST


@pytest.mark.parametrize("t", range(2, 18))
def test_parameter_shapes(t: int) -> None:
    p = poseidon_params(t)
    assert (p.n_rounds_f, p.n_rounds_p) == (N_ROUNDS_F, N_ROUNDS_P[t - 2])
    assert len(p.round_constants) == (N_ROUNDS_F + p.n_rounds_p) * t
    assert all(0 <= c < r for c in p.round_constants)
    assert len(p.mds) == t and all(len(row) == t for row in p.mds)
    o = optimized_params(t)
    assert len(o.C) == 8 * t + o.n_rounds_p
    assert len(o.S) == o.n_rounds_p * (2 * t - 1)
    assert tuple(zip(*p.mds, strict=True)) == o.M


@pytest.mark.parametrize("t", [1, 18, "3"])
def test_parameter_width_rejected(t) -> None:
    with pytest.raises(ValueError, match="width t"):
        poseidon_params(t)


def _grain_naive(seed: list[int], count: int) -> list[int]:
    """The sage script's generator, bit by bit (list shifting), as an independent twin."""
    bits = list(seed)

    def step() -> int:
        new = bits[62] ^ bits[51] ^ bits[38] ^ bits[23] ^ bits[13] ^ bits[0]
        bits.pop(0)
        bits.append(new)
        return new

    for _ in range(160):
        step()
    out: list[int] = []
    while len(out) < count:
        first, second = step(), step()
        if first:
            out.append(second)
    return out


@pytest.mark.parametrize("t", [2, 3, 9])
def test_grain_lfsr_matches_bitwise_twin(t: int) -> None:
    seed_str = f"{1:02b}{0:04b}{254:012b}{t:012b}{8:010b}{N_ROUNDS_P[t - 2]:010b}" + "1" * 30
    expected = _grain_naive([int(b) for b in seed_str], 600)
    lfsr = GrainLFSR(1, 0, 254, t, 8, N_ROUNDS_P[t - 2])
    got = [lfsr.random_bits(1) for _ in range(100)]
    got_int = lfsr.random_bits(500)
    assert got == expected[:100]
    assert got_int == int("".join(map(str, expected[100:])), 2)
    other = GrainLFSR(1, 0, 254, t + 1, 8, N_ROUNDS_P[t - 2])
    assert [other.random_bits(1) for _ in range(100)] != expected[:100]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=2, max_value=17).flatmap(lambda t: st.lists(fr, min_size=t, max_size=t))
)
def test_optimised_permutation_equals_textbook(state: list[int]) -> None:
    assert pos.poseidon_permutation(state) == pos.poseidon_permutation_reference(state)


def test_optimised_permutation_detects_tampered_constants(monkeypatch) -> None:
    state = [0, 1, 2]
    good = pos.poseidon_permutation(state)
    sched = list(pos._schedule(3))
    sched[0] = ((sched[0][0] + 1) % r, *sched[0][1:])
    monkeypatch.setattr(pos, "_schedule", lambda t: tuple(sched))
    assert pos.poseidon_permutation(state) != good


def test_import_check_raises_on_wrong_constants(monkeypatch) -> None:
    pos._check_known_hash()
    monkeypatch.setattr(pos, "poseidon_hash", lambda inputs: 0)
    with pytest.raises(ValueError, match="circomlibjs"):
        pos._check_known_hash()


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ([], "1..16 inputs"),
        (list(range(17)), "1..16 inputs"),
        ([r], "canonical"),
        ([1, -1], "canonical"),
        ([1, "2"], "must be an int"),
        ([True], "must be an int"),
        ("12", "sequence"),
        (7, "sequence"),
    ],
)
def test_poseidon_hash_rejects_malformed(inputs, message: str) -> None:
    with pytest.raises(PrimitiveError, match=message):
        pos.poseidon_hash(inputs)


def test_poseidon_hash_boundaries() -> None:
    assert pos.poseidon_hash(list(range(16))) != pos.poseidon_hash(list(range(15)))
    assert pos.poseidon_hash([r - 1]) != pos.poseidon_hash([0])
    with pytest.raises(PrimitiveError, match="init_state"):
        pos.poseidon_hash([1], init_state=r)


def _sponge_twin(elements: list[int]) -> int:
    h = (1 << 64) + len(elements)
    if not elements:
        return pos.poseidon_permutation_reference([0, h])[0]
    for i in range(0, len(elements), 15):
        chunk = elements[i : i + 15]
        h = pos.poseidon_permutation_reference([0, h, *chunk])[0]
    return h


@pytest.mark.parametrize("n", [0, 1, 2, 14, 15, 16, 30, 31])
def test_sponge_definition(n: int) -> None:
    elements = [(7 * i + 3) % r for i in range(n)]
    assert pos.poseidon_sponge(elements) == _sponge_twin(elements)


def test_sponge_domain_separation() -> None:
    x = 12345
    assert pos.poseidon_sponge([x]) != pos.poseidon_sponge([x, 0])
    assert pos.poseidon_sponge([]) != pos.poseidon_hash([0])
    assert pos.poseidon_sponge([x]) != pos.poseidon_hash([1, x])
    prefix = list(range(15))
    inner = pos.poseidon_sponge(prefix)
    assert pos.poseidon_sponge([*prefix, 5]) != pos.poseidon_sponge([inner, 5])
    with pytest.raises(PrimitiveError, match="canonical"):
        pos.poseidon_sponge([1, r])


def test_merkle_path_root_convention() -> None:
    h = lambda a, b: pos.poseidon_hash([a, b])  # noqa: E731
    leaves = [11, 22, 33, 44]
    n01, n23 = h(leaves[0], leaves[1]), h(leaves[2], leaves[3])
    root = h(n01, n23)
    for index, leaf in enumerate(leaves):
        sibling = leaves[index ^ 1]
        uncle = n23 if index < 2 else n01
        assert pos.merkle_path_root(leaf, index, [sibling, uncle]) == root
    assert pos.merkle_path_root(11, 1, [22, n23]) != root  # wrong side at level 0
    assert pos.merkle_path_root(11, 2, [22, n23]) != root  # wrong side at level 1
    assert pos.merkle_path_root(11, 0, [22, n23 + 1]) != root
    assert pos.merkle_path_root(5, 0, []) == 5
    assert pos.merkle_path_nodes(11, 0, [22, n23]) == (n01, root)
    assert pos.merkle_path_nodes(44, 3, [33, n01]) == (n23, root)
    assert pos.merkle_path_nodes(5, 0, []) == ()


@pytest.mark.parametrize("index", [-1, 4, True, 1.0])
def test_merkle_path_root_rejects_bad_index(index) -> None:
    with pytest.raises(PrimitiveError, match="index"):
        pos.merkle_path_root(1, index, [2, 3])


def test_merkle_path_root_rejects_non_canonical() -> None:
    with pytest.raises(PrimitiveError, match="canonical"):
        pos.merkle_path_root(r, 0, [2])
    with pytest.raises(PrimitiveError, match="canonical"):
        pos.merkle_path_root(1, 0, [r + 2])
