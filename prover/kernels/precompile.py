"""Cold numba cache: compile the G2 MSM kernels in a second process while this one goes on.

numba compiles one function at a time per process (a global compiler lock), and the G2 MSM's
kernels are about half of everything a first proof compiles (~20 s of ~40 s here). When their
cache entries are missing, :func:`start_g2` starts ``python -c "…warm_g2()"``, which compiles them
(with the same argument types as a real proof) and writes numba's on-disk cache, while this
process compiles the NTT, sparse and G1 kernels on the other core. :func:`wait_g2`, called before
the first G2 MSM, waits for that process, so the kernels are then loaded from the cache, never
compiled twice. With a warm cache nothing is started. ``ZKR_PRECOMPILE=0`` turns this off.

The child's outcome does not matter for correctness: if it fails, this process compiles the
kernels itself on first use, as it would have without it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

ENV = "ZKR_PRECOMPILE"
_CHILD: list[subprocess.Popen] = []  # the running compile process, if any (per process)


def _cached(dispatcher) -> bool:
    """True if numba's on-disk cache has an up-to-date entry for ``dispatcher``."""
    cache = getattr(dispatcher, "_cache", None)
    try:
        return bool(cache._cache_file._load_index())  # type: ignore[union-attr]
    except (AttributeError, OSError, EOFError, ValueError):
        return False


def start_g2() -> bool:
    """Start compiling the G2 MSM kernels in a child process if they are not cached; True if
    a child was started."""
    from prover.kernels import msm

    if os.environ.get(ENV) == "0" or _CHILD:
        return False
    if _cached(msm._run_windows_g2) and _cached(msm._horner_g2):
        return False
    code = "from prover.kernels.precompile import warm_g2; warm_g2()"
    _CHILD.append(
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, ENV: "0"},
        )
    )
    return True


def wait_g2() -> None:
    """Wait for the compile process started by :func:`start_g2`, if any."""
    while _CHILD:
        _CHILD.pop().wait()


def warm_g2() -> None:
    """Run a small G2 MSM: compiles (and caches) every kernel a large one uses, same types."""
    from prover.kernels import msm

    rng = np.random.default_rng(0)
    bases = np.zeros((64, 2, 2, 4), dtype=np.uint64)  # points at infinity: the types are what count
    scalars = rng.integers(0, 2**63, size=(64, 4), dtype=np.uint64)
    scalars[:, 3] >>= np.uint64(2)
    msm.msm_g2(bases, scalars, threads=1)
