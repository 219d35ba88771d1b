"""Shared fixtures for the prover tests: a py_ecc Groth16 check."""

from __future__ import annotations

import pytest
from py_ecc import optimized_bn128 as bn


def pairing_check(vk, public: list[int], proof) -> bool:
    """Groth16 verification written out with py_ecc (the tests' oracle, independent of prover/):

    e(A, B) = e(α, β) · e(Σ_i x_i IC_i, γ) · e(C, δ)   with x_0 = 1,
    checked as one product of four Miller loops and one final exponentiation equal to 1.
    """
    from prover.kernels.convert import g1_to_py_ecc, g2_to_py_ecc

    if len(public) != vk.n_public:
        return False
    acc = g1_to_py_ecc(vk.gamma_abc_g1[0])
    for x, p in zip(public, vk.gamma_abc_g1[1:], strict=True):
        acc = bn.add(acc, bn.multiply(g1_to_py_ecc(p), x % bn.curve_order))
    pairs = (
        (g2_to_py_ecc(proof.b), bn.neg(g1_to_py_ecc(proof.a))),
        (g2_to_py_ecc(vk.beta_g2), g1_to_py_ecc(vk.alpha_g1)),
        (g2_to_py_ecc(vk.gamma_g2), acc),
        (g2_to_py_ecc(vk.delta_g2), g1_to_py_ecc(proof.c)),
    )
    f = bn.FQ12.one()
    for q, p in pairs:
        if bn.is_inf(q) or bn.is_inf(p):
            continue
        f = f * bn.pairing(q, p, final_exponentiate=False)
    return bn.final_exponentiate(f) == bn.FQ12.one()


@pytest.fixture(scope="session")
def verify():
    """``verify(vk, public, proof) -> bool`` (py_ecc pairing check)."""
    return pairing_check
