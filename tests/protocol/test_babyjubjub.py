"""BabyJubJub: group law against circomlibjs's affine formula, subgroup checks, packing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import babyjubjub as bj
from protocol.errors import PrimitiveError
from prover.fields import curve_order as r

scalars = st.integers(min_value=0, max_value=bj.SUBGROUP_ORDER - 1)
#: The point of order 2 and one of order 4 ((±sqrt(1/a), 0)).
T2 = (0, r - 1)
T4 = (bj.sqrt(pow(bj.A, -1, r)), 0)


def affine_add(p: bj.Point, q: bj.Point) -> bj.Point:
    """circomlibjs ``addPoint`` (the affine complete law) as the reference twin."""
    (x1, y1), (x2, y2) = p, q
    t = bj.D * x1 * x2 * y1 * y2 % r
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, -1, r) % r
    y3 = (y1 * y2 - bj.A * x1 * x2) * pow(1 - t, -1, r) % r
    return (x3, y3)


def affine_multiply(p: bj.Point, k: int) -> bj.Point:
    acc, base = bj.IDENTITY, p
    while k:
        if k & 1:
            acc = affine_add(acc, base)
        base, k = affine_add(base, base), k >> 1
    return acc


def test_constants() -> None:
    assert bj.is_on_curve(bj.GENERATOR) and bj.is_on_curve(bj.BASE8)
    assert bj.multiply(bj.GENERATOR, 8) == bj.BASE8
    assert bj.in_subgroup(bj.BASE8)
    assert not bj.in_subgroup(bj.GENERATOR)
    assert bj.multiply(bj.GENERATOR, bj.ORDER) == bj.IDENTITY


def test_torsion_points() -> None:
    assert bj.is_on_curve(T2) and bj.double(T2) == bj.IDENTITY
    assert bj.is_on_curve(T4) and bj.double(T4) == T2
    assert not bj.in_subgroup(T2) and not bj.in_subgroup(T4)
    assert bj.in_subgroup(bj.IDENTITY)
    p = bj.multiply_base8(987654321)
    assert bj.in_subgroup(p)
    assert not bj.in_subgroup(bj.add(p, T2))
    assert not bj.in_subgroup(bj.add(p, T4))


@settings(max_examples=25, deadline=None)
@given(scalars, scalars)
def test_add_and_double_match_affine_twin(a: int, b: int) -> None:
    p, q = bj.multiply_base8(a), bj.multiply_base8(b)
    assert bj.add(p, q) == affine_add(p, q)
    assert bj.double(p) == affine_add(p, p)
    assert bj.add(p, bj.negate(p)) == bj.IDENTITY
    assert bj.add(p, bj.IDENTITY) == p
    assert bj.multiply_base8(a + b) == bj.add(p, q)


@settings(max_examples=15, deadline=None)
@given(scalars, st.integers(min_value=-(2**70), max_value=2**70))
def test_multiply_matches_affine_twin(a: int, k: int) -> None:
    p = bj.add(bj.multiply_base8(a), T4)  # a point outside the subgroup, too
    expected = affine_multiply(p if k >= 0 else bj.negate(p), abs(k))
    assert bj.multiply(p, k) == expected


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0, max_value=2**256))
def test_multiply_base8_matches_generic(k: int) -> None:
    assert bj.multiply_base8(k) == bj._from_ext(bj._ext_multiply(bj.BASE8, k))
    assert bj.multiply(bj.BASE8, k) == bj.multiply_base8(k)


def test_off_curve_rejected() -> None:
    p = bj.multiply_base8(5)
    bad = (p[0], (p[1] + 1) % r)
    assert not bj.is_on_curve(bad)
    assert not bj.is_on_curve((p[0] + r, p[1]))
    assert not bj.in_subgroup(bad)
    for op in (bj.double, bj.negate, bj.pack_point):
        with pytest.raises(PrimitiveError, match="not on BabyJubJub"):
            op(bad)
    with pytest.raises(PrimitiveError, match="not on BabyJubJub"):
        bj.add(p, bad)
    with pytest.raises(PrimitiveError, match="not on BabyJubJub"):
        bj.multiply(bad, 3)


@pytest.mark.parametrize("bad", [[1, 2], (1,), (1, 2, 3), (1, "2"), (True, 1)])
def test_malformed_points_raise(bad) -> None:
    with pytest.raises(PrimitiveError, match="tuple of two ints"):
        bj.is_on_curve(bad)


def test_sqrt() -> None:
    for x in (1, 2, 5, 123456789, r - 1):
        root = bj.sqrt(x * x % r)
        assert root in (x, r - x) and root <= (r - 1) // 2
    assert bj.sqrt(5) is None  # 5 generates Fr*, so it is a non-residue
    assert bj.sqrt(0) == 0


@settings(max_examples=25, deadline=None)
@given(scalars)
def test_pack_unpack_round_trip(k: int) -> None:
    p = bj.multiply_base8(k)
    if p[0] == 0:
        return
    packed = bj.pack_point(p)
    assert len(packed) == 32
    assert bj.unpack_point(packed) == p
    flipped = bytearray(packed)
    flipped[31] ^= 0x80
    assert bj.unpack_point(bytes(flipped)) == bj.negate(p)


def test_pack_matches_circomlibjs(load_vectors) -> None:
    for v in load_vectors("eddsa_poseidon_circomlibjs.json")["vectors"]:
        point = (int(v["Ax"]), int(v["Ay"]))
        assert bj.pack_point(point).hex() == v["packed_public_key_hex"]
        assert bj.unpack_point(bytes.fromhex(v["packed_public_key_hex"])) == point


def test_unpack_rejects_invalid() -> None:
    with pytest.raises(PrimitiveError, match="32 bytes"):
        bj.unpack_point(b"\x00" * 31)
    with pytest.raises(PrimitiveError, match="32 bytes"):
        bj.unpack_point("00" * 32)
    with pytest.raises(PrimitiveError, match="y >= r"):
        bj.unpack_point(r.to_bytes(32, "little"))
    # identity (0, 1): x² = 0 is rejected, as circomlibjs does
    with pytest.raises(PrimitiveError, match="no x"):
        bj.unpack_point(bj.pack_point(bj.IDENTITY))
    y = next(
        y for y in range(2, 100) if bj.sqrt((1 - y * y) * pow(bj.A - bj.D * y * y, -1, r)) is None
    )
    with pytest.raises(PrimitiveError, match="no x"):
        bj.unpack_point(y.to_bytes(32, "little"))
