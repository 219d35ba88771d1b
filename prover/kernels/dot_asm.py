"""Montgomery sum of products Σ a_k·b_k·2^-256 mod p with one reduction, as x86-64 assembly.

A dot product of n Montgomery-form elements computed as n separate products reduces n times;
``make_mont_dot_asm(p, n)`` accumulates all n products into one running CIOS value and reduces
it once per limb step (the "lazy reduction" of gnark-crypto's and arkworks' ``sum_of_products``).
For step i = 0..3 (b_{k,i}: limb i of b_k)::

    t      += Σ_k a_k · b_{k,i}           (per k: low halves on OF, high halves on CF; 6 limbs)
    m       = t_0 · (−p^-1) mod 2^64
    t       = (t + m · p) / 2^64
    out     = t − p if t ≥ p else t

Bounds, for inputs below p < 2^254 (p/2^256 < 0.2 for both BN254 moduli): after step i,
t < (n + 1)·p < 2^257, so with the step's additions it fits six limbs; the final value is
(Σ a_k b_k + M·p) / 2^256 < p·(n·p/2^256 + 1) < 2p while n·p < 2^256 (n ≤ ``MAX_TERMS`` = 4
here, 5 would still do), so one conditional
subtraction reduces it.  Per term that is 16 ``mulx`` and ~50 instructions instead of the ~170
of a full product; the four reductions are shared.  Registers: 6 accumulator limbs (renamed, not
moved, as each step's t_0 becomes zero), 2 scratch, the constant-table pointer, rdx.

Same host requirement and constant table as :mod:`prover.kernels.mont_asm` (BMI2 + ADX);
``prover.kernels.field`` falls back to n products and n − 1 additions elsewhere.  Tested against
that fallback and Python integers in ``tests/prover/test_dot_asm.py``.  Reference: Koç, Acar,
Kaliski, IEEE Micro 1996 (CIOS); gnark-crypto ``field/asm`` (ADX chains).
"""

from __future__ import annotations

from numba import types
from numba.extending import intrinsic

from prover.kernels.intrinsics import _is_int4
from prover.kernels.mont_asm import asm_codegen, conditional_subtraction, low32, reduction_step

__all__ = ["MAX_TERMS", "make_mont_dot_asm", "mont_dot_asm_text"]

MAX_TERMS = 4  #: n·p/2^256 + 1 < 2 keeps the result below 2p (one conditional subtraction)
_TUPLE4 = types.UniTuple(types.uint64, 4)
_N_SCRATCH = 8


def mont_dot_asm_text(p: int, n: int) -> tuple[str, list[int]]:
    """The assembly (AT&T; $0..$7 scratch outputs, then the limbs of a_0, b_0, a_1, b_1, …,
    then the table pointer) and which outputs hold the result limbs 0..3."""
    if p.bit_length() > 254 or p % 2 == 0:
        raise ValueError("the lazy Montgomery dot product needs an odd modulus below 2^254")
    if not 2 <= n <= MAX_TERMS or n * p >= 1 << 256:
        raise ValueError(f"a dot product of {n} terms does not stay below 2p (2..{MAX_TERMS})")
    reg = [f"${k}" for k in range(_N_SCRATCH)]
    a_op = [[f"${_N_SCRATCH + 8 * k + j}" for j in range(4)] for k in range(n)]
    b_op = [[f"${_N_SCRATCH + 8 * k + 4 + j}" for j in range(4)] for k in range(n)]
    pp = f"${_N_SCRATCH + 8 * n}"
    t, lo, hi = reg[0:6], reg[6], reg[7]

    out: list[str] = []
    emit = out.append
    for r in t:
        emit(f"xorl {low32(r)}, {low32(r)}")
    for i in range(4):
        for k in range(n):  # t += a_k · b_{k,i}
            emit(f"movq {b_op[k][i]}, %rdx")
            emit(f"xorl {low32(lo)}, {low32(lo)}")
            for j in range(4):
                emit(f"mulxq {a_op[k][j]}, {lo}, {hi}")
                emit(f"adoxq {lo}, {t[j]}")
                emit(f"adcxq {hi}, {t[j + 1]}")
            emit(f"movl $$0, {low32(lo)}")
            emit(f"adoxq {lo}, {t[4]}")
            emit(f"adcxq {lo}, {t[5]}")
            emit(f"adoxq {lo}, {t[5]}")
        out += reduction_step(t[:5], lo, hi, pp)  # t = (t + m · p) / 2^64, then close
        emit(f"movl $$0, {low32(lo)}")
        emit(f"adcxq {lo}, {t[4]}")
        emit(f"adoxq {lo}, {t[5]}")
        emit(f"adcxq {lo}, {t[5]}")
        t = [*t[1:], t[0]]  # t_0 is zero now: it becomes the new top limb
    # out = t − p if t ≥ p else t  (t < 2p < 2^255: t_4 = t_5 = 0)
    s = [t[4], t[5], lo, hi]
    out += conditional_subtraction(t, s, pp)
    return "\n".join(out), [reg.index(x) for x in s]


def make_mont_dot_asm(p: int, n: int):
    """An intrinsic ``dot(a_0, b_0, …, a_{n−1}, b_{n−1}) -> Σ a_k·b_k·2^-256 mod p`` on reduced
    UniTuple(uint64, 4) Montgomery elements; needs BMI2 + ADX on the compiling machine."""
    text, result = mont_dot_asm_text(p, n)
    codegen = asm_codegen(p, text, 8 * n, _N_SCRATCH, result)

    def typer(args):
        if len(args) != 2 * n or not all(_is_int4(a) for a in args):
            return None
        return _TUPLE4(*args)

    if n == 2:

        @intrinsic
        def dot2(typingctx, a0, b0, a1, b1):
            sig = typer((a0, b0, a1, b1))
            return None if sig is None else (sig, codegen)

        return dot2
    if n == 3:

        @intrinsic
        def dot3(typingctx, a0, b0, a1, b1, a2, b2):
            sig = typer((a0, b0, a1, b1, a2, b2))
            return None if sig is None else (sig, codegen)

        return dot3

    @intrinsic
    def dot4(typingctx, a0, b0, a1, b1, a2, b2, a3, b3):
        sig = typer((a0, b0, a1, b1, a2, b2, a3, b3))
        return None if sig is None else (sig, codegen)

    return dot4
