"""benchmarks.ab_native: arguments and revisions refused with one line; a real A/B (slow: two
worktrees compile their numba caches) writes its JSON and leaves no worktree behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.ab_native", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)  # fmt: skip


def test_unknown_revision_and_bad_arguments_refused() -> None:
    bad = run("no-such-revision", "HEAD")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        f"error: 'no-such-revision' is not a commit of {ROOT}"
    ]
    usage = run("HEAD", "HEAD", "--rounds", "0")
    assert usage.returncode == 2 and "--rounds must be ≥ 1" in usage.stderr


@pytest.mark.slow
def test_head_against_itself(tmp_path: Path) -> None:
    before = subprocess.run(["git", "-C", str(ROOT), "worktree", "list"], capture_output=True,
                            text=True, check=True).stdout  # fmt: skip
    done = run("HEAD", "HEAD", "--rounds", "1", "--trades", "16", "--patterns", "random",
               "--out", str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "ab_native.json").read_text())
    assert result["old"] == result["new"] and set(result["ratios"]) == {"random"}
    assert all(r["min"] > 0 for r in result["ratios"]["random"].values())
    assert (tmp_path / "ab_native.png").stat().st_size > 0
    after = subprocess.run(["git", "-C", str(ROOT), "worktree", "list"], capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    assert after == before
