"""prover — a generic Groth16 library over BN254 (R1CS + witness in, snarkjs-compatible proof out).

Groth 2016, "On the Size of Pairing-based Non-interactive Arguments"; artifacts in snarkjs's forms.
Public API (stable; the CLI and the rollup call exactly these):

- ``read_r1cs(path) -> R1CS``, ``read_wtns(path) -> list[int]``, ``write_r1cs``, ``write_wtns``
- ``prover.setup.setup(r1cs, rng=None, progress=None) -> ProvingKey`` — local, INSECURE,
  single-party setup (re-exported here as ``groth16_setup``)
- ``save_proving_key(pk, keydir)``, ``load_proving_key(keydir) -> ProvingKey``
- ``prover.prove.prove(pk, witness, r=None, s=None, rng=None, progress=None) -> Proof``
  (re-exported as ``groth16_prove``)
- ``vk_to_json(vk)``, ``proof_to_json(proof)``, ``public_to_json(signals)``,
  ``write_json(obj, path)``

``setup`` and ``prove`` are not re-exported under their own names: that would shadow the
submodules ``prover.setup`` / ``prover.prove`` and break ``prover.setup.setup``.

Kernels (numba) are reached only through :mod:`prover.engine`. The names below are imported
lazily, so ``import prover.fields`` loads neither numpy nor numba.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY: dict[str, tuple[str, str]] = {
    "proof_from_json": ("prover.artifacts", "proof_from_json"),
    "proof_to_json": ("prover.artifacts", "proof_to_json"),
    "public_from_json": ("prover.artifacts", "public_from_json"),
    "public_to_json": ("prover.artifacts", "public_to_json"),
    "read_json": ("prover.artifacts", "read_json"),
    "vk_from_json": ("prover.artifacts", "vk_from_json"),
    "vk_to_json": ("prover.artifacts", "vk_to_json"),
    "write_json": ("prover.artifacts", "write_json"),
    "FormatError": ("prover.errors", "FormatError"),
    "KeyMismatchError": ("prover.errors", "KeyMismatchError"),
    "ProverError": ("prover.errors", "ProverError"),
    "R1CSError": ("prover.errors", "R1CSError"),
    "WitnessError": ("prover.errors", "WitnessError"),
    "read_r1cs": ("prover.iden3", "read_r1cs"),
    "read_wtns": ("prover.iden3", "read_wtns"),
    "write_r1cs": ("prover.iden3", "write_r1cs"),
    "write_wtns": ("prover.iden3", "write_wtns"),
    "ProvingKey": ("prover.keys", "ProvingKey"),
    "VerifyingKey": ("prover.keys", "VerifyingKey"),
    "load_proving_key": ("prover.keys", "load_proving_key"),
    "save_proving_key": ("prover.keys", "save_proving_key"),
    "Proof": ("prover.prove", "Proof"),
    "groth16_prove": ("prover.prove", "prove"),
    "R1CS": ("prover.r1cs", "R1CS"),
    "SparseMatrix": ("prover.r1cs", "SparseMatrix"),
    "SeededRandom": ("prover.setup", "SeededRandom"),
    "groth16_setup": ("prover.setup", "setup"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(import_module(module), attr)
    raise AttributeError(f"module 'prover' has no attribute {name!r}")
