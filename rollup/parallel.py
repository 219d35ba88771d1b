"""Proving pending batches in parallel (DESIGN §8): local processes or a Dask cluster.

Batches are independent proofs of consecutive transitions — batch n proves
``root_n → root_{n+1}`` with its own public inputs — so the jobs can run in any order on any
worker; only settlement is sequential (``Rollup.settle`` submits in batch order). A job is plain
data: ``(shape, keydir, number, assignment)`` → ``rollup.proving.prove_assignment`` →
``BatchProof``. ``workers=1`` proves in this process (with progress callbacks);
``workers=N`` uses a ``concurrent.futures.ProcessPoolExecutor``; ``scheduler="tcp://HOST:PORT"``
(or a ``distributed.Client``) submits the same function to a Dask distributed cluster, whose
workers must share the key directory's file system (a local cluster does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from rollup.circuit_input import batch_assignment, shape_of
from rollup.node import NodeError, Rollup
from rollup.proving import BatchProof, prove_assignment

#: workers are spawned, never forked: a fork of a process whose numba threads already ran can
#: deadlock, and a spawned worker imports only what a job needs
_SPAWN = get_context("spawn")

Progress = Callable[[str, int, int], None]

__all__ = ["ProvingRun", "prove_pending"]


@dataclass(frozen=True)
class ProvingRun:
    """Proofs made (by batch number) and the wall-clock time of the run."""

    proofs: tuple[BatchProof, ...]
    seconds: float
    workers: int
    backend: str  #: "local", "processes" or "dask"

    @property
    def per_minute(self) -> float:
        return 60 * len(self.proofs) / self.seconds if self.seconds else 0.0


def _jobs(node: Rollup, numbers: Iterable[int]) -> list[tuple]:
    shape = shape_of(node.params)
    store = node.seq.store
    return [(shape, str(node.keydir), n, batch_assignment(store.batch(n), shape)) for n in numbers]


def prove_pending(
    node: Rollup,
    workers: int = 1,
    scheduler: Any = None,
    progress: Progress | None = None,
    numbers: Iterable[int] | None = None,
) -> ProvingRun:
    """Prove every sealed batch without a proof (or ``numbers``) and store the proofs."""
    if workers < 1:
        raise NodeError(detail=f"workers must be ≥ 1, got {workers}")
    jobs = _jobs(node, node.unproven() if numbers is None else numbers)
    report = progress or (lambda step, done, total: None)
    t0 = time.perf_counter()
    results: list[BatchProof] = []
    if scheduler is not None:
        backend = "dask"
        results = _dask(jobs, scheduler, report)
    elif workers == 1 or len(jobs) <= 1:
        backend = "local"
        for k, job in enumerate(jobs):
            report(f"batch {job[2]}", k, len(jobs))
            results.append(prove_assignment(*job, progress=None))
        report("done", len(jobs), len(jobs))
    else:
        backend = "processes"
        with ProcessPoolExecutor(max_workers=workers, mp_context=_SPAWN) as pool:
            futures = [pool.submit(prove_assignment, *job) for job in jobs]
            for k, future in enumerate(as_completed(futures)):
                results.append(future.result())
                report(f"batch {results[-1].number}", k + 1, len(jobs))
    results.sort(key=lambda p: p.number)
    for p in results:
        node.seq.store.put_proof(p.number, p.proof)
    return ProvingRun(tuple(results), time.perf_counter() - t0, workers, backend)


def _dask(jobs: list[tuple], scheduler: Any, report: Progress) -> list[BatchProof]:
    """Submit the jobs to a Dask cluster (an address or an existing ``distributed.Client``)."""
    from distributed import Client
    from distributed import as_completed as dask_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout=30)
    try:
        futures = [client.submit(prove_assignment, *job, pure=False) for job in jobs]
        out: list[BatchProof] = []
        for k, future in enumerate(dask_completed(futures)):
            out.append(future.result())
            report(f"batch {out[-1].number}", k + 1, len(jobs))
        return out
    finally:
        if client is not scheduler:
            client.close()
