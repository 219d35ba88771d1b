"""Groth16 circuit-specific setup — LOCAL, INSECURE, SINGLE-PARTY: for development and tests only.

Groth 2016, "On the Size of Pairing-based Non-interactive Arguments", §3.2 (Setup); snarkjs
``src/zkey_new.js`` for the layout (IC, the public-input binding rows). The toxic waste
τ, α, β, γ, δ is drawn from the caller's RNG (anything with ``randbelow(n)``: the ``secrets``
module by default, ``SeededRandom`` in tests), used to compute the key, then dropped: it is never
written anywhere nor kept on the key. Python cannot scrub integers from memory, and whoever ran
this setup could forge proofs — hence ``insecure_single_party = True`` on every key it makes.

With u_j, v_j, w_j the QAP polynomials of :mod:`prover.qap` and N the domain size:

    a_g1[j] = u_j(τ)·G1,  b_g1[j] = v_j(τ)·G1,  b_g2[j] = v_j(τ)·G2   (only where ≠ 0, as snarkjs)
    ic[j]   = (β u_j(τ) + α v_j(τ) + w_j(τ))/γ · G1      j ≤ ℓ (public)
    l_g1[j] = (β u_j(τ) + α v_j(τ) + w_j(τ))/δ · G1      j > ℓ (private)
    h_g1[i] = L^{(2N)}_{2i+1}(τ)/δ · G1                   0 ≤ i < N  (snarkjs's H query)

The scalars come from the Lagrange basis at τ and the sparse matrices (one pass each); the points
from batch fixed-base multiplications in the engine.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from typing import Protocol

import numpy as np
from py_ecc import optimized_bn128 as bn

from prover.engine import Engine, G1Int, g1_from_py_ecc, g1_to_ints, g2_from_py_ecc, get_engine
from prover.fields import R
from prover.keys import ProvingKey, VerifyingKey
from prover.qap import ConstraintMatrices, h_query_scalars, qap_at, qap_matrices
from prover.r1cs import R1CS

Progress = Callable[[str, int, int], None]
_STEPS = (
    "QAP at tau",
    "A query (G1)",
    "B query (G1)",
    "B query (G2)",
    "L query (G1)",
    "H query (G1)",
)


class RandBelow(Protocol):
    def randbelow(self, n: int) -> int: ...


class SeededRandom:
    """A deterministic ``randbelow`` source for tests and benchmarks (NOT for real keys)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def randbelow(self, n: int) -> int:
        return self._rng.randrange(n)


def _nonzero(rng: RandBelow) -> int:
    return 1 + rng.randbelow(R - 1)


def setup(
    r1cs: R1CS,
    rng: RandBelow | None = None,
    progress: Progress | None = None,
    *,
    engine: Engine | str | None = None,
) -> ProvingKey:
    """Insecure single-party Groth16 setup for ``r1cs`` (see the module docstring)."""
    return setup_matrices(
        ConstraintMatrices.from_r1cs(r1cs), r1cs.digest(), rng, progress, engine=engine
    )


def setup_matrices(
    mats: ConstraintMatrices,
    r1cs_digest: str,
    rng: RandBelow | None = None,
    progress: Progress | None = None,
    *,
    engine: Engine | str | None = None,
) -> ProvingKey:
    """``setup`` on constraint matrices already in array form (``r1cs_digest`` their R1CS's)."""
    eng = get_engine(engine)
    eng.prepare("setup")
    rng = rng if rng is not None else secrets
    report = progress or (lambda step, done, total: None)
    n_big = 1 << mats.log_domain
    ell = mats.n_public
    tau = _nonzero(rng)
    while pow(tau, 2 * n_big, R) == 1:  # τ among the 2N-th roots: the Lagrange bases degenerate
        tau = _nonzero(rng)
    alpha, beta, gamma, delta = (_nonzero(rng) for _ in range(4))

    report(_STEPS[0], 0, len(_STEPS))
    u, v, w = qap_at(eng, mats, tau)
    # k_j = β u_j(τ) + α v_j(τ) + w_j(τ); IC = k/γ for j ≤ ℓ, L = k/δ for j > ℓ
    k = eng.fr_add(eng.fr_add(eng.fr_scale(u, beta), eng.fr_scale(v, alpha)), w)
    gamma_inv, delta_inv = pow(gamma, -1, R), pow(delta, -1, R)
    ic_scalars = eng.fr_from_mont(eng.fr_scale(k[: ell + 1], gamma_inv))
    l_scalars = eng.fr_from_mont(eng.fr_scale(k[ell + 1 :], delta_inv))
    # H_i = L^{(2N)}_{2i+1}(τ)/δ: the 2N-th roots' Lagrange basis at the odd points (qap.py)
    h_lagrange = h_query_scalars(eng, tau, mats.log_domain)
    h_scalars = eng.fr_from_mont(eng.fr_scale(h_lagrange, delta_inv))
    u_scalars, v_scalars = eng.fr_from_mont(u), eng.fr_from_mont(v)
    # keep the wires whose u_j(τ) / v_j(τ) is non-zero: the others add nothing to A and B
    a_wires = np.flatnonzero(u_scalars.any(axis=1)).astype(np.int64)
    b_wires = np.flatnonzero(v_scalars.any(axis=1)).astype(np.int64)
    u_scalars, v_scalars = u_scalars[a_wires], v_scalars[b_wires]
    del u, v, w, k

    g1, g2 = g1_from_py_ecc(bn.G1), g2_from_py_ecc(bn.G2)
    arrays: list[np.ndarray] = []
    for i, (mul, base, scalars) in enumerate(
        (
            (eng.batch_mul_g1, g1, u_scalars),
            (eng.batch_mul_g1, g1, v_scalars),
            (eng.batch_mul_g2, g2, v_scalars),
            (eng.batch_mul_g1, g1, l_scalars),
            (eng.batch_mul_g1, g1, h_scalars),
        ),
        start=1,
    ):
        report(_STEPS[i], i, len(_STEPS))
        arrays.append(mul(base, scalars))
    ic: tuple[G1Int, ...] = tuple(g1_to_ints(eng.batch_mul_g1(g1, ic_scalars)))
    vk = VerifyingKey(
        alpha_g1=g1_from_py_ecc(bn.multiply(bn.G1, alpha)),
        beta_g2=g2_from_py_ecc(bn.multiply(bn.G2, beta)),
        gamma_g2=g2_from_py_ecc(bn.multiply(bn.G2, gamma)),
        delta_g2=g2_from_py_ecc(bn.multiply(bn.G2, delta)),
        gamma_abc_g1=ic,
    )
    beta_g1 = g1_from_py_ecc(bn.multiply(bn.G1, beta))
    delta_g1 = g1_from_py_ecc(bn.multiply(bn.G1, delta))
    del tau, alpha, beta, gamma, delta, gamma_inv, delta_inv
    report("done", len(_STEPS), len(_STEPS))
    return ProvingKey(
        vk,
        beta_g1,
        delta_g1,
        *arrays,
        a_wires=a_wires,
        b_wires=b_wires,
        qap=qap_matrices(eng, mats),
        matrices=mats,
        r1cs_digest=r1cs_digest,
        insecure_single_party=True,
    )
