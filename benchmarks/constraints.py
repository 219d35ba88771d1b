"""Constraint counts of our gadgets beside circomlib's (``python -m benchmarks.constraints``).

Each gadget is defined alone on a fresh ``API`` with private inputs, and its cost is the number
of R1CS rows it adds (no output rows). Writes ``bench_out/constraints.json`` and prints a Markdown
table for README. ``--solve`` also times the witness solver on a ≈250k-row Poseidon chain.

circomlib references (non-linear constraints, circom ``--O2``):

- Poseidon(2) = 240, a Poseidon(2) Merkle level with its mux = 242, depth-16 path = 3,872: pinned
  in the project brief (snarkjs ``r1cs info`` on the shipped merkle circuits).
- Poseidon(n): circomlib ``circuits/poseidon.circom`` spends 3 rows per S-box (x², x⁴, x⁵) and
  has 8·t + R_P S-boxes (R_P from ``N_ROUNDS_P`` = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60,
  65, 70, 60, 64, 68]), minus the round-0 capacity S-box, which ``--O2`` folds to a constant:
  3·(8t + R_P − 1). This gives the pinned 240 for t = 3 and 213 / 321 / 609 for 1 / 5 / 16 inputs.
- Depth-32 path: 32 × 242 = 7,744 (the same level template).
- Num2Bits(64) (circomlib ``circuits/bitify.circom``): 64 booleanity rows; its recomposition row
  is linear and removed by ``--O2``.
- EdDSAPoseidonVerifier (``circuits/eddsaposeidon.circom``): no measured count was found with the
  search tools (and circom is not installed here). Reading its templates (iden3/circomlib
  35e54ea): Num2Bits(253) 253 + CompConstant 127 + Num2Bits(135) + 1, Poseidon(5) 321,
  Num2Bits_strict 254 + 262, 3 BabyDbl 18, IsZero 3, EscalarMulAny(254) ≈ 252·9 + 40 (Montgomery
  double 4 + add 3 + mux 2 per bit), BabyAdd 6, EscalarMulFix(253) ≈ 85·7, ForceEqualIfEnabled 6
  gives ≈ 4,350; reported as "≈4,350 (est.)", not as a pinned number.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from circuits.api import API

Gadget = Callable[[API], None]


def _poseidon(n: int) -> Gadget:
    from circuits.gadgets.poseidon import poseidon

    def build(api: API) -> None:
        poseidon(api, api.private_input("x", n))

    return build


def _merkle(depth: int) -> Gadget:
    from circuits.gadgets.merkle import merkle_root

    def build(api: API) -> None:
        leaf = api.private_input("leaf")
        merkle_root(api, leaf, api.private_input("bits", depth), api.private_input("sib", depth))

    return build


def _merkle_update(depth: int) -> Gadget:
    from circuits.gadgets.merkle import merkle_update

    def build(api: API) -> None:
        old, new = api.private_input("old"), api.private_input("new")
        merkle_update(
            api, old, new, api.private_input("bits", depth), api.private_input("sib", depth)
        )

    return build


def _eddsa(api: API) -> None:
    from circuits.gadgets.eddsa import eddsa_poseidon_verify

    a, m, sig = api.private_input("A", 2), api.private_input("M"), api.private_input("sig", 3)
    eddsa_poseidon_verify(api, (a[0], a[1]), m, (sig[0], sig[1], sig[2]))


def _range64(api: API) -> None:
    api.range_check(api.private_input("x"), 64)


def _strict254(api: API) -> None:
    api.to_bits(api.private_input("x"), 254)


#: (name, builder, circomlib count or None, where circomlib's number comes from)
CASES: list[tuple[str, Gadget, int | None, str]] = [
    ("Poseidon(1)", _poseidon(1), 213, "3·(8t+R_P−1), poseidon.circom"),
    ("Poseidon(2)", _poseidon(2), 240, "pinned"),
    ("Poseidon(5)", _poseidon(5), 321, "3·(8t+R_P−1), poseidon.circom"),
    ("Poseidon(16)", _poseidon(16), 609, "3·(8t+R_P−1), poseidon.circom"),
    ("Merkle level (Poseidon(2) + mux)", _merkle(1), 242, "pinned"),
    ("Merkle path, depth 16", _merkle(16), 3872, "pinned"),
    ("Merkle path, depth 32", _merkle(32), 7744, "32 × 242"),
    ("Merkle single-leaf update, depth 16", _merkle_update(16), None, "—"),
    ("EdDSA-Poseidon verify", _eddsa, None, "≈4,350, estimated from its templates"),
    ("64-bit range check", _range64, 64, "Num2Bits(64), bitify.circom"),
    (
        "254-bit strict decomposition",
        _strict254,
        None,
        "≈516 (Num2Bits_strict: 254 + CompConstant 262)",
    ),
]


def count(build: Gadget) -> int:
    """Rows a gadget adds to a fresh API."""
    api = API()
    build(api)
    return len(api.rows)


def solver_timing(n_hashes: int = 1042) -> dict[str, float]:
    """Build, compile and solve a chain of Poseidon(2) hashes (≈240 rows each)."""
    from circuits.compiled import compile_api
    from circuits.gadgets.poseidon import poseidon

    t0 = time.perf_counter()
    api = API()
    h, k = api.private_input("x", 2)
    for i in range(n_hashes):
        h = poseidon(api, [h, k], f"h{i}")
    compiled = compile_api(api)
    t1 = time.perf_counter()
    c0 = time.process_time()
    compiled.solve({"x": [1, 2]})
    t2, c1 = time.perf_counter(), time.process_time()
    return {
        "constraints": compiled.n_constraints,
        "build_s": t1 - t0,
        "solve_s": t2 - t1,
        "solve_cpu_s": c1 - c0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench_out/constraints.json")
    parser.add_argument("--solve", action="store_true", help="also time the 250k-row solver")
    args = parser.parse_args()
    rows = []
    for name, build, circomlib, source in CASES:
        rows.append(
            {"gadget": name, "ours": count(build), "circomlib": circomlib, "source": source}
        )
    result: dict = {"constraints": rows}
    if args.solve:
        result["solver"] = solver_timing()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print("| gadget | ours | circomlib | circomlib source |")
    print("|---|---:|---:|---|")
    for r in rows:
        theirs = "n/a" if r["circomlib"] is None else f"{r['circomlib']:,}"
        print(f"| {r['gadget']} | {r['ours']:,} | {theirs} | {r['source']} |")
    if args.solve:
        s = result["solver"]
        print(
            f"\nsolver: {s['constraints']:,} constraints, build {s['build_s']:.1f} s, "
            f"solve {s['solve_s']:.2f} s wall, {s['solve_cpu_s']:.2f} s CPU"
        )


if __name__ == "__main__":
    main()
