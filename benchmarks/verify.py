"""Groth16 verification in plain Python: the prepared key beside py_ecc's own pairing.

    python -m benchmarks.verify [DIR ...] [--repeat 7] [--out bench_out]

Each DIR holds snarkjs's ``verification_key.json``, ``public.json`` and ``proof.json`` (the
shipped circom vectors by default; ``zkr export --dir D N OUT`` writes a batch proof's, with the
batch circuit's three public inputs). Timed per DIR, interleaved round by round:

* ``verify`` — `verifier.groth16.verify` on a key prepared once (e(α, β) cached, the Miller-loop
  lines of γ and δ precomputed, fixed-base tables for the public-input combination), the way the
  settlement layer holds it: one live Miller loop (for B) and one final exponentiation per proof;
* ``verify_cold`` — the same on a freshly parsed key (the preparation included);
* ``verify_reference`` — `verifier.groth16.verify_reference`, py_ecc's pairing as is.

Wall and CPU (process time) medians; a tampered public input must give False on both paths
(checked once per DIR, not timed). Writes bench_out/verify.json and bench_out/verify.png.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.common import groth16_vector, out_option, plot, write_json
from protocol.fields import R
from verifier.groth16 import (
    parse_proof,
    parse_public_inputs,
    parse_verification_key,
    verify,
    verify_reference,
)

DEFAULT_DIRS = ("poseidon2_tiny", "merkle_n1_d16")


def _load(folder: Path) -> tuple[dict, list, dict]:
    return tuple(
        json.loads((folder / f).read_text())
        for f in ("verification_key.json", "public.json", "proof.json")
    )  # type: ignore[return-value]


def _timed(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    assert fn()
    return time.perf_counter() - w, time.process_time() - c


def run(folder: Path, repeat: int) -> dict:
    vk_json, public_json, proof_json = _load(folder)
    vk = parse_verification_key(vk_json)
    public = parse_public_inputs(public_json)
    proof = parse_proof(proof_json)
    assert verify(vk, public, proof)  # prepares vk (untimed warm-up)
    tampered = ((public[0] + 1) % R, *public[1:])
    assert not verify(vk, tampered, proof) and not verify_reference(vk, tampered, proof)
    ways = {
        "verify": lambda: verify(vk, public, proof),
        "verify_cold": lambda: verify(parse_verification_key(vk_json), public, proof),
        "verify_reference": lambda: verify_reference(vk, public, proof),
    }
    samples: dict[str, list[tuple[float, float]]] = {k: [] for k in ways}
    for _ in range(repeat):
        for name, fn in ways.items():
            samples[name].append(_timed(fn))
    out: dict = {"dir": str(folder), "n_public": len(public), "repeat": repeat}
    for name, xs in samples.items():
        out[f"{name}_ms"] = statistics.median(w for w, _ in xs) * 1e3
        out[f"{name}_cpu_ms"] = statistics.median(c for _, c in xs) * 1e3
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help="proof folders (default: shipped)")
    parser.add_argument("--repeat", type=int, default=7)
    out_option(parser)
    args = parser.parse_args()
    folders = args.dirs or [groth16_vector(name) for name in DEFAULT_DIRS]
    missing = [str(f) for f in folders if not (f / "proof.json").is_file()]
    if missing:
        parser.error(f"no proof.json in {', '.join(missing)}")
    results = []
    for folder in folders:
        results.append(run(folder, args.repeat))
        print(json.dumps(results[-1]))
    write_json("verify", {"runs": results}, args.out)
    series = {
        name: [(r["n_public"], r[f"{name}_ms"]) for r in results]
        for name in ("verify", "verify_cold", "verify_reference")
    }
    plot("verify", series, xlabel="public inputs", ylabel="ms (median)", logx=False,
         title="Groth16 verify in plain Python", out_dir=args.out)  # fmt: skip


if __name__ == "__main__":
    main()
