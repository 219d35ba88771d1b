"""The four-lane AVX2 Montgomery kernels against Python integers (their plain twins), at the
bounds their docstrings state and with every limb at its maximum (the column bound)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.fields import curve_order as r
from prover.kernels import avx2
from prover.kernels.avx2 import (
    HAVE_AVX2,
    LANES,
    LIMB_BITS,
    MONT_R,
    const_limbs,
    ints_from_rows,
    lane_dot_reference,
    lane_pow5_reference,
    rows_from_ints,
)

pytestmark = pytest.mark.skipif(not HAVE_AVX2, reason="numba does not compile for AVX2 here")

if HAVE_AVX2:
    from numba import njit

    from prover.kernels import poseidon_avx2

    @njit(cache=True)
    def _dot_run(d, s, K, ks, n):
        avx2.v_dot_run(d, 0, s, 0, K, 0, ks, n)

    @njit(cache=True)
    def _pow5_at(s, i):
        avx2.v_pow5(s, i)

    @njit(cache=True)
    def _add_mul(s, K):
        avx2.v_add_mul_const(s, 1, 0, K, 0)

    @njit(cache=True)
    def _unary(s, K, op):
        if op == 0:
            avx2.v_pow5(s, 0)
        elif op == 1:
            avx2.v_pow5_add(s, 0, K, 0)
        elif op == 2:
            avx2.v_add_const(s, 0, K, 0)
        elif op == 3:
            avx2.v_mul_const(s, 1, s, 0, K, 0)
        else:
            avx2.v_copy(s, 1, s, 0)

    @njit(cache=True)
    def _lanes_round_trip(s, x, out):
        for lane in range(4):
            poseidon_avx2.put_lane(s, 0, lane, (x[lane, 0], x[lane, 1], x[lane, 2], x[lane, 3]))
        for lane in range(4):
            y = poseidon_avx2.get_lane(s, 0, lane)
            for j in range(4):
                out[lane, j] = y[j]


TOP = MONT_R - 1  #: every limb at its maximum: the largest normalised value
below_80p = st.integers(0, 80 * r - 1)
below_p = st.integers(0, r - 1)
EDGES = [0, 1, r - 1, r, 2 * r - 1, 9 * r, 80 * r - 1]


def lanes(values) -> st.SearchStrategy[list[int]]:
    return st.lists(st.one_of(values, st.sampled_from(EDGES)), min_size=LANES, max_size=LANES)


def check_normalised(arr: np.ndarray, bound: int) -> None:
    """Limbs 0..7 of every lane below 2^29, every value below ``bound``."""
    assert int(arr[:, : 8 * LANES].max(initial=0)) < 1 << LIMB_BITS
    for row in ints_from_rows(arr):
        assert all(v < bound for v in row)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 17).flatmap(
    lambda n: st.tuples(st.lists(lanes(below_80p), min_size=n, max_size=n),
                        st.lists(below_p, min_size=n, max_size=n), st.integers(1, 3))
))  # fmt: skip
def test_dot_run_matches_integers(case) -> None:
    """d = Σ_j s_j·K[j·ks]·R^-1 mod p per lane, normalised, below 9p (n up to 17 terms: two
    carry passes between the column runs)."""
    rows, consts, ks = case
    n = len(rows)
    K = np.zeros((n * ks, avx2.LIMBS), dtype=np.uint64)
    K[::ks] = const_limbs(consts)
    d = np.zeros((1, avx2.ROW), dtype=np.uint64)
    _dot_run(d, rows_from_ints(rows), K, ks, n)
    check_normalised(d, 9 * r)
    got = ints_from_rows(d)[0]
    for lane in range(LANES):
        pairs = [(rows[j][lane], consts[j]) for j in range(n)]
        assert got[lane] % r == lane_dot_reference(pairs)


@pytest.mark.parametrize("n", [1, 5, 6, 7, 12, 13, 17])
def test_no_column_overflows_with_every_limb_at_its_maximum(n: int) -> None:
    """The column bound, not the value bound: operands 2^261 − 1 (all limbs 2^29 − 1) and
    constants 2^261 − 1 still give the right residue (a 64-bit column would wrap otherwise)."""
    K = const_limbs([TOP] * n)
    d = np.zeros((1, avx2.ROW), dtype=np.uint64)
    _dot_run(d, rows_from_ints([[TOP] * LANES] * n), K, 1, n)
    assert [v % r for v in ints_from_rows(d)[0]] == [lane_dot_reference([(TOP, TOP)] * n)] * 4
    s = rows_from_ints([[TOP] * LANES])
    _pow5_at(s, 0)
    assert [v % r for v in ints_from_rows(s)[0]] == [lane_pow5_reference(TOP)] * LANES


@settings(max_examples=40, deadline=None)
@given(lanes(below_80p), lanes(below_80p), below_p)
def test_add_mul_const_matches_integers(x, y, c) -> None:
    """y + x·c·R^-1 per lane (no reduction: the sum stays normalised); x is untouched."""
    s = rows_from_ints([x, y])
    _add_mul(s, const_limbs([c]))
    check_normalised(s[1:], 82 * r)
    got = ints_from_rows(s)
    assert [v % r for v in got[1]] == [
        (y[k] + lane_dot_reference([(x[k], c)])) % r for k in range(LANES)
    ]
    assert got[0] == x


@settings(max_examples=40, deadline=None)
@given(lanes(below_80p), below_p)
def test_pow5_add_mul_copy_match_integers(x, c) -> None:
    K = const_limbs([c])
    for op in range(5):
        s = rows_from_ints([x, [0] * LANES])
        _unary(s, K, op)
        out = ints_from_rows(s)
        if op == 0:
            assert [v % r for v in out[0]] == [lane_pow5_reference(v) for v in x]
            check_normalised(s[:1], 5 * r)
        elif op == 1:
            assert [v % r for v in out[0]] == [(lane_pow5_reference(v) + c) % r for v in x]
            check_normalised(s[:1], 6 * r)
        elif op == 2:
            assert out[0] == [v + c for v in x]
        elif op == 3:
            assert [v % r for v in out[1]] == [lane_dot_reference([(v, c)]) for v in x]
            check_normalised(s[1:], 2 * r)
        else:
            assert out[1] == x


def test_montgomery_round_trip_and_lanes_stay_apart() -> None:
    """Into Montgomery form (·R² then ·R^-1) and out (·1) gives each lane back; changing one
    lane's input changes that lane's output only (negative twin: no lane crosses another)."""
    x = [r - 1, 12345, 2**200 + 7, r // 2]
    K = const_limbs([MONT_R * MONT_R % r, 1])
    s = rows_from_ints([x, [0] * LANES])
    _dot_run(s[1:], s, K, 1, 1)  # s[1] = x·R
    assert [v % r for v in ints_from_rows(s)[1]] == [v * MONT_R % r for v in x]
    back = np.zeros((1, avx2.ROW), dtype=np.uint64)
    _dot_run(back, s[1:], K[1:], 1, 1)
    assert [v % r for v in ints_from_rows(back)[0]] == x
    y = list(x)
    y[2] += 1
    s2 = rows_from_ints([y, [0] * LANES])
    _dot_run(s2[1:], s2, K, 1, 1)
    diff = [a != b for a, b in zip(ints_from_rows(s)[1], ints_from_rows(s2)[1], strict=True)]
    assert diff == [k == 2 for k in range(LANES)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2 * r - 1), min_size=LANES, max_size=LANES))
def test_lanes_in_and_out(values: list[int]) -> None:
    """put_lane / get_lane: 4×64-bit limbs to 29-bit limbs and back, reduced below p."""
    x = np.array([[(v >> (64 * j)) & (2**64 - 1) for j in range(4)] for v in values],
                 dtype=np.uint64)  # fmt: skip
    s = np.zeros((1, avx2.ROW), dtype=np.uint64)
    out = np.zeros((4, 4), dtype=np.uint64)
    _lanes_round_trip(s, x, out)
    assert ints_from_rows(s)[0] == values
    assert [sum(int(w) << (64 * j) for j, w in enumerate(row)) for row in out] == [
        v % r for v in values
    ]


def test_kernels_refuse_other_arrays() -> None:
    """Negative twin of the typing: int64 or one-dimensional arrays are not lane rows."""
    from numba.core.errors import TypingError

    with pytest.raises(TypingError):
        _unary(np.zeros((2, avx2.ROW), dtype=np.int64), const_limbs([1]), 0)
    with pytest.raises(TypingError):
        _add_mul(np.zeros(3 * avx2.ROW, dtype=np.uint64), const_limbs([1, 2]))
    with pytest.raises(TypingError):  # indices are 64-bit (the codegen uses them as i64)
        _pow5_at(np.zeros((1, avx2.ROW), dtype=np.uint64), np.int32(0))


def test_layout_helpers_and_tables() -> None:
    rows = [[r - 1, 0, 2**255, TOP]]
    assert ints_from_rows(rows_from_ints(rows)) == rows
    with pytest.raises(ValueError, match="a lane row holds 4 values, got 3"):
        rows_from_ints([[1, 2, 3]])
    for t in (1, 18):
        with pytest.raises(ValueError, match=f"the four-lane Poseidon takes t = 2..17, got {t}"):
            poseidon_avx2.tables(t)
