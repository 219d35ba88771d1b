"""From R1CS to QAP: the constraint matrices in array form, the quotient polynomial h, and the
QAP polynomials evaluated at τ.

References: Gennaro–Gentry–Parno–Raykova 2013 (QAPs); Groth 2016, "On the Size of Pairing-based
Non-interactive Arguments", §3; snarkjs ``src/groth16_prove.js`` / ``src/zkey_new.js``.

Domain. With m constraints and ℓ public signals the domain is H = ⟨ω⟩ of size N = 2^k ≥ m + ℓ + 1.
Rows 0..m−1 are the R1CS rows; rows m + i for i = 0..ℓ bind the public wires as snarkjs does
(A has wire i with coefficient 1, B and C are empty), so that u_0 … u_ℓ are linearly independent
and a proof cannot be replayed for other public inputs. For a wire j,

    u_j(X) = Σ_i A_ij · L_i(X),   v_j(X) = Σ_i B_ij · L_i(X),   w_j(X) = Σ_i C_ij · L_i(X),

with L_i the Lagrange basis of H: L_i(τ) = ω^i (τ^N − 1) / (N (τ − ω^i)).

Quotient. For a witness z, a(X) = Σ z_j u_j(X) etc., and a(X)·b(X) − c(X) = h(X)·Z_H(X) with
Z_H(X) = X^N − 1. The prover never forms h: it evaluates p = a·b − c on the coset g·H
(g = ω_{2N}, snarkjs's) and multiplies those values with the H query, which holds the Lagrange
basis of the 2N-th roots at the odd points (``quotient_evaluations``, ``h_query_scalars``).
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass

import numpy as np

from prover.engine import Engine, fr_const, get_engine
from prover.fields import R, root_of_unity
from prover.r1cs import R1CS, SparseMatrix

#: R² mod r (R = 2^256): c·R² is the zkey form of a coefficient c (snarkjs ``writeCoef``)
_R2 = pow(2, 512, R)


@dataclass(frozen=True, eq=False)
class Csr:
    """One R1CS matrix as arrays: row pointers, wire indices, canonical coefficient limbs."""

    indptr: np.ndarray  # int64 (m + 1,)
    indices: np.ndarray  # int64 (nnz,)
    coeffs: np.ndarray  # uint64 (nnz, 4), canonical

    @classmethod
    def from_sparse(cls, mat: SparseMatrix) -> Csr:
        return cls(
            np.ascontiguousarray(mat.indptr, dtype=np.int64),
            np.ascontiguousarray(mat.indices, dtype=np.int64),
            mat.coeff_limbs().reshape(mat.nnz, 4),
        )


@dataclass(frozen=True, eq=False)
class ConstraintMatrices:
    """A, B, C of an R1CS with its sizes: what the prover needs of the circuit."""

    n_wires: int
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    a: Csr
    b: Csr
    c: Csr
    #: Add the public-input binding rows (always, except in the test that shows why they exist).
    bind_public: bool = True

    @classmethod
    def from_r1cs(cls, r1cs: R1CS) -> ConstraintMatrices:
        return cls(
            r1cs.n_wires,
            r1cs.n_pub_out,
            r1cs.n_pub_in,
            r1cs.n_prv_in,
            Csr.from_sparse(r1cs.a),
            Csr.from_sparse(r1cs.b),
            Csr.from_sparse(r1cs.c),
        )

    @property
    def n_constraints(self) -> int:
        return int(self.a.indptr.shape[0]) - 1

    @property
    def n_public(self) -> int:
        return self.n_pub_out + self.n_pub_in

    @property
    def n_rows(self) -> int:
        """Rows of the QAP: m constraints plus ℓ + 1 binding rows."""
        return self.n_constraints + (self.n_public + 1 if self.bind_public else 0)

    @property
    def log_domain(self) -> int:
        """k with N = 2^k the smallest power of two ≥ the number of rows (at least 2)."""
        return max(1, (self.n_rows - 1).bit_length())

    def digest(self) -> str:
        """The same SHA-256 as ``R1CS.digest()`` of the system these arrays came from (hashed
        from the arrays' own buffers: no copies of the key's matrices)."""
        h = hashlib.sha256()
        sizes = [self.n_wires, self.n_pub_out, self.n_pub_in, self.n_prv_in, self.n_constraints]
        h.update(np.asarray(sizes, dtype="<i8"))
        for mat in (self.a, self.b, self.c):
            h.update(np.ascontiguousarray(mat.indptr, dtype="<i8"))
            h.update(np.ascontiguousarray(mat.indices, dtype="<i8"))
            h.update(np.ascontiguousarray(mat.coeffs, dtype="<u8"))
        return h.hexdigest()


#: Montgomery forms of each matrix's coefficients, computed once per matrix (they do not depend
#: on the engine: both engines agree bit for bit) and dropped with the matrix.
_MONT_COEFFS: weakref.WeakKeyDictionary[Csr, np.ndarray] = weakref.WeakKeyDictionary()


def _mont_coeffs(engine: Engine, mat: Csr) -> np.ndarray:
    if mat not in _MONT_COEFFS:
        _MONT_COEFFS[mat] = engine.fr_to_mont(mat.coeffs)
    return _MONT_COEFFS[mat]


def _matvec(engine: Engine, mat: Csr, z: np.ndarray, n: int) -> np.ndarray:
    """M·z over the first n rows, the coefficients used as they are stored."""
    out = np.zeros((n, 4), dtype=np.uint64)
    engine.matvec(mat.indptr, mat.indices, mat.coeffs, z, out)
    return out


def coset_shift(log_n: int) -> int:
    """g = ω_{2N}, snarkjs's coset: g·H is the odd half of the 2N-th roots of unity."""
    return root_of_unity(log_n + 1)


@dataclass(frozen=True, eq=False)
class QapMatrices:
    """What the prover needs of the circuit: A (with the binding rows) and B, as snarkjs's zkey.

    ``coefs`` is an ``(n, 11) uint32`` array of the zkey's section-4 records (matrix 0 = A /
    1 = B, row, wire, coefficient c·R² mod r as eight words; :mod:`prover.kernels.coefs`), rows
    being the N = 2^log_domain points of H. A Montgomery product of c·R² with a canonical witness
    value z_j is the Montgomery form of c·z_j, so neither side needs converting. C is not needed:
    on H a satisfying witness has C·z = (A·z)∘(B·z), which is how snarkjs and rapidsnark compute
    it (snarkjs ``src/zkey_new.js``, ``writeCoef``; rapidsnark ``src/groth16.cpp``).
    """

    n_wires: int
    n_public: int
    log_domain: int
    coefs: np.ndarray


#: ``QapMatrices`` of each ``ConstraintMatrices``, made once and dropped with the matrices.
_QAP: weakref.WeakKeyDictionary[ConstraintMatrices, QapMatrices] = weakref.WeakKeyDictionary()


def _append_binding_rows(mat: Csr, m: int, ell: int) -> Csr:
    """A plus the rows m + i (i = 0..ℓ) holding wire i with coefficient 1."""
    indptr = np.concatenate((mat.indptr, mat.indptr[-1] + np.arange(1, ell + 2, dtype=np.int64)))
    indices = np.concatenate((mat.indices, np.arange(ell + 1, dtype=np.int64)))
    one = np.zeros((ell + 1, 4), dtype=np.uint64)
    one[:, 0] = 1
    return Csr(indptr, indices, np.concatenate((mat.coeffs, one)))


def coefficient_records(a: Csr, b: Csr, engine: Engine | None = None) -> np.ndarray:
    """A and B (coefficients already c·R² mod r) as zkey records, in snarkjs's order: row by
    row, each row's A terms before its B terms, each matrix's terms of a row in CSR order
    (the engine's ``coef_records``)."""
    return get_engine(engine).coef_records(a, b)


def qap_matrices(engine: Engine, mats: ConstraintMatrices) -> QapMatrices:
    """The prover's ``QapMatrices`` of an R1CS in array form (computed once per ``mats``)."""
    if mats not in _QAP:
        a = mats.a
        if mats.bind_public:
            a = _append_binding_rows(a, mats.n_constraints, mats.n_public)

        def zkey_form(mat: Csr) -> Csr:  # c → c·R² mod r: the limbs of c times R² (canonical)
            return Csr(mat.indptr, mat.indices, engine.fr_mul_const(mat.coeffs, _R2))

        records = coefficient_records(zkey_form(a), zkey_form(mats.b), engine)
        _QAP[mats] = QapMatrices(mats.n_wires, mats.n_public, mats.log_domain, records)
    return _QAP[mats]


def quotient_evaluations(engine: Engine, qap: QapMatrices, z: np.ndarray) -> np.ndarray:
    """p(g·ω^i) for i < N, canonical (N, 4) limbs, where p = a·b − c and z is canonical.

    a, b, c are the witness's QAP polynomials: their evaluations on H are A·z, B·z and (A·z)∘(B·z).
    3 iNTTs give coefficients, 3 coset NTTs evaluate on g·H (g = ω_{2N}); p has degree ≤ 2N − 2
    and vanishes on H (the even 2N-th roots), so p(τ) = Σ_i p(g·ω^i)·L^{(2N)}_{2i+1}(τ) and the
    proving key's H query holds L^{(2N)}_{2i+1}(τ)/δ·G1: the MSM of these values with it gives
    h(τ)·Z_H(τ)/δ·G1 without dividing by Z_H. As snarkjs ``src/groth16_prove.js`` and rapidsnark
    ``src/groth16.cpp``: six transforms.
    """
    n = 1 << qap.log_domain
    a, b = engine.qap_matvec(qap.coefs, z, n)
    c = engine.fr_mul(a, b)
    g = coset_shift(qap.log_domain)
    with engine.workspace():  # the six transforms share their tables
        # a, b, c are not needed afterwards: each transform reuses its input's memory
        ea, eb, ec = (engine.coset_evaluations(v, g, overwrite=True) for v in (a, b, c))
    return engine.fr_mul_sub(ea, eb, ec, overwrite=True)


def h_query_scalars(engine: Engine, tau: int, log_n: int) -> np.ndarray:
    """L^{(2N)}_{2i+1}(τ) for i < N (Montgomery (N, 4)): the H query's Lagrange basis on g·H."""
    return np.ascontiguousarray(lagrange_at(engine, tau, log_n + 1)[1::2])


def lagrange_at(engine: Engine, tau: int, log_n: int) -> np.ndarray:
    """L_i(τ) = ω^i (τ^N − 1) / (N (τ − ω^i)) for i < N, as a Montgomery (N, 4) array."""
    n = 1 << log_n
    omegas = engine.powers(root_of_unity(log_n), n)
    tau_minus = engine.fr_sub(np.broadcast_to(fr_const(tau), (n, 4)), omegas)
    inv = engine.fr_batch_inverse(tau_minus)
    z_over_n = (pow(tau, n, R) - 1) * pow(n, -1, R) % R
    return engine.fr_scale(engine.fr_mul(omegas, inv), z_over_n)


def qap_at(
    engine: Engine, mats: ConstraintMatrices, tau: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """u_j(τ), v_j(τ), w_j(τ) for every wire j (Montgomery (n_wires, 4) arrays)."""
    log_n = mats.log_domain
    lag = lagrange_at(engine, tau, log_n)
    m, ell = mats.n_constraints, mats.n_public
    out = []
    for mat in (mats.a, mats.b, mats.c):
        acc = np.zeros((mats.n_wires, 4), dtype=np.uint64)
        engine.transpose_matvec(mat.indptr, mat.indices, _mont_coeffs(engine, mat), lag, acc)
        out.append(acc)
    # binding rows m + i (A has wire i with coefficient 1): u_i(τ) += L_{m+i}(τ)
    if mats.bind_public:
        out[0][: ell + 1] = engine.fr_add(out[0][: ell + 1], lag[m : m + ell + 1])
    return out[0], out[1], out[2]


def unsatisfied_row(engine: Engine, mats: ConstraintMatrices, z_mont: np.ndarray) -> int | None:
    """The first row i with (A·z)_i · (B·z)_i ≠ (C·z)_i, or None if z satisfies every row."""
    m = mats.n_constraints
    a, b, c = (
        _matvec(engine, Csr(mat.indptr, mat.indices, _mont_coeffs(engine, mat)), z_mont, m)
        for mat in (mats.a, mats.b, mats.c)
    )
    bad = np.nonzero(np.any(engine.fr_mul(a, b) != c, axis=1))[0]
    return int(bad[0]) if bad.size else None
