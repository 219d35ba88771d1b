"""prover.threads (worker counts, dynamic hand-out) and prover.kernels.precompile (cold-cache
compilation in a second process): each behaviour with its negative twin."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prover import threads
from prover.kernels import msm, precompile


@given(st.integers(0, 10_000), st.integers(1, 64))
def test_chunks_cover_the_range_in_order(n: int, pieces: int) -> None:
    parts = threads.chunks(n, pieces)
    assert [x for lo, hi in parts for x in range(lo, hi)] == list(range(n))
    assert len(parts) == min(n, pieces) and all(hi > lo for lo, hi in parts)
    sizes = [hi - lo for lo, hi in parts]
    assert not sizes or max(sizes) - min(sizes) <= 1


def test_worker_count_from_argument_env_and_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(threads.ENV_THREADS, raising=False)
    assert threads.worker_count() == threads.available_cores() >= 1
    assert threads.worker_count(3) == 3 and threads.worker_count(0) == 1
    monkeypatch.setenv(threads.ENV_THREADS, "5")
    assert threads.worker_count() == 5 and threads.worker_count(2) == 2
    monkeypatch.setenv(threads.ENV_THREADS, "two")
    with pytest.raises(ValueError, match="ZKR_THREADS='two' is not an integer"):
        threads.worker_count()


def test_run_tasks_keeps_order_and_uses_several_threads() -> None:
    seen: set[int] = set()
    barrier = threading.Barrier(2, timeout=10)

    def work(i: int) -> int:
        seen.add(threading.get_ident())
        if i < 2:
            barrier.wait()  # only passes if two tasks run at the same time
        return i * i

    assert threads.run_tasks(work, list(range(20)), 2) == [i * i for i in range(20)]
    assert len(seen) == 2
    seen.clear()
    assert threads.run_tasks(lambda i: i + 1, [1, 2, 3], 1) == [2, 3, 4]
    assert seen == set()  # one worker: a plain loop, no pool
    assert threads.run_tasks(lambda i: i, [], 4) == []


def test_msm_is_the_same_with_one_or_two_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    from py_ecc import optimized_bn128 as bn

    from prover.kernels import convert

    pts = convert.g1_from_ints(
        [convert.g1_from_py_ecc(bn.multiply(bn.G1, k + 2)) for k in range(40)]
    )
    scalars = rng.integers(0, 2**62, size=(40, 4), dtype=np.uint64)
    one = msm.msm_g1(pts, scalars, threads=1)
    assert msm.msm_g1(pts, scalars, threads=2) == one
    monkeypatch.setenv(threads.ENV_THREADS, "3")
    assert msm.msm_g1(pts, scalars) == one
    scalars[0, 0] ^= np.uint64(1)
    assert msm.msm_g1(pts, scalars, threads=2) != one


def test_precompile_starts_nothing_on_a_warm_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    precompile.warm("prove")  # compiles or loads: the cache is warm afterwards
    assert precompile._cached(msm._window_task_g2)
    assert precompile.start("prove") is False
    precompile.wait("prove")  # nothing to wait for
    monkeypatch.setenv(precompile.ENV, "0")
    assert precompile.start("setup") is False
    with pytest.raises(ValueError, match="unknown phase 'verify'"):
        precompile.start("verify")


def test_precompile_poseidon_names_the_best_backends_kernels_and_skips_a_warm_cache() -> None:
    from prover.kernels import merkle_levels
    from prover.poseidon_engine import available_backends

    kernels = precompile._kernels("poseidon")
    levels = {"avx2": "levels_avx2", "ifma": "levels_ifma", "scalar": "levels_scalar"}
    assert getattr(merkle_levels, levels[available_backends()[0]]) in kernels
    precompile.warm("poseidon")  # compiles or loads: the cache is warm afterwards
    assert all(precompile._cached(k) for k in kernels)
    assert precompile.start("poseidon") is False


@pytest.mark.slow
def test_precompile_poseidon_fills_a_cold_cache(tmp_path) -> None:
    """Negative twin: with an empty cache the phase starts a child, and after it every kernel
    the phase names is cached (a second process finds them without compiling)."""
    import os
    import subprocess
    import sys

    code = (
        "from prover.kernels import precompile as p; assert p.start('poseidon'); "
        "p.wait('poseidon'); assert all(p._cached(k) for k in p._kernels('poseidon'))"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
