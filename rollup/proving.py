"""Proving sealed batches: keys per circuit shape cached on disk, one Groth16 proof per batch.

A batch of shape (B, D, M) is proven against ``circuits.batch.BatchCircuit(shape)``; its public
inputs are the triple the settlement layer forms (``verifier/settlement.py``)::

    (old_root, new_root, commitment),  commitment = poseidon_sponge([old_root, new_root, *pubdata])

Keys live in ``<keys_root>/<circuit digest[:16]>/`` (``prover.keys.save_proving_key`` layout plus
snarkjs's ``verification_key.json``), so a key is found again by the circuit hash and a changed
circuit never meets a stale key. ``setup_shape`` runs the INSECURE single-party setup of
``prover.setup`` (Groth 2016 §3.2 with toxic waste drawn from ``rng`` and discarded; development
only). Proofs and public signals travel as snarkjs JSON (``proof.json`` / ``public.json`` form),
which is also what the settlement layer stores.

``groth16_checker(vk_json)`` is the settlement layer's ``proof_checker``: it uses
``verifier.groth16`` only (py_ecc), never the prover.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from circuits.batch import BatchShape, compile_batch
from circuits.compiled import CompiledCircuit
from rollup.circuit_input import batch_assignment
from rollup.witness import BatchWitness
from verifier.errors import VerifierError
from verifier.groth16 import parse_proof, parse_verification_key, verify

Progress = Callable[[str, int, int], None]
INSECURE_SETUP = (
    "INSECURE single-party setup: whoever ran it could forge proofs (development and tests only)"
)

__all__ = [
    "INSECURE_SETUP",
    "BatchProof",
    "groth16_checker",
    "key_dir",
    "prove_assignment",
    "prove_batch",
    "setup_shape",
]


@dataclass(frozen=True)
class BatchProof:
    """A batch's proof as snarkjs JSON, its public signals and the time each phase took."""

    number: int
    proof: dict[str, Any]  #: proof.json
    public: tuple[int, int, int]  #: (old_root, new_root, commitment)
    witness_seconds: float
    prove_seconds: float


def key_dir(keys_root: str | Path, compiled: CompiledCircuit) -> Path:
    """Where the proving key of ``compiled`` lives: keyed by the circuit hash."""
    return Path(keys_root) / compiled.digest()[:16]


def setup_shape(
    shape: BatchShape,
    keys_root: str | Path,
    rng: Any = None,
    progress: Progress | None = None,
) -> Path:
    """Make (or find) the proving key of ``shape`` under ``keys_root``; returns its directory.

    INSECURE single-party setup (``INSECURE_SETUP``); ``rng`` is the toxic-waste source
    (``prover.setup.SeededRandom`` in tests, ``secrets`` when None), never stored.
    """
    from prover.keys import save_proving_key
    from prover.setup import setup

    compiled = compile_batch(shape)
    keydir = key_dir(keys_root, compiled)
    if (keydir / "verification_key.json").exists():
        return keydir
    pk = setup(compiled.r1cs, rng=rng, progress=progress)
    save_proving_key(pk, keydir)
    return keydir


def verifying_key_json(keydir: str | Path) -> dict[str, Any]:
    """The snarkjs ``verification_key.json`` of a key directory."""
    from prover.artifacts import read_json

    return read_json(Path(keydir) / "verification_key.json")


def prove_assignment(
    shape: BatchShape,
    keydir: str | Path,
    number: int,
    assignment: dict[str, Any],
    rng: Any = None,
    progress: Progress | None = None,
) -> BatchProof:
    """Solve the batch circuit's witness from ``assignment`` and prove it (a worker's job: every
    argument is plain data, so it pickles to processes and Dask workers alike)."""
    import time

    from prover.artifacts import proof_to_json
    from prover.keys import load_proving_key
    from prover.prove import prove

    compiled = compile_batch(shape)
    t0 = time.perf_counter()
    z = compiled.solve(assignment)
    t1 = time.perf_counter()
    pk = load_proving_key(keydir, compiled.r1cs, verify=False)
    proof = prove(pk, z, rng=rng, progress=progress)
    t2 = time.perf_counter()
    public = tuple(compiled.public_signals(z))
    return BatchProof(number, proof_to_json(proof), public, t1 - t0, t2 - t1)  # type: ignore[arg-type]


def prove_batch(
    batch: BatchWitness,
    shape: BatchShape,
    keydir: str | Path,
    rng: Any = None,
    progress: Progress | None = None,
) -> BatchProof:
    """Prove one sealed batch with the key in ``keydir``."""
    assignment = batch_assignment(batch, shape)
    return prove_assignment(shape, keydir, batch.number, assignment, rng, progress)


def groth16_checker(vk_json: dict[str, Any]) -> Callable[[tuple[int, int, int], Any], bool]:
    """The settlement layer's proof check: ``verify(vk, [old_root, new_root, commitment], proof)``
    with ``proof`` in snarkjs JSON. A malformed proof is a proof that does not verify."""
    vk = parse_verification_key(vk_json)

    def check(public_inputs: tuple[int, int, int], proof: Any) -> bool:
        try:
            return verify(vk, list(public_inputs), parse_proof(proof))
        except VerifierError:
            return False

    return check
