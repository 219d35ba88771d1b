"""One Poseidon hash with its state spread over the IFMA lanes: twin of `poseidon_scalar`'s
single hash, for widths t = 2..17 (`prover.kernels.ifma_wide`: element i in lane i mod 8 of row
⌊i / 8⌋).

The permutation is `poseidon_scalar._permute` (circomlib's optimised ``C, S, M, P``):

    state += C[0:t]
    4 ×  state = M·(state^5 + C_k)        (the 4th with P: one broadcast dot per output row)
    R_P × w_partial                       (x0^5 + c_k, x0' = S_k·state, x_j += v_kj·x0)
    4 ×  state = M·(state^5 (+ C_k))

with every constant laid out as a lane row (the compressed C per round, each matrix column
j as the rows of its t outputs, each sparse round's S_k and v_k), Montgomery form R = 2^260.
The state array has 2R rows (R = ⌈t/8⌉): the state, then the mix's scratch.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

import numpy as np
from numba import njit

from protocol.poseidon_constants import optimized_params
from prover.fields import curve_order as r
from prover.kernels.field import load, store
from prover.kernels.ifma import LANES, MONT_R, ROW, rows_from_ints, v_copy, v_pow5
from prover.kernels.ifma_wide import w_add_row, w_mix, w_mul_row, w_partial
from prover.kernels.poseidon_ifma import get_lane, put_lane

__all__ = ["MAX_WIDTH", "WideTables", "hash_kernel", "wide_tables"]

MAX_WIDTH = 17  #: up to three rows of lanes (the dots' column bound, `ifma.MAX_TERMS`)


class WideTables(NamedTuple):
    """Lane-row constants of width t (W: (n, 40)) and the row offsets the kernel reads."""

    W: np.ndarray
    c: int  #: round constants: R rows per full round, one row (lane 0) per partial round
    m: int  #: M: column j's output row q at m + j·R + q
    p: int  #: P, same layout
    sp: int  #: sparse rounds: S_k rows at sp + 2R·k, v_k rows at sp + 2R·k + R
    n_p: int  #: partial rounds
    to_mont: int  #: R² mod p in every lane
    unit: int  #: 1 in every lane


def _rows(values: list[int], R: int) -> list[list[int]]:
    padded = values + [0] * (R * LANES - len(values))
    return [padded[q * LANES : (q + 1) * LANES] for q in range(R)]


@cache
def wide_tables(t: int) -> WideTables:
    """The constants of width t (2 ≤ t ≤ 17), cached; ``*wide_tables(t)`` are
    ``hash_kernel``'s last eight arguments."""
    if not 2 <= t <= MAX_WIDTH:
        raise ValueError(f"the wide Poseidon takes t = 2..{MAX_WIDTH}, got {t}")
    o = optimized_params(t)
    R = (t + LANES - 1) // LANES

    def mont(x: int) -> int:
        return x * MONT_R % r

    C = [mont(x) for x in o.C]
    rows: list[list[int]] = []
    ci = 0
    for _ in range(5):  # the initial addition and the four first full rounds
        rows += _rows(C[ci : ci + t], R)
        ci += t
    for k in range(o.n_rounds_p):
        rows += _rows([C[ci + k]], 1)
    ci += o.n_rounds_p
    for _ in range(3):
        rows += _rows(C[ci : ci + t], R)
        ci += t
    m = len(rows)
    for flat in (o.M, o.P):  # circomlib's transposed layout: state'[i] = Σ_j flat[j][i]·state[j]
        for j in range(t):
            rows += _rows([mont(x) for x in flat[j]], R)
    sp = len(rows)
    width = 2 * t - 1
    for k in range(o.n_rounds_p):
        s = [mont(x) for x in o.S[k * width : (k + 1) * width]]
        rows += _rows(s[:t], R)
        rows += _rows([0, *s[t:]], R)
    to_mont = len(rows)
    rows += [[MONT_R * MONT_R % r] * LANES, [1] * LANES]
    W = rows_from_ints(rows)
    return WideTables(W, 0, m, m + t * R, sp, o.n_rounds_p, to_mont, to_mont + 1)


@njit(cache=True, nogil=True, inline="always")
def _full(s, t, R, W, ci, mat, add):
    for q in range(R):
        v_pow5(s, q)
        if add:
            w_add_row(s, q, W, ci + q)
    for q in range(R):
        w_mix(s, R + q, s, t, W, mat + q, R)
    for q in range(R):
        v_copy(s, q, s, R + q)


@njit(cache=True, nogil=True)
def permute_wide(s, t, W, c, m, p, sp, n_p):
    """The Poseidon permutation of one Montgomery-form state spread over lane rows (in place)."""
    R = (t + LANES - 1) // LANES
    for q in range(R):
        w_add_row(s, q, W, c + q)
    ci = c + R
    for k in range(4):
        _full(s, t, R, W, ci, m if k < 3 else p, True)
        ci += R
    for k in range(n_p):
        w_partial(s, R, W, ci + k, sp + 2 * R * k, sp + 2 * R * k + R)
    ci += n_p
    for k in range(4):
        _full(s, t, R, W, ci, m, k < 3)
        ci += R


@njit(cache=True, nogil=True)
def hash_kernel(state, out, W, c, m, p, sp, n_p, to_mont, unit):
    """out[0] = the first element of Poseidon's permutation of ``state`` ((t, 4) canonical
    limbs: [init, inputs...]), canonical."""
    t = state.shape[0]
    R = (t + LANES - 1) // LANES
    s = np.zeros((2 * R, ROW), dtype=np.uint64)
    for i in range(t):
        put_lane(s, i // LANES, i % LANES, load(state, i))
    for q in range(R):
        w_mul_row(s, q, W, to_mont)
    permute_wide(s, t, W, c, m, p, sp, n_p)
    w_mul_row(s, 0, W, unit)
    store(out, 0, get_lane(s, 0, 0))
