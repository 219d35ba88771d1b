"""Same-machine A/B of native throughput between two git revisions, runs interleaved.

    python -m benchmarks.ab_native OLD NEW [--rounds 4] [--trades 800] [--depth 16]
        [--patterns adjacent,random,spread] [--busy N] [--out bench_out]

This machine's speed drifts by ±25 % over minutes, so two tables measured at different times
say little.  Each revision is checked out into a temporary ``git worktree``; after one warm-up
run each (numba compiles into that worktree's cache), ``python -m benchmarks.native`` runs
``--rounds`` times per revision, alternating OLD, NEW, OLD, NEW, … with one timed repeat per
run.  Reported per pattern and way (batched, sealed): NEW/OLD per round, their median, min and
max.  ``--busy N`` keeps N CPU-bound processes running through the timed rounds (not the
warm-up), the same for both revisions.  Writes bench_out/ab_native.json and
bench_out/ab_native.png; the worktrees are removed.
Both revisions must have ``benchmarks/native.py`` with ``--repeat`` and ``--out``; an older
one fails with its own usage message.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WAYS = ("batched", "sealed")


@contextmanager
def busy_cores(n: int) -> Iterator[None]:
    """``n`` CPU-bound processes (``while True: pass``) for the block, started half a second
    before it (so the policy's measurement sees them), killed after."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        if hogs:
            time.sleep(0.5)
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _run(tree: Path, trades: int, depth: int, patterns: str, out: Path) -> dict[str, dict]:
    """One run of benchmarks.native in ``tree``: {pattern: {way: trades/s}}."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "benchmarks.native", "--trades", str(trades), "--repeat", "1",
           "--depths", str(depth), "--patterns", patterns, "--out", str(out)]  # fmt: skip
    subprocess.run(cmd, cwd=tree, env=env, check=True, capture_output=True, text=True)
    runs = json.loads((out / "native.json").read_text())["runs"]
    return {r["pattern"]: {w: r[f"{w}_trades_per_s"] for w in WAYS} for r in runs}


def compare(
    old: str, new: str, rounds: int, trades: int, depth: int, patterns: str, busy: int = 0
) -> dict:
    revs = {}
    for key, name in (("old", old), ("new", new)):
        try:
            revs[key] = _git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
        except subprocess.CalledProcessError:
            raise SystemExit(f"error: {name!r} is not a commit of {ROOT}") from None
    samples: dict[str, list[dict]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="zkr-ab-") as tmp:
        trees = {k: Path(tmp) / k for k in revs}
        try:
            for k, rev in revs.items():
                _git("worktree", "add", "--detach", str(trees[k]), rev)
            for k in revs:  # warm-up: compile the numba caches, not timed
                _run(trees[k], 40, depth, patterns, Path(tmp) / f"warm-{k}")
            with busy_cores(busy):
                for r in range(rounds):
                    for k in revs:
                        samples[k].append(
                            _run(trees[k], trades, depth, patterns, Path(tmp) / f"{k}{r}")
                        )
        finally:
            for tree in trees.values():
                if tree.exists():
                    _git("worktree", "remove", "--force", str(tree))
    ratios: dict[str, dict] = {}
    for pattern in samples["old"][0]:
        ratios[pattern] = {}
        for way in WAYS:
            per_round = [n[pattern][way] / o[pattern][way]
                         for o, n in zip(samples["old"], samples["new"], strict=True)]  # fmt: skip
            ratios[pattern][way] = {
                "median": statistics.median(per_round), "min": min(per_round),
                "max": max(per_round), "rounds": [round(x, 3) for x in per_round],
            }  # fmt: skip
    return {"old": revs["old"], "new": revs["new"], "trades": trades, "depth": depth,
            "busy_processes": busy, "samples": samples, "ratios": ratios}  # fmt: skip


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    patterns = list(result["ratios"])
    for k, way in enumerate(WAYS):
        for x, pattern in enumerate(patterns):
            r = result["ratios"][pattern][way]
            xs = x + (k - 0.5) * 0.35
            ax.bar(xs, r["median"], 0.35, color=f"C{k}", label=way if x == 0 else None)
            ax.scatter([xs] * len(r["rounds"]), r["rounds"], color="black", s=8, zorder=3)
    ax.axhline(1.0, color="grey", linestyle="--")
    ax.set_xticks(range(len(patterns)), patterns)
    ax.set_ylabel("NEW / OLD trades per second")
    ax.set_title(f"{result['new'][:8]} vs {result['old'][:8]}, D = {result['depth']}, "
                 f"{result['trades']} trades, median and rounds")  # fmt: skip
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--trades", type=int, default=800)
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--patterns", default="adjacent,random,spread")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes while timing")
    parser.add_argument("--out", type=Path, default=Path("bench_out"))
    args = parser.parse_args()
    if args.rounds < 1 or args.trades < 8:
        parser.error("--rounds must be ≥ 1 and --trades ≥ 8")
    try:
        result = compare(args.old, args.new, args.rounds, args.trades, args.depth, args.patterns,
                         args.busy)  # fmt: skip
    except subprocess.CalledProcessError as e:
        detail = (e.stderr or "").strip().splitlines()
        sys.exit(f"error: {' '.join(e.cmd[:4])} failed: {detail[-1] if detail else e}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ab_native.json").write_text(json.dumps(result, indent=1))
    plot(result, args.out / "ab_native.png")
    for pattern, ways in result["ratios"].items():
        print(pattern, "  ".join(
            f"{w} {r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})" for w, r in ways.items()
        ))  # fmt: skip


if __name__ == "__main__":
    main()
