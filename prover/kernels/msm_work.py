"""The MSM's work outside the kernels (:mod:`prover.kernels.msm`): its terms as segments, the
tasks the workers pull, and the scratch blocks they work in.

- ``segments`` checks up to three (bases, scalars) segments and an optional ``rows`` index into
  the first, and makes read-only C-contiguous views of them, padded to three segments, so the
  kernels compile once whatever the caller passes.
- ``tasks`` gives one task per window, the windows left over after even rounds cut into one term
  range per worker.
- A task takes a flat scratch block from a ``Pool`` and ``carve`` cuts it into the arrays the
  kernel unpacks (``layout``: the bucket buffer, the batch inversion's scratch, the halving and
  chain indices, a chunk's digits, the carried-over bucket points, the counters and the chain
  state). ``workspace()`` keeps one pool across the MSMs of a proof.

Nothing here imports numba.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from prover.threads import chunks

#: below this many terms the digits (and carries) are one task and no window is cut into parts (a
#: thread hand-off costs more than it saves)
DIGITS_SPLIT_FROM = 1 << 14
#: A window's terms are bucketed in chunks of at most this many: after each chunk every bucket is
#: summed to one point, carried into the next chunk's bucket, for ≤ nb more additions per extra
#: chunk. It bounds a worker's buffers at ~200 MB (G1; 2^21 points and their pair scratch) for
#: circuits of any size. Below it (the B = 8 batch's largest MSM has 888,585 terms) a window is
#: one chunk: cutting that one in two saved 60 MB but cost 3.6 % more additions, and measured no
#: faster as a whole process.
CHUNK_TERMS = 1 << 21


def chain_split(nb: int) -> tuple[int, int]:
    """(K, L): the window sum runs K chains of L = nb / K buckets (K a power of 2 near √(4·nb))."""
    k = min(nb, 1 << ((nb.bit_length() + 2) // 2))
    return k, nb // k


class Pool:
    """Scratch blocks (flat uint64) handed to the workers one window at a time: a block goes
    back when its window is done, so an MSM holds one per concurrent worker. A block that is too
    small for the MSM at hand is replaced by a larger one."""

    def __init__(self) -> None:
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self, words: int) -> np.ndarray:
        with self._lock:
            block = self._free.pop() if self._free else None
        if block is None or block.shape[0] < words:
            block = None  # dropped before the larger one is made: its pages are reused
            block = np.empty(words, dtype=np.uint64)
        return block

    def give(self, block: np.ndarray) -> None:
        with self._lock:
            self._free.append(block)


_ACTIVE = threading.local()


@contextmanager
def workspace() -> Iterator[None]:
    """MSMs run inside share one pool of per-worker scratch blocks, sized by the largest, instead
    of each allocating its own: a prove's four MSMs fault in their peak memory once. The blocks
    are dropped on exit."""
    outer = getattr(_ACTIVE, "pool", None)
    _ACTIVE.pool = outer or Pool()
    try:
        yield
    finally:
        _ACTIVE.pool = outer


def active_pool() -> Pool:
    """The pool of the innermost ``workspace()`` of this thread, else a fresh one."""
    return getattr(_ACTIVE, "pool", None) or Pool()


def chunk_terms(n: int) -> int:
    """Terms per chunk of a window: n cut into ⌈n / CHUNK_TERMS⌉ near-equal chunks."""
    chunks = -(-n // CHUNK_TERMS)
    return -(-n // chunks)


def layout(n: int, m: int, nb: int, point_words: int, pair_words: int) -> tuple[list[int], int]:
    """Word offsets of a block's parts (``carve``) and its size, for n terms in chunks of m and
    nb buckets."""
    K, _ = chain_split(nb)
    rows = m + (nb if m < n else 0)  # a chunk's points and the points carried over
    pairs = max(rows // 2, K)
    sizes = [
        (rows + 1) * point_words,  # buf: the chunk's points by bucket, then infinity
        pairs * pair_words,  # scratch: the batch inversion's prefix products
        3 * pairs,  # idx: (ia, ib, iout) of a halving round
        6 * K,  # chain_idx: the two additions of a chained window-sum step
        (m + 1) // 2,  # digits: int32, one chunk's
        nb * point_words,  # acc: each bucket's point carried to the next chunk
        5 * nb,  # fill, starts, counts, cnt, has_acc
        2 * K * point_words,  # state: run and total slots of the chains
    ]
    offsets = [0]
    for size in sizes:
        offsets.append(offsets[-1] + size)
    return offsets, offsets[-1]


def carve(block: np.ndarray, n: int, m: int, nb: int, point_shape: tuple[int, ...], pair_shape):
    """The work views ``msm._window_task_*`` unpacks, cut from one block."""
    point_words, pair_words = int(np.prod(point_shape)), int(np.prod(pair_shape))
    K, L = chain_split(nb)
    o, _ = layout(n, m, nb, point_words, pair_words)
    rows = o[1] // point_words - 1
    pairs = (o[2] - o[1]) // pair_words
    flat_buf = block[o[0] : o[1]].reshape(rows + 1, point_words)
    flat_buf[rows] = 0  # the infinity row that an empty bucket reads
    ints = block.view(np.int64)
    counters = ints[o[6] : o[7]].reshape(5, nb)
    return (
        flat_buf.reshape(rows + 1, *point_shape),
        flat_buf,
        block[o[1] : o[2]].reshape(pairs, *pair_shape),
        ints[o[2] : o[3]].reshape(3, pairs),
        ints[o[3] : o[4]].reshape(6, K),
        block[o[4] : o[5]].view(np.int32)[:m],
        block[o[5] : o[6]].reshape(nb, point_words),
        counters[0],
        counters[1],
        counters[2],
        counters[3],
        counters[4],
        block[o[7] : o[8]].reshape(2 * K, *point_shape),
        K,
        L,
        m,
    )


def frozen(a: np.ndarray, shape: tuple[int, ...], dtype=np.uint64) -> np.ndarray:
    """A read-only C-contiguous view (a copy only if ``a`` is not already such an array): the
    kernels then compile once for mapped keys and built arrays alike."""
    v = np.ascontiguousarray(a, dtype=dtype).reshape(shape).view()
    v.flags.writeable = False
    return v


def segments(bases, scalars, rows, point_shape: tuple[int, ...]) -> tuple:
    """Check up to three (bases, scalars) segments and ``rows``; returns (src, scal, n)."""
    bs = bases if isinstance(bases, tuple) else (bases,)
    ss = scalars if isinstance(scalars, tuple) else (scalars,)
    if len(bs) != len(ss) or not 1 <= len(bs) <= 3:
        raise ValueError(f"{len(bs)} base segments and {len(ss)} scalar segments (1 to 3 each)")
    words = int(np.prod(point_shape))
    flat, limbs = [], []
    for b, s in zip(bs, ss, strict=True):
        b, s = np.asarray(b), np.asarray(s)
        if b.shape[1:] != point_shape or b.ndim != 1 + len(point_shape):
            raise ValueError(f"bases must have shape (n, {', '.join(map(str, point_shape))})")
        if s.ndim != 2 or s.shape[1] != 4:
            raise ValueError("scalars must have shape (n, 4)")
        if s.shape[0] != b.shape[0]:
            raise ValueError(f"{b.shape[0]} bases but {s.shape[0]} scalars")
        flat.append(frozen(b, (b.shape[0], words)))
        limbs.append(frozen(s, s.shape))
    while len(flat) < 3:
        flat.append(frozen(np.zeros((0, words), np.uint64), (0, words)))
        limbs.append(frozen(np.zeros((0, 4), np.uint64), (0, 4)))
    use_rows = rows is not None
    r = np.asarray(rows if use_rows else np.zeros(0, np.int64))
    if r.ndim != 1 or (r.size and r.dtype.kind not in "iu"):
        raise ValueError("rows must be a 1-D array of integer indices")
    if r.size and (int(r.min()) < 0 or int(r.max()) >= flat[0].shape[0]):
        raise ValueError(f"rows must index the first segment's {flat[0].shape[0]} terms")
    r = frozen(r, r.shape, np.int64)
    n = (r.shape[0] if use_rows else flat[0].shape[0]) + flat[1].shape[0] + flat[2].shape[0]
    return (flat[0], flat[1], flat[2], r, use_rows), (limbs[0], limbs[1], limbs[2], r, use_rows), n


def tasks(nwin: int, n: int, workers: int) -> list[tuple[int, int, int]]:
    """(window, first term, end) of each task: one per window, except that the nwin mod workers
    windows left after the even rounds are each cut into one term range per worker (their parts'
    sums are added by ``msm._horner_*``), so no worker idles through the last window. Splitting
    costs one more bucket sum per extra part (≤ 2^c additions) and saves up to one window's
    time: at B = 8, 17 windows on 2 workers were 9 + 8."""
    whole = nwin - nwin % workers if n >= DIGITS_SPLIT_FROM and workers > 1 else nwin
    tasks = [(w, 0, n) for w in range(whole)]
    for w in range(whole, nwin):
        tasks += [(w, lo, hi) for lo, hi in chunks(n, workers)]
    return tasks
