"""Interop with the reference toolchain: snarkjs 0.7.6 (pinned in tests/interop/package.json).

Our setup + prove on the vectors' circom ``circuit.r1cs`` + ``witness.wtns`` → ``snarkjs groth16
verify`` accepts our ``verification_key.json`` / ``public.json`` / ``proof.json``, and rejects them
with a tampered public input (negative twin). Skipped with the install instruction when Node or the
local snarkjs is absent (``npm ci --prefix tests/interop``; ``.ci/run`` does it).
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from prover.artifacts import proof_to_json, public_to_json, vk_to_json, write_json
from prover.iden3 import read_r1cs, read_wtns
from prover.prove import prove
from prover.setup import SeededRandom, setup

pytestmark = pytest.mark.interop

R = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def snarkjs_verify(snarkjs: list[str], folder: Path) -> subprocess.CompletedProcess:
    files = [str(folder / f) for f in ("verification_key.json", "public.json", "proof.json")]
    return subprocess.run(
        [*snarkjs, "groth16", "verify", *files], capture_output=True, text=True, timeout=300
    )


def accepted(result: subprocess.CompletedProcess) -> bool:
    """snarkjs prints "OK!" and exits 0 for a valid proof, "Invalid proof" and exits 1 otherwise."""
    ok = result.returncode == 0 and "OK!" in result.stdout
    rejected = result.returncode != 0 and "Invalid proof" in result.stdout + result.stderr
    assert ok != rejected, f"unexpected snarkjs output: {result.stdout}{result.stderr}"
    return ok


def our_artifacts(circuit_dir: Path, out: Path, seed: int) -> Path:
    """setup + prove with our prover, snarkjs JSON artifacts written to ``out``."""
    r1cs = read_r1cs(circuit_dir / "circuit.r1cs")
    witness = read_wtns(circuit_dir / "witness.wtns")
    pk = setup(r1cs, rng=SeededRandom(seed))
    rng = random.Random(seed + 1)
    proof = prove(pk, witness, r=rng.randrange(R), s=rng.randrange(R))
    out.mkdir(parents=True, exist_ok=True)
    write_json(vk_to_json(pk.vk), out / "verification_key.json")
    write_json(proof_to_json(proof), out / "proof.json")
    write_json(public_to_json(r1cs.public_signals(witness)), out / "public.json")
    return out


def test_snarkjs_accepts_its_own_vector(snarkjs: list[str], groth16_vectors: Path) -> None:
    """The harness itself: snarkjs accepts the shipped proof (so a rejection below means ours)."""
    assert accepted(snarkjs_verify(snarkjs, groth16_vectors / "poseidon2_tiny"))


@pytest.mark.parametrize(
    "circuit", ["poseidon2_tiny", pytest.param("merkle_n1_d16", marks=pytest.mark.slow)]
)
def test_snarkjs_accepts_our_proof(
    snarkjs: list[str], groth16_vectors: Path, tmp_path: Path, circuit: str
) -> None:
    folder = our_artifacts(groth16_vectors / circuit, tmp_path / "ours", seed=11)
    assert accepted(snarkjs_verify(snarkjs, folder))
    # Negative twin: the same proof with public input + 1 is rejected by snarkjs.
    public = json.loads((folder / "public.json").read_text())
    public[0] = str((int(public[0]) + 1) % R)
    (folder / "public.json").write_text(json.dumps(public))
    assert not accepted(snarkjs_verify(snarkjs, folder))
