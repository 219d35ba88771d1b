"""``.zkey`` interop with snarkjs 0.7.6 and rapidsnark, both ways.

- A zkey written by our setup (``prover.zkey.write_zkey``): ``snarkjs zkey export
  verificationkey`` gives exactly our ``verification_key.json``; snarkjs's and rapidsnark's proofs
  from it verify in our verifier and in ``snarkjs groth16 verify``.
- snarkjs's shipped zkey: our proof from it verifies in ``snarkjs groth16 verify``.

Every acceptance has its negative twin (public input + 1 → rejected by both verifiers). Skipped with
one line when Node/snarkjs (``npm ci --prefix tests/interop``) or the rapidsnark binary
(``$RAPIDSNARK``, default ``~/.cache/zkr-anchors/rapidsnark-prover``) is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from prover.artifacts import proof_to_json, public_to_json, vk_to_json, write_json
from prover.fields import R
from prover.iden3 import read_r1cs, read_wtns
from prover.prove import prove
from prover.setup import SeededRandom, setup
from prover.zkey import read_zkey, write_zkey
from verifier import groth16 as v

pytestmark = pytest.mark.interop

DEFAULT_RAPIDSNARK = Path.home() / ".cache" / "zkr-anchors" / "rapidsnark-prover"


@pytest.fixture(scope="session")
def rapidsnark() -> Path:
    path = Path(os.environ.get("RAPIDSNARK", DEFAULT_RAPIDSNARK))
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"rapidsnark binary not found at {path} (set RAPIDSNARK)")
    return path


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600)


def _snarkjs_accepts(snarkjs: list[str], folder: Path) -> bool:
    files = [folder / f for f in ("verification_key.json", "public.json", "proof.json")]
    out = _run([*snarkjs, "groth16", "verify", *files])
    ok = out.returncode == 0 and "OK!" in out.stdout
    assert ok or "Invalid proof" in out.stdout + out.stderr, out.stdout + out.stderr
    return ok


def _ours_accepts(folder: Path) -> bool:
    return v.verify(
        v.load_verification_key(folder / "verification_key.json"),
        v.load_public_inputs(folder / "public.json"),
        v.load_proof(folder / "proof.json"),
    )


def _both_accept_then_reject(snarkjs: list[str], folder: Path) -> None:
    assert _snarkjs_accepts(snarkjs, folder) and _ours_accepts(folder)
    public = json.loads((folder / "public.json").read_text())
    public[0] = str((int(public[0]) + 1) % R)
    (folder / "public.json").write_text(json.dumps(public))
    assert not _snarkjs_accepts(snarkjs, folder) and not _ours_accepts(folder)


@pytest.fixture(scope="module")
def our_zkey(groth16_vectors: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """poseidon2_tiny with our (insecure) setup written as circuit.zkey + verification_key.json."""
    d = groth16_vectors / "poseidon2_tiny"
    out = tmp_path_factory.mktemp("ours")
    pk = setup(read_r1cs(d / "circuit.r1cs"), SeededRandom(16))
    write_zkey(pk, out / "circuit.zkey")
    write_json(vk_to_json(pk.vk), out / "verification_key.json")
    return out


def test_snarkjs_exports_our_verification_key(snarkjs: list[str], our_zkey: Path, tmp_path: Path):
    out = _run([*snarkjs, "zkey", "export", "verificationkey", our_zkey / "circuit.zkey",
                tmp_path / "vk.json"])  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    theirs = json.loads((tmp_path / "vk.json").read_text())
    assert theirs == json.loads((our_zkey / "verification_key.json").read_text())


def _folder(our_zkey: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "verification_key.json").write_text((our_zkey / "verification_key.json").read_text())
    return folder


def test_snarkjs_proves_with_our_zkey(snarkjs, our_zkey: Path, groth16_vectors: Path, tmp_path):
    folder = _folder(our_zkey, tmp_path)
    wtns = groth16_vectors / "poseidon2_tiny" / "witness.wtns"
    out = _run([*snarkjs, "groth16", "prove", our_zkey / "circuit.zkey", wtns,
                folder / "proof.json", folder / "public.json"])  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    _both_accept_then_reject(snarkjs, folder)


def test_rapidsnark_proves_with_our_zkey(
    snarkjs, rapidsnark: Path, our_zkey: Path, groth16_vectors: Path, tmp_path: Path
) -> None:
    folder = _folder(our_zkey, tmp_path)
    wtns = groth16_vectors / "poseidon2_tiny" / "witness.wtns"
    out = _run([rapidsnark, our_zkey / "circuit.zkey", wtns, folder / "proof.json",
                folder / "public.json"])  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    _both_accept_then_reject(snarkjs, folder)


@pytest.mark.parametrize(
    "circuit", ["poseidon2_tiny", pytest.param("merkle_n1_d16", marks=pytest.mark.slow)]
)
def test_our_proof_from_snarkjs_zkey_verifies_in_snarkjs(
    snarkjs: list[str], groth16_vectors: Path, tmp_path: Path, circuit: str
) -> None:
    d = groth16_vectors / circuit
    pk = read_zkey(d / "circuit_final.zkey")
    witness = read_wtns(d / "witness.wtns")
    proof = prove(pk, witness, rng=SeededRandom(7))
    (tmp_path / "verification_key.json").write_text((d / "verification_key.json").read_text())
    write_json(proof_to_json(proof), tmp_path / "proof.json")
    write_json(public_to_json(witness[1 : 1 + pk.n_public]), tmp_path / "public.json")
    _both_accept_then_reject(snarkjs, tmp_path)
