"""numba G1 / G2 point arithmetic against py_ecc.optimized_bn128, exceptional cases included."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc import optimized_bn128 as bn

from prover.fields import Q, R
from prover.kernels import convert, g1, g2


@dataclass(frozen=True)
class Curve:
    """Adapter: one curve's kernels, its generator and conversions, for parametrised tests."""

    name: str
    mod: ModuleType
    gen: tuple
    zero: tuple
    from_ints: object
    to_ints: object
    from_py: object
    to_py: object


CURVES = [
    Curve("G1", g1, bn.G1, bn.Z1, convert.g1_from_ints, convert.g1_to_ints,
          convert.g1_from_py_ecc, convert.g1_to_py_ecc),
    Curve("G2", g2, bn.G2, bn.Z2, convert.g2_from_ints, convert.g2_to_ints,
          convert.g2_from_py_ecc, convert.g2_to_py_ecc),
]  # fmt: skip
SETTINGS = settings(max_examples=15, deadline=None)
scalars = st.one_of(st.sampled_from([0, 1, 2, R - 1]), st.integers(1, R - 1))


def as_tuple(x):
    """A uint64 array as nested tuples of np.uint64 (how numba receives a point)."""
    if x.ndim == 1:
        return tuple(np.uint64(v) for v in x)
    return tuple(as_tuple(row) for row in x)


def as_array(t) -> np.ndarray:
    return np.array(t, dtype=np.uint64)


def affine(c: Curve, k: int) -> tuple:
    """k·G as a kernel affine tuple."""
    return as_tuple(c.from_ints([c.from_py(bn.multiply(c.gen, k))])[0])


def decode_affine(c: Curve, p) -> object:
    return c.to_ints(as_array(p)[None])[0]


def decode_jac(c: Curve, p) -> object:
    return decode_affine(c, c.mod.jac_to_affine(as_tuple(as_array(p))))


def expected(c: Curve, k: int) -> object:
    return c.from_py(bn.multiply(c.gen, k % R))


def jac(c: Curve, k: int) -> tuple:
    """k·G in Jacobian form with Z ≠ 1 (k·G = 2·(k/2·G) computed by the kernel)."""
    half = k * pow(2, -1, R) % R
    start = as_tuple(as_array(c.mod.affine_to_jac(affine(c, half))))
    return as_tuple(as_array(c.mod.jac_double(start)))


def scratch_for(c: Curve, n: int) -> np.ndarray:
    return np.zeros((n, 4) if c.name == "G1" else (n, 1, 2, 4), np.uint64)


@pytest.mark.parametrize("c", CURVES, ids=lambda c: c.name)
@SETTINGS
@given(a=scalars, b=scalars)
def test_jacobian_ops_match_py_ecc(c, a, b):
    pa, pb = jac(c, a), jac(c, b)
    assert decode_jac(c, c.mod.jac_add(pa, pb)) == expected(c, a + b)
    assert decode_jac(c, c.mod.jac_add_affine(pa, affine(c, b))) == expected(c, a + b)
    assert decode_jac(c, c.mod.jac_double(pa)) == expected(c, 2 * a)


@pytest.mark.parametrize("c", CURVES, ids=lambda c: c.name)
@pytest.mark.parametrize("case", ["P+P", "P+(-P)", "inf+P", "P+inf", "inf+inf"])
def test_exceptional_cases(c, case):
    k = 123456789
    left, right = {"P+P": (k, k), "P+(-P)": (k, R - k), "inf+P": (0, k), "P+inf": (k, 0),
                   "inf+inf": (0, 0)}[case]  # fmt: skip
    want = expected(c, left + right)
    assert decode_jac(c, c.mod.jac_add(jac(c, left), jac(c, right))) == want
    assert decode_jac(c, c.mod.jac_add_affine(jac(c, left), affine(c, right))) == want
    a = c.from_ints([decode_affine(c, affine(c, left))])
    b = c.from_ints([decode_affine(c, affine(c, right))])
    out = np.zeros_like(a)
    idx = np.zeros(1, np.int64)
    c.mod.add_affine_indexed(a, idx, b, idx, out, idx, 1, scratch_for(c, 1))
    assert c.to_ints(out)[0] == want


@pytest.mark.parametrize("c", CURVES, ids=lambda c: c.name)
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_batch_affine_add_and_normalise(c, data):
    n = data.draw(st.integers(0, 9))
    ks = data.draw(st.lists(scalars, min_size=2 * n, max_size=2 * n))
    pts = c.from_ints([expected(c, k) for k in ks])
    ia, ib = np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2)
    out = np.zeros_like(pts[:n])
    c.mod.add_affine_indexed(pts, ia, pts, ib, out, np.arange(n), n, scratch_for(c, n))
    assert c.to_ints(out) == [expected(c, ks[2 * i] + ks[2 * i + 1]) for i in range(n)]
    jacs = np.array([as_array(jac(c, k)) for k in ks], dtype=np.uint64).reshape(
        2 * n, 3, *pts.shape[2:]
    )
    aff = c.mod.batch_to_affine(jacs, np.zeros_like(pts))
    assert c.to_ints(aff) == [expected(c, k) for k in ks]


@pytest.mark.parametrize("c", CURVES, ids=lambda c: c.name)
def test_conversion_roundtrip_and_infinity(c):
    pts = [expected(c, k) for k in (0, 1, 7, R - 1)]
    arr = c.from_ints(pts)
    assert not arr[0].any()
    assert c.to_ints(arr) == pts
    assert [c.from_py(c.to_py(p)) for p in pts] == pts


def test_conversion_rejects_non_canonical_coordinates():
    with pytest.raises(ValueError, match="not a canonical Fq element"):
        convert.g1_from_ints([(Q, 2)])
    with pytest.raises(ValueError, match="not a canonical Fq element"):
        convert.g2_from_ints([((1, 2), (3, Q + 5))])
    with pytest.raises(ValueError, match="not a canonical Fr element"):
        convert.scalars_from_ints([R])


def test_wrong_operand_changes_result():
    """Negative twin: the comparison can fail — adding a different point gives another answer."""
    c = CURVES[0]
    assert decode_jac(c, c.mod.jac_add(jac(c, 5), jac(c, 6))) != expected(c, 12)
