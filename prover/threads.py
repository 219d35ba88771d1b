"""How many threads the kernels use, and how work is handed to them: the one place that decides.

A kernel that splits its work statically (half to each of two threads) runs as fast as its slowest
thread; on a machine where another process keeps one core busy, that thread gets a fraction of a
core and the whole call waits for it. And thread pools that spin at barriers (OpenMP's default
wait policy) burn the time slices the busy core could have given them. So the kernels here

- cut their work into many more pieces than threads (one MSM window, one block of NTT
  butterflies) and let idle workers pull the next piece (``run_tasks``): a slowed thread simply
  takes fewer pieces, with no barrier to spin at;
- run the pieces on plain Python threads calling ``nogil`` numba functions, which block passively
  in the pool's queue when idle;
- use one worker per core this process may run on (``os.sched_getaffinity``), unless
  ``ZKR_THREADS`` says otherwise (``worker_count``).

``passive_wait_environment()`` gives the environment variables that make numba's OpenMP / TBB
threading layers wait passively too (``OMP_WAIT_POLICY=passive``, ``KMP_BLOCKTIME=0``), for code
that uses ``prange``; they must be set before numba starts its threading layer.

Reference: Blumofe and Leiserson, "Scheduling Multithreaded Computations by Work Stealing" (1999)
for why dynamic hand-out keeps a slowed worker from holding the others back; the GNU OpenMP manual,
``OMP_WAIT_POLICY``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

ENV_THREADS = "ZKR_THREADS"


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def worker_count(requested: int | None = None) -> int:
    """Threads for one kernel call: ``requested`` if given, else ``ZKR_THREADS``, else one per
    available core. A malformed ``ZKR_THREADS`` raises ValueError naming it."""
    if requested is not None:
        return max(1, int(requested))
    env = os.environ.get(ENV_THREADS)
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"{ENV_THREADS}={env!r} is not an integer") from None
    return available_cores()


def run_tasks(fn: Callable[[T], R], tasks: Sequence[T], threads: int | None = None) -> list[R]:
    """``[fn(t) for t in tasks]``, the tasks pulled one at a time by ``worker_count(threads)``
    workers (in order of the list; results in task order). One worker: a plain loop."""
    n = min(worker_count(threads), len(tasks))
    if n <= 1:
        return [fn(t) for t in tasks]
    with ThreadPoolExecutor(n, thread_name_prefix="zkr") as pool:
        return list(pool.map(fn, tasks))


def chunks(n: int, pieces: int) -> list[tuple[int, int]]:
    """[lo, hi) bounds cutting range(n) into ``pieces`` near-equal parts (empty ones dropped)."""
    bounds = [n * k // pieces for k in range(pieces + 1)]
    return [(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi > lo]


def passive_wait_environment() -> dict[str, str]:
    """Environment for numba's OpenMP / TBB layers so idle threads sleep instead of spinning."""
    return {"OMP_WAIT_POLICY": "passive", "KMP_BLOCKTIME": "0", "GOMP_SPINCOUNT": "0"}
