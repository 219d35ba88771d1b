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

Kernels (numba) are reached only through :mod:`prover.engine`.
"""

from prover.artifacts import (
    proof_from_json,
    proof_to_json,
    public_from_json,
    public_to_json,
    read_json,
    vk_from_json,
    vk_to_json,
    write_json,
)
from prover.errors import FormatError, KeyMismatchError, ProverError, R1CSError, WitnessError
from prover.iden3 import read_r1cs, read_wtns, write_r1cs, write_wtns
from prover.keys import ProvingKey, VerifyingKey, load_proving_key, save_proving_key
from prover.prove import Proof
from prover.prove import prove as groth16_prove
from prover.r1cs import R1CS, SparseMatrix
from prover.setup import SeededRandom
from prover.setup import setup as groth16_setup

__all__ = [
    "R1CS",
    "FormatError",
    "KeyMismatchError",
    "Proof",
    "ProverError",
    "ProvingKey",
    "R1CSError",
    "SeededRandom",
    "SparseMatrix",
    "VerifyingKey",
    "WitnessError",
    "groth16_prove",
    "groth16_setup",
    "load_proving_key",
    "proof_from_json",
    "proof_to_json",
    "public_from_json",
    "public_to_json",
    "read_json",
    "read_r1cs",
    "read_wtns",
    "save_proving_key",
    "vk_from_json",
    "vk_to_json",
    "write_json",
    "write_r1cs",
    "write_wtns",
]
