"""Cold numba cache: compile kernels in a second process while this one goes on.

numba compiles one function at a time per process (a global compiler lock), and the G2 kernels are
about half of what a first proof or setup compiles (~20 s of ~40 s here). When their cache entries
are missing, :func:`start` runs ``python -c "…warm('prove')"`` (or ``'setup'``), which compiles
them with the argument types of a real call and writes numba's on-disk cache, while this process
compiles the NTT, sparse and G1 kernels on the other core. :func:`wait`, called before the first
G2 MSM (``prove``) or G2 fixed-base multiplication (``setup``), waits for that process, so the
kernels are then loaded from the cache, never compiled twice. With a warm cache nothing is
started. ``ZKR_PRECOMPILE=0`` turns this off.

Phase ``poseidon`` warms the best Poseidon backend's kernels (`prover.poseidon_engine`: many-row
hashing on its lanes and on the scalar path, the tree update, single hashes, the sponge and
Merkle paths, the EdDSA verification kernels of `prover.eddsa_fast` and the witness solver's of
`prover.kernels.program`; ~30–50 s cold on AVX2)
for a caller that knows it will hash a lot later — ``zkr demo``
starts it before its setup, so the two compile side by side.  Nothing waits for it: a kernel
this process reaches first it loads from the cache if the child wrote it, else compiles it.

The child's outcome does not matter for correctness: if it fails, this process compiles the
kernels itself on first use, as it would have without it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

ENV = "ZKR_PRECOMPILE"
PHASES = ("prove", "setup", "poseidon")
_CHILDREN: dict[str, subprocess.Popen] = {}  # phase -> its running compile process (per process)


def _cached(dispatcher) -> bool:
    """True if numba's on-disk cache has an up-to-date entry for ``dispatcher``."""
    cache = getattr(dispatcher, "_cache", None)
    try:
        return bool(cache._cache_file._load_index())  # type: ignore[union-attr]
    except (AttributeError, OSError, EOFError, ValueError):
        return False


def _poseidon_kernels() -> tuple:
    """The kernels the best Poseidon backend calls (its lanes' rows and tree kernels if any),
    and the EdDSA verification's."""
    from prover.kernels import babyjubjub, merkle_levels, poseidon_scalar, program
    from prover.poseidon_engine import available_backends

    best = available_backends()[0]
    ps = poseidon_scalar
    scalar = (ps.hash_kernel, ps.sponge_kernel, ps.path_kernel, ps.rows_kernel, merkle_levels.plan,
              babyjubjub.verify_rows, babyjubjub.subgroup_rows, program.run_ops,
              program.eval_lcs, program.store_values)  # fmt: skip
    if best == "avx2":
        from prover.kernels import poseidon_avx2

        return (*scalar, poseidon_avx2.rows_kernel, merkle_levels.levels_avx2)
    if best == "ifma":  # its sponge hashes chunk by chunk on the lane-spread wide kernel
        from prover.kernels import poseidon_ifma, poseidon_wide

        lanes = (poseidon_ifma.rows_kernel, merkle_levels.levels_ifma, poseidon_wide.hash_kernel)
        return (*(k for k in scalar if k is not ps.sponge_kernel), *lanes)
    return (*scalar, merkle_levels.levels_scalar)


def _kernels(phase: str) -> tuple:
    if phase == "poseidon":
        return _poseidon_kernels()
    if phase == "prove":
        from prover.kernels import msm

        return msm._window_task_g2, msm._horner_g2
    from prover.kernels import fixed_base

    return fixed_base._table_g2, fixed_base._accumulate_g2


def start(phase: str) -> bool:
    """Start compiling ``phase``'s kernels in a child process if they are not cached; True if
    a child was started."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r} (expected one of {PHASES})")
    if os.environ.get(ENV) == "0" or phase in _CHILDREN:
        return False
    if all(_cached(k) for k in _kernels(phase)):
        return False
    code = f"from prover.kernels.precompile import warm; warm({phase!r})"
    _CHILDREN[phase] = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, ENV: "0"},
    )
    return True


def wait(phase: str) -> None:
    """Wait for the compile process that :func:`start` started for ``phase``, if any."""
    child = _CHILDREN.pop(phase, None)
    if child is not None:
        child.wait()


def warm(phase: str) -> None:
    """Run a small G2 MSM (``prove``), fixed-base multiplication (``setup``) or every Poseidon
    call of the best backend (``poseidon``): compiles and caches every kernel a large one uses,
    with the same types."""
    if phase == "poseidon":
        _warm_poseidon()
        return
    rng = np.random.default_rng(0)
    scalars = rng.integers(0, 2**62, size=(64, 4), dtype=np.uint64)
    if phase == "prove":
        from prover.kernels import msm

        bases = np.zeros((64, 2, 2, 4), dtype=np.uint64)  # the types are what count
        msm.msm_g2(bases, scalars, threads=1)
    else:
        from prover.kernels import fixed_base

        base = np.ones((2, 2, 4), dtype=np.uint64)  # any non-zero limbs: the types are what count
        fixed_base.batch_mul_g2(base, scalars, threads=1)


def _warm_poseidon() -> None:
    """The best backend's calls, lanes first (what a rollup needs after its genesis), then an
    EdDSA verification (what admitting an order needs)."""
    from protocol import eddsa
    from prover import eddsa_fast
    from prover.poseidon_engine import get_backend

    backend = get_backend(None)
    rows = [[i, i + 1, i + 2] for i in range(9)]
    backend.many(rows)  # the lanes' row kernel (9 rows: enough for any backend's lanes)
    backend.tree_update(16, list(range(0, 40, 3)), [7] * 14, [[0] * 16] * 14)
    backend.many(rows[:1])  # a single row: the scalar row kernel
    backend.hash([1, 2])
    backend.sponge(list(range(20)))
    backend.path_nodes(1, 5, [2, 3, 4])
    key = bytes(32)
    eddsa_fast.verify(eddsa.derive_public_key(key), 1, eddsa.sign(key, 1))
    _warm_solver()


def _warm_solver() -> None:
    """The witness solver's kernels (`prover.kernels.program`) on a tiny program of the types
    ``circuits.solver_fast`` passes: z1 = z0·z0, z1·1 = z1, z2 = z1 / z0, then a break."""
    from prover.kernels import program

    i64 = np.int64
    kind = np.array([program.MUL, program.CHECK, program.DIV, program.BREAK], dtype=i64)
    out = np.array([1, 0, 2, 0], dtype=i64)
    a, b, c = (np.array(x, dtype=i64) for x in ([0, 1, 1, 0], [0, 2, 0, 0], [0, 1, 0, 0]))
    lc_ptr = np.array([0, 1, 2, 3], dtype=i64)  # LCs: z0, z1, 1·z3 (z3 = 1)
    lc_wire, lc_coef = np.array([0, 1, 3], dtype=np.int32), np.zeros(3, dtype=np.int32)
    coefs = np.zeros((2, 4), dtype=np.uint64)
    z = np.zeros((4, 4), dtype=np.uint64)
    program.store_values(np.array([0, 3], dtype=i64), np.array([[3, 0, 0, 0], [1, 0, 0, 0]],
                         dtype=np.uint64), z)  # fmt: skip
    program.run_ops(kind, out, a, b, c, lc_ptr, lc_wire, lc_coef, coefs, z, 0)
    program.eval_lcs(np.array([1], dtype=i64), lc_ptr, lc_wire, lc_coef, coefs, z,
                     np.zeros((1, 4), dtype=np.uint64))  # fmt: skip
