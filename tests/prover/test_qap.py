"""QAP: sparse products (fast vs twin), the quotient h, the Lagrange basis and u/v/w at τ."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prover.engine import REFERENCE, get_engine
from prover.fields import R, root_of_unity
from prover.kernels import sparse, sparse_reference
from prover.qap import (
    ConstraintMatrices,
    Csr,
    coefficient_records,
    h_query_scalars,
    lagrange_at,
    qap_at,
    qap_matrices,
    quotient_evaluations,
    unsatisfied_row,
)
from prover.r1cs import R1CS, SparseMatrix, ints_to_limbs, limbs_to_ints

FAST = get_engine("fast")
_MONT = (1 << 256) % R
_MONT_INV = pow(_MONT, -1, R)
_fe = st.integers(min_value=0, max_value=R - 1)


def _mont(values: list[int]) -> np.ndarray:
    return ints_to_limbs([v % R * _MONT % R for v in values])


def _plain(arr: np.ndarray) -> list[int]:
    return [v * _MONT_INV % R for v in limbs_to_ints(arr)]


@st.composite
def _csr(draw):
    n_wires = draw(st.integers(min_value=1, max_value=6))
    m = draw(st.integers(min_value=0, max_value=6))
    term = st.tuples(st.integers(min_value=0, max_value=n_wires - 1), _fe)
    mat = SparseMatrix.from_rows([draw(st.lists(term, max_size=4)) for _ in range(m)])
    z = draw(st.lists(_fe, min_size=n_wires, max_size=n_wires))
    lvec = draw(st.lists(_fe, min_size=m, max_size=m))
    return mat, z, lvec


@settings(max_examples=40, deadline=None)
@given(case=_csr())
def test_sparse_fast_matches_reference(case) -> None:
    mat, z, lvec = case
    coeffs = _mont(list(mat.coeffs)).reshape(mat.nnz, 4)
    outs = []
    for impl in (sparse, sparse_reference):
        out = np.zeros((mat.n_rows + 2, 4), dtype=np.uint64)
        impl.matvec(mat.indptr, mat.indices, coeffs, _mont(z), out)
        acc = np.zeros((len(z), 4), dtype=np.uint64)
        impl.transpose_matvec(mat.indptr, mat.indices, coeffs, _mont(lvec).reshape(-1, 4), acc)
        outs.append((out, acc))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    np.testing.assert_array_equal(outs[0][1], outs[1][1])
    expected = [sum(c * z[w] for w, c in mat.row(i)) % R for i in range(mat.n_rows)]
    assert _plain(outs[0][0])[: mat.n_rows] == expected


def _toy() -> tuple[R1CS, list[int]]:
    """out = x·y, t = (x + y)·(x + 3), out public: wires 1, x, y, out(1), t."""
    # wires: 0 = 1, 1 = out (public), 2 = x, 3 = y, 4 = t
    a = SparseMatrix.from_rows([[(2, 1)], [(2, 1), (3, 1)]])
    b = SparseMatrix.from_rows([[(3, 1)], [(2, 1), (0, 3)]])
    c = SparseMatrix.from_rows([[(1, 1)], [(4, 1)]])
    x, y = 6, 7
    return R1CS(5, 1, 0, 2, a, b, c), [1, x * y, x, y, (x + y) * (x + 3)]


def _odd_lagrange_sum(engine, mats: ConstraintMatrices, z: list[int], tau: int) -> int:
    """Σ_i p(g·ω^i)·L^{(2N)}_{2i+1}(τ): what the H-query MSM computes (without the 1/δ)."""
    qap = qap_matrices(engine, mats)
    p = limbs_to_ints(quotient_evaluations(engine, qap, ints_to_limbs(z)))
    lag = _plain(h_query_scalars(engine, tau, mats.log_domain))
    return sum(x * y for x, y in zip(p, lag, strict=True)) % R


def _abc_at(mats: ConstraintMatrices, z: list[int], tau: int) -> int:
    """a(τ)·b(τ) − c(τ) with a(τ) = Σ_j z_j u_j(τ) etc. (qap_at, the setup's QAP at τ)."""
    a, b, c = (
        sum(x * y for x, y in zip(_plain(col), z, strict=True)) % R
        for col in qap_at(REFERENCE, mats, tau)
    )
    return (a * b - c) % R


@pytest.mark.parametrize("engine", [REFERENCE, FAST], ids=["reference", "fast"])
def test_quotient_satisfies_the_qap_identity(engine) -> None:
    """For a satisfying witness p = a·b − c vanishes on H, so its odd-point sum is p(τ)."""
    r1cs, z = _toy()
    r1cs.check(z)
    mats = ConstraintMatrices.from_r1cs(r1cs)
    for tau in (5, 123456789, R - 7):
        assert _odd_lagrange_sum(engine, mats, z, tau) == _abc_at(mats, z, tau)


def test_quotient_fails_for_a_bad_witness() -> None:
    r1cs, z = _toy()
    z[4] += 1
    mats = ConstraintMatrices.from_r1cs(r1cs)
    assert _odd_lagrange_sum(FAST, mats, z, 99) != _abc_at(mats, z, 99)
    z_mont = FAST.fr_to_mont(ints_to_limbs(z))
    assert unsatisfied_row(FAST, mats, z_mont) == 1
    assert unsatisfied_row(FAST, mats, FAST.fr_to_mont(ints_to_limbs(_toy()[1]))) is None


def test_quotient_fast_equals_reference() -> None:
    r1cs, z = _toy()
    mats = ConstraintMatrices.from_r1cs(r1cs)
    ps = [
        quotient_evaluations(e, qap_matrices(e, mats), ints_to_limbs(z)) for e in (REFERENCE, FAST)
    ]
    np.testing.assert_array_equal(ps[0], ps[1])
    assert ps[0].shape == (1 << mats.log_domain, 4)


def test_qap_matrices_hold_the_binding_rows_in_zkey_form() -> None:
    r1cs, _ = _toy()
    mats = ConstraintMatrices.from_r1cs(r1cs)
    rec = qap_matrices(FAST, mats).coefs
    m, r2 = r1cs.n_constraints, pow(2, 512, R)

    def coef(row) -> int:
        return sum(int(row[3 + i]) << (32 * i) for i in range(8))

    terms = sorted((int(x[1]), int(x[0]), int(x[2]), coef(x)) for x in rec)
    expected = []
    for k, mat in enumerate((r1cs.a, r1cs.b)):
        expected += [(i, k, w, c * r2 % R) for i in range(m) for w, c in mat.row(i)]
    expected += [(m + j, 0, j, r2) for j in range(r1cs.n_public + 1)]  # binding rows
    assert terms == sorted(expected)
    rows = [(int(x[1]), int(x[0])) for x in rec]
    assert rows == sorted(rows)  # snarkjs's order: by row, A before B
    unbound = qap_matrices(FAST, dataclasses.replace(mats, bind_public=False))
    assert unbound.coefs.shape[0] == r1cs.a.nnz + r1cs.b.nnz


@settings(max_examples=30, deadline=None)
@given(case=_csr(), other=_csr())
def test_qap_matvec_fast_matches_reference(case, other) -> None:
    """A·z and B·z from records, in any order, against the reference twin and Python ints."""
    (a, z, _), (b, _, _) = case, other
    n_wires = len(z)
    b = SparseMatrix.from_rows([[(w % n_wires, c) for w, c in b.row(i)] for i in range(b.n_rows)])
    r2 = pow(2, 512, R)
    rec = coefficient_records(
        Csr(a.indptr, a.indices, ints_to_limbs([c * r2 % R for c in a.coeffs]).reshape(-1, 4)),
        Csr(b.indptr, b.indices, ints_to_limbs([c * r2 % R for c in b.coeffs]).reshape(-1, 4)),
    )[::-1].copy()
    n = max(a.n_rows, b.n_rows, 1)
    fast = FAST.qap_matvec(rec, ints_to_limbs(z), n)
    ref = REFERENCE.qap_matvec(rec, ints_to_limbs(z), n)
    for x, y, mat in zip(fast, ref, (a, b), strict=True):
        np.testing.assert_array_equal(x, y)
        expected = [sum(c * z[w] for w, c in mat.row(i)) % R for i in range(mat.n_rows)]
        assert _plain(x)[: mat.n_rows] == expected
    assert FAST.check_records(rec, n, n_wires) == REFERENCE.check_records(rec, n, n_wires) == -1


@settings(max_examples=40, deadline=None)
@given(case=_csr(), other=_csr())
def test_coefficient_records_match_a_stable_sort(case, other) -> None:
    """The merge placement (fast engine) equals the reference's stable sort by (row, matrix),
    rows of different counts and empty rows too; a swapped pair of terms within a row is a
    different section."""
    (a, _, _), (b, _, _) = case, other
    ca = Csr(a.indptr, a.indices, ints_to_limbs(list(a.coeffs)).reshape(-1, 4))
    cb = Csr(b.indptr, b.indices, ints_to_limbs(list(b.coeffs)).reshape(-1, 4))
    rec, twin = coefficient_records(ca, cb, FAST), coefficient_records(ca, cb, REFERENCE)
    assert rec.dtype == np.uint32 and rec.flags.c_contiguous
    np.testing.assert_array_equal(rec, twin)
    rows = [int(r) for r in rec[:, 1]]
    assert rows == sorted(rows)
    same_row = np.flatnonzero((rec[1:, :2] == rec[:-1, :2]).all(axis=1))
    if same_row.size and not np.array_equal(rec[same_row[0]], rec[same_row[0] + 1]):
        swapped = rec.copy()
        swapped[[same_row[0], same_row[0] + 1]] = swapped[[same_row[0] + 1, same_row[0]]]
        assert not np.array_equal(swapped, twin)


def test_check_records_finds_the_first_bad_record() -> None:
    r2 = pow(2, 512, R)
    mat = SparseMatrix.from_rows([[(0, 1), (1, 2)], [(1, 3)]])
    rec = coefficient_records(
        Csr(mat.indptr, mat.indices, ints_to_limbs([c * r2 % R for c in mat.coeffs])),
        Csr(np.zeros(3, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 4), np.uint64)),
    )
    for engine in (FAST, REFERENCE):
        assert engine.check_records(rec, 2, 2) == -1
        assert engine.check_records(rec, 1, 2) == 2  # row 1 ≥ 1 rows
        assert engine.check_records(rec, 2, 1) == 1  # wire 1 ≥ 1 wire
        bad = rec.copy()
        bad[0, 3:] = 0xFFFFFFFF  # coefficient 2^256 − 1 ≥ r
        assert engine.check_records(bad, 2, 2) == 0
        bad = rec.copy()
        bad[1, 0] = 2  # matrix 2
        assert engine.check_records(bad, 2, 2) == 1


def test_domain_size_counts_binding_rows() -> None:
    r1cs, _ = _toy()
    mats = ConstraintMatrices.from_r1cs(r1cs)
    assert mats.n_rows == 2 + 2 and mats.log_domain == 2
    unbound = dataclasses.replace(mats, bind_public=False)
    assert unbound.n_rows == 2 and unbound.log_domain == 1
    assert mats.digest() == r1cs.digest()


@settings(max_examples=10, deadline=None)
@given(tau=_fe, log_n=st.integers(min_value=1, max_value=4))
def test_lagrange_basis(tau: int, log_n: int) -> None:
    n = 1 << log_n
    w = root_of_unity(log_n)
    pts = [pow(w, i, R) for i in range(n)]
    if tau in pts:
        return
    expected = []
    for i in range(n):
        num = den = 1
        for j in range(n):
            if j != i:
                num = num * (tau - pts[j]) % R
                den = den * (pts[i] - pts[j]) % R
        expected.append(num * pow(den, -1, R) % R)
    for engine in (REFERENCE, FAST):
        assert _plain(lagrange_at(engine, tau, log_n)) == expected


def test_qap_at_tau_matches_interpolation() -> None:
    r1cs, _ = _toy()
    mats = ConstraintMatrices.from_r1cs(r1cs)
    tau = 123456789
    n = 1 << mats.log_domain
    results = [qap_at(e, mats, tau) for e in (REFERENCE, FAST)]
    for x, y in zip(results[0], results[1], strict=True):
        np.testing.assert_array_equal(x, y)
    u = _plain(results[0][0])
    # u_j(X) interpolates column j of A (with binding rows) on the domain
    for j in range(r1cs.n_wires):
        col = [0] * n
        for i in range(r1cs.n_constraints):
            col[i] = sum(c for w, c in r1cs.a.row(i) if w == j) % R
        if j <= r1cs.n_public:
            col[r1cs.n_constraints + j] = 1
        coeffs = _plain(REFERENCE.intt(_mont(col)))
        assert u[j] == sum(c * pow(tau, k, R) for k, c in enumerate(coeffs)) % R
