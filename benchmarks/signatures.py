"""EdDSA-Poseidon verification, what admitting an order costs: the kernels beside the reference.

    python -m benchmarks.signatures [--count 200] [--rounds 5] [--out bench_out]

``count`` distinct signatures (random keys and messages, each key's subgroup check included the
first time it is seen, as a node meets a new account) are verified per round by
`prover.eddsa_fast.verify` and by `protocol.eddsa.verify` (pure Python), interleaved round by
round; then the kernels again on the same keys (their subgroup checks memoised, the steady state
of a node whose accounts sign again and again).  Every signature must verify on both paths and a
tampered one must fail on both (checked once, untimed).  The kernels are warmed up first.
Reports signatures/s per way (median of the rounds) and the ratio; writes
bench_out/signatures.json and bench_out/signatures.png.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence

from benchmarks.common import out_option, plot, write_json
from protocol import eddsa
from protocol.fields import curve_order as r
from prover import eddsa_fast

Item = tuple[tuple[int, int], int, eddsa.Signature]


def signed(count: int, seed: int) -> list[Item]:
    """``count`` (public key, message, signature) triples on fresh keys."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        key, msg = rng.randbytes(32), rng.randrange(r)
        out.append((eddsa.derive_public_key(key), msg, eddsa.sign(key, msg)))
    return out


def _rate(verify: Callable[..., bool], items: Sequence[Item]) -> float:
    t = time.perf_counter()
    for pk, msg, sig in items:
        if not verify(pk, msg, sig):
            raise AssertionError("a genuine signature failed to verify")
    return len(items) / (time.perf_counter() - t)


def run(count: int, rounds: int, seed: int = 1) -> dict:
    warm = signed(2, seed + 1000)
    for pk, msg, sig in warm:
        bad = eddsa.Signature(sig.r8_x, sig.r8_y, (sig.s + 1) % eddsa.l)
        assert eddsa_fast.verify(pk, msg, sig) and not eddsa_fast.verify(pk, msg, bad)
        assert eddsa.verify(pk, msg, sig) and not eddsa.verify(pk, msg, bad)
    samples: dict[str, list[float]] = {"kernels_new_keys": [], "reference": [], "kernels": []}
    for k in range(rounds):
        items = signed(count, seed + k)
        samples["kernels_new_keys"].append(_rate(eddsa_fast.verify, items))
        samples["reference"].append(_rate(eddsa.verify, items))
        samples["kernels"].append(_rate(eddsa_fast.verify, items))
    out: dict = {"count": count, "rounds": rounds}
    for name, xs in samples.items():
        out[f"{name}_per_s"] = statistics.median(xs)
        out[f"{name}_per_s_all"] = [round(x) for x in xs]
    out["ratio_kernels_over_reference"] = out["kernels_per_s"] / out["reference_per_s"]
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="signatures per round")
    parser.add_argument("--rounds", type=int, default=5)
    out_option(parser)
    args = parser.parse_args(argv)
    if args.count < 1 or args.rounds < 1:
        parser.error("--count and --rounds must be at least 1")
    result = run(args.count, args.rounds)
    print(json.dumps(result))
    write_json("signatures", result, args.out)
    series = {
        name: [(k + 1, x) for k, x in enumerate(result[f"{name}_per_s_all"])]
        for name in ("kernels", "kernels_new_keys", "reference")
    }
    plot("signatures", series, xlabel="round", ylabel="signatures / s", logx=False,
         title="EdDSA-Poseidon verify", out_dir=args.out)  # fmt: skip


if __name__ == "__main__":
    main()
