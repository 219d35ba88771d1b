"""The numba Poseidon backends' functions: validate like the reference, convert, call the kernels.

Every function here is the twin of a `protocol.poseidon` function (or of
`prover.poseidon_engine.tree_update_reference`) with the same signature plus ``kind``, which
names the kernels it runs on:

- ``"scalar"``: one state at a time on 4×64-bit Montgomery limbs (`prover.kernels.poseidon_scalar`,
  mulx assembly where the CPU has BMI2 + ADX);
- ``"avx2"``: many-row hashing and the tree levels four states at a time on AVX2 lanes
  (`prover.kernels.poseidon_avx2`, 29-bit limbs and ``vpmuludq``); fewer than ``LANES_FROM``
  rows, single hashes and Merkle paths stay scalar;
- ``"ifma"``: many-row hashing and the tree levels eight states at a time on AVX-512 IFMA lanes
  (`prover.kernels.poseidon_ifma`), single hashes of width t ≥ ``WIDE_FROM`` spread over the lanes
  (`prover.kernels.poseidon_wide`); Merkle paths and narrower single hashes stay scalar (their
  serial S-box chain is faster on mulx).

Validation accepts exactly what the reference accepts and raises the reference's
``PrimitiveError`` messages: a fast check for plain ints in [0, r) and, for anything else, the
reference's own check (or the reference itself).  Results are plain Python ints.  ``threads``
(None: `prover.poseidon_engine.threads_for`) bounds the numba threads of one call.
`prover.poseidon_engine` binds these into backend objects; nothing else should call them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from numba import config, get_num_threads, set_num_threads

from protocol.errors import PrimitiveError
from protocol.poseidon import MAX_INPUTS, _check_path, _field_elements, _row_length
from protocol.poseidon import poseidon_many_nested as _nested_reference
from protocol.poseidon import poseidon_sponge as _sponge_reference
from prover.fields import curve_order as r
from prover.kernels import (
    merkle_levels,
    poseidon_avx2,
    poseidon_ifma,
    poseidon_scalar,
    poseidon_wide,
)
from prover.kernels.poseidon_scalar import constants, to_limbs
from prover.poseidon_engine import check_tree_shape, threads_for, tree_update_reference

__all__ = ["hash", "many", "many_nested", "path_nodes", "sponge", "tree_update"]

#: single hashes of width t ≥ WIDE_FROM spread their state over the IFMA lanes (t = 6: 27 → 17
#: µs, t = 10: 50 → 23, t = 17: 89 → 34); narrower ones stay scalar (t = 3: 15 vs 16.5 µs)
WIDE_FROM: int = 6

#: many-row calls of at least this many rows go to the lanes (fewer: one lane group costs
#: about as much as two scalar hashes on AVX2, one on IFMA)
LANES_FROM: dict[str, int] = {"avx2": 3, "ifma": 2}
#: the lane kernels of each kind and its lanes per group
_LANES = {"avx2": (poseidon_avx2, 4), "ifma": (poseidon_ifma, 8)}

_FROM_BYTES = int.from_bytes


def _canonical(values: Sequence[int], what: str) -> Sequence[int]:
    """``_field_elements`` with a fast path for a list/tuple of plain ints in [0, r); anything
    else (bools, int subclasses, out-of-range, other containers) goes through the reference
    check, so the accepted inputs and the error messages are exactly the reference's."""
    if type(values) is list or type(values) is tuple:
        for v in values:
            if type(v) is not int or not 0 <= v < r:
                return _field_elements(values, what)
        return values
    return _field_elements(values, what)


def _ints(arr: np.ndarray) -> list[int]:
    raw = np.ascontiguousarray(arr, dtype="<u8").tobytes()
    return [_FROM_BYTES(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]


def _threads(threads: int | None, units: int) -> int:
    """The threads of one call: the policy's (``threads`` None) or at most ``threads``."""
    if threads is None:
        return threads_for(units)
    return max(1, min(threads, units, config.NUMBA_NUM_THREADS))


@contextmanager
def _numba_threads(k: int) -> Iterator[None]:
    """numba's thread count for this Python thread's parallel regions = k, for the block (a
    kernel given k > 1 chunks runs them on k threads, no more are woken)."""
    if k <= 1:
        yield
        return
    before = get_num_threads()
    set_num_threads(k)
    try:
        yield
    finally:
        set_num_threads(before)


def hash(inputs: Sequence[int], *, init_state: int = 0, kind: str = "scalar") -> int:
    """Twin of `protocol.poseidon.poseidon_hash`."""
    values = _canonical(inputs, "inputs")
    if not 1 <= len(values) <= MAX_INPUTS:
        raise PrimitiveError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {len(values)}")
    if type(init_state) is not int or init_state != 0:
        (init_state,) = _field_elements((init_state,), "init_state")
    t = len(values) + 1
    state = to_limbs((init_state, *values))
    out = np.empty_like(state)
    if kind == "ifma" and t >= WIDE_FROM:
        poseidon_wide.hash_kernel(state, out, *poseidon_wide.wide_tables(t))
    else:
        poseidon_scalar.hash_kernel(state, *constants(t), out)
    return _FROM_BYTES(out[0].tobytes(), "little")


def _flat(rows: list, what: str = "inputs") -> list[int]:
    flat: list[int] = []
    for row in rows:
        flat += _canonical(row, what)
    return flat


def many(
    rows: Sequence[Sequence[int]], *, threads: int | None = None, kind: str = "scalar"
) -> list[int]:
    """Twin of `protocol.poseidon.poseidon_many`: [Poseidon(row) for row in rows], rows of one
    length 1..16, in one kernel call."""
    rows = list(rows)
    if not rows:
        return []
    k = _row_length(rows)
    flat = to_limbs(_flat(rows))
    out = np.empty((len(rows), 4), dtype=np.uint64)
    if kind in _LANES and len(rows) >= LANES_FROM[kind]:
        kernels, lanes = _LANES[kind]
        chunks = _threads(threads, -(-len(rows) // lanes))
        with _numba_threads(chunks):
            kernels.rows_kernel(flat, k, out, chunks, *kernels.tables(k + 1))
    else:
        chunks = _threads(threads, len(rows) // 2)
        with _numba_threads(chunks):
            poseidon_scalar.rows_kernel(flat, k, *constants(k + 1), out, chunks)
    return _ints(out)


def many_nested(
    inner: Sequence[Sequence[int]],
    outer: Sequence[Sequence[int]],
    *,
    threads: int | None = None,
    kind: str = "scalar",
) -> list[int]:
    """Twin of `protocol.poseidon.poseidon_many_nested`: [Poseidon([*o, Poseidon(i)])], both
    hashes of a row in one kernel call."""
    inner, outer = list(inner), list(outer)
    if len(inner) != len(outer) or not inner:
        return _nested_reference(inner, outer)  # [] or the reference's message
    k1, k2 = _row_length(inner), _row_length(outer)
    if k2 == MAX_INPUTS:
        return _nested_reference(inner[:1], outer[:1])  # raises the reference's message
    flat1, flat2 = to_limbs(_flat(inner)), to_limbs(_flat(outer))
    out = np.empty((len(inner), 4), dtype=np.uint64)
    if kind in _LANES and len(inner) >= LANES_FROM[kind]:
        kernels, lanes = _LANES[kind]
        t1, t2 = kernels.tables(k1 + 1), kernels.tables(k2 + 2)
        chunks = _threads(threads, -(-len(inner) // lanes))
        with _numba_threads(chunks):
            kernels.nested_kernel(flat1, k1, flat2, k2, out, chunks, *t1[:-1], *t2)
    else:
        chunks = _threads(threads, len(inner) // 2)
        consts = (*constants(k1 + 1), *constants(k2 + 2))
        with _numba_threads(chunks):
            poseidon_scalar.nested_kernel(flat1, k1, flat2, k2, *consts, out, chunks)
    return _ints(out)


def path_nodes(leaf: int, index: int, siblings: Sequence[int]) -> tuple[int, ...]:
    """Twin of `protocol.poseidon.merkle_path_nodes`: the nodes at levels 1..D (the last is
    the root), one kernel call for the whole path."""
    if type(leaf) is not int or not 0 <= leaf < r or type(index) is not int:
        node, path = _check_path(leaf, index, siblings)
    else:
        node, path = leaf, _canonical(siblings, "siblings")
        if not 0 <= index < 1 << len(path):
            _check_path(leaf, index, siblings)  # raises the reference's index message
    if not path:
        return ()
    bits = np.array([(index >> level) & 1 for level in range(len(path))], dtype=np.uint8)
    out = np.empty((len(path), 4), dtype=np.uint64)
    poseidon_scalar.path_kernel(to_limbs((node,)), bits, to_limbs(path), *constants(3), out)
    return tuple(_ints(out))


def sponge(elements: Sequence[int], *, kind: str = "scalar") -> int:
    """Twin of `protocol.poseidon.poseidon_sponge`: h = 2^64 + n, then h = Poseidon([h, *chunk])
    over chunks of 15 (no elements: Poseidon([h]))."""
    values = _canonical(elements, "elements")
    if len(values) >= 1 << 64:
        return _sponge_reference(values)  # raises the reference's message
    h = (1 << 64) + len(values)
    if not values:
        return hash([h], kind=kind)
    if kind == "ifma":  # chunk by chunk on the lane-spread single hash
        for i in range(0, len(values), 15):
            h = hash([h, *values[i : i + 15]], kind=kind)
        return h
    out = np.empty((1, 4), dtype=np.uint64)
    last = 2 + (len(values) - 1) % 15 + 1  # the last chunk's width
    consts = (*constants(17), *constants(last))
    poseidon_scalar.sponge_kernel(to_limbs(values), to_limbs((h,)), *consts, out)
    return _FROM_BYTES(out[0].tobytes(), "little")


def _plain(values: list) -> bool:
    """Every value a plain int in [0, r) (C-speed loops: ~30 ns an element)."""
    return not values or ({*map(type, values)} == {int} and min(values) >= 0 and max(values) < r)


def tree_update(
    depth: int,
    indices: Sequence[int],
    leaves: Sequence[int | None],
    stored: Sequence[Sequence[int]],
    *,
    threads: int | None = None,
    kind: str = "scalar",
) -> tuple[list[tuple[int, ...]], dict[tuple[int, int], int]]:
    """Twin of `prover.poseidon_engine.tree_update_reference`: only the node versions anyone
    reads are hashed, level by level (`prover.kernels.merkle_levels`).  Input the fast checks do
    not pass (a non-canonical leaf or sibling, an index outside 0..2^D − 1) goes to the
    reference, which refuses it with its own message or, where the value is never read, gives
    the same result."""
    check_tree_shape(depth, indices, leaves, stored)
    n = len(indices)
    if n == 0:
        return [], {}
    flat = [x for path in stored for x in path]
    ok = all(type(i) is int and 0 <= i < 1 << depth for i in indices)
    if not (ok and _plain([x for x in leaves if x is not None]) and _plain(flat)):
        return tree_update_reference(depth, indices, leaves, stored)
    idx = np.array(indices, dtype=np.int64)
    write = np.array([leaf is not None for leaf in leaves], dtype=np.bool_)
    src = np.empty((n, depth), dtype=np.int64)
    need = np.zeros((n, depth + 1), dtype=np.bool_)
    final = merkle_levels.plan(idx, write, depth, src, need)
    val = np.zeros((n * (depth + 1), 4), dtype=np.uint64)
    sib = np.empty((n * depth, 4), dtype=np.uint64)
    mont = kind not in _LANES
    leaf_limbs = to_limbs([0 if leaf is None else leaf for leaf in leaves])
    merkle_levels.place_leaves(leaf_limbs, write, val, depth, mont)
    args = (idx, write, src, need, to_limbs(flat), val, sib)
    if kind == "ifma":
        chunks = _threads(threads, (n + 7) // 8)
        with _numba_threads(chunks):
            merkle_levels.levels_ifma(*args, chunks, *poseidon_ifma.tables(3))
    elif kind == "avx2":
        chunks = _threads(threads, n // 4)
        with _numba_threads(chunks):
            merkle_levels.levels_avx2(*args, chunks, *poseidon_avx2.tables(3), *constants(3)[:4])
    else:
        chunks = _threads(threads, n // 2)
        with _numba_threads(chunks):
            merkle_levels.levels_scalar(*args, chunks, *constants(3))
    out = np.empty((int(final.sum()), 4), dtype=np.uint64)
    merkle_levels.finals(val, final, out, mont)
    versions = (src >= 0).ravel().nonzero()[0].tolist()  # siblings written in the batch
    if versions:
        for i, value in zip(versions, _ints(sib[versions]), strict=True):
            flat[i] = value
    paths = [tuple(flat[k * depth : (k + 1) * depth]) for k in range(n)]
    ks, lvs = np.nonzero(final)
    keys = zip(lvs.tolist(), (idx[ks] >> lvs).tolist(), strict=True)  # plain ints: to SQLite
    return paths, dict(zip(keys, _ints(out), strict=True))
