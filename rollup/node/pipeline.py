"""Proving sealed batches: keys per circuit shape, one Groth16 proof per batch, in parallel.

A batch of shape (B, D, M) is proven against ``circuits.batch.BatchCircuit(shape)``; its public
inputs are the triple the settlement layer forms::

    (old_root, new_root, commitment),  commitment = poseidon_sponge([old_root, new_root, *pubdata])

Keys live in ``<keys_root>/<circuit digest[:16]>/`` (``prover.keys`` layout plus snarkjs's
``verification_key.json``), so a key is found again by the circuit hash and a changed circuit
never meets a stale key. ``setup_shape`` runs the INSECURE single-party setup of ``prover.setup``
(toxic waste drawn from ``rng`` and discarded; development only).

Batches are independent proofs of consecutive transitions, so jobs run in any order on any
worker; only settlement is sequential. A job is plain data — ``(shape, keydir, number,
assignment)`` → ``prove_assignment`` → ``BatchProof`` — so it pickles to processes and Dask workers
alike. ``Prover`` runs jobs in this process (``workers=1``), in spawned local processes
(``workers=N``; spawned, never forked: a fork of a process whose numba threads ran can deadlock) or
on a Dask cluster (``scheduler``: an address or a ``distributed.Client``; its workers must share
the key directory's file system). The circuit and the prover are imported by the functions that
use them, so the rest of the application layer never loads them. ``prove_pending`` stores each
proof in the sequencer store the moment it finishes (its own SQL transaction), so a run killed
after k proofs keeps those k, and a batch that cannot be proven is reported without holding back
the others.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rollup.node.errors import NodeError
from rollup.store import Store

if TYPE_CHECKING:
    from circuits.batch import BatchShape

Progress = Callable[[str, int, int], None]
Job = tuple["BatchShape", str, int, dict[str, Any]]
INSECURE_SETUP = (
    "INSECURE single-party setup: whoever ran it could forge proofs (development and tests only)"
)

__all__ = [
    "INSECURE_SETUP",
    "BatchProof",
    "Prover",
    "ProvingRun",
    "batch_job",
    "circuit_size",
    "key_dir",
    "prove_assignment",
    "prove_pending",
    "proving_key",
    "setup_rollup",
    "setup_shape",
    "verifying_key_json",
]


def die_with_parent(parent: int) -> None:
    """A proving worker's initializer: the worker ends when the process that started it does
    (a ``kill -9`` of the node left its workers — ~0.9 GB each — running for good, blocked on
    their queue). Linux: the kernel's parent-death signal; everywhere: a daemon thread that
    polls the parent's pid once a second."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)

    if os.getppid() != parent:  # the parent died before the signal was armed
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


@dataclass(frozen=True)
class BatchProof:
    """A batch's proof as snarkjs JSON, its public signals and the time each phase took."""

    number: int
    proof: dict[str, Any]  #: proof.json
    public: tuple[int, int, int]  #: (old_root, new_root, commitment)
    witness_seconds: float
    prove_seconds: float


def key_dir(keys_root: str | Path, digest: str) -> Path:
    """Where the proving key of the circuit with ``digest`` lives, per key format version (a key
    directory of another format is never picked up as a cached key)."""
    from prover.keys import VERSION

    return Path(keys_root) / f"{digest[:16]}-v{VERSION}"


def setup_shape(
    shape: BatchShape, keys_root: str | Path, rng: Any = None, progress: Progress | None = None
) -> Path:
    """Make (or find) the proving key of ``shape`` under ``keys_root``; returns its directory.

    INSECURE single-party setup (``INSECURE_SETUP``); ``rng`` is the toxic-waste source
    (``prover.setup.SeededRandom`` in tests, ``secrets`` when None), never stored.
    """
    from circuits.batch import compile_batch
    from prover.keys import save_proving_key
    from prover.setup import setup

    compiled = compile_batch(shape)
    keydir = key_dir(keys_root, compiled.digest())
    if (keydir / "verification_key.json").exists():
        return keydir
    pk = setup(compiled.r1cs, rng=rng, progress=progress)
    save_proving_key(pk, keydir)
    return keydir


def setup_rollup(
    params: Any, keys_root: str | Path, rng: Any = None, progress: Progress | None = None
) -> Path:
    """``setup_shape`` of a rollup's ``RollupParams`` (its circuit shape)."""
    from rollup.circuit_input import shape_of

    return setup_shape(shape_of(params), keys_root, rng, progress)


def circuit_size(params: Any) -> int:
    """The number of constraints of a rollup's batch circuit."""
    from circuits.batch import compile_batch
    from rollup.circuit_input import shape_of

    return compile_batch(shape_of(params)).n_constraints


def verifying_key_json(keydir: str | Path) -> dict[str, Any]:
    """The snarkjs ``verification_key.json`` of a key directory."""
    from prover.artifacts import read_json

    return read_json(Path(keydir) / "verification_key.json")


def prove_assignment(
    shape: BatchShape,
    keydir: str | Path,
    number: int,
    assignment: dict[str, Any],
    rng: Any = None,
    progress: Progress | None = None,
) -> BatchProof:
    """Solve the batch circuit's witness from ``assignment`` and prove it (a worker's job)."""
    from circuits.batch import compile_batch
    from prover.artifacts import proof_to_json
    from prover.prove import prove

    compiled = compile_batch(shape)
    t0 = time.perf_counter()
    z = compiled.solve(assignment)
    t1 = time.perf_counter()
    pk = proving_key(keydir, compiled.r1cs)
    proof = prove(pk, z, rng=rng, progress=progress)
    t2 = time.perf_counter()
    public = tuple(compiled.public_signals(z))
    return BatchProof(number, proof_to_json(proof), public, t1 - t0, t2 - t1)  # type: ignore[arg-type]


#: the proving key this process loaded last: (key directory, identity of its header file) →
#: (the R1CS it was checked against, the key)
_KEY: dict[tuple[str, tuple[int, int, int]], tuple[Any, Any]] = {}
_KEY_LOCK = threading.Lock()


def proving_key(keydir: str | Path, r1cs: Any) -> Any:
    """The proving key in ``keydir``, checked against ``r1cs``, loaded once per process.

    Loading costs more than a small batch's proof leaves room for: the check that the key
    belongs to the circuit hashes every R1CS coefficient, and the QAP coefficient records are
    rebuilt (~1.5 s at B = 3, D = 8, M = 2, whose witness and proof take ~5 s).  A key directory
    is written once per shape by its setup; a setup run again replaces the header file (a new
    inode), so the key is loaded afresh; another R1CS object is checked again.  A missing header
    goes to ``load_proving_key`` for its error."""
    from prover.keys import HEADER, load_proving_key

    path = Path(keydir).resolve()
    try:
        st = (path / HEADER).stat()
    except OSError:
        return load_proving_key(keydir, r1cs, verify=False)
    ident = (str(path), (st.st_ino, st.st_mtime_ns, st.st_size))
    with _KEY_LOCK:  # threads of one process (a node's prover) load a key once, in turn
        entry = _KEY.get(ident)
        if entry is None:
            entry = (r1cs, load_proving_key(keydir, r1cs, verify=False))
            _KEY.clear()  # one at a time: a prover proves one rollup's shape
            _KEY[ident] = entry
        checked, pk = entry
        if checked is not r1cs:
            pk.check_circuit(r1cs)
            _KEY[ident] = (r1cs, pk)
        return pk


def batch_job(store: Store, keydir: str | Path, number: int) -> Job:
    """The proving job of stored batch ``number`` (its witness is checksum-checked on read)."""
    from rollup.circuit_input import batch_assignment, shape_of

    shape = shape_of(store.params())
    return (shape, str(keydir), number, batch_assignment(store.batch(number), shape))


class Prover:
    """Where proving jobs run: this process, local processes, or a Dask cluster (see module)."""

    def __init__(self, workers: int = 1, scheduler: Any = None, in_process: bool = True) -> None:
        if workers < 1:
            raise NodeError(detail=f"workers must be ≥ 1, got {workers}")
        self.workers = workers
        self._client: Any = None
        self._own_client = False
        self._pool: ProcessPoolExecutor | None = None
        if scheduler is not None:
            from distributed import Client

            self.backend = "dask"
            self._own_client = not isinstance(scheduler, Client)
            self._client = Client(scheduler, timeout=30) if self._own_client else scheduler
        elif workers == 1 and in_process:
            self.backend = "local"
        else:
            self.backend = "processes"
            self._pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=get_context("spawn"), initializer=die_with_parent,
                initargs=(os.getpid(),),
            )  # fmt: skip

    def submit(self, job: Job) -> Any:
        """A future of ``prove_assignment(*job)`` (local: already finished)."""
        if self._client is not None:
            return self._client.submit(prove_assignment, *job, pure=False)
        if self._pool is not None:
            return self._pool.submit(prove_assignment, *job)
        future: Future = Future()
        try:
            future.set_result(prove_assignment(*job))
        except Exception as e:  # reported per batch by the caller
            future.set_exception(e)
        return future

    def completed(self, futures: list[Any]) -> Iterable[Any]:
        """``futures`` in the order they finish."""
        if self._client is not None:
            from distributed import as_completed as dask_completed

            return dask_completed(futures)
        return as_completed(futures)

    def close(self, cancel: bool = False) -> None:
        """Release the workers; ``cancel`` also stops queued and running jobs (their batches
        stay unproven and are proven again later)."""
        if self._pool is not None:
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
            if cancel:  # running jobs are not cancellable: stop their processes
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.join(timeout=10)
            self._pool = None
        if self._client is not None and self._own_client:
            self._client.close()
        self._client = None


@dataclass(frozen=True)
class ProvingRun:
    """Proofs made and stored (in finishing order), batches that failed, and the wall time."""

    proofs: tuple[BatchProof, ...]
    failures: tuple[tuple[int, str], ...]  #: (batch number, reason)
    seconds: float
    workers: int
    backend: str  #: "local", "processes" or "dask"


def prove_pending(
    store: Store,
    keydir: str | Path,
    numbers: Iterable[int],
    workers: int = 1,
    scheduler: Any = None,
    progress: Progress | None = None,
) -> ProvingRun:
    """Prove batches ``numbers`` and store each proof as soon as it is made."""
    report = progress or (lambda step, done, total: None)
    numbers = list(numbers)
    prover = Prover(workers, scheduler)
    t0 = time.perf_counter()
    proofs: list[BatchProof] = []
    failures: list[tuple[int, str]] = []

    def finish(n: int, future: Any) -> None:
        try:
            proof: BatchProof = future.result()
        except Exception as e:  # one unprovable batch does not hold back the others
            failures.append((n, f"{type(e).__name__}: {e}"))
        else:
            store.put_proof(n, proof.proof)
            proofs.append(proof)

    def submit(n: int) -> Any:
        try:
            return prover.submit(batch_job(store, keydir, n))
        except Exception as e:  # a batch that cannot even be read or assigned
            failures.append((n, f"{type(e).__name__}: {e}"))
            return None

    try:
        if prover.backend == "local":
            for k, n in enumerate(numbers):
                report(f"batch {n}", k, len(numbers))
                future = submit(n)
                if future is not None:
                    finish(n, future)
        else:
            futures = {f: n for n in numbers if (f := submit(n)) is not None}
            for done, future in enumerate(prover.completed(list(futures)), start=1):
                finish(futures[future], future)
                report(f"batch {futures[future]}", done, len(futures))
    finally:
        prover.close(cancel=True)
    report("done", len(numbers), len(numbers))
    return ProvingRun(
        tuple(proofs), tuple(sorted(failures)), time.perf_counter() - t0, workers, prover.backend
    )
