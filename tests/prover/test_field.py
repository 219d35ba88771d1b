"""numba Fr / Fq / Fq2 kernels against their pure-Python twins, and galois GF(r) as an Fr oracle."""

from __future__ import annotations

import random

import galois
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.fields import Q, R
from prover.kernels import field as fast
from prover.kernels import reference as ref

GF_R = galois.GF(R, 1, primitive_element=5, verify=False)


def elements(p: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([0, 1, 2, p - 1, p - 2]), st.integers(0, p - 1))


def u64(t) -> tuple:
    """A limb tuple as numpy uint64 scalars (so numba types it as UniTuple(uint64, 4))."""
    return tuple(np.uint64(v) for v in t)


FIELDS = [("fr", R, ref.FR), ("fq", Q, ref.FQ)]
SETTINGS = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize(("name", "p", "twin"), FIELDS)
@SETTINGS
@given(data=st.data())
def test_scalar_ops_match_reference(name, p, twin, data):
    x, y = data.draw(elements(p)), data.draw(elements(p))
    a, b = twin.enc(x), twin.enc(y)
    for op in ("mul", "add", "sub"):
        got = getattr(fast, f"{name}_{op}")(u64(a), u64(b))
        assert tuple(got) == getattr(twin, op)(a, b), op
    for op in ("square", "neg", "double", "inverse", "to_mont", "from_mont"):
        got = getattr(fast, f"{name}_{op}")(u64(a))
        assert tuple(got) == getattr(twin, op)(a), op
    assert getattr(fast, f"{name}_is_zero")(u64(a)) == (x == 0)
    assert getattr(fast, f"{name}_eq")(u64(a), u64(b)) == (x == y)


@SETTINGS
@given(x=elements(R), y=elements(R))
def test_fr_matches_galois(x, y):
    a, b = u64(ref.FR.enc(x)), u64(ref.FR.enc(y))
    gx, gy = GF_R(x), GF_R(y)
    assert ref.FR.dec(fast.fr_mul(a, b)) == int(gx * gy)
    assert ref.FR.dec(fast.fr_add(a, b)) == int(gx + gy)
    assert ref.FR.dec(fast.fr_sub(a, b)) == int(gx - gy)
    if x:
        assert ref.FR.dec(fast.fr_inverse(a)) == int(gx**-1)


@pytest.mark.parametrize(("name", "p", "twin"), FIELDS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_array_ops_match_reference(name, p, twin, data):
    n = data.draw(st.integers(0, 12))
    xs = data.draw(st.lists(elements(p), min_size=n, max_size=n))
    ys = data.draw(st.lists(elements(p), min_size=n, max_size=n))
    a = np.array([twin.enc(x) for x in xs], dtype=np.uint64).reshape(n, 4)
    b = np.array([twin.enc(y) for y in ys], dtype=np.uint64).reshape(n, 4)
    for op in ("mul_array", "add_array", "sub_array"):
        np.testing.assert_array_equal(getattr(fast, f"{name}_{op}")(a, b), getattr(twin, op)(a, b))
    canon = np.array([ref.to_limbs(x) for x in xs], dtype=np.uint64).reshape(n, 4)
    np.testing.assert_array_equal(getattr(fast, f"{name}_to_mont_array")(canon), a)
    np.testing.assert_array_equal(getattr(fast, f"{name}_from_mont_array")(a), canon)
    inv = getattr(fast, f"{name}_batch_inverse")(a)
    np.testing.assert_array_equal(inv, twin.batch_inverse(a))


@SETTINGS
@given(data=st.data())
def test_fq2_matches_reference(data):
    a = tuple(ref.FQ.enc(data.draw(elements(Q))) for _ in range(2))
    b = tuple(ref.FQ.enc(data.draw(elements(Q))) for _ in range(2))
    fa, fb = tuple(map(u64, a)), tuple(map(u64, b))
    for op in ("mul", "add", "sub"):
        got = getattr(fast, f"fq2_{op}")(fa, fb)
        assert tuple(map(tuple, got)) == getattr(ref, f"fq2_{op}")(a, b), op
    for op in ("square", "neg", "inverse"):
        got = getattr(fast, f"fq2_{op}")(fa)
        assert tuple(map(tuple, got)) == getattr(ref, f"fq2_{op}")(a), op
    assert fast.fq2_is_zero(fa) == (ref.to_int(a[0]) == 0 and ref.to_int(a[1]) == 0)


def test_fq2_inverse_is_inverse():
    a = (u64(ref.FQ.enc(12345)), u64(ref.FQ.enc(Q - 7)))
    one = fast.fq2_mul(a, fast.fq2_inverse(a))
    assert (ref.FQ.dec(one[0]), ref.FQ.dec(one[1])) == (1, 0)


def test_batch_inverse_keeps_zero_and_inverts_others():
    vals = [0, 1, 5, R - 1, 0]
    a = np.array([ref.FR.enc(v) for v in vals], dtype=np.uint64)
    inv = fast.fr_batch_inverse(a)
    got = [ref.FR.dec(row) for row in inv]
    assert got == [0, 1, pow(5, R - 2, R), R - 1, 0]


def test_array_ops_reject_malformed_shapes():
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        fast.fr_mul_array(np.zeros((3, 3), np.uint64), np.zeros((3, 3), np.uint64))
    with pytest.raises(ValueError, match="shapes differ"):
        fast.fq_add_array(np.zeros((3, 4), np.uint64), np.zeros((2, 4), np.uint64))


def test_wrong_modulus_would_be_detected():
    """Negative twin: Fr and Fq kernels are not interchangeable (the test can tell them apart)."""
    x = ref.FR.enc(R - 1)
    assert tuple(fast.fq_add(u64(x), u64(x))) != ref.FR.add(x, x)


@pytest.mark.parametrize(("name", "p", "twin"), FIELDS)
def test_array_ops_in_worker_ranges_match_reference(name, p, twin, monkeypatch):
    """Cut into ranges for the workers (the split lowered to 4 elements): the twin's results,
    uneven last range included; a changed operand changes only its own row."""
    monkeypatch.setattr(fast, "SPLIT_FROM", 4)
    rng = random.Random(7)
    xs = [rng.randrange(p) for _ in range(37)]
    ys = [rng.randrange(p) for _ in range(37)]
    a = np.array([twin.enc(x) for x in xs], dtype=np.uint64)
    b = np.array([twin.enc(y) for y in ys], dtype=np.uint64)
    for op in ("mul_array", "add_array", "sub_array"):
        got = getattr(fast, f"{name}_{op}")(a, b)
        np.testing.assert_array_equal(got, getattr(twin, op)(a, b))
        b2 = b.copy()
        b2[20] = twin.enc((ys[20] + 1) % p)
        changed = np.flatnonzero((getattr(fast, f"{name}_{op}")(a, b2) != got).any(axis=1))
        assert changed.tolist() == [20]
    canon = np.array([ref.to_limbs(x) for x in xs], dtype=np.uint64)
    np.testing.assert_array_equal(getattr(fast, f"{name}_to_mont_array")(canon), a)
    np.testing.assert_array_equal(getattr(fast, f"{name}_from_mont_array")(a), canon)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), split=st.sampled_from([4, 1 << 14]))
def test_mul_sub_matches_its_three_step_twin(data, split):
    """fr_mul_sub = from_mont(a∘b − c) in one pass, in worker ranges too; with overwrite it
    writes over a; a changed c changes only its own row; mismatched shapes are refused."""
    import prover.engine as engine

    n = data.draw(st.integers(0, 40))
    a, b, c = (
        np.array([ref.FR.enc(x) for x in data.draw(st.lists(elements(R), min_size=n,
                                                             max_size=n))],
                 dtype=np.uint64).reshape(n, 4)
        for _ in range(3)
    )  # fmt: skip
    want = engine.REFERENCE.fr_mul_sub(a, b, c)
    old = fast.SPLIT_FROM
    fast.SPLIT_FROM = split
    try:
        got = fast.fr_mul_sub_array(a, b, c)
        np.testing.assert_array_equal(got, want)
        if n:
            c2 = c.copy()
            c2[n // 2] = ref.FR.enc((ref.FR.dec(tuple(c[n // 2])) + 1) % R)
            changed = np.flatnonzero((fast.fr_mul_sub_array(a, b, c2) != got).any(axis=1))
            assert changed.tolist() == [n // 2]
        a2 = a.copy()
        assert fast.fr_mul_sub_array(a2, b, c, overwrite=True) is a2
        np.testing.assert_array_equal(a2, want)
    finally:
        fast.SPLIT_FROM = old
    with pytest.raises(ValueError, match="shapes differ"):
        fast.fr_mul_sub_array(a, b, c[:-1] if n else np.zeros((1, 4), np.uint64))
