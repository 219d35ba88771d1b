"""The one interface through which protocol code (QAP, setup, prove) reaches the kernels.

Protocol modules never import numba or a kernel module: they receive an ``Engine`` — a frozen
bundle of functions with fixed array conventions — and call its members:

- Fr vectors: ``(n, 4) uint64`` in Montgomery form (x·2^256 mod r) for arithmetic and transforms;
  ``fr_to_mont`` / ``fr_from_mont`` convert from / to canonical limbs (what the MSMs take).
  ``fr_mul`` / ``fr_add`` / ``fr_sub`` / ``fr_batch_inverse`` are element-wise;
  ``fr_mul_sub(a, b, c)`` = canonical a∘b − c in one pass (``overwrite=True``: over a);
  ``fr_mul_const(a, k)`` = a_i·k for one canonical int k (no table of k's);
  ``powers(x, n)`` = x^0 … x^(n−1).
- Transforms: ``ntt``, ``intt``, ``coset_ntt(a, shift)``, ``coset_intt(a, shift)`` and
  ``coset_evaluations(a, shift)`` = ``coset_ntt(intt(a), shift)`` (:mod:`prover.kernels.ntt`);
  ``overwrite=True`` lets a transform reuse its input's memory.
- Sparse R1CS products: ``matvec`` (M·z) and ``transpose_matvec`` (Mᵀ·l) on CSR arrays;
  ``qap_matvec(records, z, n)`` → (A·z, B·z) from zkey coefficient records and canonical z,
  ``check_records(records, n_rows, n_wires)`` → first malformed record or −1;
  ``coef_records(a, b)`` → the records of CSR matrices A and B in snarkjs's order
  (:mod:`prover.kernels.coefs`).
- ``prepare("prove" | "setup")`` as a proof or setup starts (background compilation, cold cache).
- Points: G1 ``(n, 2, 4)`` / G2 ``(n, 2, 2, 4)`` affine Fq-Montgomery arrays (infinity = zeros).
  ``msm_g1(bases, scalars, rows=None)`` → affine ints or None, bases and scalars one array or a
  tuple of up to three segments (``rows`` picks terms of the first); ``msm_g2`` likewise;
  ``workspace()`` a context inside which the kernels keep their scratch (MSM blocks, NTT tables)
  from one call to the next, dropped on exit;
  ``batch_mul_g1(base, scalars)`` → the array [s_i·base] (base as affine ints), ``batch_mul_g2``.

Two engines share these signatures: ``REFERENCE`` (pure-Python twins: Python ints and py_ecc,
slow, for small tests) and ``FAST`` (numba). ``get_engine(None)`` gives the fast one;
``get_engine("reference")`` the twin. Conversions between arrays and ints live in
:mod:`prover.kernels.convert` and are shared by both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np

from prover.kernels import convert
from prover.kernels import ntt_reference as _ntt_ref
from prover.kernels import reference as _ref
from prover.kernels import sparse_reference as _sparse_ref

# Point conversions (pure Python, shared by both engines), re-exported for protocol modules.
G1Int = convert.G1Int
G2Int = convert.G2Int
g1_from_ints, g1_to_ints = convert.g1_from_ints, convert.g1_to_ints
g2_from_ints, g2_to_ints = convert.g2_from_ints, convert.g2_to_ints
g1_from_py_ecc, g1_to_py_ecc = convert.g1_from_py_ecc, convert.g1_to_py_ecc
g2_from_py_ecc, g2_to_py_ecc = convert.g2_from_py_ecc, convert.g2_to_py_ecc


@dataclass(frozen=True)
class Engine:
    """A backend: the kernels protocol code may call (see the module docstring)."""

    name: str
    fr_to_mont: Callable[[np.ndarray], np.ndarray]
    fr_from_mont: Callable[[np.ndarray], np.ndarray]
    fr_mul: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fr_add: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fr_sub: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fr_mul_sub: Callable[..., np.ndarray]
    fr_batch_inverse: Callable[[np.ndarray], np.ndarray]
    fr_mul_const: Callable[[np.ndarray, int], np.ndarray]
    powers: Callable[[int, int], np.ndarray]
    ntt: Callable[..., np.ndarray]
    intt: Callable[..., np.ndarray]
    coset_ntt: Callable[..., np.ndarray]
    coset_intt: Callable[..., np.ndarray]
    coset_evaluations: Callable[..., np.ndarray]
    matvec: Callable[..., None]
    transpose_matvec: Callable[..., None]
    qap_matvec: Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]
    check_records: Callable[[np.ndarray, int, int], int]
    coef_records: Callable[[object, object], np.ndarray]
    msm_g1: Callable[..., G1Int]
    msm_g2: Callable[..., G2Int]
    batch_mul_g1: Callable[[G1Int, np.ndarray], np.ndarray]
    batch_mul_g2: Callable[[G2Int, np.ndarray], np.ndarray]
    #: Called as a proof ("prove") or a setup ("setup") starts: lets a backend compile, in the
    #: background, kernels it will need later (the fast one: its G2 kernels in a second process
    #: when numba's cache is cold).
    prepare: Callable[[str], object] = lambda phase: None
    #: A context manager: inside it the kernels keep their scratch from one call to the next
    #: (the fast one's MSM blocks and NTT tables), dropped on exit; the twin has none.
    workspace: Callable[[], AbstractContextManager] = nullcontext

    def fr_scale(self, a: np.ndarray, k: int) -> np.ndarray:
        """a_i · k for a canonical int k (Montgomery array in and out)."""
        return self.fr_mul_const(a, k)


def fr_const(k: int) -> np.ndarray:
    """The Montgomery limbs of one canonical Fr int as a (4,) uint64 array."""
    return np.array(_ref.FR.enc(k % _ref.R), dtype=np.uint64)


# ------------------------------------------------------------------ reference (pure Python)


def _ref_batch_mul_g1(base: G1Int, scalars: np.ndarray) -> np.ndarray:
    return _ref.batch_mul_g1_naive(convert.g1_from_ints([base])[0], scalars).reshape(-1, 2, 4)


def _ref_batch_mul_g2(base: G2Int, scalars: np.ndarray) -> np.ndarray:
    return _ref.batch_mul_g2_naive(convert.g2_from_ints([base])[0], scalars).reshape(-1, 2, 2, 4)


def _ref_mul_const(a: np.ndarray, k: int) -> np.ndarray:
    return _ref.fr_mul_array(a, np.ascontiguousarray(np.broadcast_to(fr_const(k), a.shape)))


def _ref_mul_sub(a: np.ndarray, b: np.ndarray, c: np.ndarray, *, overwrite: bool = False
                 ) -> np.ndarray:  # fmt: skip
    return _ref.fr_from_mont_array(_ref.fr_sub_array(_ref.fr_mul_array(a, b), c))


REFERENCE = Engine(
    name="reference",
    fr_to_mont=_ref.fr_to_mont_array,
    fr_from_mont=_ref.fr_from_mont_array,
    fr_mul=_ref.fr_mul_array,
    fr_add=_ref.fr_add_array,
    fr_sub=_ref.fr_sub_array,
    fr_mul_sub=_ref_mul_sub,
    fr_batch_inverse=_ref.fr_batch_inverse,
    fr_mul_const=_ref_mul_const,
    powers=_ntt_ref.powers,
    ntt=_ntt_ref.ntt,
    intt=_ntt_ref.intt,
    coset_ntt=_ntt_ref.coset_ntt,
    coset_intt=_ntt_ref.coset_intt,
    coset_evaluations=_ntt_ref.coset_evaluations,
    matvec=_sparse_ref.matvec,
    transpose_matvec=_sparse_ref.transpose_matvec,
    qap_matvec=_sparse_ref.qap_matvec,
    check_records=_sparse_ref.check_records,
    coef_records=_sparse_ref.records,
    msm_g1=_ref.msm_g1_naive,
    msm_g2=_ref.msm_g2_naive,
    batch_mul_g1=_ref_batch_mul_g1,
    batch_mul_g2=_ref_batch_mul_g2,
)


# ------------------------------------------------------------------ fast (numba)


def _fast() -> Engine:
    from prover.kernels import coefs, field, msm, msm_work, ntt, precompile, sparse

    @contextmanager
    def _workspace() -> Iterator[None]:
        with msm_work.workspace(), ntt.tables():
            yield

    # fixed-base multiplication is the setup's: imported on first use, not by every prover
    def batch_mul_g1(base: G1Int, scalars: np.ndarray) -> np.ndarray:
        from prover.kernels import fixed_base

        return fixed_base.batch_mul_g1(convert.g1_from_ints([base])[0], scalars)

    def batch_mul_g2(base: G2Int, scalars: np.ndarray) -> np.ndarray:
        from prover.kernels import fixed_base

        return fixed_base.batch_mul_g2(convert.g2_from_ints([base])[0], scalars)

    return Engine(
        name="fast",
        fr_to_mont=field.fr_to_mont_array,
        fr_from_mont=field.fr_from_mont_array,
        fr_mul=field.fr_mul_array,
        fr_add=field.fr_add_array,
        fr_sub=field.fr_sub_array,
        fr_mul_sub=field.fr_mul_sub_array,
        fr_batch_inverse=field.fr_batch_inverse,
        fr_mul_const=lambda a, k: field.fr_mul_const_array(a, fr_const(k)),
        powers=ntt.powers,
        ntt=ntt.ntt,
        intt=ntt.intt,
        coset_ntt=ntt.coset_ntt,
        coset_intt=ntt.coset_intt,
        coset_evaluations=ntt.coset_evaluations,
        matvec=sparse.matvec,
        transpose_matvec=sparse.transpose_matvec,
        qap_matvec=coefs.qap_matvec,
        check_records=coefs.check_records,
        coef_records=coefs.records,
        msm_g1=msm.msm_g1,
        msm_g2=msm.msm_g2,
        batch_mul_g1=batch_mul_g1,
        batch_mul_g2=batch_mul_g2,
        prepare=precompile.start,
        workspace=_workspace,
    )


_ENGINES: dict[str, Engine] = {"reference": REFERENCE}


def get_engine(engine: Engine | str | None = None) -> Engine:
    """``None`` / ``"fast"`` → the numba engine (built on first use); ``"reference"`` → the twin."""
    if isinstance(engine, Engine):
        return engine
    name = engine or "fast"
    if name not in ("fast", "reference"):
        raise ValueError(f"unknown engine {name!r} (expected 'fast' or 'reference')")
    if name not in _ENGINES:
        _ENGINES[name] = _fast()
    return _ENGINES[name]
