"""The eight-lane IFMA Montgomery kernels against Python integers (their plain twins)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.poseidon import poseidon_hash
from prover.fields import curve_order as r
from prover.kernels import ifma
from prover.kernels.ifma import (
    HAVE_IFMA,
    LANES,
    LIMB_BITS,
    MONT_R,
    const_limbs,
    ints_from_rows,
    lane_dot_reference,
    lane_pow5_reference,
    rows_from_ints,
)

pytestmark = pytest.mark.skipif(not HAVE_IFMA, reason="this CPU has no AVX-512 IFMA")

if HAVE_IFMA:
    from numba import njit

    @njit(cache=True)
    def _dot_run(d, s, K, ks, n):
        ifma.v_dot_run(d, 0, s, 0, K, 0, ks, n)

    @njit(cache=True)
    def _pow5_at(s, i):
        ifma.v_pow5(s, i)

    @njit(cache=True)
    def _add_mul(s, K):
        ifma.v_add_mul_const(s, 1, 0, K, 0)

    @njit(cache=True)
    def _unary(s, K, op):
        if op == 0:
            ifma.v_pow5(s, 0)
        elif op == 1:
            ifma.v_pow5_add(s, 0, K, 0)
        elif op == 2:
            ifma.v_add_const(s, 0, K, 0)
        elif op == 3:
            ifma.v_mul_const(s, 1, s, 0, K, 0)
        else:
            ifma.v_copy(s, 1, s, 0)


below_3p = st.integers(0, 3 * r - 1)
below_p = st.integers(0, r - 1)
EDGES = [0, 1, r - 1, r, r + 1, 2 * r - 1, 2 * r, 3 * r - 1]


def lanes(values) -> st.SearchStrategy[list[int]]:
    return st.lists(st.one_of(values, st.sampled_from([x for x in EDGES if x < 3 * r])),
                    min_size=LANES, max_size=LANES)  # fmt: skip


def check_normalised(arr: np.ndarray) -> None:
    """Limbs 0..3 of every lane below 2^52 (what IFMA reads), the value below 2p."""
    assert int(arr[:, : 4 * LANES].max(initial=0)) < 1 << LIMB_BITS
    for row in ints_from_rows(arr):
        assert all(v < 2 * r for v in row)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, ifma.MAX_TERMS).flatmap(
    lambda n: st.tuples(st.lists(lanes(below_3p), min_size=n, max_size=n),
                        st.lists(below_p, min_size=n, max_size=n), st.integers(1, 3))
))  # fmt: skip
def test_dot_run_matches_integers(case) -> None:
    """d = Σ_j s_j·K[j·ks]·R^-1 mod p per lane, below 2p, normalised (n up to 17 terms)."""
    rows, consts, ks = case
    n = len(rows)
    K = np.zeros((n * ks, ifma.LIMBS), dtype=np.uint64)
    K[::ks] = const_limbs(consts)
    d = np.zeros((1, ifma.ROW), dtype=np.uint64)
    _dot_run(d, rows_from_ints(rows), K, ks, n)
    check_normalised(d)
    got = ints_from_rows(d)[0]
    for lane in range(LANES):
        pairs = [(rows[j][lane], consts[j]) for j in range(n)]
        assert got[lane] % r == lane_dot_reference(pairs)


below_2p = st.integers(0, 2 * r - 1)


@settings(max_examples=40, deadline=None)
@given(lanes(below_3p), st.lists(st.one_of(below_2p, st.sampled_from([0, r - 1, r, 2 * r - 1])),
                                 min_size=LANES, max_size=LANES), below_p)  # fmt: skip
def test_add_mul_const_matches_integers(x, y, c) -> None:
    """y + x·c·R^-1 per lane, brought below 2p (y < 2p, x < 3p); x is untouched."""
    s = rows_from_ints([x, y])
    _add_mul(s, const_limbs([c]))
    check_normalised(s[1:])
    got = ints_from_rows(s)
    assert [v % r for v in got[1]] == [
        (y[k] + lane_dot_reference([(x[k], c)])) % r for k in range(LANES)
    ]
    assert got[0] == x


def test_conditional_subtraction_edges() -> None:
    """x = 0 makes the product exactly 0, so the lanes show the subtraction itself: a sum below
    2p is kept, one in [2p, 4p) loses exactly 2p."""
    y = [0, 1, r, 2 * r - 1, 2 * r, 2 * r + 1, 3 * r, 4 * r - 1]
    s = rows_from_ints([[0] * LANES, y])
    _add_mul(s, const_limbs([12345]))
    assert ints_from_rows(s)[1] == [v - 2 * r if v >= 2 * r else v for v in y]


@settings(max_examples=40, deadline=None)
@given(lanes(below_3p), below_p)
def test_pow5_add_mul_copy_match_integers(x, c) -> None:
    K = const_limbs([c])
    for op in range(5):
        s = rows_from_ints([x, [0] * LANES])
        _unary(s, K, op)
        out = ints_from_rows(s)
        if op == 0:
            assert [v % r for v in out[0]] == [lane_pow5_reference(v) for v in x]
            check_normalised(s[:1])
        elif op == 1:
            assert [v % r for v in out[0]] == [(lane_pow5_reference(v) + c) % r for v in x]
            assert all(v < 3 * r for v in out[0])
        elif op == 2:
            assert out[0] == [v + c for v in x]
        elif op == 3:
            assert [v % r for v in out[1]] == [lane_dot_reference([(v, c)]) for v in x]
            check_normalised(s[1:])
        else:
            assert out[1] == x


def test_montgomery_round_trip_and_lanes_stay_apart() -> None:
    """Into Montgomery form (·R² then ·R^-1) and out (·1) gives each lane back; changing one
    lane's input changes that lane's output only (negative twin: no lane crosses another)."""
    x = [0, 1, r - 1, 12345, 2**200 + 7, r // 2, 3, r - 2]
    K = const_limbs([MONT_R * MONT_R % r, 1])
    s = rows_from_ints([x, [0] * LANES])
    _dot_run(s[1:], s, K, 1, 1)  # s[1] = x·R
    assert [v % r for v in ints_from_rows(s)[1]] == [v * MONT_R % r for v in x]
    back = np.zeros((1, ifma.ROW), dtype=np.uint64)
    _dot_run(back, s[1:], K[1:], 1, 1)
    assert [v % r for v in ints_from_rows(back)[0]] == x
    y = list(x)
    y[5] += 1
    s2 = rows_from_ints([y, [0] * LANES])
    _dot_run(s2[1:], s2, K, 1, 1)
    diff = [a != b for a, b in zip(ints_from_rows(s)[1], ints_from_rows(s2)[1], strict=True)]
    assert diff == [k == 5 for k in range(LANES)]


def test_kernels_refuse_other_arrays() -> None:
    """Negative twin of the typing: int64 or one-dimensional arrays are not lane rows."""
    from numba.core.errors import TypingError

    with pytest.raises(TypingError):
        _unary(np.zeros((2, ifma.ROW), dtype=np.int64), const_limbs([1]), 0)
    with pytest.raises(TypingError):
        _add_mul(np.zeros(3 * ifma.ROW, dtype=np.uint64), const_limbs([1, 2]))
    with pytest.raises(TypingError):  # indices are 64-bit (the codegen uses them as i64)
        _pow5_at(np.zeros((1, ifma.ROW), dtype=np.uint64), np.int32(0))


def test_layout_helpers() -> None:
    rows = [[r - 1, 0, 1, 2**255, 5, 6, 7, 2**259 + 3]]
    assert ints_from_rows(rows_from_ints(rows)) == rows
    with pytest.raises(ValueError, match="a lane row holds 8 values, got 3"):
        rows_from_ints([[1, 2, 3]])


# ------------------------------------------------------------------ one state across the lanes

if HAVE_IFMA:
    from prover.kernels import ifma_wide

    @njit(cache=True)
    def _mix(s, t, W):
        ifma_wide.w_mix(s, 3, s, t, W, 0, 2)

    @njit(cache=True)
    def _partial(s, R, W):
        ifma_wide.w_partial(s, R, W, 0, 1, 1 + R)


def _spread(values: list[int], rows: int) -> list[list[int]]:
    padded = values + [0] * (rows * LANES - len(values))
    return [padded[q * LANES : (q + 1) * LANES] for q in range(rows)]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 17).flatmap(
    lambda t: st.tuples(st.lists(below_3p, min_size=t, max_size=t),
                        st.lists(st.lists(below_p, min_size=8, max_size=8), min_size=t,
                                 max_size=t))
))  # fmt: skip
def test_wide_mix_matches_integers(case) -> None:
    """d = Σ_j bcast(element j)·W[j·2] per lane, element j in lane j mod 8 of row j // 8."""
    state, columns = case
    t = len(state)
    s = rows_from_ints([*_spread(state, 3), [0] * LANES])
    W = rows_from_ints([row for col in columns for row in (col, [0] * LANES)])
    _mix(s, t, W)
    check_normalised(s[3:])
    assert [v % r for v in ints_from_rows(s)[3]] == ifma_wide.w_mix_reference(state, columns)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 17).flatmap(
    lambda t: st.tuples(st.lists(st.integers(0, 2 * r - 1), min_size=t, max_size=t), below_p,
                        st.lists(below_p, min_size=t, max_size=t),
                        st.lists(below_p, min_size=t, max_size=t))
))  # fmt: skip
def test_wide_partial_round_matches_integers(case) -> None:
    """One sparse partial round on a state of 2..17 elements; lanes beyond t stay zero."""
    state, c, srow, vrow = case
    t = len(state)
    R = (t + LANES - 1) // LANES
    vrow = [0, *vrow[1:]]
    s = rows_from_ints(_spread(state, R))
    W = rows_from_ints([_spread([c], 1)[0], *_spread(srow, R), *_spread(vrow, R)])
    _partial(s, R, W)
    check_normalised(s)
    got = [v % r for row in ints_from_rows(s) for v in row]
    assert got[:t] == ifma_wide.w_partial_reference(state, c, srow, vrow)
    assert got[t:] == [0] * (R * LANES - t)


def test_wide_kernels_see_every_element() -> None:
    """Negative twin of the wide mix and partial round: changing any one state element (with
    non-zero constants) changes the output, so no element is dropped or read from a wrong lane."""
    t, R = 17, 3
    state = [(7 * j + 1) * 1000003 for j in range(t)]
    columns = [[(j * 8 + i + 1) * 99991 for i in range(LANES)] for j in range(t)]
    W = rows_from_ints([row for col in columns for row in (col, [0] * LANES)])
    srow = [(j + 3) * 12347 for j in range(t)]
    vrow = [0] + [(j + 5) * 7919 for j in range(1, t)]
    Wp = rows_from_ints([_spread([11], 1)[0], *_spread(srow, R), *_spread(vrow, R)])

    def outputs(x: list[int]) -> tuple[list[int], list[int]]:
        s = rows_from_ints([*_spread(x, 3), [0] * LANES])
        _mix(s, t, W)
        p = rows_from_ints(_spread(x, R))
        _partial(p, R, Wp)
        return ints_from_rows(s)[3], [v for row in ints_from_rows(p) for v in row][:t]

    base = outputs(state)
    for j in range(t):
        changed = list(state)
        changed[j] += 1
        mix, partial = outputs(changed)
        assert mix != base[0], j
        assert partial[0] != base[1][0], j  # x_0' = Σ S_j·x_j reads every element


@settings(max_examples=30, deadline=None)
@given(st.lists(below_p, min_size=1, max_size=16), below_p)
def test_wide_single_hash_every_width(inputs: list[int], init: int) -> None:
    """The lane-spread single hash for every width t = 2..17 (not only those dispatched to it),
    against the reference; a changed input gives another hash."""
    from prover.kernels import poseidon_wide

    def wide(values: list[int]) -> int:
        state = np.array([[(v >> (64 * j)) & (2**64 - 1) for j in range(4)] for v in values],
                         dtype=np.uint64)  # fmt: skip
        out = np.empty_like(state)
        poseidon_wide.hash_kernel(state, out, *poseidon_wide.wide_tables(len(values)))
        return sum(int(x) << (64 * j) for j, x in enumerate(out[0]))

    expected = poseidon_hash(inputs, init_state=init)
    assert wide([init, *inputs]) == expected
    assert wide([init, *inputs[:-1], (inputs[-1] + 1) % r]) != expected
