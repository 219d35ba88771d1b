"""The one interface to Poseidon acceleration: backend objects with the same methods everywhere.

Poseidon is circomlib's (``poseidon.circom``; Grassi et al., "Poseidon: A New Hash Function for
Zero-Knowledge Proof Systems", USENIX Security 2021), defined in `protocol.poseidon`.  A
``PoseidonBackend`` is a frozen bundle of functions, shaped like `prover.engine.Engine`:

- ``hash(inputs, *, init_state=0) -> int``       Poseidon(inputs), 1..16 canonical Fr elements
- ``many(rows, *, threads=None) -> list[int]``   [Poseidon(row) for row in rows], one length
- ``many_nested(inner, outer, *, threads=None)`` [Poseidon([*o, Poseidon(i)])] (account leaves)
- ``path_nodes(leaf, index, siblings)``          nodes at levels 1..D of a Merkle path, where
  node' = Poseidon(node, sibling) if bit l of index is 0, else Poseidon(sibling, node)
- ``path_root(leaf, index, siblings) -> int``    the last of those (the leaf if D = 0)
- ``sponge(elements) -> int``                    h = 2^64 + n; h = Poseidon([h, *chunk]) per 15
- ``pair(left, right) -> int``                   a Merkle node, Poseidon(left, right)
- ``tree_update(depth, indices, leaves, stored, *, threads=None)``  a batch of leaf writes
  (leaf None: a read) applied in order to a Poseidon(2) tree; stored[k] = entry k's siblings
  before the batch.  Returns (each entry's siblings at its turn, {(level, index): final value}
  of every node written, level 0 = the leaves)

Every backend validates exactly like the reference and raises its ``PrimitiveError`` messages.
Backends (`prover.poseidon_fast` binds the numba ones):

- ``REFERENCE``: plain Python, `protocol.poseidon`; ``tree_update_reference`` writes one leaf at
  a time and hashes every path in full;
- ``SCALAR``: numba, one state at a time on 4×64-bit Montgomery limbs with mulx assembly; the
  tree hashes only the node versions someone reads, level by level (`prover.kernels.merkle_levels`);
- ``AVX2``: many-row hashing, account leaves and the tree levels four states at a time on AVX2
  lanes (`prover.kernels.poseidon_avx2`), the rest as ``SCALAR``;
- ``IFMA``: the same eight states at a time on AVX-512 IFMA lanes, single wide hashes spread over
  the lanes (`prover.kernels.poseidon_ifma`, `poseidon_wide`).

A numba backend exists only where numba compiles for a CPU with its instructions; asking for
another raises ``BackendUnavailableError``.  Choose one explicitly, ``get_backend("scalar")``, or
by capability, ``get_backend(None)`` = the best available (``available_backends()`` lists them,
fastest first).  The numba backends are built on first use.  ``threads_for(units)`` is the one
threading policy of their kernels (see its docstring).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from numba import get_num_threads

from protocol.errors import PrimitiveError
from protocol.poseidon import (
    merkle_path_nodes,
    poseidon_hash,
    poseidon_many,
    poseidon_many_nested,
    poseidon_sponge,
)
from prover.errors import ProverError

__all__ = [
    "CPU_ELSEWHERE",
    "REFERENCE",
    "BackendUnavailableError",
    "CpuElsewhere",
    "PoseidonBackend",
    "TreeUpdate",
    "available_backends",
    "check_tree_shape",
    "get_backend",
    "threads_for",
    "tree_update_reference",
]

#: (each entry's siblings at its turn, bottom-up; {(level, index): final value})
TreeUpdate = tuple[list[tuple[int, ...]], dict[tuple[int, int], int]]


class BackendUnavailableError(ProverError):
    """A Poseidon backend this machine cannot run (its CPU or numba's target lacks the
    instructions)."""


@dataclass(frozen=True)
class PoseidonBackend:
    """A Poseidon backend: the functions of the module docstring, one implementation each."""

    name: str
    hash: Callable[..., int]
    many: Callable[..., list[int]]
    many_nested: Callable[..., list[int]]
    path_nodes: Callable[[int, int, Sequence[int]], tuple[int, ...]]
    sponge: Callable[[Sequence[int]], int]
    tree_update: Callable[..., TreeUpdate]

    def path_root(self, leaf: int, index: int, siblings: Sequence[int]) -> int:
        """The root of a Merkle path (``path_nodes``' last node; the leaf if there are none)."""
        nodes = self.path_nodes(leaf, index, siblings)
        return nodes[-1] if nodes else leaf

    def pair(self, left: int, right: int) -> int:
        """A Merkle node: Poseidon(left, right)."""
        return self.hash([left, right])


def check_tree_shape(
    depth: int,
    indices: Sequence[int],
    leaves: Sequence[int | None],
    stored: Sequence[Sequence[int]],
) -> None:
    """``tree_update``'s argument shapes (the same check, and message, in every backend)."""
    if not len(indices) == len(leaves) == len(stored):
        raise PrimitiveError(f"tree_update takes as many indices, leaves and stored paths, got "
                             f"{len(indices)}, {len(leaves)} and {len(stored)}")  # fmt: skip
    for k, path in enumerate(stored):
        if len(path) != depth:
            raise PrimitiveError(f"stored[{k}] holds {len(path)} siblings, expected {depth}")


def tree_update_reference(
    depth: int,
    indices: Sequence[int],
    leaves: Sequence[int | None],
    stored: Sequence[Sequence[int]],
    *,
    threads: int | None = None,
) -> TreeUpdate:
    """Plain twin of ``tree_update``: one write at a time, every path hashed in full
    (`protocol.poseidon.merkle_path_nodes`); the sibling at level l of entry k is the last value
    written to node (l, (i_k >> l) ^ 1) before it, else stored[k][l].  ``threads`` is ignored."""
    check_tree_shape(depth, indices, leaves, stored)
    written: dict[tuple[int, int], int] = {}
    paths = []
    for index, leaf, before in zip(indices, leaves, stored, strict=True):
        path = tuple(written.get((lv, (index >> lv) ^ 1), before[lv]) for lv in range(depth))
        paths.append(path)
        if leaf is not None:
            nodes = (leaf, *merkle_path_nodes(leaf, index, path))
            for lv, value in enumerate(nodes):
                written[(lv, index >> lv)] = value
    return paths, written


REFERENCE = PoseidonBackend(
    name="reference",
    hash=poseidon_hash,
    many=poseidon_many,
    many_nested=poseidon_many_nested,
    path_nodes=merkle_path_nodes,
    sponge=poseidon_sponge,
    tree_update=tree_update_reference,
)


class CpuElsewhere:
    """Cores other processes keep busy, measured over windows of at least ``period`` seconds:

        elsewhere = (Δ busy time of all CPUs − Δ CPU time of this process) / Δ wall time

    busy time from the first line of /proc/stat (user, nice, system, irq, softirq and steal —
    time the hypervisor gave to others), this process's from ``time.process_time`` (every thread,
    numba's included).  0 where /proc/stat cannot be read."""

    def __init__(self, period: float = 0.2, stat: str = "/proc/stat") -> None:
        self.period, self.stat = period, stat
        self._ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._last = self._sample()
        self._elsewhere = 0.0

    def _sample(self) -> tuple[float, float, float] | None:
        try:
            with open(self.stat, "rb") as f:
                fields = [int(x) for x in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
        return time.monotonic(), busy / self._ticks, time.process_time()

    def __call__(self) -> float:
        """Cores busy elsewhere over the last completed window (a new one starts when the last
        is at least ``period`` old)."""
        last = self._last
        if last is None or time.monotonic() - last[0] < self.period:
            return self._elsewhere
        now = self._sample()
        if now is not None:
            busy, own = now[1] - last[1], now[2] - last[2]
            self._elsewhere = max(0.0, busy - own) / (now[0] - last[0])
            self._last = now
        return self._elsewhere


def _cores() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: the measurement ``threads_for`` reads (one per process; it only caches /proc readings)
CPU_ELSEWHERE = CpuElsewhere()


def threads_for(units: int, elsewhere: float | None = None) -> int:
    """Threads for one kernel call of ``units`` independent pieces of work:

        threads = max(1, min(units, numba.get_num_threads(), ⌊cores − elsewhere + 1/4⌋))

    cores: the CPUs this process may run on; elsewhere: the cores other processes keep busy
    (``CPU_ELSEWHERE``, over the last 0.2 s, unless given), so a core counts as free while
    others use at most a quarter of it.  Why: numba's OpenMP threads wait at the end of every
    parallel region by spinning; when another process holds one of two cores, one of our two
    threads waits for a time slice while its partner spins, and a batch's tree update (one
    region per level) went from 3 ms to 130 ms.  On the free cores alone a call loses at most
    its parallel speed-up."""
    if elsewhere is None:
        elsewhere = CPU_ELSEWHERE()
    free = math.floor(_cores() - elsewhere + 0.25)
    return max(1, min(units, get_num_threads(), free))


# ------------------------------------------------------------------ numba backends


def _has_ifma() -> bool:
    from prover.kernels.ifma import HAVE_IFMA

    return HAVE_IFMA


def _has_avx2() -> bool:
    from prover.kernels.avx2 import HAVE_AVX2

    return HAVE_AVX2


#: the numba backends, fastest first: (can this machine run it, what it needs)
_NEEDS: dict[str, tuple[Callable[[], bool], str]] = {
    "ifma": (_has_ifma, "AVX-512 IFMA"),
    "avx2": (_has_avx2, "AVX2"),
    "scalar": (lambda: True, ""),
}
_BACKENDS: dict[str, PoseidonBackend] = {"reference": REFERENCE}


def _numba_backend(kind: str) -> PoseidonBackend:
    from prover import poseidon_fast as f

    return PoseidonBackend(
        name=kind,
        hash=partial(f.hash, kind=kind),
        many=partial(f.many, kind=kind),
        many_nested=partial(f.many_nested, kind=kind),
        path_nodes=f.path_nodes,
        sponge=partial(f.sponge, kind=kind),
        tree_update=partial(f.tree_update, kind=kind),
    )


@cache
def available_backends() -> tuple[str, ...]:
    """The backends this machine runs, fastest first (``reference`` last; fixed per process)."""
    fast = [kind for kind, (has, _) in _NEEDS.items() if has()]
    return (*fast, "reference")


def get_backend(choice: PoseidonBackend | str | None = None) -> PoseidonBackend:
    """``None`` → the best available backend; ``"reference"``, ``"scalar"``, ``"avx2"``,
    ``"ifma"`` → that one (``BackendUnavailableError`` if this machine cannot run it); a
    backend → itself."""
    if isinstance(choice, PoseidonBackend):
        return choice
    name = available_backends()[0] if choice is None else choice
    if name not in _BACKENDS:
        if name not in _NEEDS:
            known = ", ".join(["reference", *_NEEDS])
            raise ValueError(f"unknown Poseidon backend {name!r} (expected one of {known})")
        has, needs = _NEEDS[name]
        if not has():
            raise BackendUnavailableError(
                f"the {name!r} Poseidon backend needs {needs}, which this CPU (or numba's "
                f"compile target) lacks; available: {', '.join(available_backends())}"
            )
        _BACKENDS[name] = _numba_backend(name)
    return _BACKENDS[name]


def __getattr__(name: str) -> Any:
    """``SCALAR``, ``AVX2`` and ``IFMA``: the numba backends, built on first access."""
    if name in ("SCALAR", "AVX2", "IFMA"):
        return get_backend(name.lower())
    raise AttributeError(f"module 'prover.poseidon_engine' has no attribute {name!r}")
