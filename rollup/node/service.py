"""The long-running node (``zkr node``): seal by size or time, prove in the background, settle in
order, and serve the HTTP API (``rollup.node.api``) until SIGTERM.

One thread owns the ``Rollup`` (SQLite connections belong to the thread that opened them, and one
owner means no two requests interleave inside a transaction): every request and every step of the
loop runs there through ``NodeService.call``. The node holds the directory's lock for its lifetime,
so CLI verbs that would write are told to use the API instead.

The loop, every ``tick_seconds``:

1. sweep positions in settled option series into collateral (``Rollup.settle_options``), then
   seal a batch when the pending work (mempool + unconsumed L1 requests) fills one, or when any
   work has waited ``batch_seconds`` since the last seal — not while frozen; a backlog that fills
   several is sealed as one group (``Sequencer.seal_batches``: one SQL transaction);
2. hand every unproven batch that is not already being proven to the prover (spawned local
   processes, or Dask when a scheduler is given); each proof is stored as soon as it arrives, in its
   own transaction; a batch whose proof failed is retried after ``retry_seconds``;
3. settle the proven batches in order;
4. record a sample (time, sealed, settled, unproven, mempool) for the status page's chart.

Graceful shutdown (SIGTERM, SIGINT): stop accepting connections, let requests in flight finish,
cancel proving jobs (their batches stay unproven and are proven after the restart), close the
stores, release the lock. Every accepted transaction was committed before its request answered, so
nothing accepted is lost — and a SIGKILL loses nothing accepted either.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rollup.node import pipeline
from rollup.node.facade import Rollup
from rollup.node.files import NODE_HOLDER
from rollup.node.pipeline import Prover
from rollup.sequencer import GROUP

__all__ = ["NodeConfig", "NodeService", "serve"]

T = TypeVar("T")
HISTORY = 2000  #: samples kept for the chart


@dataclass(frozen=True)
class NodeConfig:
    host: str = "127.0.0.1"
    port: int = 8700  #: 0: any free port
    batch_seconds: float = 10.0  #: seal a non-full batch after pending work waited this long
    workers: int = 1  #: proving processes
    scheduler: str | None = None  #: Dask scheduler address; None: local processes
    tick_seconds: float = 0.25
    retry_seconds: float = 30.0  #: wait before proving a batch again after a failure


class NodeService:
    """The node's state and loop, independent of HTTP (see the module docstring)."""

    def __init__(
        self, path: str | Path, config: NodeConfig, clock: Callable[[], float] = time.time
    ):
        self.config = config
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="zkr-state")
        holder = f"{NODE_HOLDER} starting"
        self.node: Rollup = self._executor.submit(Rollup, path, clock, True, holder, 5.0).result()
        self.prover: Prover | None = None
        self.in_flight: dict[int, Any] = {}
        self.failures: dict[int, tuple[float, str]] = {}  #: batch → (when, reason)
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self.events: deque[str] = deque(maxlen=200)
        self.last_seal = time.monotonic()
        self._stopping = threading.Event()

    # -- the state thread ----------------------------------------------------------------------
    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the state thread and await its result."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the state thread and wait for it (from any other thread)."""
        return self._executor.submit(fn, *args).result()

    def start_prover(self) -> None:
        self.prover = Prover(self.config.workers, self.config.scheduler, in_process=False)

    def tick(self) -> None:
        """One round of the loop (on the state thread)."""
        if self._stopping.is_set():
            return
        node = self.node
        if not node.l1.frozen:
            for account, _ in node.settle_options():
                self.events.append(f"account {account}: settled options swept")
            work = node.pending_work()
            due = time.monotonic() - self.last_seal >= self.config.batch_seconds
            if work >= node.params.batch_slots or (work and due):
                # a backlog of full batches goes in one SQL transaction (GROUP at most)
                full = min(GROUP, max(1, work // node.params.batch_slots))
                for batch in node.seal_batches(full):
                    self.events.append(f"batch {batch.number} sealed")
                self.last_seal = time.monotonic()
        self._prove()
        for n in node.settle():
            self.events.append(f"batch {n} settled")
        self._sample()

    def _prove(self) -> None:
        if self.prover is None:
            return
        now = time.monotonic()
        for n in self.node.unproven():
            failed = self.failures.get(n)
            if n in self.in_flight or (failed and now - failed[0] < self.config.retry_seconds):
                continue
            try:
                future = self.prover.submit(
                    pipeline.batch_job(self.node.seq.store, self.node.keydir, n)
                )
            except Exception as e:  # a batch that cannot be read: reported, retried later
                self.failures[n] = (now, f"{type(e).__name__}: {e}")
                continue
            self.in_flight[n] = future
            future.add_done_callback(lambda f, n=n: self._proof_done(n, f))

    def _proof_done(self, number: int, future: Any) -> None:
        """(prover thread) hand the finished job to the state thread."""
        if not self._stopping.is_set():
            self._executor.submit(self._store_proof, number, future)

    def _store_proof(self, number: int, future: Any) -> None:
        self.in_flight.pop(number, None)
        try:
            proof = future.result()
        except Exception as e:  # the batch stays unproven and is retried
            self.failures[number] = (time.monotonic(), f"{type(e).__name__}: {e}")
            self.events.append(f"batch {number} could not be proven: {e}")
            return
        self.node.seq.store.put_proof(number, proof.proof)
        self.failures.pop(number, None)
        self.events.append(f"batch {number} proven in {proof.prove_seconds:.1f} s")

    def _sample(self) -> None:
        head, settled = self.node.head(), self.node.l1.batch_count
        last = self.history[-1] if self.history else None
        sample = {
            "time": round(time.time(), 3),
            "sealed": head,
            "settled": settled,
            "proven": head - len(self.node.unproven()),
            "mempool": len(self.node.seq.pending),
        }
        changed = last is None or any(last[k] != sample[k] for k in sample if k != "time")
        if changed or time.time() - last["time"] > 5:  # type: ignore[index]
            self.history.append(sample)

    def info(self) -> dict[str, Any]:
        """The node's own status: configuration, jobs in flight, failures, recent events."""
        return {
            "batch_seconds": self.config.batch_seconds,
            "workers": self.config.workers,
            "backend": None if self.prover is None else self.prover.backend,
            "proving": sorted(self.in_flight),
            "failures": {str(n): reason for n, (_, reason) in sorted(self.failures.items())},
            "events": list(self.events)[-20:],
        }

    def close(self) -> None:
        """Stop the loop, cancel proving jobs, close the stores and release the lock."""
        self._stopping.set()
        if self.prover is not None:
            self.prover.close(cancel=True)
        self._executor.submit(self.node.close).result()
        self._executor.shutdown(wait=True)


async def _run(service: NodeService, echo: Callable[[str], None]) -> None:
    from aiohttp import web

    from rollup.node.api import make_app

    config = service.config
    runner = web.AppRunner(make_app(service), handle_signals=False, shutdown_timeout=10.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    port = runner.addresses[0][1]
    url = f"http://{config.host}:{port}"
    await service.call(service.node.lock.relabel, f"{NODE_HOLDER} {url}")
    echo(f"zkr node serving {service.node.path} on {url} (status page {url}/)")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    service.start_prover()
    try:
        while not stop.is_set():
            try:
                await service.call(service.tick)
            except Exception as e:  # reported, the node keeps serving (e.g. a rejected batch)
                service.events.append(f"{type(e).__name__}: {e}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), config.tick_seconds)
    finally:
        echo("zkr node stopping: finishing requests in flight")
        await runner.cleanup()
        await loop.run_in_executor(None, service.close)
        echo("zkr node stopped")


def serve(
    path: str | Path,
    config: NodeConfig,
    echo: Callable[[str], None] = print,
    clock: Callable[[], float] = time.time,
) -> None:
    """Run the node in this process until SIGTERM or SIGINT."""
    service = NodeService(path, config, clock)
    try:
        asyncio.run(_run(service, echo))
    except BaseException:
        if not service._stopping.is_set():
            service.close()
        raise
