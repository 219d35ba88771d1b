"""Pippenger MSM and fixed-base batch multiplication against py_ecc twins and a discrete-log oracle.

Bases are drawn from a pool of known multiples kⱼ·G (plus the point at infinity), so for large n
the expected Σ sᵢ·Pᵢ is (Σ sᵢ·kᵢ mod r)·G: one py_ecc multiplication instead of n. Small n are
also compared with the naive twins ``msm_g*_naive`` (py_ecc multiply + add) directly.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc import optimized_bn128 as bn

from prover.fields import R
from prover.kernels import convert, fixed_base, msm, msm_work, reference

POOL = 12  # distinct pool points; index POOL means the point at infinity

CURVES = {
    "G1": (bn.G1, convert.g1_from_py_ecc, convert.g1_from_ints, msm.msm_g1,
           reference.msm_g1_naive, fixed_base.batch_mul_g1, reference.batch_mul_g1_naive),
    "G2": (bn.G2, convert.g2_from_py_ecc, convert.g2_from_ints, msm.msm_g2,
           reference.msm_g2_naive, fixed_base.batch_mul_g2, reference.batch_mul_g2_naive),
}  # fmt: skip
scalar = st.one_of(st.sampled_from([0, 1, 2, R - 1, R - 2]), st.integers(0, R - 1))


@cache
def pool(curve: str) -> tuple[list[int], np.ndarray]:
    gen, from_py, from_ints = CURVES[curve][:3]
    ks = [pow(7, j + 3, R) for j in range(POOL)] + [0]
    return ks, from_ints([from_py(bn.multiply(gen, k)) for k in ks])


def expected(curve: str, k: int):
    gen, from_py = CURVES[curve][:2]
    return from_py(bn.multiply(gen, k % R))


def instance(curve: str, data, max_n: int):
    ks, pts = pool(curve)
    n = data.draw(st.integers(0, max_n), label="n")
    idx = data.draw(st.lists(st.integers(0, POOL), min_size=n, max_size=n), label="idx")
    ss = data.draw(st.lists(scalar, min_size=n, max_size=n), label="scalars")
    bases = pts[np.array(idx, dtype=np.int64)] if n else pts[:0]
    return (
        bases,
        convert.scalars_from_ints(ss),
        sum(ks[i] * s for i, s in zip(idx, ss, strict=True)),
    )


@pytest.mark.parametrize("curve", ["G1", "G2"])
@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_msm_matches_naive_twin(curve, data):
    fast, naive = CURVES[curve][3], CURVES[curve][4]
    bases, scalars, _ = instance(curve, data, 8)
    assert fast(bases, scalars) == naive(bases, scalars)


@pytest.mark.parametrize("curve", ["G1", "G2"])
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_msm_matches_discrete_log_oracle(curve, data):
    fast = CURVES[curve][3]
    bases, scalars, k = instance(curve, data, 300)
    c = data.draw(st.sampled_from([None, 2, 5, 9]), label="c")
    threads = data.draw(st.sampled_from([1, 2]), label="threads")
    assert fast(bases, scalars, c=c, threads=threads) == expected(curve, k)


@pytest.mark.parametrize("curve", ["G1", "G2"])
def test_msm_all_same_base_and_cancelling_scalars(curve):
    """Every point in one bucket (doublings) and s + (r − s) = 0 (an infinite sum)."""
    fast = CURVES[curve][3]
    _, pts = pool(curve)
    bases = np.repeat(pts[:1], 64, axis=0)
    same = convert.scalars_from_ints([5] * 64)
    assert fast(bases, same, c=4) == expected(curve, 64 * 5 * pool(curve)[0][0])
    cancel = convert.scalars_from_ints([11, R - 11] * 32)
    assert fast(bases, cancel) is None


@pytest.mark.parametrize("curve", ["G1", "G2"])
def test_msm_rejects_malformed_input(curve):
    fast = CURVES[curve][3]
    _, pts = pool(curve)
    with pytest.raises(ValueError, match="2 bases but 3 scalars"):
        fast(pts[:2], np.zeros((3, 4), np.uint64))
    with pytest.raises(ValueError, match="scalars must have shape"):
        fast(pts[:2], np.zeros((2, 3), np.uint64))
    with pytest.raises(ValueError, match="bases must have shape"):
        fast(np.zeros((2, 5), np.uint64), np.zeros((2, 4), np.uint64))


def test_msm_changed_scalar_changes_result():
    """Negative twin: a tampered scalar gives a different sum."""
    _, pts = pool("G1")
    ss = [3, 4, 5]
    good = msm.msm_g1(pts[:3], convert.scalars_from_ints(ss))
    assert msm.msm_g1(pts[:3], convert.scalars_from_ints([3, 4, 6])) != good


@pytest.mark.parametrize("curve", ["G1", "G2"])
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_batch_mul_matches_naive_twin(curve, data):
    batch, naive = CURVES[curve][5], CURVES[curve][6]
    _, pts = pool(curve)
    j = data.draw(st.integers(0, POOL), label="base")
    ss = data.draw(st.lists(scalar, min_size=0, max_size=6), label="scalars")
    threads = data.draw(st.sampled_from([1, 2]), label="threads")
    scalars = convert.scalars_from_ints(ss)
    np.testing.assert_array_equal(batch(pts[j], scalars, threads=threads), naive(pts[j], scalars))


@pytest.mark.parametrize("curve", ["G1", "G2"])
def test_batch_mul_many_scalars_oracle(curve):
    batch = CURVES[curve][5]
    ks, pts = pool(curve)
    rng = np.random.default_rng(7)
    ss = [0, 1, R - 1] + [int.from_bytes(rng.bytes(32), "little") % R for _ in range(150)]
    out = batch(pts[1], convert.scalars_from_ints(ss))
    to_ints = convert.g1_to_ints if curve == "G1" else convert.g2_to_ints
    got = to_ints(out)
    for i in (0, 1, 2, 50, 152):  # spot checks against py_ecc
        assert got[i] == expected(curve, ks[1] * ss[i])
    # all of them at once: Σ i·outᵢ computed by the (independently tested) MSM
    weights = convert.scalars_from_ints(list(range(1, len(ss) + 1)))
    total = sum((i + 1) * s for i, s in enumerate(ss)) * ks[1]
    assert CURVES[curve][3](out, weights) == expected(curve, total)


def test_batch_mul_rejects_malformed_input():
    with pytest.raises(ValueError, match="base must have shape"):
        fixed_base.batch_mul_g1(np.zeros((2, 2, 4), np.uint64), np.zeros((1, 4), np.uint64))
    with pytest.raises(ValueError, match="scalars must have shape"):
        fixed_base.batch_mul_g2(np.zeros((2, 2, 4), np.uint64), np.zeros((1, 5), np.uint64))


@settings(max_examples=20, deadline=None)
@given(
    ss=st.lists(scalar, min_size=1, max_size=40),
    c=st.integers(2, 16),
    split=st.sampled_from([1, 7, 1 << 14]),
)
def test_signed_digits_recompose_the_scalar(ss, c, split):
    """Twin in Python ints: Σ_w d_w·2^(cw) = s with |d_w| ≤ 2^(c−1), whether the scalars are cut
    into ranges for the workers (split 1 or 7) or done in one task."""
    old = msm_work.DIGITS_SPLIT_FROM
    msm_work.DIGITS_SPLIT_FROM = split
    try:
        nwin = msm.num_windows(c)
        d = msm.signed_digits(convert.scalars_from_ints(ss), c, nwin, threads=2)
    finally:
        msm_work.DIGITS_SPLIT_FROM = old
    assert d.shape == (nwin, len(ss))
    assert np.abs(d).max(initial=0) <= 1 << (c - 1)
    for i, s in enumerate(ss):
        assert sum(int(d[w, i]) << (c * w) for w in range(nwin)) == s


def test_signed_digits_negative_twin():
    """A digit changed by one no longer recomposes the scalar."""
    s = R - 12345
    d = msm.signed_digits(convert.scalars_from_ints([s]), 5, msm.num_windows(5))
    d[3, 0] += 1
    assert sum(int(d[w, 0]) << (5 * w) for w in range(d.shape[0])) != s


@pytest.mark.parametrize("curve", ["G1", "G2"])
def test_msm_of_read_only_bases(curve):
    """Bases mapped read-only from a key file give the same sum as a writable copy, negative
    digits included (the gather negates while copying; the bases are never written)."""
    fast = CURVES[curve][3]
    ks, pts = pool(curve)
    frozen = pts.copy()
    frozen.flags.writeable = False
    ss = [R - 1, 5, R - 2**200, 1, 0, 2**253 + 3, R - 7, 9, 11, 13, 17, 19, 23]
    scalars = convert.scalars_from_ints(ss)
    assert fast(frozen, scalars, c=3) == fast(pts.copy(), scalars, c=3)
    assert fast(frozen, scalars) == expected(curve, sum(k * s for k, s in zip(ks, ss, strict=True)))
    np.testing.assert_array_equal(frozen, pts)
    tampered = scalars.copy()
    tampered[6, 0] ^= 1  # negative twin: one changed scalar changes the sum
    assert fast(frozen, tampered, c=3) != fast(frozen, scalars, c=3)


@settings(max_examples=15, deadline=None)
@given(digits=st.lists(st.integers(-4, 4), min_size=1, max_size=30))
def test_scatter_places_signed_points_bucket_by_bucket(digits):
    """The window's points go to bucket |d| − 1 in order of i, −P for d < 0 (infinity stays
    infinity), d = 0 skipped: the same rows as a stable sort by bucket in Python ints."""
    _, pts = pool("G1")
    n = len(digits)
    bases = pts[[i % (POOL + 1) for i in range(n)]]
    nb = 4
    starts, counts, fill = (np.empty(nb, dtype=np.int64) for _ in range(3))
    buf = np.zeros((n, 8), dtype=np.uint64)
    d = np.array(digits, dtype=np.int32)
    src = msm_work.segments(bases, np.zeros((n, 4), np.uint64), None, (2, 4))[0]
    acc, none = np.zeros((nb, 8), np.uint64), np.zeros(nb, np.int64)  # nothing carried over
    m = msm._bucket_starts(d, n, nb, starts, counts, none)
    msm._scatter(src, d, n, 0, starts, fill, buf, acc, none)
    order = sorted((abs(x) - 1, i) for i, x in enumerate(digits) if x)
    assert m == len(order)
    for j, (_, i) in enumerate(order):
        got = convert.g1_to_ints(buf[j : j + 1].reshape(1, 2, 4))[0]
        want = convert.g1_to_ints(bases[i : i + 1])[0]
        if digits[i] < 0 and want is not None:
            want = (want[0], (-want[1]) % bn.field_modulus)
        assert got == want
    finite = [i for i, x in enumerate(digits) if x and i % (POOL + 1) != POOL]
    if finite:  # negative twin: a digit of the other sign places the negated point instead
        k = finite[0]
        d2 = d.copy()
        d2[k] = -d2[k]
        buf2 = np.zeros_like(buf)
        msm._bucket_starts(d2, n, nb, starts, counts, none)
        msm._scatter(src, d2, n, 0, starts, fill, buf2, acc, none)
        assert not np.array_equal(np.sort(buf2, axis=0), np.sort(buf, axis=0))


@settings(max_examples=20, deadline=None)
@given(
    ss=st.lists(scalar, min_size=1, max_size=40),
    c=st.integers(2, 16),
    cut=st.integers(0, 40),
    split=st.sampled_from([1, 7, 1 << 14]),
)
def test_window_digits_are_the_signed_digits(ss, c, cut, split):
    """The carries (bit w: carry into window w) and one window's digits at a time give exactly
    ``signed_digits``' recoding, terms spread over two segments and cut into worker ranges."""
    limbs = convert.scalars_from_ints(ss)
    cut = min(cut, len(ss))
    bases = np.zeros((len(ss), 2, 4), np.uint64)
    segs = (bases[:cut], bases[cut:]), (limbs[:cut], limbs[cut:])
    _, scal, n = msm_work.segments(*segs, None, (2, 4))
    nwin = msm.num_windows(c)
    carries = np.empty((n, (nwin + 63) // 64), np.uint64)
    for lo, hi in threads_chunks(n, split):
        msm._carry_rows(scal, np.int64(c), carries, np.int64(lo), np.int64(hi))
    want = msm.signed_digits(limbs, c, nwin)
    out = np.empty(n, np.int32)
    for w in range(nwin):
        msm._window_digits(scal, carries, w, np.int64(c), 0, n, out)
        np.testing.assert_array_equal(out, want[w])
        msm._window_digits(scal, carries, w, np.int64(c), n // 2, n, out)  # a chunk of them
        np.testing.assert_array_equal(out[: n - n // 2], want[w, n // 2 :])
    carries[0, 0] ^= 2  # negative twin: a flipped carry changes windows 0 and 1 of term 0
    msm._window_digits(scal, carries, 1, np.int64(c), 0, n, out)
    assert out[0] != want[1, 0]


def threads_chunks(n: int, split: int) -> list[tuple[int, int]]:
    return [(lo, min(n, lo + split)) for lo in range(0, n, split)]


@pytest.mark.parametrize("curve", ["G1", "G2"])
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_msm_segments_and_rows_match_naive_twin(curve, data):
    """Up to three segments summed as if concatenated, ``rows`` picking terms of the first (in
    any order, repeated or none), against the twin that copies them out."""
    fast, naive = CURVES[curve][3], CURVES[curve][4]
    bases, scalars, _ = instance(curve, data, 40)
    n = len(bases)
    cuts = sorted(data.draw(st.lists(st.integers(0, n), min_size=0, max_size=2), label="cuts"))
    bounds = [0, *cuts, n]
    parts = [(bases[lo:hi], scalars[lo:hi]) for lo, hi in itertools.pairwise(bounds)]
    segs = tuple(zip(*parts, strict=True))
    rows = None
    if bounds[1] and data.draw(st.booleans(), label="rows"):
        rows = np.array(
            data.draw(st.lists(st.integers(0, bounds[1] - 1), max_size=12), label="rows"),
            dtype=np.int64,
        )
    c = data.draw(st.sampled_from([None, 2, 4]), label="c")
    got = fast(segs[0], segs[1], rows=rows, c=c, threads=2)
    assert got == naive(segs[0], segs[1], rows=rows)
    last_bases, last_scalars = parts[-1]
    finite = [i for i in range(len(last_bases)) if last_bases[i].any()]
    if len(parts) > 1 and finite:
        # negative twin: one scalar of a later segment bumped by one moves the sum by its point
        ints = convert.scalars_to_ints(last_scalars)
        bumped = convert.scalars_from_ints([(s + (i == finite[0])) % R for i, s in enumerate(ints)])
        tampered = (*segs[1][:-1], bumped)
        assert fast(segs[0], tampered, rows=rows, c=c) != got


@pytest.mark.parametrize("curve", ["G1", "G2"])
def test_msm_rejects_malformed_segments_and_rows(curve):
    fast = CURVES[curve][3]
    _, pts = pool(curve)
    z = np.zeros((4, 4), np.uint64)
    with pytest.raises(ValueError, match="2 base segments and 1 scalar segments"):
        fast((pts[:2], pts[2:4]), (z[:2],))
    with pytest.raises(ValueError, match="4 base segments"):
        fast((pts[:1],) * 4, (z[:1],) * 4)
    with pytest.raises(ValueError, match="1 bases but 2 scalars"):
        fast((pts[:2], pts[2:3]), (z[:2], z[2:4]))
    with pytest.raises(ValueError, match="rows must index the first segment's 2 terms"):
        fast((pts[:2], pts[2:4]), (z[:2], z[2:4]), rows=np.array([0, 2]))
    with pytest.raises(ValueError, match="rows must index"):
        fast(pts[:2], z[:2], rows=np.array([-1]))
    with pytest.raises(ValueError, match="rows must be a 1-D array of integer indices"):
        fast(pts[:2], z[:2], rows=np.array([0.5]))


def test_workspace_reuses_one_block_per_worker():
    """Inside ``workspace()`` the MSMs share their scratch blocks: a second, smaller MSM takes
    the blocks the first left (at most one block per worker in all), and gives the same sums."""
    _, pts = pool("G1")
    rng = np.random.default_rng(3)
    bases = pts[rng.integers(0, POOL, 200)]
    scalars = convert.scalars_from_ints([int(x) for x in rng.integers(1, 2**62, 200)])
    want = msm.msm_g1(bases, scalars, threads=2)
    made: list[np.ndarray] = []  # the blocks themselves: their ids stay unique while held
    take = msm_work.Pool.take

    def counting(self, words):
        block = take(self, words)
        made.append(block)
        return block

    def ids(blocks: list[np.ndarray]) -> set[int]:
        return {id(b) for b in blocks}

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(msm_work.Pool, "take", counting)
        with msm_work.workspace():
            assert msm.msm_g1(bases, scalars, threads=2) == want
            first = list(made)
            made.clear()
            assert msm.msm_g1(bases[:150], scalars[:150], threads=2) == msm.msm_g1(
                bases[:150].copy(), scalars[:150].copy(), threads=1
            )
            # the first may have run on one worker when the machine was busy (threads follow
            # the free cores), so the second may need one block more, never one per call
            assert 1 <= len(ids(first)) <= 2 and ids(made) & ids(first)
            assert len(ids(first) | ids(made)) <= 2
        made.clear()
        msm.msm_g1(bases, scalars, threads=1)  # outside: fresh blocks
        assert not ids(made) & ids(first)


@pytest.mark.parametrize("curve", ["G1", "G2"])
@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_msm_in_chunks_carries_every_bucket_over(curve, chunk, monkeypatch):
    """A window's terms bucketed in chunks (each bucket's sum carried into the next chunk) give
    the same sum as one chunk, against the discrete-log oracle, segments and rows included."""
    fast = CURVES[curve][3]
    ks, pts = pool(curve)
    rng = np.random.default_rng(chunk)
    idx = rng.integers(0, POOL + 1, 150)
    ss = [int(x) for x in rng.integers(0, 2**62, 150)]
    ss[:3] = [R - 1, 0, 2**253 + 5]
    rows = np.sort(rng.choice(100, 60, replace=False))
    scalars = convert.scalars_from_ints(ss)
    k = sum(ks[idx[i]] * ss[i] for i in [*rows, *range(100, 150)])
    monkeypatch.setattr(msm_work, "CHUNK_TERMS", chunk)
    got = fast((pts[idx[:100]], pts[idx[100:]]), (scalars[:100], scalars[100:]), rows=rows, c=4)
    assert got == expected(curve, k)
    # negative twin: the last selected term with a finite base, changed by one, moves the sum
    j = int(next(r for r in rows[::-1] if idx[r] != POOL))
    tampered = scalars.copy()
    tampered[j] = convert.scalars_from_ints([(ss[j] + 1) % R])
    bad = fast((pts[idx[:100]], pts[idx[100:]]), (tampered[:100], scalars[100:]), rows=rows, c=4)
    assert bad != got


@settings(max_examples=30, deadline=None)
@given(nwin=st.integers(1, 40), n=st.integers(1, 70_000), workers=st.integers(1, 4))
def test_tasks_cover_every_window_and_term_once(nwin, n, workers):
    """Whole windows in multiples of the workers, the rest cut into one term range per worker:
    each (window, term) is in exactly one task."""
    tasks = msm_work.tasks(nwin, n, workers)
    for w in range(nwin):
        ranges = sorted((lo, hi) for tw, lo, hi in tasks if tw == w)
        assert ranges[0][0] == 0 and ranges[-1][1] == n
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    if n >= msm_work.DIGITS_SPLIT_FROM and workers > 1:
        assert sum(hi - lo == n for _, lo, hi in tasks) == nwin - nwin % workers
    tasks[-1] = (tasks[-1][0], tasks[-1][1], tasks[-1][2] - 1)  # negative twin: a term lost
    covered = sum(hi - lo for _, lo, hi in tasks)
    assert covered == nwin * n - 1


@pytest.mark.parametrize("curve", ["G1", "G2"])
def test_msm_with_split_windows_matches_oracle(curve, monkeypatch):
    """Windows left over after even rounds, cut into term ranges whose sums Horner adds, give the
    same sum as whole windows (c = 5: 51 windows, 2 workers leave one)."""
    fast = CURVES[curve][3]
    ks, pts = pool(curve)
    rng = np.random.default_rng(11)
    idx = rng.integers(0, POOL + 1, 90)
    ss = [int.from_bytes(rng.bytes(32), "little") % R for _ in range(90)]
    want = expected(curve, sum(ks[i] * s for i, s in zip(idx, ss, strict=True)))
    monkeypatch.setattr(msm_work, "DIGITS_SPLIT_FROM", 1)
    assert any(hi - lo < 90 for _, lo, hi in msm_work.tasks(msm.num_windows(5), 90, 2))
    scalars = convert.scalars_from_ints(ss)
    assert fast(pts[idx], scalars, c=5, threads=2) == want
    scalars[89, 0] ^= 1  # negative twin: the last term (in the last part) changed
    assert (fast(pts[idx], scalars, c=5, threads=2) != want) == (idx[89] != POOL)
