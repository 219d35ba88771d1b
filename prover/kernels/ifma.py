"""Eight-lane Montgomery arithmetic over BN254 Fr with AVX-512 IFMA, as LLVM IR for numba.

One *lane row* holds eight field elements in 5 × 52-bit limbs, limb-major: 40 uint64, entry
``8·j + lane`` is bits 52j.. of that lane's value (the top limb holds the rest).  A row is
*normalised* when limbs 0..3 are below 2^52; IFMA (``vpmadd52luq`` / ``vpmadd52huq``: the low /
high 52 bits of the 104-bit product of two 52-bit operands, added to a 64-bit accumulator) reads
only the low 52 bits of each operand, so every product input is normalised first.

Montgomery form here is x·R mod p with R = 2^260 (five 52-bit limbs).  A *dot*

    dot([(a_0, c_0), …, (a_{n−1}, c_{n−1})]) = (Σ_k a_k·c_k + m·p) / R,   m < R chosen per limb

accumulates all n schoolbook products in ten 64-bit columns, then runs five word-by-word
Montgomery reductions (SOS order: m_i = t_i·(−p^-1) mod 2^52, t += m_i·p·2^52i, carry t_i ≫ 52
into t_{i+1}) and one carry pass: one reduction for the n products, as in
``prover.kernels.dot_asm``.  The result is below Σ a_k·c_k / R + p, so it is < 2p whenever
Σ a_k·c_k < R·p; the callers keep that bound (a term below 3p times a constant below p, up to
17 terms: < 51p²; a square of a value below 3p: 9p²; R·p > 2^6·p² since p < 2^254).  Column
sums stay below 2^64: ≤ 10 addends below 2^52 per product per column, ≤ 17 products (< 2^60),
plus ten reduction addends and the carries.

Intrinsics (each inlined as straight-line IR; rows are addressed as (array, row index), arrays
C-contiguous uint64 of shape (n, 40); constants K are (n, 5) uint64, one limb each, broadcast to
all lanes):

- ``v_pow5(s, i)``                         s[i] = s[i]^5 (x², x⁴ as squares: 15 products each;
  then x⁴·x)
- ``v_pow5_add(s, i, K, k)``               s[i] = s[i]^5 + K[k]
- ``v_add_const(s, i, K, k)``              s[i] = s[i] + K[k]
- ``v_dot_run(d, di, s, si, K, k, ks, n)`` d[di] = dot over j < n of (s[si + j], K[k + j·ks])
  (a loop in the IR; the caller keeps n ≤ 17)
- ``v_add_mul_const(s, di, x, K, k)``      s[di] = s[di] + dot((s[x], K[k])), brought below 2p
  by one conditional subtraction of 2p (s[di] < 2p: the sum is below 4p)
- ``v_mul_const(d, di, s, si, K, k)``      d[di] = dot((s[si], K[k]))
- ``v_copy(d, di, s, si)``

``HAVE_IFMA`` says whether this CPU has AVX-512 F + IFMA; nothing here may be compiled where it
is False (the callers dispatch on it; numba's on-disk cache is keyed by CPU features).  The
intrinsics are inlined into their callers' cached code, which numba only invalidates when the
caller's own file changes: after editing this module, clear the ``__pycache__`` of
``prover/kernels`` too.  Plain twins on Python integers: ``lane_dot_reference``,
``lane_pow5_reference``; the tests compare them on random and edge lanes.  Reference: Drucker,
Gueron, "Fast modular squaring with AVX512IFMA" (ITNG 2019) for the 52-bit column layout; Koç,
Acar, Kaliski, IEEE Micro 1996 (SOS).
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
    "HAVE_IFMA",
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
    "row_op",
    "rows_from_ints",
    "v_add_const",
    "v_add_mul_const",
    "v_copy",
    "v_dot_run",
    "v_mul_const",
    "v_pow5",
    "v_pow5_add",
]

LIMB_BITS, LIMBS, LANES = 52, 5, 8
ROW = LIMBS * LANES  #: uint64 per lane row
MASK = (1 << LIMB_BITS) - 1
MONT_R = 1 << (LIMB_BITS * LIMBS)  #: R = 2^260
PINV = (-pow(r, -1, 1 << LIMB_BITS)) % (1 << LIMB_BITS)
MAX_TERMS = 17  #: the column bound of the module docstring


def _host_has_ifma() -> bool:
    """The CPU has AVX-512 F + IFMA and numba compiles for it: not for a NUMBA_CPU_NAME /
    NUMBA_CPU_FEATURES target of its own (e.g. ``generic`` for portable caches), and not with
    AVX turned off (NUMBA_ENABLE_AVX=0, or numba's own default on some older CPUs) — LLVM cannot
    select the IFMA intrinsics there and aborts the process."""
    if numba_config.CPU_NAME not in (None, "host") or numba_config.CPU_FEATURES is not None:
        return False
    try:
        features = set(numba_host_features().split(","))  # what numba compiles for: "+x,-y"
    except RuntimeError:
        return False
    return {"+avx512f", "+avx512ifma"} <= features


HAVE_IFMA: bool = _host_has_ifma()

_I64 = ir.IntType(64)
_I32 = ir.IntType(32)
_V = ir.VectorType(_I64, LANES)


def _splat(x: int) -> ir.Constant:
    return ir.Constant(_V, [ir.Constant(_I64, x)] * LANES)


_ZERO = _splat(0)
_MASKV = _splat(MASK)
_SHIFT = _splat(LIMB_BITS)
_P_LIMBS = [(r >> (LIMB_BITS * j)) & MASK for j in range(LIMBS)]
_2P_LIMBS = [(2 * r >> (LIMB_BITS * j)) & MASK for j in range(LIMBS)]  # 2p < 2^255: fits


class _Emit:
    """IR emission on one builder: IFMA products, Montgomery dots, carries, row loads/stores."""

    def __init__(self, context, builder) -> None:
        self.context, self.b = context, builder
        fnty = ir.FunctionType(_V, [_V, _V, _V])
        module = builder.module
        self._lo = cgutils.get_or_insert_function(module, fnty, "llvm.x86.avx512.vpmadd52l.uq.512")
        self._hi = cgutils.get_or_insert_function(module, fnty, "llvm.x86.avx512.vpmadd52h.uq.512")

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
        """K[k] broadcast to all lanes (five limbs)."""
        base = self.b.gep(self._data(arrty, arr), [self.b.mul(k, ir.Constant(_I64, LIMBS))])
        mask = ir.Constant(ir.VectorType(_I32, LANES), [ir.Constant(_I32, 0)] * LANES)
        out = []
        for j in range(LIMBS):
            x = self.b.load(self.b.gep(base, [ir.Constant(_I64, j)]), align=8)
            v = self.b.insert_element(ir.Constant(_V, ir.Undefined), x, ir.Constant(_I32, 0))
            out.append(self.b.shuffle_vector(v, ir.Constant(_V, ir.Undefined), mask))
        return out

    # -- arithmetic -----------------------------------------------------------------------------
    def accumulate(self, cols: list, a: list, c: list) -> None:
        for i in range(LIMBS):
            for j in range(LIMBS):
                cols[i + j] = self.b.call(self._lo, [cols[i + j], a[j], c[i]])
                cols[i + j + 1] = self.b.call(self._hi, [cols[i + j + 1], a[j], c[i]])

    def reduce(self, cols: list) -> list:
        b = self.b
        pv = [_splat(x) for x in _P_LIMBS]
        for i in range(LIMBS):
            m = b.call(self._lo, [_ZERO, cols[i], _splat(PINV)])
            for j in range(LIMBS):
                cols[i + j] = b.call(self._lo, [cols[i + j], m, pv[j]])
                cols[i + j + 1] = b.call(self._hi, [cols[i + j + 1], m, pv[j]])
            cols[i + 1] = b.add(cols[i + 1], b.lshr(cols[i], _SHIFT))
        return self.normalise(cols[LIMBS:])

    def dot(self, pairs: Sequence[tuple[list, list]]) -> list:
        """(Σ a·c + m·p) / R for normalised a, c (see the module docstring for the bound)."""
        cols = [_ZERO] * (2 * LIMBS)
        for a, c in pairs:
            self.accumulate(cols, a, c)
        return self.reduce(cols)

    def normalise(self, t: list) -> list:
        b, t = self.b, list(t)
        for j in range(LIMBS - 1):
            t[j + 1] = b.add(t[j + 1], b.lshr(t[j], _SHIFT))
            t[j] = b.and_(t[j], _MASKV)
        return t

    def add(self, x: list, y: list) -> list:
        return self.normalise([self.b.add(u, v) for u, v in zip(x, y, strict=True)])

    def square(self, a: list) -> list:
        """dot([(a, a)]) with each cross product a_i·a_j (i < j) taken once and doubled: 15
        products instead of 25."""
        b, cols = self.b, [_ZERO] * (2 * LIMBS)
        for i in range(LIMBS):
            for j in range(i + 1, LIMBS):
                cols[i + j] = b.call(self._lo, [cols[i + j], a[i], a[j]])
                cols[i + j + 1] = b.call(self._hi, [cols[i + j + 1], a[i], a[j]])
        cols = [b.add(c, c) for c in cols]
        for i in range(LIMBS):
            cols[2 * i] = b.call(self._lo, [cols[2 * i], a[i], a[i]])
            cols[2 * i + 1] = b.call(self._hi, [cols[2 * i + 1], a[i], a[i]])
        return self.reduce(cols)

    def pow5(self, x: list) -> list:
        return self.dot([(self.square(self.square(x)), x)])

    def below_2p(self, x: list) -> list:
        """x − 2p if x ≥ 2p else x, for a normalised x < 4p (limb-wise subtraction with signed
        carries; the sign of the top limb picks)."""
        b = self.b
        d = [b.sub(v, _splat(q)) for v, q in zip(x, _2P_LIMBS, strict=True)]
        for j in range(LIMBS - 1):
            d[j + 1] = b.add(d[j + 1], b.ashr(d[j], _SHIFT))
            d[j] = b.and_(d[j], _MASKV)
        negative = b.icmp_signed("<", d[LIMBS - 1], _ZERO)
        return [b.select(negative, u, v) for u, v in zip(x, d, strict=True)]


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


def row_op(name: str, combine, *, broadcast: bool):
    """The intrinsic ``name(s, i, K, k)``: s[i] = combine(emitter, s[i], K[k]), with K[k] one
    constant broadcast to all lanes (``broadcast``: K is (n, 5)) or a lane row (K is (n, 40))."""

    def typer(typingctx, s, i, K, k):
        if not (_is_rows(s) and _is_index(i) and _is_rows(K) and _is_index(k)):
            return None

        def codegen(context, builder, sig, args):
            e = _Emit(context, builder)
            st, kt = sig.args[0], sig.args[2]
            load = e.load_const if broadcast else e.load_row
            x = combine(e, e.load_row(st, args[0], args[1]), load(kt, args[2], args[3]))
            e.store_row(st, args[0], args[1], x)
            return context.get_dummy_value()

        return _void(s, i, K, k), codegen

    typer.__name__ = typer.__qualname__ = name
    return intrinsic(typer)


v_pow5_add = row_op("v_pow5_add", lambda e, x, c: e.add(e.pow5(x), c), broadcast=True)
v_add_const = row_op("v_add_const", lambda e, x, c: e.add(x, c), broadcast=True)


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
        n_ = context.cast(builder, n_, sig.args[7], types.int64)
        cols = [cgutils.alloca_once_value(builder, _ZERO) for _ in range(2 * LIMBS)]
        with cgutils.for_range(builder, n_) as loop:  # SROA turns the columns into phis
            row = builder.add(si_, loop.index)
            kk = builder.add(k_, builder.mul(ks_, loop.index))
            acc = [builder.load(c) for c in cols]
            e.accumulate(acc, e.load_row(st, s_, row), e.load_const(kt, K_, kk))
            for c, v in zip(cols, acc, strict=True):
                builder.store(v, c)
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
        e.store_row(st, s_, di_, e.below_2p(e.add(e.load_row(st, s_, di_), product)))
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
    """(n, 5) uint64: each value's 52-bit limbs (a constants table K)."""
    out = np.zeros((len(values), LIMBS), dtype=np.uint64)
    for i, v in enumerate(values):
        for j in range(LIMBS):
            out[i, j] = (v >> (LIMB_BITS * j)) & MASK if j < LIMBS - 1 else v >> (LIMB_BITS * j)
    return out


def rows_from_ints(rows: Sequence[Sequence[int]]) -> np.ndarray:
    """(n, 40) uint64 lane rows, normalised, from n lists of eight non-negative ints < 2^260."""
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
    """The eight values of each lane row (limbs summed with their weights; not reduced)."""
    out = []
    for row in arr:
        out.append([
            sum(int(row[LANES * j + lane]) << (LIMB_BITS * j) for j in range(LIMBS))
            for lane in range(LANES)
        ])  # fmt: skip
    return out


def lane_dot_reference(pairs: Sequence[tuple[int, int]]) -> int:
    """Twin of one lane of a dot: Σ a·c·R^-1 mod p, as the canonical residue (the fast kernel
    returns the same residue, below 2p)."""
    return sum(a * c for a, c in pairs) * pow(MONT_R, -1, r) % r


def lane_pow5_reference(x: int) -> int:
    """Twin of one lane of ``v_pow5``: the Montgomery-form x^5, i.e. x^5·R^-4 mod p."""
    return pow(x, 5, r) * pow(MONT_R, -4, r) % r
