"""A batch of sparse-Merkle leaf writes hashed at once: only the nodes anyone reads, on 2 cores.

The sequencer applies a batch of transactions one after another, and the circuit needs, for every
leaf write (or read) k in order, the siblings of leaf ``i_k`` *at that moment*; the settlement
layer needs the root at the end of the batch.  Writing the leaves one by one and hashing each full
path (D Poseidon(2) per write) computes many node versions nobody reads: a node rewritten by a
later write of the same batch is never anyone's sibling in between.  ``batch_update`` computes
exactly the versions that are read:

    version (l, k)  = node at level l on write k's path, just after write k
                      (level 0: the leaf; level l+1: Poseidon(left, right) of version (l, k) and
                      the sibling at level l, in the order bit l of i_k says)
    sibling (l, k)  = the last version (l, k') with k' < k at node (i_k >> l) ^ 1, else the
                      node's value before the batch
    needed (l, k)   = (l, k) is some later entry's sibling before the node is written again
                      ∨ k is the node's last write in the batch (its final value)
                      ∨ needed (l + 1, k)

Everything not needed is skipped; the result — each entry's siblings and the final value of every
written node — is exactly what writing the leaves one at a time gives (``batch_update_reference``
does that, with the plain Python Poseidon, and ``tests/rollup/test_tree_batch.py`` compares them).

Two cores: below the level ``s`` where the batch's indices first split (the highest bit in which
min and max index differ), the two subtrees under node (s, 2j) and (s, 2j+1) never read each
other's nodes, so one numba thread (``prange``) hashes each subtree's levels 0..s−1 and the
levels s..D−1 follow on one thread.  Per-batch cost: O(E²·D) index comparisons for E entries
(E = 2B).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numba import njit, prange

from circuits.primitives.poseidon import merkle_path_nodes
from circuits.primitives.poseidon_fast import _constants, _permute3
from prover.kernels.field import FR_ZERO, fr_from_mont, fr_to_mont, load, store, u4

__all__ = ["batch_update", "batch_update_reference"]

Entries = Sequence[tuple[int, int | None]]  #: (leaf index, new leaf or None for a read)
SiblingReader = Callable[[int], tuple[int, ...]]  #: leaf index → its siblings before the batch
Result = tuple[list[tuple[int, ...]], dict[tuple[int, int], int]]


def _to_limbs(values: list[int]) -> np.ndarray:
    buf = b"".join([v.to_bytes(32, "little") for v in values])
    return np.frombuffer(buf, dtype="<u8").reshape(len(values), 4).copy()


def _ints(arr: np.ndarray) -> list[int]:
    raw = arr.tobytes()
    return [int.from_bytes(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]


@njit(cache=True)
def _plan(idx, write, depth, src, need):
    """src[k, l]: the entry whose version entry k reads as sibling at level l (−1: pre-batch);
    need[k, l]: version (l, k) must be computed; returns the (E, D + 1) 'final' flags."""
    n = idx.shape[0]
    final = np.zeros((n, depth + 1), dtype=np.bool_)
    for k in range(n):
        for lv in range(depth + 1):
            if write[k]:
                node, last = idx[k] >> lv, True
                for k2 in range(k + 1, n):
                    if write[k2] and idx[k2] >> lv == node:
                        last = False
                        break
                final[k, lv] = last
                need[k, lv] = last
    for k in range(n):
        for lv in range(depth):
            src[k, lv] = -1
            sib = (idx[k] >> lv) ^ 1
            for k2 in range(k - 1, -1, -1):
                if write[k2] and idx[k2] >> lv == sib:
                    src[k, lv] = k2
                    need[k2, lv] = True
                    break
    for k in range(n):
        if write[k]:
            for lv in range(depth - 1, -1, -1):
                need[k, lv] = need[k, lv] or need[k, lv + 1]
    return final


@njit(cache=True, nogil=True)
def _hash_levels(entries, lo, hi, idx, write, src, need, stored, val, sib, C, S, M, P, n_p):
    """Levels lo..hi−1 for the given entries (in batch order): record each entry's sibling
    (canonical, sib[k·D + l]) and hash the needed versions into val[k·(D+1) + l + 1] (Montgomery).
    stored: pre-batch siblings (canonical, [k·D + l]); val[k·(D+1)] holds the leaf (Montgomery)."""
    depth = sib.shape[0] // idx.shape[0]
    zero = u4(FR_ZERO)
    for lv in range(lo, hi):
        for e in range(entries.shape[0]):
            k = entries[e]
            s = src[k, lv]
            if s >= 0:
                sv = load(val, s * (depth + 1) + lv)
                store(sib, k * depth + lv, fr_from_mont(sv))
            else:
                sv = fr_to_mont(load(stored, k * depth + lv))
                store(sib, k * depth + lv, load(stored, k * depth + lv))
            if write[k] and need[k, lv + 1]:
                left = load(val, k * (depth + 1) + lv)
                right = sv
                if (idx[k] >> lv) & 1:
                    left, right = right, left
                h, _, _ = _permute3(zero, left, right, C, S, M, P, n_p)  # one inlined copy
                store(val, k * (depth + 1) + lv + 1, h)


@njit(cache=True, nogil=True, parallel=True)
def _hash_subtrees(order, bounds, lo, hi, idx, write, src, need, stored, val, sib, C, S, M, P, n_p):
    """``_hash_levels`` on each group order[bounds[g] : bounds[g + 1]], the groups in parallel
    (numba threads; the groups must not read each other's nodes at levels lo..hi−1)."""
    for g in prange(bounds.shape[0] - 1):
        entries = order[bounds[g] : bounds[g + 1]]
        _hash_levels(entries, lo, hi, idx, write, src, need, stored, val, sib, C, S, M, P, n_p)


@njit(cache=True, nogil=True)
def _leaves_to_mont(leaves, write, val, depth):
    for k in range(leaves.shape[0]):
        if write[k]:
            store(val, k * (depth + 1), fr_to_mont(load(leaves, k)))


@njit(cache=True)
def _finals_from_mont(val, final, out):
    """Canonical values of the final versions, in (k, level) order."""
    n, width = final.shape
    j = 0
    for k in range(n):
        for lv in range(width):
            if final[k, lv]:
                store(out, j, fr_from_mont(load(val, k * width + lv)))
                j += 1


def _split_level(indices: list[int]) -> int:
    """The level s where the indices first split (0 when fewer than two distinct indices)."""
    lo, hi = min(indices), max(indices)
    return (lo ^ hi).bit_length() - 1 if lo != hi else 0


def batch_update(
    depth: int, entries: Entries, siblings: SiblingReader, *, threads: int = 2
) -> Result:
    """Apply ``entries`` in order to the tree whose current (pre-batch) siblings of a leaf are
    ``siblings(index)`` (bottom-up; the level-l one is node (l, (index >> l) ^ 1)).

    Returns (the siblings of each entry at its turn, bottom-up; {(level, index): final value} of
    every node written, level 0 = the leaves).  Indices must already be checked against depth."""
    if not entries:
        return [], {}
    indices = [i for i, _ in entries]
    n = len(entries)
    idx = np.array(indices, dtype=np.int64)
    write = np.array([leaf is not None for _, leaf in entries], dtype=np.bool_)
    before = {i: siblings(i) for i in set(indices)}
    stored = _to_limbs([x for i in indices for x in before[i]])
    leaves = _to_limbs([0 if leaf is None else leaf for _, leaf in entries])
    src = np.empty((n, depth), dtype=np.int64)
    need = np.zeros((n, depth + 1), dtype=np.bool_)
    final = _plan(idx, write, depth, src, need)
    val = np.zeros((n * (depth + 1), 4), dtype=np.uint64)
    sib = np.empty((n * depth, 4), dtype=np.uint64)
    _leaves_to_mont(leaves, write, val, depth)
    consts = _constants(3)
    args = (idx, write, src, need, stored, val, sib, *consts)
    s = _split_level(indices) if threads > 1 else 0
    if s > 0:
        left = [k for k, i in enumerate(indices) if not (i >> s) & 1]
        order = np.array(left + [k for k, i in enumerate(indices) if (i >> s) & 1], np.int64)
        _hash_subtrees(order, np.array([0, len(left), n], np.int64), 0, s, *args)
    _hash_levels(np.arange(n, dtype=np.int64), s, depth, *args)
    out = np.empty((int(final.sum()), 4), dtype=np.uint64)
    _finals_from_mont(val, final, out)
    flat = _ints(sib)
    paths = [tuple(flat[k * depth : (k + 1) * depth]) for k in range(n)]
    ks, lvs = (a.tolist() for a in np.nonzero(final))  # plain ints: keys go to SQLite
    keys = [(lv, indices[k] >> lv) for k, lv in zip(ks, lvs, strict=True)]
    return paths, dict(zip(keys, _ints(out), strict=True))


def batch_update_reference(
    depth: int, entries: Entries, siblings: SiblingReader, *, threads: int = 1
) -> Result:
    """Twin of ``batch_update``: one write at a time, every path hashed in full (plain Python
    Poseidon, ``circuits.primitives.poseidon.merkle_path_nodes``); ``threads`` is ignored."""
    written: dict[tuple[int, int], int] = {}
    paths = []
    for index, leaf in entries:
        before = siblings(index)
        keys = [(lv, (index >> lv) ^ 1) for lv in range(depth)]
        path = tuple(written.get(key, before[key[0]]) for key in keys)
        paths.append(path)
        if leaf is not None:
            nodes = (leaf, *merkle_path_nodes(leaf, index, path))
            for lv, value in enumerate(nodes):
                written[(lv, index >> lv)] = value
    return paths, written
