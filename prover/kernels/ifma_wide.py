"""One wide state across the eight IFMA lanes: the intrinsics of a single Poseidon permutation.

`prover.kernels.ifma` runs eight independent states side by side (lane k = state k).  A single
hash — the pubdata sponge, a global-state hash, a state root — has no eight neighbours, so here
the lanes hold the *elements* of one state instead: element i of a width-t state sits in lane
i mod 8 of row ⌊i / 8⌋ (t ≤ 17: up to three rows; lanes ≥ t stay zero).  Constants are *lane
rows* too (``W``: (n, 40), one value per lane, Montgomery form R = 2^260, see `ifma`), so a
round constant or a matrix column is one per-lane operand.

- ``w_add_row(s, q, W, w)``                 s[q] = s[q] + W[w]                        (per lane)
- ``w_mul_row(s, q, W, w)``                 s[q] = dot((s[q], W[w]))                  (per lane)
- ``w_mix(d, dq, s, t, W, w, ws)``          d[dq] = Σ_{j<t} bcast(element j of s)·W[w + j·ws]
  (one lazily reduced dot of t terms: the output lanes of one row of M·state)
- ``w_partial(s, R, W, c, srow, vrow)``     one sparse partial round of circomlib's optimised
  Poseidon on the R-row state s (element 0 is x_0)::

      x_0   = x_0^5 + c                (lane 0 of row 0 only; c = W[c], zero in other lanes)
      x_0'  = Σ_j S_j·x_j              (W[srow + q]: the S_j of row q; the products' columns
                                        are summed across lanes before one reduction)
      x_j'  = x_j + v_j·x_0    (j ≥ 1)  (W[vrow + q]: the v_j; one product, then x_j' is
                                        brought below 2p by one conditional subtraction)

Bounds as in `ifma`: the horizontal sum adds 8 lanes' columns of ≤ 3 products each
(< 240·2^52 per column), the reduced x_0' is below 51p²/R + p < 2p (t ≤ 17 terms below
3p·p).  The broadcast is ``vpermq`` (``llvm.x86.avx512.permvar.di.512``) with a splatted
index, so t may be a runtime value.  Twins: ``w_mix_reference``, ``w_partial_reference``
(Python ints, one list per state); ``tests/prover/test_ifma.py`` compares them.  Only for
``ifma.HAVE_IFMA``.
"""

from __future__ import annotations

from collections.abc import Sequence

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from prover.fields import curve_order as r
from prover.kernels.ifma import LANES, LIMBS, MONT_R, _Emit, _is_index, _is_rows, _void, row_op

__all__ = [
    "w_add_row",
    "w_mix",
    "w_mix_reference",
    "w_mul_row",
    "w_partial",
    "w_partial_reference",
]

_I1, _I32, _I64 = ir.IntType(1), ir.IntType(32), ir.IntType(64)
_V = ir.VectorType(_I64, LANES)
_LANE0 = ir.Constant(ir.VectorType(_I1, LANES), [1] + [0] * (LANES - 1))


def _mask(lanes: Sequence[int]) -> ir.Constant:
    return ir.Constant(ir.VectorType(_I32, LANES), [ir.Constant(_I32, k) for k in lanes])


class _Wide(_Emit):
    """`ifma._Emit` plus lane broadcasts, lane-0 blends and horizontal column sums."""

    def __init__(self, context, builder) -> None:
        super().__init__(context, builder)
        fnty = ir.FunctionType(_V, [_V, _V])
        self._perm = cgutils.get_or_insert_function(
            builder.module, fnty, "llvm.x86.avx512.permvar.di.512"
        )

    def load_lane_row(self, arrty, arr, w) -> list:
        """W[w] as five per-lane vectors (a row of the constants table)."""
        return self.load_row(arrty, arr, w)

    def broadcast(self, limbs: list, lane) -> list:
        """Every lane = lane ``lane`` (a runtime i64) of the row."""
        idx = self.b.insert_element(ir.Constant(_V, ir.Undefined), lane, ir.Constant(_I32, 0))
        idx = self.b.shuffle_vector(idx, ir.Constant(_V, ir.Undefined), _mask([0] * LANES))
        return [self.b.call(self._perm, [v, idx]) for v in limbs]

    def lane0(self, first: list, rest: list) -> list:
        """Lane 0 from ``first``, lanes 1..7 from ``rest``."""
        return [self.b.select(_LANE0, a, b) for a, b in zip(first, rest, strict=True)]

    def hsum(self, cols: list) -> list:
        """Each column summed across the eight lanes (the total in every lane)."""
        out = []
        for c in cols:
            for m in ([4, 5, 6, 7, 0, 1, 2, 3], [2, 3, 0, 1, 6, 7, 4, 5], [1, 0, 3, 2, 5, 4, 7, 6]):
                c = self.b.add(c, self.b.shuffle_vector(c, ir.Constant(_V, ir.Undefined), _mask(m)))
            out.append(c)
        return out


def _zeros() -> list:
    return [ir.Constant(_V, [ir.Constant(_I64, 0)] * LANES)] * (2 * LIMBS)


w_add_row = row_op("w_add_row", lambda e, x, c: e.add(x, c), broadcast=False)
w_mul_row = row_op("w_mul_row", lambda e, x, c: e.dot([(x, c)]), broadcast=False)


@intrinsic
def w_mix(typingctx, d, dq, s, t, W, w, ws):
    if not (_is_rows(d) and _is_rows(s) and _is_rows(W)):
        return None
    if not all(_is_index(x) for x in (dq, t, w, ws)):
        return None

    def codegen(context, builder, sig, args):
        e = _Wide(context, builder)
        dt, st, wt = sig.args[0], sig.args[2], sig.args[4]
        d_, dq_, s_, t_, W_, w_, ws_ = args
        t_ = context.cast(builder, t_, sig.args[3], types.int64)
        cols = [cgutils.alloca_once_value(builder, z) for z in _zeros()]
        with cgutils.for_range(builder, t_) as loop:
            j = loop.index
            row = builder.udiv(j, ir.Constant(_I64, LANES))
            lane = builder.urem(j, ir.Constant(_I64, LANES))
            x = e.broadcast(e.load_row(st, s_, row), lane)
            c = e.load_lane_row(wt, W_, builder.add(w_, builder.mul(ws_, j)))
            acc = [builder.load(p) for p in cols]
            e.accumulate(acc, x, c)
            for p, v in zip(cols, acc, strict=True):
                builder.store(v, p)
        e.store_row(dt, d_, dq_, e.reduce([builder.load(p) for p in cols]))
        return context.get_dummy_value()

    return _void(d, dq, s, t, W, w, ws), codegen


@intrinsic
def w_partial(typingctx, s, R, W, c, srow, vrow):
    if not (_is_rows(s) and _is_rows(W)):
        return None
    if not all(_is_index(x) for x in (R, c, srow, vrow)):
        return None

    def codegen(context, builder, sig, args):
        e = _Wide(context, builder)
        st, wt = sig.args[0], sig.args[2]
        s_, R_, W_, c_, srow_, vrow_ = args
        R_ = context.cast(builder, R_, sig.args[1], types.int64)
        zero = ir.Constant(_I64, 0)
        row0 = e.load_row(st, s_, zero)
        x = e.add(e.lane0(e.pow5(row0), row0), e.load_lane_row(wt, W_, c_))
        e.store_row(st, s_, zero, x)
        cols = [cgutils.alloca_once_value(builder, z) for z in _zeros()]
        with cgutils.for_range(builder, R_) as loop:  # Σ_j S_j·x_j, column by column
            acc = [builder.load(p) for p in cols]
            row = e.load_row(st, s_, loop.index)
            e.accumulate(acc, row, e.load_lane_row(wt, W_, builder.add(srow_, loop.index)))
            for p, v in zip(cols, acc, strict=True):
                builder.store(v, p)
        h = e.reduce(e.hsum([builder.load(p) for p in cols]))
        x0 = e.broadcast(x, zero)
        with cgutils.for_range(builder, R_) as loop:  # x_j + v_j·x_0, below 2p again
            row = e.load_row(st, s_, loop.index)
            v = e.load_lane_row(wt, W_, builder.add(vrow_, loop.index))
            e.store_row(st, s_, loop.index, e.below_2p(e.add(row, e.dot([(x0, v)]))))
        e.store_row(st, s_, zero, e.lane0(h, e.load_row(st, s_, zero)))
        return context.get_dummy_value()

    return _void(s, R, W, c, srow, vrow), codegen


# ------------------------------------------------------------------------------ plain twins

_RINV = pow(MONT_R, -1, r)


def w_mix_reference(state: Sequence[int], columns: Sequence[Sequence[int]]) -> list[int]:
    """Twin of ``w_mix`` for one output row: lane i = Σ_j state[j]·columns[j][i]·R^-1 mod p."""
    return [sum(x * col[i] for x, col in zip(state, columns, strict=True)) * _RINV % r
            for i in range(LANES)]  # fmt: skip


def w_partial_reference(
    state: Sequence[int], c: int, s: Sequence[int], v: Sequence[int]
) -> list[int]:
    """Twin of ``w_partial`` on Montgomery-form elements (canonical residues out): x_0 =
    x_0^5·R^-4 + c, x_0' = Σ s_j·x_j·R^-1, x_j' = x_j + v_j·x_0·R^-1."""
    x = list(state)
    x[0] = (pow(x[0], 5, r) * pow(_RINV, 4, r) + c) % r
    head = sum(a * b for a, b in zip(s, x, strict=True)) * _RINV % r
    rest = [(x[j] + v[j] * x[0] * _RINV) % r for j in range(1, len(x))]
    return [head, *rest]
