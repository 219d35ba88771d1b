"""Four-lane Montgomery arithmetic over BN254 Fr with AVX2, as LLVM IR for numba.

One *lane row* holds four field elements in 9 × 29-bit limbs, limb-major: 36 uint64, entry
``4·j + lane`` is bits 29j.. of that lane's value (the top limb holds the rest).  A row is
*normalised* when limbs 0..7 are below 2^29.  The products are ``vpmuludq`` (the 64-bit product
of the low 32 bits of each 64-bit lane), four per instruction; 29-bit limbs leave room to add
many 58-bit products in a 64-bit column before any carry (the radix of Gueron and Krasnov's
AVX2 modular exponentiation, "Software implementation of modular exponentiation, using advanced
vector instructions architectures", WAIFI 2012).

Montgomery form here is x·R mod p with R = 2^261.  A *dot*

    dot([(a_0, c_0), …, (a_{n−1}, c_{n−1})]) = (Σ_k a_k·c_k + m·p) / R,   m < R chosen per limb

accumulates the schoolbook products in 17 columns, then runs nine word-by-word Montgomery
reductions (SOS order: m_i = t_i·(−p^-1) mod 2^29, t += m_i·p·2^29i, carry t_i ≫ 29 into
t_{i+1}) and one carry pass: one reduction for the n products (Koç, Acar, Kaliski, "Analyzing
and comparing Montgomery multiplication algorithms", IEEE Micro 1996).

Bounds.  A normalised value is below 2^261 = R, about 170·p (p < 2^253.6).  The result of a dot
is below Σ a_k·c_k / R + p; every operand the kernels use stays below 80p and every constant
below p, so a dot of t ≤ 17 terms stays below p·(1 + 80·17/170) < 9p, a square of a value
below 9p below 1.5p: nothing here needs a conditional subtraction (the callers' bounds are in
`prover.kernels.poseidon_avx2`).  A column takes at most 9 products per term, each below 2^58;
after ``MAX_TERMS`` = 6 terms the columns are carried (each back below 2^29), so with the nine
reduction products and a carry below 2^35 every column stays below 64·2^58 = 2^64.

Intrinsics (inlined as straight-line IR; rows are (array, row index), arrays C-contiguous
uint64 of shape (n, 36); constants K are (n, 9) uint64, one limb each, broadcast to all lanes):

- ``v_pow5(s, i)``                          s[i] = s[i]^5 (x², x⁴ as squares: 45 products each
  instead of 81; then x⁴·x)
- ``v_pow5_add(s, i, K, k)``                s[i] = s[i]^5 + K[k]
- ``v_add_const(s, i, K, k)``               s[i] = s[i] + K[k]
- ``v_dot_run(d, di, s, si, K, k, ks, n)``  d[di] = dot over j < n of (s[si + j], K[k + j·ks])
- ``v_add_mul_const(s, di, x, K, k)``       s[di] = s[di] + dot((s[x], K[k]))
- ``v_mul_const(d, di, s, si, K, k)``       d[di] = dot((s[si], K[k]))
- ``v_copy(d, di, s, si)``

``HAVE_AVX2`` says whether numba compiles for a CPU with AVX2 (nothing here may be compiled
where it is False).  The intrinsics are inlined into their callers' cached code, which numba
only invalidates when the caller's own file changes: after editing this module, clear the
``__pycache__`` of ``prover/kernels``.  Plain twins on Python integers: ``lane_dot_reference``,
``lane_pow5_reference``; ``tests/prover/test_avx2.py`` compares them on random and edge lanes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core import config as numba_config
from numba.core.codegen import get_host_cpu_features as numba_host_features
from numba.extending import intrinsic

from prover.fields import curve_order as r

__all__ = [
    "HAVE_AVX2",
    "LANES",
    "LIMBS",
    "LIMB_BITS",
    "MAX_TERMS",
    "MONT_R",
    "ROW",
    "const_limbs",
    "ints_from_rows",
    "lane_dot_reference",
    "lane_pow5_reference",
    "rows_from_ints",
    "v_add_const",
    "v_add_mul_const",
    "v_copy",
    "v_dot_run",
    "v_mul_const",
    "v_pow5",
    "v_pow5_add",
]

LIMB_BITS, LIMBS, LANES = 29, 9, 4
ROW = LIMBS * LANES  #: uint64 per lane row
MASK = (1 << LIMB_BITS) - 1
MONT_R = 1 << (LIMB_BITS * LIMBS)  #: R = 2^261
PINV = (-pow(r, -1, 1 << LIMB_BITS)) % (1 << LIMB_BITS)
MAX_TERMS = 6  #: products per column run before a carry pass (the module docstring's bound)


def _host_has_avx2() -> bool:
    """numba compiles for the host CPU and it has AVX2 (not for a NUMBA_CPU_NAME /
    NUMBA_CPU_FEATURES target of its own, e.g. ``generic`` for portable caches)."""
    if numba_config.CPU_NAME not in (None, "host") or numba_config.CPU_FEATURES is not None:
        return False
    try:
        features = set(numba_host_features().split(","))  # what numba compiles for: "+x,-y"
    except RuntimeError:
        return False
    return "+avx2" in features


HAVE_AVX2: bool = _host_has_avx2()

_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_V = ir.VectorType(_I64, LANES)


def _splat(x: int) -> ir.Constant:
    return ir.Constant(_V, [ir.Constant(_I64, x)] * LANES)


_ZERO = _splat(0)
_MASKV = _splat(MASK)
_LOW32 = _splat((1 << 32) - 1)
_SHIFT = _splat(LIMB_BITS)
_P_LIMBS = [_splat((r >> (LIMB_BITS * j)) & MASK) for j in range(LIMBS)]
_PINV = _splat(PINV)


class _Emit:
    """IR emission on one builder: 32×32-bit products, Montgomery dots, carries, rows."""

    def __init__(self, context, builder) -> None:
        self.context, self.b = context, builder

    # -- memory ---------------------------------------------------------------------------------
    def _data(self, arrty, arr):
        return cgutils.create_struct_proxy(arrty)(self.context, self.b, value=arr).data

    def _row_ptrs(self, arrty, arr, row):
        base = self.b.gep(self._data(arrty, arr), [self.b.mul(row, ir.Constant(_I64, ROW))])
        return [
            self.b.bitcast(self.b.gep(base, [ir.Constant(_I64, LANES * j)]), _V.as_pointer())
            for j in range(LIMBS)
        ]

    def load_row(self, arrty, arr, row) -> list:
        return [self.b.load(p, align=8) for p in self._row_ptrs(arrty, arr, row)]

    def store_row(self, arrty, arr, row, limbs: list) -> None:
        for p, v in zip(self._row_ptrs(arrty, arr, row), limbs, strict=True):
            self.b.store(v, p, align=8)

    def load_const(self, arrty, arr, k) -> list:
        """K[k] broadcast to all lanes (nine limbs)."""
        base = self.b.gep(self._data(arrty, arr), [self.b.mul(k, ir.Constant(_I64, LIMBS))])
        mask = ir.Constant(ir.VectorType(_I32, LANES), [ir.Constant(_I32, 0)] * LANES)
        out = []
        for j in range(LIMBS):
            x = self.b.load(self.b.gep(base, [ir.Constant(_I64, j)]), align=8)
            v = self.b.insert_element(ir.Constant(_V, ir.Undefined), x, ir.Constant(_I32, 0))
            out.append(self.b.shuffle_vector(v, ir.Constant(_V, ir.Undefined), mask))
        return out

    # -- arithmetic -----------------------------------------------------------------------------
    def low32(self, limbs: list) -> list:
        """The limbs with their high halves cleared: LLVM then multiplies with ``vpmuludq``."""
        return [self.b.and_(x, _LOW32) for x in limbs]

    def accumulate(self, cols: list, a: list, c: list) -> None:
        b = self.b
        for i in range(LIMBS):
            for j in range(LIMBS):
                cols[i + j] = b.add(cols[i + j], b.mul(a[j], c[i]))

    def carry(self, cols: list) -> None:
        """Every column but the last back below 2^29, the excess carried up (value kept)."""
        b = self.b
        for i in range(len(cols) - 1):
            cols[i + 1] = b.add(cols[i + 1], b.lshr(cols[i], _SHIFT))
            cols[i] = b.and_(cols[i], _MASKV)

    def reduce(self, cols: list) -> list:
        b = self.b
        for i in range(LIMBS):
            m = b.and_(b.mul(b.and_(cols[i], _MASKV), _PINV), _MASKV)
            for j in range(LIMBS):
                cols[i + j] = b.add(cols[i + j], b.mul(m, _P_LIMBS[j]))
            cols[i + 1] = b.add(cols[i + 1], b.lshr(cols[i], _SHIFT))
        out = cols[LIMBS:]
        self.carry(out)
        return out

    def dot(self, pairs: Sequence[tuple[list, list]]) -> list:
        """(Σ a·c + m·p) / R for normalised a, c (the module docstring's bounds)."""
        cols = [_ZERO] * (2 * LIMBS)
        for k, (a, c) in enumerate(pairs):
            if k and k % MAX_TERMS == 0:
                self.carry(cols)
            self.accumulate(cols, self.low32(a), self.low32(c))
        return self.reduce(cols)

    def normalise(self, t: list) -> list:
        t = list(t)
        self.carry(t)
        return t

    def add(self, x: list, y: list) -> list:
        return self.normalise([self.b.add(u, v) for u, v in zip(x, y, strict=True)])

    def square(self, a: list) -> list:
        """dot([(a, a)]) with each cross product a_i·a_j (i < j) taken once and doubled."""
        b, cols = self.b, [_ZERO] * (2 * LIMBS)
        a = self.low32(a)
        for i in range(LIMBS):
            for j in range(i + 1, LIMBS):
                cols[i + j] = b.add(cols[i + j], b.mul(a[i], a[j]))
        cols = [b.add(c, c) for c in cols]
        for i in range(LIMBS):
            cols[2 * i] = b.add(cols[2 * i], b.mul(a[i], a[i]))
        return self.reduce(cols)

    def pow5(self, x: list) -> list:
        return self.dot([(self.square(self.square(x)), x)])


def _is_rows(t) -> bool:
    return isinstance(t, types.Array) and t.dtype == types.uint64 and t.ndim == 2


def _is_index(t) -> bool:
    """A 64-bit integer (the codegen uses indices as i64 as they are)."""
    return isinstance(t, types.Integer) and t.bitwidth == 64


def _void(*args):
    return types.void(*args)


@intrinsic
def v_pow5(typingctx, s, i):
    if not (_is_rows(s) and _is_index(i)):
        return None

    def codegen(context, builder, sig, args):
        e = _Emit(context, builder)
        st = sig.args[0]
        e.store_row(st, args[0], args[1], e.pow5(e.load_row(st, args[0], args[1])))
        return context.get_dummy_value()

    return _void(s, i), codegen


def _const_op(name: str, combine):
    """The intrinsic ``name(s, i, K, k)``: s[i] = combine(emitter, s[i], K[k] broadcast)."""

    def typer(typingctx, s, i, K, k):
        if not (_is_rows(s) and _is_index(i) and _is_rows(K) and _is_index(k)):
            return None

        def codegen(context, builder, sig, args):
            e = _Emit(context, builder)
            st, kt = sig.args[0], sig.args[2]
            x = combine(e, e.load_row(st, args[0], args[1]), e.load_const(kt, args[2], args[3]))
            e.store_row(st, args[0], args[1], x)
            return context.get_dummy_value()

        return _void(s, i, K, k), codegen

    typer.__name__ = typer.__qualname__ = name
    return intrinsic(typer)


v_pow5_add = _const_op("v_pow5_add", lambda e, x, c: e.add(e.pow5(x), c))
v_add_const = _const_op("v_add_const", lambda e, x, c: e.add(x, c))


@intrinsic
def v_dot_run(typingctx, d, di, s, si, K, k, ks, n):
    if not (_is_rows(d) and _is_rows(s) and _is_rows(K)):
        return None
    if not all(_is_index(x) for x in (di, si, k, ks, n)):
        return None

    def codegen(context, builder, sig, args):
        e = _Emit(context, builder)
        dt, st, kt = sig.args[0], sig.args[2], sig.args[4]
        d_, di_, s_, si_, K_, k_, ks_, n_ = args
        cols = [cgutils.alloca_once_value(builder, _ZERO) for _ in range(2 * LIMBS)]
        with cgutils.for_range(builder, n_) as loop:  # SROA turns the columns into phis
            row = builder.add(si_, loop.index)
            kk = builder.add(k_, builder.mul(ks_, loop.index))
            acc = [builder.load(c) for c in cols]
            a, c = e.load_row(st, s_, row), e.load_const(kt, K_, kk)
            e.accumulate(acc, e.low32(a), e.low32(c))
            for col, v in zip(cols, acc, strict=True):
                builder.store(v, col)
            full = builder.icmp_unsigned(
                "==", builder.urem(loop.index, ir.Constant(_I64, MAX_TERMS)),
                ir.Constant(_I64, MAX_TERMS - 1),
            )  # fmt: skip
            with builder.if_then(full, likely=False):
                acc = [builder.load(col) for col in cols]
                e.carry(acc)
                for col, v in zip(cols, acc, strict=True):
                    builder.store(v, col)
        e.store_row(dt, d_, di_, e.reduce([builder.load(c) for c in cols]))
        return context.get_dummy_value()

    return _void(d, di, s, si, K, k, ks, n), codegen


@intrinsic
def v_add_mul_const(typingctx, s, di, x, K, k):
    if not (_is_rows(s) and _is_rows(K) and all(_is_index(v) for v in (di, x, k))):
        return None

    def codegen(context, builder, sig, args):
        e = _Emit(context, builder)
        st, kt = sig.args[0], sig.args[3]
        s_, di_, x_, K_, k_ = args
        product = e.dot([(e.load_row(st, s_, x_), e.load_const(kt, K_, k_))])
        e.store_row(st, s_, di_, e.add(e.load_row(st, s_, di_), product))
        return context.get_dummy_value()

    return _void(s, di, x, K, k), codegen


@intrinsic
def v_mul_const(typingctx, d, di, s, si, K, k):
    if not (_is_rows(d) and _is_rows(s) and _is_rows(K)):
        return None
    if not all(_is_index(x) for x in (di, si, k)):
        return None

    def codegen(context, builder, sig, args):
        e = _Emit(context, builder)
        dt, st, kt = sig.args[0], sig.args[2], sig.args[4]
        d_, di_, s_, si_, K_, k_ = args
        x = e.dot([(e.load_row(st, s_, si_), e.load_const(kt, K_, k_))])
        e.store_row(dt, d_, di_, x)
        return context.get_dummy_value()

    return _void(d, di, s, si, K, k), codegen


@intrinsic
def v_copy(typingctx, d, di, s, si):
    if not (_is_rows(d) and _is_rows(s) and _is_index(di) and _is_index(si)):
        return None

    def codegen(context, builder, sig, args):
        e = _Emit(context, builder)
        e.store_row(sig.args[0], args[0], args[1], e.load_row(sig.args[2], args[2], args[3]))
        return context.get_dummy_value()

    return _void(d, di, s, si), codegen


# ------------------------------------------------------------------ layout and plain twins


def const_limbs(values: Sequence[int]) -> np.ndarray:
    """(n, 9) uint64: each value's 29-bit limbs (a constants table K)."""
    out = np.zeros((len(values), LIMBS), dtype=np.uint64)
    for i, v in enumerate(values):
        for j in range(LIMBS):
            out[i, j] = (v >> (LIMB_BITS * j)) & MASK if j < LIMBS - 1 else v >> (LIMB_BITS * j)
    return out


def rows_from_ints(rows: Sequence[Sequence[int]]) -> np.ndarray:
    """(n, 36) uint64 lane rows, normalised, from n lists of four non-negative ints < 2^261."""
    out = np.zeros((len(rows), ROW), dtype=np.uint64)
    for i, lanes in enumerate(rows):
        if len(lanes) != LANES:
            raise ValueError(f"a lane row holds {LANES} values, got {len(lanes)}")
        for lane, v in enumerate(lanes):
            for j in range(LIMBS):
                limb = v >> (LIMB_BITS * j)
                out[i, LANES * j + lane] = limb & MASK if j < LIMBS - 1 else limb
    return out


def ints_from_rows(arr: np.ndarray) -> list[list[int]]:
    """The four values of each lane row (limbs summed with their weights; not reduced)."""
    return [
        [sum(int(row[LANES * j + lane]) << (LIMB_BITS * j) for j in range(LIMBS))
         for lane in range(LANES)]
        for row in arr
    ]  # fmt: skip


def lane_dot_reference(pairs: Sequence[tuple[int, int]]) -> int:
    """Twin of one lane of a dot: Σ a·c·R^-1 mod p, as the canonical residue (the fast kernel
    returns the same residue, not necessarily below p)."""
    return sum(a * c for a, c in pairs) * pow(MONT_R, -1, r) % r


def lane_pow5_reference(x: int) -> int:
    """Twin of one lane of ``v_pow5``: the Montgomery-form x^5, i.e. x^5·R^-4 mod p."""
    return pow(x, 5, r) * pow(MONT_R, -4, r) % r
