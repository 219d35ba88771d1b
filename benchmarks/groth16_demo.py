"""The Groth16 demo behind ``zkr groth16 demo``.

On the shipped circom circuit ``prover/vectors/groth16/poseidon2_tiny`` (out = Poseidon(a, b),
240 constraints), made by circom 2 and snarkjs 0.7.6:

1. insecure single-party setup (toxic waste from ``secrets`` unless an RNG is given, then dropped);
2. save the proving key and ``verification_key.json``, load the key back (checksums verified);
3. prove the shipped ``witness.wtns``; write ``proof.json`` / ``public.json`` in snarkjs's form;
4. verify with the settlement layer's verifier (``verifier.groth16``, py_ecc only): accepted;
   the same proof with public input + 1: rejected; snarkjs's own proof of the circuit: accepted.

Every step is timed. The first run on a machine includes numba's compilation of the kernels
(cached on disk afterwards). Returns a ``DemoReport``; the CLI only prints it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import groth16_vector
from prover.artifacts import proof_to_json, public_to_json, write_json
from prover.fields import R
from prover.iden3 import read_r1cs, read_wtns
from prover.keys import load_proving_key, save_proving_key
from prover.prove import prove
from prover.setup import setup
from verifier.groth16 import load_proof, load_public_inputs, load_verification_key, verify

Progress = Callable[[str, int, int], None]
CIRCUIT = "poseidon2_tiny"


@dataclass(frozen=True)
class DemoReport:
    """What the demo did: seconds per step and the three verification outcomes."""

    constraints: int
    n_public: int
    seconds: dict[str, float] = field(default_factory=dict)
    our_proof_accepted: bool = False
    tampered_proof_rejected: bool = False
    snarkjs_proof_accepted: bool = False

    @property
    def ok(self) -> bool:
        return (
            self.our_proof_accepted and self.tampered_proof_rejected and self.snarkjs_proof_accepted
        )


def run_demo(
    out_dir: str | Path | None = None,
    *,
    rng=None,
    progress: Progress | None = None,
    echo: Callable[[str], None] = print,
) -> DemoReport:
    """Setup + prove + verify on poseidon2_tiny, artifacts in ``out_dir`` (a temp dir if None)."""
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="zkr-demo-") as tmp:
            return _run(Path(tmp), rng, progress, echo)
    return _run(Path(out_dir), rng, progress, echo)


def _run(out: Path, rng, progress: Progress | None, echo: Callable[[str], None]) -> DemoReport:
    folder = groth16_vector(CIRCUIT)
    seconds: dict[str, float] = {}

    def step(name: str, fn, *args, **kwargs):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds[name] = time.perf_counter() - start
        return result

    r1cs = step("read .r1cs/.wtns", read_r1cs, folder / "circuit.r1cs")
    witness = read_wtns(folder / "witness.wtns")
    echo(f"circuit {CIRCUIT}: {r1cs.n_constraints} constraints, {r1cs.n_public} public signal(s)")
    echo("setup: INSECURE single-party setup (toxic waste from this process, then discarded)")
    pk = step("setup", setup, r1cs, rng=rng, progress=progress)
    keydir = out / "key"
    step("save key", save_proving_key, pk, keydir)
    pk = step("load key", load_proving_key, keydir, r1cs)
    proof = step("prove", prove, pk, witness, rng=rng, progress=progress)
    public = r1cs.public_signals(witness)
    write_json(proof_to_json(proof), out / "proof.json")
    write_json(public_to_json(public), out / "public.json")

    vk = load_verification_key(keydir / "verification_key.json")
    inputs = load_public_inputs(out / "public.json")
    ours = step("verify", verify, vk, inputs, load_proof(out / "proof.json"))
    tampered = verify(vk, [(inputs[0] + 1) % R], load_proof(out / "proof.json"))
    snarkjs_ok = verify(
        load_verification_key(folder / "verification_key.json"),
        load_public_inputs(folder / "public.json"),
        load_proof(folder / "proof.json"),
    )
    report = DemoReport(
        constraints=r1cs.n_constraints,
        n_public=r1cs.n_public,
        seconds=seconds,
        our_proof_accepted=ours,
        tampered_proof_rejected=not tampered,
        snarkjs_proof_accepted=snarkjs_ok,
    )
    for name, s in seconds.items():
        echo(f"  {name:<18} {s:8.3f} s")
    echo(f"our proof verifies:              {_yes(ours)}")
    echo(f"tampered public input rejected:  {_yes(not tampered)}")
    echo(f"snarkjs's proof verifies:        {_yes(snarkjs_ok)}")
    return report


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"
