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
from prover.qap import ConstraintMatrices, h_coefficients, lagrange_at, qap_at, unsatisfied_row
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


def _poly_mul(p: list[int], q: list[int]) -> list[int]:
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] = (out[i + j] + a * b) % R
    return out


def _identity_holds(mats: ConstraintMatrices, z: list[int], h: list[int]) -> bool:
    """a(X)·b(X) − c(X) == h(X)·(X^N − 1) with a, b, c interpolated by the reference iNTT."""
    n = 1 << mats.log_domain
    cols = []
    for mat in (mats.a, mats.b, mats.c):
        ev = np.zeros((n, 4), dtype=np.uint64)
        REFERENCE.matvec(mat.indptr, mat.indices, REFERENCE.fr_to_mont(mat.coeffs), _mont(z), ev)
        cols.append(ev)
    ell, m = mats.n_public, mats.n_constraints
    cols[0][m : m + ell + 1] = _mont(z[: ell + 1])
    a, b, c = (_plain(REFERENCE.intt(col)) for col in cols)
    lhs = _poly_mul(a, b)
    for i, v in enumerate(c):
        lhs[i] = (lhs[i] - v) % R
    rhs = [0] * (2 * n - 1)
    for i, v in enumerate(h):
        rhs[i + n] = (rhs[i + n] + v) % R
        rhs[i] = (rhs[i] - v) % R
    return lhs == rhs


@pytest.mark.parametrize("engine", [REFERENCE, FAST], ids=["reference", "fast"])
def test_h_satisfies_the_qap_identity(engine) -> None:
    r1cs, z = _toy()
    r1cs.check(z)
    mats = ConstraintMatrices.from_r1cs(r1cs)
    h = limbs_to_ints(h_coefficients(engine, mats, engine.fr_to_mont(ints_to_limbs(z))))
    assert len(h) == (1 << mats.log_domain) - 1
    assert _identity_holds(mats, z, h)


def test_h_fails_for_a_bad_witness() -> None:
    r1cs, z = _toy()
    z[4] += 1
    mats = ConstraintMatrices.from_r1cs(r1cs)
    z_mont = FAST.fr_to_mont(ints_to_limbs(z))
    h = limbs_to_ints(h_coefficients(FAST, mats, z_mont))
    assert not _identity_holds(mats, z, h)
    assert unsatisfied_row(FAST, mats, z_mont) == 1
    assert unsatisfied_row(FAST, mats, FAST.fr_to_mont(ints_to_limbs(_toy()[1]))) is None


def test_h_fast_equals_reference() -> None:
    r1cs, z = _toy()
    mats = ConstraintMatrices.from_r1cs(r1cs)
    hs = [h_coefficients(e, mats, e.fr_to_mont(ints_to_limbs(z))) for e in (REFERENCE, FAST)]
    np.testing.assert_array_equal(hs[0], hs[1])


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
