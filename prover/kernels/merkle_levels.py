"""numba kernels of a batch of sparse-Merkle leaf writes: only the node versions anyone reads.

A batch of leaf writes (and reads) is applied in order; each entry k needs the siblings of its
leaf ``i_k`` *at its turn*, and the tree needs the final value of every node written.  Writing
the leaves one by one and hashing each full path (D Poseidon(2) per write) computes versions
nobody reads: a node rewritten by a later write of the batch is nobody's sibling in between.
With Poseidon(2) nodes, node (l + 1, i) = Poseidon(node(l, 2i), node(l, 2i + 1)):

    version (l, k)  = node at level l on write k's path, just after write k
                      (level 0: the leaf; level l+1: Poseidon(left, right) of version (l, k) and
                      the sibling at level l, in the order bit l of i_k says)
    sibling (l, k)  = the last version (l, k') with k' < k at node (i_k >> l) ^ 1, else the
                      node's value before the batch
    needed (l, k)   = (l, k) is some later entry's sibling before the node is written again
                      ∨ k is the node's last write in the batch (its final value)
                      ∨ needed (l + 1, k)

``plan`` computes src (whose version each sibling is) and the needed / final flags in
O(E²·D) index comparisons for E entries.  A version at level l + 1 reads only versions at
level l, so the needed hashes of one level are independent: ``levels_scalar`` walks the levels
bottom-up and splits each level's hashes over ``threads`` numba threads (a level of fewer than
4 hashes stays on the caller's thread: a parallel region costs ~10 µs); ``levels_avx2`` hashes
them four at a time on AVX2 lanes (`prover.kernels.poseidon_avx2`), ``levels_ifma`` eight at a
time on AVX-512 IFMA lanes (`prover.kernels.poseidon_ifma`), each compiled only where the CPU
has those instructions.  The plain twin, one write at a time with full paths, is
``prover.poseidon_engine.tree_update_reference``.

Arrays: idx (E,) int64, write (E,) bool, src (E, D) int64, need / final (E, D + 1) bool;
stored (E·D, 4) the pre-batch siblings, canonical ([k·D + l]); val (E·(D+1), 4) the versions
([k·(D+1) + l], level 0 the leaf), Montgomery form for the scalar kernels, canonical for lanes;
sib (E·D, 4) receives every entry's siblings, canonical.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from prover.kernels import avx2, poseidon_avx2
from prover.kernels.field import FR_ZERO, fr_from_mont, fr_to_mont, load, store, u4
from prover.kernels.ifma import LANES, ROW
from prover.kernels.poseidon_ifma import (
    get_lane,
    permute_groups,
    put_lane,
    rows_from_mont,
    rows_to_mont,
)
from prover.kernels.poseidon_scalar import permute3

__all__ = ["finals", "levels_avx2", "levels_ifma", "levels_scalar", "place_leaves", "plan"]

#: the fewest hashes below the split for which the halves get a thread each (fewer: the region
#: costs more than it saves; 8 trades between adjacent accounts have 14 there)
HALVES_FROM = 32


@njit(cache=True)
def plan(idx, write, depth, src, need):
    """Fill src[k, l] (the entry whose version entry k reads as its level-l sibling, −1: the
    pre-batch value) and need[k, l]; return the (E, D + 1) 'final' flags."""
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
    h, _, _ = permute3(u4(FR_ZERO), left, right, C, S, M, P, n_p)
    return h


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
def levels_scalar(idx, write, src, need, stored, val, sib, threads, C, S, M, P, n_p):
    """Level by level, bottom-up: record every entry's sibling at this level (sib, canonical),
    then hash the level's needed versions into val (Montgomery), split over ``threads`` numba
    threads when the level has at least two hashes per thread (the caller sets numba's thread
    count for the call)."""
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
        chunks = min(threads, m // 2)
        if chunks > 1:
            for c in prange(chunks):
                lo, hi = c * m // chunks, (c + 1) * m // chunks
                _hash_todo(todo, lo, hi, lv, idx, val, sibm, C, S, M, P, n_p)
        else:
            _hash_todo(todo, np.int64(0), m, lv, idx, val, sibm, C, S, M, P, n_p)


@njit(cache=True, nogil=True)
def _nodes_ifma(s, g0, g1, K, c, sp, m, p, n_p, to_mont, unit):
    """Poseidon(left, right) of groups g0..g1−1 (rows 6g + 1, 6g + 2 canonical; row 6g ends as
    the canonical-residue output, below 2p)."""
    rows_to_mont(s, g0, g1, 3, K, to_mont)
    permute_groups(s, g0, g1, 3, K, c, sp, m, p, n_p)
    rows_from_mont(s, g0, g1, 3, K, unit, 0)


@njit(cache=True, nogil=True)
def _clear(s, rows):
    """Rows 0..rows−1 of s = 0 (a loop here: a slice assignment in a parallel function would be
    a parallel region of its own)."""
    for i in range(rows):
        for j in range(s.shape[1]):
            s[i, j] = 0


@njit(cache=True, nogil=True, parallel=True)
def levels_ifma(idx, write, src, need, stored, val, sib, threads,
                K, c, sp, m, p, n_p, to_mont, unit):  # fmt: skip
    """`levels_scalar` with the level's needed hashes eight at a time (AVX-512 IFMA lanes),
    groups of eight split over ``threads`` numba threads; val is canonical here (the lanes
    enter and leave Montgomery form in the vector kernel)."""
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
        _clear(s, groups * 6)
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
def _level_avx2(lv, members, count_m, idx, write, src, need, stored, val, sib, s, todo, threads,
                K, c, sp, mo, po, n_p, to_mont, unit, C, S, M, P):  # fmt: skip
    """Level lv for the entries members[:count_m]: record their siblings, then hash their needed
    versions four at a time (groups over ``threads`` threads), a remainder of one or two on the
    scalar kernel."""
    n = idx.shape[0]
    depth = sib.shape[0] // n
    width = depth + 1
    lanes = avx2.LANES
    count = 0
    for i in range(count_m):
        k = members[i]
        sr = src[k, lv]
        if sr >= 0:
            store(sib, k * depth + lv, load(val, sr * width + lv))
        else:
            store(sib, k * depth + lv, load(stored, k * depth + lv))
        if write[k] and need[k, lv + 1]:
            todo[count] = k
            count += 1
    groups = count // lanes + (count % lanes == lanes - 1)
    in_lanes = min(count, groups * lanes)
    _clear(s, groups * 6)
    for j in range(in_lanes):
        k = todo[j]
        left, right = load(val, k * width + lv), load(sib, k * depth + lv)
        if (idx[k] >> lv) & 1:
            left, right = right, left
        poseidon_avx2.put_lane(s, j // lanes * 6 + 1, j % lanes, left)
        poseidon_avx2.put_lane(s, j // lanes * 6 + 2, j % lanes, right)
    chunks = min(threads, groups)
    t = np.int64(3)  # not a literal: the kernels below are the ones many-row hashing compiles
    if chunks > 1:
        poseidon_avx2.rows_parallel(s, t, groups, chunks, K, c, sp, mo, po, n_p, to_mont, unit)
    elif groups > 0:
        poseidon_avx2.rows_groups(s, t, np.int64(0), groups, K, c, sp, mo, po, n_p, to_mont, unit)
    for j in range(in_lanes):
        store(val, todo[j] * width + lv + 1, poseidon_avx2.get_lane(s, j // lanes * 6, j % lanes))
    for j in range(in_lanes, count):
        k = todo[j]
        left = fr_to_mont(load(val, k * width + lv))
        right = fr_to_mont(load(sib, k * depth + lv))
        if (idx[k] >> lv) & 1:
            left, right = right, left
        store(val, k * width + lv + 1, fr_from_mont(_node(left, right, C, S, M, P, n_p)))


@njit(cache=True, nogil=True, parallel=True)
def _halves_avx2(split, members, counts, idx, write, src, need, stored, val, sib, s2, todo2,
                 K, c, sp, mo, po, n_p, to_mont, unit, C, S, M, P):  # fmt: skip
    """Levels 0..split−1 of each half (members[h][:counts[h]]) on a thread of its own."""
    for h in prange(2):
        sh, th, one = s2[h], todo2[h], np.int64(1)
        for lv in range(split):
            _level_avx2(lv, members[h], counts[h], idx, write, src, need, stored, val, sib, sh,
                        th, one, K, c, sp, mo, po, n_p, to_mont, unit, C, S, M, P)  # fmt: skip


@njit(cache=True, nogil=True)
def _split(idx, write, need, depth):
    """The bit b that splits the entries into two halves best, and the hashes each half has
    at levels below b: b minimises max(w_0, w_1) + 0.65·(hashes at levels ≥ b) (the halves run
    side by side, the levels above about 1.5× faster on two threads), over the bits below the
    highest one where two indices differ (0, (0, 0) if they are all equal)."""
    n = idx.shape[0]
    differ = 0
    for k in range(n):
        differ |= idx[k] ^ idx[0]
    per_level = np.zeros((2, depth, depth), dtype=np.int64)  # [half by bit b][b][level]
    for k in range(n):
        if write[k]:
            for b in range(depth):
                for lv in range(b):
                    per_level[(idx[k] >> b) & 1, b, lv] += need[k, lv + 1]
    level = np.zeros(depth, dtype=np.int64)
    for k in range(n):
        if write[k]:
            for lv in range(depth):
                level[lv] += need[k, lv + 1]
    best, best_cost = 0, -1
    work = np.zeros(2, dtype=np.int64)
    for b in range(1, depth):
        if differ >> b == 0:
            break
        w0, w1, upper = per_level[0, b].sum(), per_level[1, b].sum(), level[b:].sum()
        cost = 20 * max(w0, w1) + 13 * upper
        if best_cost < 0 or cost < best_cost:
            best, best_cost = b, cost
            work[0], work[1] = w0, w1
    return best, work


@njit(cache=True, nogil=True)
def levels_avx2(idx, write, src, need, stored, val, sib, threads,
                K, c, sp, mo, po, n_p, to_mont, unit, C, S, M, P):  # fmt: skip
    """`levels_scalar` with each level's needed hashes four at a time on AVX2 lanes
    (`prover.kernels.poseidon_avx2`; K..unit its t = 3 tables), a remainder of one or two hashes
    (a group costs about as much as two scalar hashes) on the scalar kernel (C, S, M, P: its t = 3
    constants; both take n_p partial rounds).  val is canonical here.

    Two threads: split by bit b of their indices, the entries form two halves whose versions
    below level b never read each other (the sibling of node (l, i) for l < b keeps bit b − l of
    i, bit b of the index), so each half's levels 0..b−1 run on a thread of its own — one
    parallel region instead of one per level — when those levels hold at least ``HALVES_FROM``
    hashes and neither half more than 70 % of them (b from ``_split``); the levels from b up,
    and the other batches, go level by level with each level's groups split over the
    threads."""
    n = idx.shape[0]
    depth = sib.shape[0] // n
    rows = (n + avx2.LANES - 1) // avx2.LANES * 6
    s = np.empty((rows, avx2.ROW), dtype=np.uint64)
    todo = np.empty(n, dtype=np.int64)
    split, work = _split(idx, write, need, depth)
    members = np.empty((2, n), dtype=np.int64)
    counts = np.zeros(2, dtype=np.int64)
    for k in range(n):
        h = (idx[k] >> split) & 1
        members[h, counts[h]] = k
        counts[h] += 1
    start = 0
    total = work[0] + work[1]
    balanced = 10 * max(work[0], work[1]) <= 7 * total
    if threads > 1 and split > 0 and total >= HALVES_FROM and balanced:
        s2 = np.empty((2, rows, avx2.ROW), dtype=np.uint64)
        todo2 = np.empty((2, n), dtype=np.int64)
        _halves_avx2(split, members, counts, idx, write, src, need, stored, val, sib, s2, todo2,
                     K, c, sp, mo, po, n_p, to_mont, unit, C, S, M, P)  # fmt: skip
        start = split
    everyone = np.arange(n)
    for lv in range(start, depth):
        _level_avx2(lv, everyone, n, idx, write, src, need, stored, val, sib, s, todo, threads,
                    K, c, sp, mo, po, n_p, to_mont, unit, C, S, M, P)  # fmt: skip


@njit(cache=True, nogil=True)
def place_leaves(leaves, write, val, depth, mont):
    """val[k·(D+1)] = leaf k of each write (into Montgomery form if ``mont``)."""
    for k in range(leaves.shape[0]):
        if write[k]:
            x = load(leaves, k)
            store(val, k * (depth + 1), fr_to_mont(x) if mont else x)


@njit(cache=True)
def finals(val, final, out, mont):
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
