"""NTT kernels: the numba transforms against the naive DFT twin and a galois oracle."""

from __future__ import annotations

import galois
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.fields import R, root_of_unity
from prover.kernels import ntt as fast
from prover.kernels import ntt_reference as ref
from prover.r1cs import ints_to_limbs, limbs_to_ints

GF = galois.GF(R, 1, primitive_element=5, verify=False)
_MONT = (1 << 256) % R
_MONT_INV = pow(_MONT, -1, R)

_fe = st.integers(min_value=0, max_value=R - 1)


@st.composite
def _vectors(draw, max_log: int = 6) -> list[int]:
    log_n = draw(st.integers(min_value=0, max_value=max_log))
    return draw(st.lists(_fe, min_size=1 << log_n, max_size=1 << log_n))


def _mont(values: list[int]) -> np.ndarray:
    return ints_to_limbs([v * _MONT % R for v in values])


def _plain(arr: np.ndarray) -> list[int]:
    return [v * _MONT_INV % R for v in limbs_to_ints(arr)]


@settings(max_examples=40, deadline=None)
@given(values=_vectors(), shift=st.integers(min_value=1, max_value=R - 1))
def test_fast_matches_reference(values: list[int], shift: int) -> None:
    a = _mont(values)
    np.testing.assert_array_equal(fast.ntt(a), ref.ntt(a))
    np.testing.assert_array_equal(fast.intt(a), ref.intt(a))
    np.testing.assert_array_equal(fast.coset_ntt(a, shift), ref.coset_ntt(a, shift))
    np.testing.assert_array_equal(fast.coset_intt(a, shift), ref.coset_intt(a, shift))


@settings(max_examples=20, deadline=None)
@given(values=_vectors(max_log=5))
def test_reference_matches_galois(values: list[int]) -> None:
    n = len(values)
    w = GF(root_of_unity(n.bit_length() - 1))
    jk = np.outer(np.arange(n), np.arange(n))
    expected = (w**jk) @ GF(values)
    assert _plain(ref.ntt(_mont(values))) == [int(v) for v in expected]
    assert _plain(fast.ntt(_mont(values))) == [int(v) for v in expected]


@settings(max_examples=20, deadline=None)
@given(values=_vectors(max_log=10), shift=st.integers(min_value=1, max_value=R - 1))
def test_inverse_round_trips(values: list[int], shift: int) -> None:
    a = _mont(values)
    np.testing.assert_array_equal(fast.intt(fast.ntt(a)), a)
    np.testing.assert_array_equal(fast.coset_intt(fast.coset_ntt(a, shift), shift), a)


@settings(max_examples=40, deadline=None)
@given(values=_vectors(max_log=7), shift=st.integers(min_value=1, max_value=R - 1))
def test_coset_evaluations_match_intt_then_coset_ntt(values: list[int], shift: int) -> None:
    """The bit-reversal-free path (DIF inverse, one scaling, DIT forward) against its twin."""
    a = _mont(values)
    want = ref.coset_evaluations(a, shift)
    np.testing.assert_array_equal(fast.coset_evaluations(a, shift), want)
    np.testing.assert_array_equal(fast.coset_ntt(fast.intt(a), shift), want)


@pytest.mark.parametrize("log_n", [14, 15])
def test_coset_evaluations_in_worker_tasks(log_n: int) -> None:
    """From 2^14 the DIF and DIT stages run as tasks: the same as the two transforms; the
    result evaluates the interpolated polynomial at a coset point (Horner)."""
    rng = np.random.default_rng(log_n)
    a = rng.integers(0, 2**63, size=(1 << log_n, 4), dtype=np.uint64)
    a[:, 3] >>= 4
    g = 7
    got = fast.coset_evaluations(a, g)
    np.testing.assert_array_equal(got, fast.coset_ntt(fast.intt(a), g))
    coeffs = _plain(fast.intt(a))
    x = g * pow(root_of_unity(log_n), 5, R) % R
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % R
    assert _plain(got[5:6]) == [acc]
    # negative twins: another shift, or one changed evaluation, changes the result
    assert not np.array_equal(fast.coset_evaluations(a, g + 1), got)
    b = a.copy()
    b[1 << (log_n - 1), 0] ^= 1
    assert not np.array_equal(fast.coset_evaluations(b, g), got)


def test_evaluates_polynomial_on_the_coset() -> None:
    coeffs = [3, 1, 4, 1, 5, 9, 2, 6]
    g = 7
    w = root_of_unity(3)
    evals = _plain(fast.coset_ntt(_mont(coeffs), g))
    for i, e in enumerate(evals):
        x = g * pow(w, i, R) % R
        assert e == sum(c * pow(x, j, R) for j, c in enumerate(coeffs)) % R


@settings(max_examples=20, deadline=None)
@given(x=_fe, n=st.integers(min_value=0, max_value=40))
def test_powers(x: int, n: int) -> None:
    np.testing.assert_array_equal(fast.powers(x, n), ref.powers(x, n))
    assert _plain(fast.powers(x, n)) == [pow(x, i, R) for i in range(n)]


@pytest.mark.parametrize("start", [1, 5, R - 1])
def test_powers_in_worker_ranges(start: int) -> None:
    """From 2^14 on the powers are cut into ranges seeded by pow: the same as one chain."""
    x, n = 0x1234567890ABCDEF1234567890ABCDEF, (1 << 14) + 5
    np.testing.assert_array_equal(fast.powers(x, n, start), ref.powers(x, n, start))
    assert _plain(fast.powers(x, 3, start)) == [start * pow(x, i, R) % R for i in range(3)]
    assert not np.array_equal(fast.powers(x, n, start), fast.powers(x + 1, n, start))


def test_large_coset_round_trip_and_twin() -> None:
    """2^15: every scaling in worker ranges; a coset evaluation checked at a point by Horner."""
    rng = np.random.default_rng(2)
    a = rng.integers(0, 2**63, size=(1 << 15, 4), dtype=np.uint64)
    a[:, 3] >>= 4
    g = 7
    evals = fast.coset_ntt(a, g)
    np.testing.assert_array_equal(fast.coset_intt(evals, g), a)
    coeffs = _plain(a)
    x = g * pow(root_of_unity(15), 3, R) % R
    acc = 0
    for c in reversed(coeffs):
        acc = (acc * x + c) % R
    assert _plain(evals[3:4]) == [acc]
    # negative twin: interpolating on another coset does not give the coefficients back
    assert not np.array_equal(fast.coset_intt(evals, g + 1), a)


@pytest.mark.parametrize(
    "transform", ["ntt", "intt", "coset_ntt", "coset_intt", "coset_evaluations"]
)
def test_overwrite_reuses_the_input_only_when_allowed(transform: str) -> None:
    """``overwrite=True`` transforms a writable C-contiguous input in place (the result is that
    array); without it, or for a read-only input, the input is left as it was."""
    a = _mont(list(range(1, 9)))
    args = (7,) if transform.startswith("coset") else ()
    expect = getattr(ref, transform)(a, *args)
    kept = a.copy()
    np.testing.assert_array_equal(getattr(fast, transform)(a, *args), expect)
    np.testing.assert_array_equal(a, kept)
    frozen = a.copy()
    frozen.flags.writeable = False
    np.testing.assert_array_equal(getattr(fast, transform)(frozen, *args, overwrite=True), expect)
    np.testing.assert_array_equal(frozen, kept)
    out = getattr(fast, transform)(a, *args, overwrite=True)
    assert out is a
    np.testing.assert_array_equal(out, expect)
    np.testing.assert_array_equal(getattr(ref, transform)(kept, *args, overwrite=True), expect)


def test_large_round_trip() -> None:
    rng = np.random.default_rng(1)
    a = rng.integers(0, 2**63, size=(1 << 16, 4), dtype=np.uint64)
    a[:, 3] >>= 4  # < 2^252 < r: valid Montgomery residues
    np.testing.assert_array_equal(fast.intt(fast.ntt(a)), a)


@pytest.mark.parametrize("impl", [fast, ref])
@pytest.mark.parametrize("n", [3, 6, 12])
def test_length_not_power_of_two(impl, n: int) -> None:
    with pytest.raises(ValueError, match="not a power of two"):
        impl.ntt(np.zeros((n, 4), dtype=np.uint64))


def test_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        fast.ntt(np.zeros((8, 3), dtype=np.uint64))


def test_transform_changes_input_copy_only() -> None:
    a = _mont([1, 2, 3, 4])
    before = a.copy()
    fast.ntt(a)
    fast.coset_intt(a, 5)
    np.testing.assert_array_equal(a, before)


def test_two_thread_transform_equals_one_thread() -> None:
    """From 2^14 the stages run as tasks: the same as the one-thread kernels, both ways."""
    from prover.kernels.ntt import _THREADED_FROM, _bit_reverse, _stages, _twiddles

    rng = np.random.default_rng(2)
    for log_n in (_THREADED_FROM, _THREADED_FROM + 1):
        a = rng.integers(0, 2**63, size=(1 << log_n, 4), dtype=np.uint64)
        a[:, 3] >>= 4
        for inverse, transform in ((False, fast.ntt), (True, fast.intt)):
            single = a.copy()
            _bit_reverse(single, log_n)
            _stages(single, _twiddles(log_n), 1 << log_n, inverse)
            if inverse:
                fast._scale_by_const(single, pow(1 << log_n, -1, R))  # in place
            np.testing.assert_array_equal(transform(a), single)
            assert not np.array_equal(single, a)


def test_tables_are_shared_inside_tables_and_dropped_after() -> None:
    """Inside ``tables()`` a transform's twiddle and coset tables are built once (nested uses
    share them) and give the same transform as fresh ones; outside, each call builds its own."""
    a = np.asarray(ints_to_limbs([(7 * i + 3) ** 3 % R for i in range(1 << 5)]), dtype=np.uint64)
    want = fast.coset_ntt(a, 5)
    with fast.tables():
        tw = fast._twiddles(5)
        with fast.tables():
            assert fast._twiddles(5) is tw and fast._coset_table(5, 5, False) is (
                fast._coset_table(5, 5, False)
            )
        np.testing.assert_array_equal(fast.coset_ntt(a, 5), want)
    # negative twin: outside, nothing is kept
    assert fast._twiddles(5) is not fast._twiddles(5)
    np.testing.assert_array_equal(fast._twiddles(5), tw)
