"""A stand-in for the batch circuit's Groth16 proofs in the application-layer tests.

The application layer proves batches with the batch circuit and the prover
(``rollup.node.pipeline``) and the settlement layer checks them with the Groth16 checker
(``rollup.node.l1``). These tests are about the layer above: orders, verbs, reports, the node. The
stand-in replaces the calls that need the circuit — the setup of a shape, its size, a batch's job,
its proof and the L1 check — with a *binding* stand-in: its "proof" is a BLAKE2b digest of the
public inputs ``(old_root, new_root, commitment)``, so the settlement layer still refuses a batch
whose pubdata, roots or proof were changed (the commitment covers the pubdata), exactly where a
Groth16 proof would fail, and accepts only what the sequencer sealed.

It is NOT a proof system (anyone can compute the digest); it only stands where the circuit will.
``ZKR_REAL_PROOFS=1`` turns it off, so the same tests run on real Groth16 proofs once the batch
circuit is available. Child processes (``zkr`` run as a subprocess) get it through
``child_prelude``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

STANDIN_VK: dict[str, Any] = {
    "protocol": "standin",
    "note": "test stand-in for the batch circuit's proofs: binds the public inputs, proves nothing",
}


def enabled() -> bool:
    return not os.environ.get("ZKR_REAL_PROOFS")


def proof_of(public: tuple[int, ...] | list[int]) -> dict[str, str]:
    digest = hashlib.blake2b(repr(tuple(int(x) for x in public)).encode(), digest_size=32)
    return {"standin": digest.hexdigest()}


def setup_rollup(params: Any, keys_root: str | Path, rng: Any = None, progress: Any = None) -> Path:
    keydir = Path(keys_root) / "standin"
    keydir.mkdir(parents=True, exist_ok=True)
    (keydir / "verification_key.json").write_text(json.dumps(STANDIN_VK))
    return keydir


def batch_job(store: Any, keydir: str | Path, number: int) -> tuple:
    b = store.batch(number)
    return (None, str(keydir), number, {"public": [b.old_root, b.new_root, b.commitment]})


def prove_assignment(
    shape: Any, keydir: Any, number: int, assignment: dict, rng: Any = None, progress: Any = None
) -> Any:
    from rollup.node.pipeline import BatchProof

    public = tuple(assignment["public"])
    return BatchProof(number, proof_of(public), public, 0.0, 0.0)  # type: ignore[arg-type]


def install(setattr_: Any = setattr) -> None:
    """Patch the calls (``setattr_``: pytest's ``monkeypatch.setattr`` to undo it)."""
    from rollup.node import l1, pipeline

    real_checker = l1.groth16_checker

    def checker(vk: Any) -> Any:
        if vk == STANDIN_VK:
            return lambda public, proof: proof == proof_of(public)
        return real_checker(vk)

    setattr_(pipeline, "setup_rollup", setup_rollup)
    setattr_(pipeline, "circuit_size", lambda params: 0)
    setattr_(pipeline, "batch_job", batch_job)
    setattr_(pipeline, "prove_assignment", prove_assignment)
    setattr_(l1, "groth16_checker", checker)


def child_prelude() -> str:
    """Python source a child process runs first (empty with ``ZKR_REAL_PROOFS``)."""
    return "import tests.node.standin as _s; _s.install(); " if enabled() else ""
