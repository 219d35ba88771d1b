"""The settlement layer's Groth16 proof checker, shared by the node and the pytest plugin.

``groth16_checker(vk_json)`` turns a snarkjs ``verification_key.json`` (a dict) into the
``proof_checker`` that ``verifier.settlement.Settlement`` calls with the batch's public inputs
``(old_root, new_root, commitment)`` and the proof as snarkjs ``proof.json``. The check is Groth16
(Groth 2016 §3.2)::

    e(A, B) = e(α, β) · e(L, γ) · e(C, δ),   L = Σ_i public_i · γ_abc_i

done by ``verifier.groth16.verify``. A malformed proof (wrong shape, coordinates not canonical,
points off the curve or outside the subgroup) is a proof that does not verify: the settlement
layer then rejects the batch instead of raising an unrelated error. A malformed *verifying key*
is the caller's mistake and raises ``MalformedInputError`` at once, before any batch is seen.

Only ``verifier.groth16`` (py_ecc) is imported, so embedding projects never load the prover.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from verifier.errors import MalformedInputError, VerifierError
from verifier.groth16 import parse_proof, parse_verification_key, verify

__all__ = ["ProofCheck", "groth16_checker"]

#: ``(public_inputs, proof_json) -> bool``, the shape of ``Settlement``'s ``proof_checker``
ProofCheck = Callable[[tuple[int, int, int], Any], bool]


def groth16_checker(vk_json: dict[str, Any]) -> ProofCheck:
    """The proof checker of ``vk_json``; raises ``MalformedInputError`` if the key is malformed."""
    vk = parse_verification_key(vk_json)
    if vk.n_public != 3:
        raise MalformedInputError(
            f"verifying key: a batch key has 3 public inputs (old root, new root, commitment), "
            f"this one {vk.n_public}"
        )

    def check(public_inputs: tuple[int, int, int], proof: Any) -> bool:
        try:
            return verify(vk, list(public_inputs), parse_proof(proof))
        except VerifierError:
            return False

    return check
