"""Groth16 prover: a proof (A, B, C) from a proving key and a witness.

Groth 2016, "On the Size of Pairing-based Non-interactive Arguments", §3.2 (Prove); the
arkworks / snarkjs (``src/groth16_prove.js``) form of it. With z the witness (z_0 = 1, public
signals z_1 … z_ℓ), h the quotient polynomial (:func:`prover.qap.h_coefficients`) and r, s
uniform in Fr:

    A  = α·G1 + Σ_j z_j·a_g1[j] + r·δ·G1          (j over a_wires)
    B  = β·G2 + Σ_j z_j·b_g2[j] + s·δ·G2          (j over b_wires; B₁ the same in G1)
    C  = Σ_{j>ℓ} z_j·l_g1[j] + Σ_i h_i·h_g1[i] + s·A + r·B₁ − r·s·δ·G1

r and s are parameters (drawn from ``rng``, the ``secrets`` module by default); fixing them makes
the proof deterministic for tests. The four multi-scalar multiplications and the seven NTTs run in
the engine (:mod:`prover.engine`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from prover.engine import Engine, G1Int, G2Int, g1_from_ints, g2_from_ints, get_engine
from prover.errors import KeyMismatchError, WitnessError
from prover.fields import R
from prover.keys import ProvingKey
from prover.qap import quotient_evaluations, unsatisfied_row
from prover.r1cs import ints_to_limbs, limbs_below, limbs_to_ints

Progress = Callable[[str, int, int], None]
_STEPS = ("h (6 NTTs)", "A: MSM G1", "B: MSM G2", "B1: MSM G1", "C: MSM G1 (L and H)")


@dataclass(frozen=True)
class Proof:
    """A Groth16 proof (a, b, c): A ∈ G1, B ∈ G2, C ∈ G1 as affine ints (None = infinity).

    The names are ``verifier.groth16.Proof``'s (arkworks'); snarkjs calls them pi_a, pi_b, pi_c.
    """

    a: G1Int
    b: G2Int
    c: G1Int

    @property
    def a_g1(self) -> G1Int:
        return self.a

    @property
    def b_g2(self) -> G2Int:
        return self.b

    @property
    def c_g1(self) -> G1Int:
        return self.c


def _witness_limbs(pk: ProvingKey, witness: Sequence[int] | np.ndarray) -> np.ndarray:
    """Canonical (n, 4) limbs of the witness, checked: n wires, z_0 = 1, every value < r."""
    if len(witness) != pk.n_wires:
        raise WitnessError(
            f"witness has {len(witness)} values, the proving key has {pk.n_wires} wires"
        )
    if isinstance(witness, np.ndarray):
        z = np.ascontiguousarray(witness, dtype=np.uint64)
        if z.shape != (pk.n_wires, 4):
            raise WitnessError(f"witness limbs must have shape ({pk.n_wires}, 4)")
        bad = np.flatnonzero(~limbs_below(z, R))
        if bad.size:
            raise WitnessError(f"witness value {int(bad[0])} is not in [0, r)")
    else:
        for i, v in enumerate(witness):
            if not 0 <= int(v) < R:
                raise WitnessError(f"witness value {i} is {v}, not in [0, r)")
        z = ints_to_limbs(witness)
    if tuple(int(x) for x in z[0]) != (1, 0, 0, 0):
        raise WitnessError(f"witness wire 0 is {limbs_to_ints(z[:1])[0]}, must be 1")
    return z


def prove(
    pk: ProvingKey,
    witness: Sequence[int] | np.ndarray,
    r: int | None = None,
    s: int | None = None,
    rng=None,
    progress: Progress | None = None,
    *,
    engine: Engine | str | None = None,
    check: bool = False,
) -> Proof:
    """Prove that ``witness`` (ints, or canonical (n, 4) uint64 limbs) satisfies ``pk``'s circuit.

    ``check=True`` first verifies every constraint and raises ``WitnessError`` naming the first
    unsatisfied row (otherwise a bad witness gives a proof that does not verify); it needs the
    R1CS's C matrix, which a key read from a ``.zkey`` does not have (``KeyMismatchError``).
    """
    eng = get_engine(engine)
    eng.prepare("prove")
    report = progress or (lambda step, done, total: None)
    rng = rng if rng is not None else secrets
    r = rng.randbelow(R) if r is None else r % R
    s = rng.randbelow(R) if s is None else s % R
    z = _witness_limbs(pk, witness)
    if check:
        if pk.matrices is None:
            raise KeyMismatchError("check=True needs the R1CS matrices; a .zkey key has no C")
        row = unsatisfied_row(eng, pk.matrices, eng.fr_to_mont(z))
        if row is not None:
            raise WitnessError(f"constraint {row} is not satisfied: A·z * B·z != C·z")
    ell = pk.n_public

    def small(*ks: int) -> np.ndarray:  # the few extra terms' scalars
        return ints_to_limbs([k % R for k in ks])

    # The A and B queries' terms: a zkey's sections are used whole with the wires as MSM rows,
    # our keys' compact rows with the gathered scalars. Nothing big is concatenated: the few
    # extra terms (α, β, δ, …) ride along as a second or third segment.
    if pk.by_wire:
        z_a, a_rows, z_b, b_rows = z, pk.a_wires, z, pk.b_wires
    else:
        z_a, a_rows, z_b, b_rows = z[pk.a_wires], None, z[pk.b_wires], None
    report(_STEPS[0], 0, len(_STEPS))
    h = quotient_evaluations(eng, pk.qap, z)  # its NTT tables are dropped before the MSMs
    with eng.workspace():  # the four MSMs share their scratch blocks
        # A = α + Σ z_j u_j(τ) + r·δ
        report(_STEPS[1], 1, len(_STEPS))
        a = eng.msm_g1(
            (pk.a_g1, g1_from_ints([pk.vk.alpha_g1, pk.delta_g1])), (z_a, small(1, r)), rows=a_rows
        )
        # B = β + Σ z_j v_j(τ) + s·δ   in G2, and B₁ the same in G1
        report(_STEPS[2], 2, len(_STEPS))
        b2 = eng.msm_g2(
            (pk.b_g2, g2_from_ints([pk.vk.beta_g2, pk.vk.delta_g2])),
            (z_b, small(1, s)),
            rows=b_rows,
        )
        report(_STEPS[3], 3, len(_STEPS))
        b1 = eng.msm_g1(
            (pk.b_g1, g1_from_ints([pk.beta_g1, pk.delta_g1])), (z_b, small(1, s)), rows=b_rows
        )
        # C = Σ_{j>ℓ} z_j L_j + Σ_i p_i H_i + s·A + r·B₁ − r·s·δ   (Σ p_i H_i = h(τ)Z_H(τ)/δ)
        report(_STEPS[4], 4, len(_STEPS))
        c = eng.msm_g1(
            (pk.l_g1, pk.h_g1, g1_from_ints([a, b1, pk.delta_g1])),
            (z[ell + 1 :], h, small(s, r, -r * s)),
        )
    report("done", len(_STEPS), len(_STEPS))
    return Proof(a, b2, c)
