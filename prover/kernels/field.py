"""BN254 Fr / Fq / Fq2 Montgomery arithmetic for numba kernels.

Elements of Fr (scalar field, modulus r) and Fq (base field, modulus q) are 254-bit numbers held as
four 64-bit little-endian limbs in Montgomery form ``a·2^256 mod p``. Multiplication is CIOS
Montgomery multiplication (Koç–Acar–Kaliski 1996) with the "no-carry" shortcut that applies when the
top limb of p is below 2^63 − 1 (true for both BN254 moduli; gnark-crypto, "Faster big-number
multiplication", 2020). Fq2 = Fq[u]/(u² + 1) multiplies with Karatsuba (3 Fq products).

Calling convention for njit code (the contract the NTT / curve / MSM kernels use)
---------------------------------------------------------------------------------
- A field element is a ``UniTuple(uint64, 4)``, ``(l0, l1, l2, l3)`` little-endian, Montgomery form,
  passed and returned **by value**. Every scalar function is ``@njit(cache=True, inline="always")``
  and its body is an LLVM intrinsic (:mod:`prover.kernels.intrinsics`) with the modulus folded in,
  so a call compiles to straight-line ``mulx``/``adc`` code in the caller: no call, no allocation.
  On a CPU with BMI2 + ADX the product is hand-scheduled inline assembly
  (:mod:`prover.kernels.mont_asm`, ~17 ns per product here), elsewhere LLVM's code for the
  ``i128`` formulation (~26 ns); both have the same contract and are tested against Python ints.
- An Fq2 element is a pair of Fq elements ``(c0, c1)`` meaning ``c0 + c1·u``.
- Scalar functions: ``fr_mul fr_square fr_add fr_sub fr_neg fr_double fr_inverse fr_is_zero
  fr_eq fr_to_mont fr_from_mont``, the same with ``fq_``, and ``fq2_mul fq2_square fq2_add
  fq2_sub fq2_neg fq2_double fq2_inverse fq2_is_zero fq2_eq fq2_mul_fq`` (Fq2 × Fq).
  ``*_inverse`` is Fermat (~8 µs, not inlined) and maps 0 to 0.  ``fr_dot2 fr_dot3 fr_dot4``:
  ``fr_dotn(a_0, b_0, …) = Σ a_k·b_k`` — with BMI2 + ADX one lazily reduced assembly block
  (:mod:`prover.kernels.dot_asm`, 1.65× faster than products and additions for three terms),
  elsewhere products and additions.
- Arrays of elements are ``(n, 4) uint64`` C-contiguous. ``load(arr, i)`` reads row i as a tuple and
  ``store(arr, i, x)`` writes one back (inlined: four loads / stores).
- Constants: ``FR_ZERO FR_ONE FQ_ZERO FQ_ONE`` (Montgomery form), ``FQ2_ZERO FQ2_ONE``, ``FR_P`` /
  ``FQ_P`` (canonical limbs of the moduli), ``FR_R2`` / ``FQ_R2`` (2^512 mod p). numba types a
  module-level tuple of constants limb by limb (limbs below 2^63 become int64), so wrap a constant
  in ``u4(...)`` when it starts a variable that is later reassigned: ``acc = u4(FR_ONE)``.
- All integers in njit code must be ``uint64``: mixing ``uint64`` with Python ints or ``int64``
  makes numba promote to float64. Use ``np.uint64(k)`` for literals.
- From plain Python the scalar functions also work (tests use them) when given tuples of
  ``np.uint64``; they return tuples of Python ints.

Vectorised functions on ``(n, 4) uint64`` arrays (plain Python callables backed by njit loops, each
returning a new array): ``fr_to_mont_array fr_from_mont_array fr_mul_array fr_add_array
fr_sub_array fr_batch_inverse`` and the ``fq_`` twins, and ``fr_mul_const_array(a, k)`` (a_i·k for
one element k as (4,) limbs; the conversions are this with k = R² or 1). From ``SPLIT_FROM``
elements on, the element-wise ones run in ranges on the worker threads (:mod:`prover.threads`;
their loops release the GIL). ``*_batch_inverse`` uses Montgomery's trick (one inversion,
3(n−1) products) and maps 0 to 0.

Inputs are assumed reduced (< p); outputs are always reduced. The pure-Python twin of every function
is in :mod:`prover.kernels.reference`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from prover.fields import Q, R
from prover.kernels import numba_start
from prover.kernels.dot_asm import make_mont_dot_asm
from prover.kernels.intrinsics import make_mod_add, make_mod_sub, make_mont_mul
from prover.kernels.mont_asm import HAVE_ADX, make_mont_mul_asm
from prover.threads import chunks, run_tasks, worker_count

numba_start.load_array_math()  # before the first compile: numba without scipy.linalg (0.15–0.35 s)

_MASK = (1 << 64) - 1
_Z = np.uint64(0)
_ONE = np.uint64(1)


def limbs(x: int) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """Little-endian 64-bit limbs of 0 ≤ x < 2^256 as a tuple of numpy uint64 (a numba constant)."""
    return tuple(np.uint64((x >> (64 * i)) & _MASK) for i in range(4))  # type: ignore[return-value]


def _mont_constants(p: int):
    pinv = np.uint64((-pow(p, -1, 1 << 64)) % (1 << 64))
    one = limbs((1 << 256) % p)
    r2 = limbs(pow(1 << 256, 2, p))
    # Bits of p − 2 from most to least significant, for Fermat inversion.
    e = p - 2
    bits = np.array([(e >> i) & 1 for i in range(e.bit_length() - 1, -1, -1)], dtype=np.uint8)
    return limbs(p), pinv, one, r2, bits


FR_P, FR_PINV, FR_ONE, FR_R2, _FR_EXP_BITS = _mont_constants(R)
FQ_P, FQ_PINV, FQ_ONE, FQ_R2, _FQ_EXP_BITS = _mont_constants(Q)
FR_ZERO = FQ_ZERO = (_Z, _Z, _Z, _Z)
RAW_ONE = (_ONE, _Z, _Z, _Z)
FQ2_ZERO = (FQ_ZERO, FQ_ZERO)
FQ2_ONE = (FQ_ONE, FQ_ZERO)


# ---------------------------------------------------------------- generic 4-limb kernels

#: Montgomery products: the hand-scheduled mulx/adcx/adox assembly where the CPU has BMI2 + ADX
#: (~17 ns a product here), else the portable i128 intrinsic (~26 ns); same contract, both tested.
_mont_mul = make_mont_mul_asm if HAVE_ADX else make_mont_mul
_fr_mont_mul = _mont_mul(R)
_fr_mod_add = make_mod_add(R)
_fr_mod_sub = make_mod_sub(R)
_fq_mont_mul = _mont_mul(Q)
_fq_mod_add = make_mod_add(Q)
_fq_mod_sub = make_mod_sub(Q)

_INLINE = {"cache": True, "inline": "always"}

if HAVE_ADX:
    _fr_dot2, _fr_dot3, _fr_dot4 = (make_mont_dot_asm(R, n) for n in (2, 3, 4))
else:

    @njit(**_INLINE)
    def _fr_dot2(a0, b0, a1, b1):
        return _fr_mod_add(_fr_mont_mul(a0, b0), _fr_mont_mul(a1, b1))

    @njit(**_INLINE)
    def _fr_dot3(a0, b0, a1, b1, a2, b2):
        return _fr_mod_add(_fr_dot2(a0, b0, a1, b1), _fr_mont_mul(a2, b2))

    @njit(**_INLINE)
    def _fr_dot4(a0, b0, a1, b1, a2, b2, a3, b3):
        return _fr_mod_add(_fr_dot2(a0, b0, a1, b1), _fr_dot2(a2, b2, a3, b3))


@njit(**_INLINE)
def u4(t):
    """Cast a 4-tuple of integers to UniTuple(uint64, 4).

    numba types a module-level tuple of ``np.uint64`` constants limb by limb (limbs below 2^63
    become int64); pass every module constant through ``u4`` before using it in njit code.
    """
    return (np.uint64(t[0]), np.uint64(t[1]), np.uint64(t[2]), np.uint64(t[3]))


@njit(**_INLINE)
def load(arr, i):
    """Row i of an (n, 4) uint64 array as an element tuple."""
    return (arr[i, 0], arr[i, 1], arr[i, 2], arr[i, 3])


@njit(**_INLINE)
def store(arr, i, x):
    """Write the element tuple x into row i of an (n, 4) uint64 array."""
    arr[i, 0] = x[0]
    arr[i, 1] = x[1]
    arr[i, 2] = x[2]
    arr[i, 3] = x[3]


@njit(**_INLINE)
def _is_zero(a):
    return (a[0] | a[1] | a[2] | a[3]) == _Z


@njit(**_INLINE)
def _eq(a, b):
    return a[0] == b[0] and a[1] == b[1] and a[2] == b[2] and a[3] == b[3]


# ---------------------------------------------------------------- Fr


@njit(**_INLINE)
def fr_mul(a, b):
    return _fr_mont_mul(a, b)


@njit(**_INLINE)
def fr_square(a):
    return _fr_mont_mul(a, a)


@njit(**_INLINE)
def fr_add(a, b):
    return _fr_mod_add(a, b)


@njit(**_INLINE)
def fr_dot2(a0, b0, a1, b1):
    return _fr_dot2(a0, b0, a1, b1)


@njit(**_INLINE)
def fr_dot3(a0, b0, a1, b1, a2, b2):
    return _fr_dot3(a0, b0, a1, b1, a2, b2)


@njit(**_INLINE)
def fr_dot4(a0, b0, a1, b1, a2, b2, a3, b3):
    return _fr_dot4(a0, b0, a1, b1, a2, b2, a3, b3)


@njit(**_INLINE)
def fr_double(a):
    return _fr_mod_add(a, a)


@njit(**_INLINE)
def fr_sub(a, b):
    return _fr_mod_sub(a, b)


@njit(**_INLINE)
def fr_neg(a):
    return _fr_mod_sub(u4(FR_ZERO), a)


@njit(**_INLINE)
def fr_is_zero(a):
    return _is_zero(a)


@njit(**_INLINE)
def fr_eq(a, b):
    return _eq(a, b)


@njit(cache=True)
def fr_inverse(a):
    """a^(r−2) by square-and-multiply (Fermat); 0 maps to 0."""
    acc = u4(FR_ONE)
    for k in range(_FR_EXP_BITS.shape[0]):
        acc = _fr_mont_mul(acc, acc)
        if _FR_EXP_BITS[k]:
            acc = _fr_mont_mul(acc, a)
    return acc


@njit(**_INLINE)
def fr_to_mont(a):
    return _fr_mont_mul(a, u4(FR_R2))


@njit(**_INLINE)
def fr_from_mont(a):
    return _fr_mont_mul(a, u4(RAW_ONE))


# ---------------------------------------------------------------- Fq


@njit(**_INLINE)
def fq_mul(a, b):
    return _fq_mont_mul(a, b)


@njit(**_INLINE)
def fq_square(a):
    return _fq_mont_mul(a, a)


@njit(**_INLINE)
def fq_add(a, b):
    return _fq_mod_add(a, b)


@njit(**_INLINE)
def fq_double(a):
    return _fq_mod_add(a, a)


@njit(**_INLINE)
def fq_sub(a, b):
    return _fq_mod_sub(a, b)


@njit(**_INLINE)
def fq_neg(a):
    return _fq_mod_sub(u4(FQ_ZERO), a)


@njit(**_INLINE)
def fq_is_zero(a):
    return _is_zero(a)


@njit(**_INLINE)
def fq_eq(a, b):
    return _eq(a, b)


@njit(cache=True)
def fq_inverse(a):
    """a^(q−2) by square-and-multiply (Fermat); 0 maps to 0."""
    acc = u4(FQ_ONE)
    for k in range(_FQ_EXP_BITS.shape[0]):
        acc = _fq_mont_mul(acc, acc)
        if _FQ_EXP_BITS[k]:
            acc = _fq_mont_mul(acc, a)
    return acc


@njit(**_INLINE)
def fq_to_mont(a):
    return _fq_mont_mul(a, u4(FQ_R2))


@njit(**_INLINE)
def fq_from_mont(a):
    return _fq_mont_mul(a, u4(RAW_ONE))


# ---------------------------------------------------------------- Fq2 = Fq[u]/(u² + 1)


@njit(**_INLINE)
def fq2_add(a, b):
    return (_fq_mod_add(a[0], b[0]), _fq_mod_add(a[1], b[1]))


@njit(**_INLINE)
def fq2_sub(a, b):
    return (_fq_mod_sub(a[0], b[0]), _fq_mod_sub(a[1], b[1]))


@njit(**_INLINE)
def fq2_double(a):
    return (_fq_mod_add(a[0], a[0]), _fq_mod_add(a[1], a[1]))


@njit(**_INLINE)
def fq2_neg(a):
    z = u4(FQ_ZERO)
    return (_fq_mod_sub(z, a[0]), _fq_mod_sub(z, a[1]))


@njit(**_INLINE)
def fq2_mul(a, b):
    """Karatsuba: c0 = a0b0 − a1b1, c1 = (a0 + a1)(b0 + b1) − a0b0 − a1b1."""
    v0 = _fq_mont_mul(a[0], b[0])
    v1 = _fq_mont_mul(a[1], b[1])
    s = _fq_mont_mul(_fq_mod_add(a[0], a[1]), _fq_mod_add(b[0], b[1]))
    return (_fq_mod_sub(v0, v1), _fq_mod_sub(_fq_mod_sub(s, v0), v1))


@njit(**_INLINE)
def fq2_square(a):
    """Complex squaring: c0 = (a0 + a1)(a0 − a1), c1 = 2·a0·a1."""
    c0 = _fq_mont_mul(_fq_mod_add(a[0], a[1]), _fq_mod_sub(a[0], a[1]))
    c1 = _fq_mont_mul(a[0], a[1])
    return (c0, _fq_mod_add(c1, c1))


@njit(**_INLINE)
def fq2_mul_fq(a, k):
    return (_fq_mont_mul(a[0], k), _fq_mont_mul(a[1], k))


@njit(**_INLINE)
def fq2_is_zero(a):
    return _is_zero(a[0]) and _is_zero(a[1])


@njit(**_INLINE)
def fq2_eq(a, b):
    return _eq(a[0], b[0]) and _eq(a[1], b[1])


@njit(cache=True)
def fq2_inverse(a):
    """(a0 − a1·u)/(a0² + a1²); 0 maps to 0."""
    t = fq_inverse(_fq_mod_add(_fq_mont_mul(a[0], a[0]), _fq_mont_mul(a[1], a[1])))
    return (_fq_mont_mul(a[0], t), _fq_mod_sub(u4(FQ_ZERO), _fq_mont_mul(a[1], t)))


# ---------------------------------------------------------------- array kernels


@njit(cache=True, nogil=True)
def _fr_mul_loop(a, b, out):
    for i in range(a.shape[0]):
        store(out, i, _fr_mont_mul(load(a, i), load(b, i)))


@njit(cache=True, nogil=True)
def _fr_mul_sub_loop(a, b, c, out):
    """out_i = a_i·b_i − c_i out of Montgomery form (canonical); out may be a."""
    one = u4(RAW_ONE)
    for i in range(a.shape[0]):
        d = _fr_mod_sub(_fr_mont_mul(load(a, i), load(b, i)), load(c, i))
        store(out, i, _fr_mont_mul(d, one))


@njit(cache=True, nogil=True)
def _fr_add_loop(a, b, out):
    for i in range(a.shape[0]):
        store(out, i, _fr_mod_add(load(a, i), load(b, i)))


@njit(cache=True, nogil=True)
def _fr_sub_loop(a, b, out):
    for i in range(a.shape[0]):
        store(out, i, _fr_mod_sub(load(a, i), load(b, i)))


@njit(cache=True, nogil=True)
def _fq_mul_loop(a, b, out):
    for i in range(a.shape[0]):
        store(out, i, _fq_mont_mul(load(a, i), load(b, i)))


@njit(cache=True, nogil=True)
def _fq_add_loop(a, b, out):
    for i in range(a.shape[0]):
        store(out, i, _fq_mod_add(load(a, i), load(b, i)))


@njit(cache=True, nogil=True)
def _fq_sub_loop(a, b, out):
    for i in range(a.shape[0]):
        store(out, i, _fq_mod_sub(load(a, i), load(b, i)))


@njit(cache=True, nogil=True)
def _fr_mul_const_loop(a, k, out):
    """out[i] = a[i]·k[0] (Montgomery product with one constant, k an (1, 4) array)."""
    c = load(k, 0)
    for i in range(a.shape[0]):
        store(out, i, _fr_mont_mul(load(a, i), c))


@njit(cache=True, nogil=True)
def _fq_mul_const_loop(a, k, out):
    """out[i] = a[i]·k[0] over Fq (see ``_fr_mul_const_loop``)."""
    c = load(k, 0)
    for i in range(a.shape[0]):
        store(out, i, _fq_mont_mul(load(a, i), c))


@njit(cache=True)
def _fr_batch_inverse_loop(a, out):
    """Montgomery's trick: out[i] = 1/a[i], zeros map to 0 and do not spoil the product."""
    acc = u4(FR_ONE)
    for i in range(a.shape[0]):
        x = load(a, i)
        store(out, i, acc)  # product of the non-zero elements before i
        if not _is_zero(x):
            acc = _fr_mont_mul(acc, x)
    acc = fr_inverse(acc)
    for i in range(a.shape[0] - 1, -1, -1):
        x = load(a, i)
        if _is_zero(x):
            store(out, i, x)
        else:
            store(out, i, _fr_mont_mul(acc, load(out, i)))
            acc = _fr_mont_mul(acc, x)


@njit(cache=True)
def _fq_batch_inverse_loop(a, out):
    """Montgomery's trick over Fq (see ``_fr_batch_inverse_loop``)."""
    acc = u4(FQ_ONE)
    for i in range(a.shape[0]):
        x = load(a, i)
        store(out, i, acc)
        if not _is_zero(x):
            acc = _fq_mont_mul(acc, x)
    acc = fq_inverse(acc)
    for i in range(a.shape[0] - 1, -1, -1):
        x = load(a, i)
        if _is_zero(x):
            store(out, i, x)
        else:
            store(out, i, _fq_mont_mul(acc, load(out, i)))
            acc = _fq_mont_mul(acc, x)


def _as_elements(a: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(a, dtype=np.uint64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(
            f"expected an (n, 4) uint64 array of field elements, got shape {arr.shape}"
        )
    return arr


#: from this many elements the element-wise loops are cut into ranges for the worker threads
SPLIT_FROM = 1 << 14


def _ranges(n: int) -> list[tuple[int, int]]:
    return chunks(n, worker_count()) if n >= SPLIT_FROM else [(0, n)]


def _binary(loop):
    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = _as_elements(a), _as_elements(b)
        if a.shape != b.shape:
            raise ValueError(f"operand shapes differ: {a.shape} vs {b.shape}")
        out = np.empty_like(a)
        run_tasks(lambda r: loop(a[r[0] : r[1]], b[r[0] : r[1]], out[r[0] : r[1]]), _ranges(len(a)))
        return out

    return run


def _by_const(loop):
    def run(a: np.ndarray, k: np.ndarray) -> np.ndarray:
        """a_i·k (Montgomery product) for one element k given as (4,) limbs."""
        a = _as_elements(a)
        kk = np.ascontiguousarray(k, dtype=np.uint64).reshape(1, 4)
        out = np.empty_like(a)
        run_tasks(lambda r: loop(a[r[0] : r[1]], kk, out[r[0] : r[1]]), _ranges(len(a)))
        return out

    return run


def _unary(loop, const):
    by_const, k = _by_const(loop), np.array(const, dtype=np.uint64)
    return lambda a: by_const(a, k)


def _batch_inv(loop):
    def run(a: np.ndarray) -> np.ndarray:
        a = _as_elements(a)
        out = np.empty_like(a)
        loop(a, out)
        return out

    return run


def fr_mul_sub_array(a: np.ndarray, b: np.ndarray, c: np.ndarray, *, overwrite: bool = False
                     ) -> np.ndarray:  # fmt: skip
    """Canonical a∘b − c of Montgomery arrays in one pass (the quotient's last step), written
    over ``a`` when ``overwrite`` and a is a writable C-contiguous uint64 array."""
    usable = isinstance(a, np.ndarray) and a.dtype == np.uint64 and a.flags.c_contiguous
    a, b, c = _as_elements(a), _as_elements(b), _as_elements(c)
    if not a.shape == b.shape == c.shape:
        raise ValueError(f"operand shapes differ: {a.shape}, {b.shape}, {c.shape}")
    out = a if overwrite and usable and a.flags.writeable else np.empty_like(a)
    run_tasks(lambda r: _fr_mul_sub_loop(a[r[0] : r[1]], b[r[0] : r[1]], c[r[0] : r[1]],
                                         out[r[0] : r[1]]), _ranges(len(a)))  # fmt: skip
    return out


fr_mul_array = _binary(_fr_mul_loop)
fr_add_array = _binary(_fr_add_loop)
fr_sub_array = _binary(_fr_sub_loop)
fr_to_mont_array = _unary(_fr_mul_const_loop, FR_R2)
fr_from_mont_array = _unary(_fr_mul_const_loop, RAW_ONE)
fr_batch_inverse = _batch_inv(_fr_batch_inverse_loop)
fr_mul_const_array = _by_const(_fr_mul_const_loop)

fq_mul_array = _binary(_fq_mul_loop)
fq_add_array = _binary(_fq_add_loop)
fq_sub_array = _binary(_fq_sub_loop)
fq_to_mont_array = _unary(_fq_mul_const_loop, FQ_R2)
fq_from_mont_array = _unary(_fq_mul_const_loop, RAW_ONE)
fq_batch_inverse = _batch_inv(_fq_batch_inverse_loop)


@njit(**_INLINE)
def u4x2(t):
    """Cast a pair of 4-tuples (an Fq2 constant) to a pair of UniTuple(uint64, 4) (see ``u4``)."""
    return (u4(t[0]), u4(t[1]))


@njit(**_INLINE)
def load2(arr, i, j):
    """Fq2 element at arr[i, j] of an (n, m, 2, 4) array."""
    return (
        (arr[i, j, 0, 0], arr[i, j, 0, 1], arr[i, j, 0, 2], arr[i, j, 0, 3]),
        (arr[i, j, 1, 0], arr[i, j, 1, 1], arr[i, j, 1, 2], arr[i, j, 1, 3]),
    )


@njit(**_INLINE)
def store2(arr, i, j, x):
    """Write the Fq2 element x into arr[i, j] of an (n, m, 2, 4) array."""
    for c in range(2):
        for k in range(4):
            arr[i, j, c, k] = x[c][k]
