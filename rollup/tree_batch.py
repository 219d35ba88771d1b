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

Two cores: a version at level l + 1 reads only versions at level l (its own path's and its
sibling's), so the needed hashes of one level are independent.  ``_hash_by_level`` walks the
levels bottom-up and splits each level's hashes evenly over the numba threads (``prange``; a
level with fewer than 4 hashes stays on one thread, since a parallel region costs ~10 µs).  The
earlier split into the two subtrees under the batch's top split level was only as balanced as the
batch (1.5× on 2 threads for spread-out accounts; this is 1.7×).  Where the CPU has AVX-512 IFMA
(``poseidon_fast.USE_IFMA``), ``_hash_by_level_ifma`` hashes each level's versions eight at a
time (`prover.kernels.poseidon_ifma`), the groups of eight split over the threads, with the
versions kept canonical: a batch of 8 trades between accounts spread over 2^16 leaves goes from
1.73 to 0.61 ms, between 64 adjacent-index accounts from 0.80 to 0.48 ms (2 threads).  Per-batch
cost: O(E²·D) index comparisons for E entries (E = 2B).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numba import njit, prange

from protocol.poseidon import _field_elements, merkle_path_nodes
from prover.fields import curve_order as r
from prover.kernels import poseidon_ifma
from prover.kernels import poseidon_scalar as poseidon_fast
from prover.kernels.field import FR_ZERO, fr_from_mont, fr_to_mont, load, store, u4
from prover.kernels.ifma import LANES, ROW
from prover.kernels.poseidon_ifma import (
    get_lane,
    permute_groups,
    put_lane,
    rows_from_mont,
    rows_to_mont,
)
from prover.kernels.poseidon_scalar import _constants, _permute3

__all__ = ["batch_update", "batch_update_reference"]

Entries = Sequence[tuple[int, int | None]]  #: (leaf index, new leaf or None for a read)
SiblingReader = Callable[[int], tuple[int, ...]]  #: leaf index → its siblings before the batch
Result = tuple[list[tuple[int, ...]], dict[tuple[int, int], int]]


_TO_BYTES, _FROM_BYTES = int.to_bytes, int.from_bytes  # bound once: ~30 % of these loops


def _to_limbs(values: list[int]) -> np.ndarray:
    buf = b"".join([_TO_BYTES(v, 32, "little") for v in values])
    return np.frombuffer(buf, dtype="<u8").reshape(len(values), 4).copy()


def _ints(arr: np.ndarray) -> list[int]:
    raw = arr.tobytes()
    return [_FROM_BYTES(raw[i : i + 32], "little") for i in range(0, len(raw), 32)]


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


@njit(cache=True)
def _node(left, right, C, S, M, P, n_p):
    """Poseidon(left, right) on Montgomery-form limbs (one compiled copy of the permutation)."""
    h, _, _ = _permute3(u4(FR_ZERO), left, right, C, S, M, P, n_p)
    return h


@njit(cache=True, nogil=True, parallel=True)
def _hash_by_level(idx, write, src, need, stored, val, sib, threads, C, S, M, P, n_p):
    """Level by level, bottom-up: record every entry's sibling at this level (canonical,
    sib[k·D + l]), then hash the level's needed versions into val[k·(D+1) + l + 1] (Montgomery),
    split evenly over ``threads`` numba threads — a version at level l + 1 reads only versions at
    level l, so the hashes of one level are independent.  stored: pre-batch siblings (canonical,
    [k·D + l]); val[k·(D+1)] holds the leaf (Montgomery).  A level of fewer than 4 hashes stays
    on this thread."""
    n = idx.shape[0]
    depth = sib.shape[0] // n
    sibm = np.empty((n, 4), dtype=np.uint64)
    todo = np.empty(n, dtype=np.int64)
    for lv in range(depth):
        m = 0
        for k in range(n):
            s = src[k, lv]
            if s >= 0:
                sv = load(val, s * (depth + 1) + lv)
                store(sib, k * depth + lv, fr_from_mont(sv))
            else:
                sv = fr_to_mont(load(stored, k * depth + lv))
                store(sib, k * depth + lv, load(stored, k * depth + lv))
            store(sibm, k, sv)
            if write[k] and need[k, lv + 1]:
                todo[m] = k
                m += 1
        chunks = min(threads, m // 2)  # a parallel region costs ~10 µs: only for ≥ 2 each
        if chunks > 1:
            for c in prange(chunks):
                lo, hi = c * m // chunks, (c + 1) * m // chunks
                _hash_todo(todo, lo, hi, lv, idx, val, sibm, C, S, M, P, n_p)
        else:
            _hash_todo(todo, 0, m, lv, idx, val, sibm, C, S, M, P, n_p)


@njit(cache=True, nogil=True)
def _hash_todo(todo, lo, hi, lv, idx, val, sibm, C, S, M, P, n_p):
    """val[k·(D+1) + lv + 1] = Poseidon(version (lv, k), its sibling) for k in todo[lo:hi]."""
    width = val.shape[0] // idx.shape[0]
    for j in range(lo, hi):
        k = todo[j]
        left = load(val, k * width + lv)
        right = load(sibm, k)
        if (idx[k] >> lv) & 1:
            left, right = right, left
        store(val, k * width + lv + 1, _node(left, right, C, S, M, P, n_p))


@njit(cache=True, nogil=True, parallel=True)
def _hash_by_level_ifma(idx, write, src, need, stored, val, sib, threads,
                        K, c, sp, m, p, n_p, to_mont, unit):  # fmt: skip
    """`_hash_by_level` with the level's needed hashes eight at a time (AVX-512 IFMA lanes,
    `poseidon_ifma`), groups of eight split over ``threads`` numba threads; val is canonical
    here (the lanes enter and leave Montgomery form in the vector kernel)."""
    n = idx.shape[0]
    depth = sib.shape[0] // n
    width = depth + 1
    s = np.empty(((n + LANES - 1) // LANES * 6, ROW), dtype=np.uint64)
    todo = np.empty(n, dtype=np.int64)
    for lv in range(depth):
        count = 0
        for k in range(n):
            sr = src[k, lv]
            if sr >= 0:
                store(sib, k * depth + lv, load(val, sr * width + lv))
            else:
                store(sib, k * depth + lv, load(stored, k * depth + lv))
            if write[k] and need[k, lv + 1]:
                todo[count] = k
                count += 1
        if count == 0:
            continue
        groups = (count + LANES - 1) // LANES
        s[: groups * 6] = 0
        for j in range(count):
            k = todo[j]
            left, right = load(val, k * width + lv), load(sib, k * depth + lv)
            if (idx[k] >> lv) & 1:
                left, right = right, left
            put_lane(s, j // LANES * 6 + 1, j % LANES, left)
            put_lane(s, j // LANES * 6 + 2, j % LANES, right)
        chunks = min(threads, groups)
        if chunks > 1:
            for ch in prange(chunks):
                g0, g1 = ch * groups // chunks, (ch + 1) * groups // chunks
                _nodes_ifma(s, g0, g1, K, c, sp, m, p, n_p, to_mont, unit)
        else:
            _nodes_ifma(s, 0, groups, K, c, sp, m, p, n_p, to_mont, unit)
        for j in range(count):
            store(val, todo[j] * width + lv + 1, get_lane(s, j // LANES * 6, j % LANES))


@njit(cache=True, nogil=True)
def _nodes_ifma(s, g0, g1, K, c, sp, m, p, n_p, to_mont, unit):
    """Poseidon(left, right) of groups g0..g1−1 (rows 6g + 1, 6g + 2 canonical; row 6g ends as
    the canonical-residue output, below 2p)."""
    rows_to_mont(s, g0, g1, 3, K, to_mont)
    permute_groups(s, g0, g1, 3, K, c, sp, m, p, n_p)
    rows_from_mont(s, g0, g1, 3, K, unit, 0)


@njit(cache=True, nogil=True)
def _place_leaves(leaves, write, val, depth, mont):
    for k in range(leaves.shape[0]):
        if write[k]:
            x = load(leaves, k)
            store(val, k * (depth + 1), fr_to_mont(x) if mont else x)


@njit(cache=True)
def _finals(val, final, out, mont):
    """Canonical values of the final versions, in (k, level) order (val in Montgomery form if
    ``mont``)."""
    n, width = final.shape
    j = 0
    for k in range(n):
        for lv in range(width):
            if final[k, lv]:
                x = load(val, k * width + lv)
                store(out, j, fr_from_mont(x) if mont else x)
                j += 1


def batch_update(
    depth: int, entries: Entries, siblings: SiblingReader, *, threads: int = 2
) -> Result:
    """Apply ``entries`` in order to the tree whose current (pre-batch) siblings of a leaf are
    ``siblings(index)`` (bottom-up; the level-l one is node (l, (index >> l) ^ 1)).

    Returns (the siblings of each entry at its turn, bottom-up; {(level, index): final value} of
    every node written, level 0 = the leaves).  Indices must already be checked against depth;
    a leaf that is not a canonical field element is refused like the reference refuses it
    (PrimitiveError), before anything is hashed."""
    if not entries:
        return [], {}
    for _, leaf in entries:
        if leaf is not None and (type(leaf) is not int or not 0 <= leaf < r):
            _field_elements((leaf,), "leaf")
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
    mont = not poseidon_fast.USE_IFMA
    _place_leaves(leaves, write, val, depth, mont)
    if mont:
        _hash_by_level(idx, write, src, need, stored, val, sib, max(1, threads), *_constants(3))
    else:
        args = (idx, write, src, need, stored, val, sib, max(1, threads))
        _hash_by_level_ifma(*args, *poseidon_ifma.tables(3))
    out = np.empty((int(final.sum()), 4), dtype=np.uint64)
    _finals(val, final, out, mont)
    flat = _ints(sib)
    paths = [tuple(flat[k * depth : (k + 1) * depth]) for k in range(n)]
    ks, lvs = (a.tolist() for a in np.nonzero(final))  # plain ints: keys go to SQLite
    keys = [(lv, indices[k] >> lv) for k, lv in zip(ks, lvs, strict=True)]
    return paths, dict(zip(keys, _ints(out), strict=True))


def batch_update_reference(
    depth: int, entries: Entries, siblings: SiblingReader, *, threads: int = 1
) -> Result:
    """Twin of ``batch_update``: one write at a time, every path hashed in full (plain Python
    Poseidon, ``protocol.poseidon.merkle_path_nodes``); ``threads`` is ignored."""
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
