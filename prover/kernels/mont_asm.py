"""Montgomery multiplication on x86-64 with BMI2 + ADX, as LLVM inline assembly for numba.

``make_mont_mul_asm(p)`` returns an intrinsic with the same contract as
``prover.kernels.intrinsics.make_mont_mul(p)`` (``mul(a, b) = a·b·2^-256 mod p`` on reduced
UniTuple(uint64, 4) elements) but emits hand-scheduled x86-64: CIOS with the no-carry shortcut
(p < 2^254), each outer step two interleaved carry chains — ``adcx`` on CF and ``adox`` on OF —
over ``mulx`` products, then one conditional subtraction of p.  For step i (b_i in rdx)::

    t      += a · b_i                      (CF chain: high halves, OF chain: low halves; A = t_4)
    m       = t_0 · (−p^-1) mod 2^64
    t       = (t + m · p) / 2^64           (CF chain: low halves, OF chain: high halves)
    out     = t − p if t ≥ p else t

LLVM's own code for the ``i128`` formulation spends ~250 instructions per product (register
shuffles around ``mulx``'s fixed rdx operand); this is ~170 with the same 32 ``mulx``.  The
eight operand limbs are ``rm`` operands (LLVM passes them in memory, so it knows what the
assembly reads and no memory clobber is needed), and p with −p^-1 sit in a module constant read
through one pointer: the register need is 8 scratch + 1 pointer + rdx.

Used only where the host CPU has both ``bmi2`` and ``adx`` (``HAVE_ADX``; numba's on-disk cache
keys compiled code by CPU features, so a cache is never reused on a CPU without them).  The
``i128`` intrinsic stays as the portable twin; ``tests/prover/test_mont_asm.py`` compares both
with Python integers, edge values included.  Reference: Koç, Acar, Kaliski, IEEE Micro 1996
(CIOS); gnark-crypto, "Faster big-number multiplication" (no-carry); Intel, "New Instructions
Supporting Large Integer Arithmetic" (ADX, 2012).
"""

from __future__ import annotations

import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from prover.kernels.intrinsics import _is_int4

__all__ = [
    "HAVE_ADX",
    "asm_codegen",
    "conditional_subtraction",
    "low32",
    "make_mont_mul_asm",
    "mont_mul_asm_text",
    "reduction_step",
]

_MASK64 = (1 << 64) - 1
_I64 = ir.IntType(64)
_TUPLE4 = types.UniTuple(types.uint64, 4)
_N_SCRATCH = 8


def _host_has_adx() -> bool:
    try:
        features = llvm.get_host_cpu_features()
    except RuntimeError:  # not x86 / unknown host
        return False
    return bool(features.get("adx")) and bool(features.get("bmi2"))


HAVE_ADX: bool = _host_has_adx()
if HAVE_ADX:
    llvm.initialize_native_asmparser()  # numba's JIT parses inline assembly only after this


def low32(r: str) -> str:
    """The 32-bit name of operand ``$k`` (a 32-bit xor or mov zeroes the whole register)."""
    return "${" + r[1:] + ":k}"


def reduction_step(t: list[str], lo: str, hi: str, pp: str) -> list[str]:
    """One CIOS reduction step on limbs t[0..4]: m = t_0 · (−p^-1) mod 2^64, then t += m · p
    with the low halves on CF and the high halves on OF (t_0 becomes 0); both carries out of
    t_4 are left for the caller to close."""
    out = [f"movq 32({pp}), %rdx", f"imulq {t[0]}, %rdx", f"xorl {low32(lo)}, {low32(lo)}"]
    for j in range(4):
        out += [f"mulxq {8 * j}({pp}), {lo}, {hi}", f"adcxq {lo}, {t[j]}",
                f"adoxq {hi}, {t[j + 1]}"]  # fmt: skip
    return out


def conditional_subtraction(t: list[str], s: list[str], pp: str) -> list[str]:
    """s = t − p if t ≥ p else t (t < 2p, four limbs; s: four other registers)."""
    out = []
    for j in range(4):
        out += [f"movq {t[j]}, {s[j]}", f"{'subq' if j == 0 else 'sbbq'} {8 * j}({pp}), {s[j]}"]
    return out + [f"cmovbq {t[j]}, {s[j]}" for j in range(4)]


def mont_mul_asm_text(p: int) -> tuple[str, int, list[int]]:
    """The assembly (AT&T syntax; operands $0..$7 scratch outputs, $8 = &a, $9 = &b,
    $10 = &[p_0, p_1, p_2, p_3, −p^-1 mod 2^64]), the number of outputs, and which outputs hold
    the result limbs 0..3."""
    if p.bit_length() > 254 or p % 2 == 0:
        raise ValueError("no-carry Montgomery multiplication needs an odd modulus below 2^254")
    reg = [f"${k}" for k in range(_N_SCRATCH)]
    a_op = [f"${_N_SCRATCH + k}" for k in range(4)]
    b_op = [f"${_N_SCRATCH + 4 + k}" for k in range(4)]
    pp = f"${_N_SCRATCH + 8}"
    t = reg[0:4]
    a_reg, lo, hi, spare = reg[4], reg[5], reg[6], reg[7]

    out: list[str] = []
    emit = out.append
    for i in range(4):
        emit(f"movq {b_op[i]}, %rdx")
        if i == 0:  # t = a · b_0
            emit(f"mulxq {a_op[0]}, {t[0]}, {t[1]}")
            emit(f"mulxq {a_op[1]}, {lo}, {t[2]}")
            emit(f"addq {lo}, {t[1]}")
            emit(f"mulxq {a_op[2]}, {lo}, {t[3]}")
            emit(f"adcq {lo}, {t[2]}")
            emit(f"mulxq {a_op[3]}, {lo}, {a_reg}")
            emit(f"adcq {lo}, {t[3]}")
            emit(f"adcq $$0, {a_reg}")
        else:  # t += a · b_i: low halves on OF, high halves on CF
            emit(f"xorl {low32(lo)}, {low32(lo)}")
            for j in range(3):
                emit(f"mulxq {a_op[j]}, {lo}, {hi}")
                emit(f"adoxq {lo}, {t[j]}")
                emit(f"adcxq {hi}, {t[j + 1]}")
            emit(f"mulxq {a_op[3]}, {lo}, {a_reg}")
            emit(f"adoxq {lo}, {t[3]}")
            emit(f"movl $$0, {low32(lo)}")
            emit(f"adcxq {lo}, {a_reg}")
            emit(f"adoxq {lo}, {a_reg}")
        out += reduction_step([*t, a_reg], lo, hi, pp)
        emit(f"movl $$0, {low32(lo)}")
        emit(f"adcxq {lo}, {a_reg}")
        t, a_reg = [t[1], t[2], t[3], a_reg], t[0]
    s = [a_reg, lo, hi, spare]
    out += conditional_subtraction(t, s, pp)
    return "\n".join(out), _N_SCRATCH, [reg.index(x) for x in s]


def asm_codegen(p: int, text: str, n_in: int, n_out: int, result: list[int]):
    """The numba codegen of an assembly kernel over 4-limb tuples: ``text`` (outputs $0..,
    then ``n_in`` limb operands as ``rm``, then a pointer to [p_0..p_3, −p^-1 mod 2^64] in one
    module constant), clobbering rdx and the flags; returns the tuple of outputs ``result``."""
    constraints = ",".join(["=&r"] * n_out + ["rm"] * n_in + ["r", "~{rdx}", "~{flags}"])
    fnty = ir.FunctionType(
        ir.LiteralStructType([_I64] * n_out), [_I64] * n_in + [ir.PointerType(_I64)]
    )
    pinv = (-pow(p, -1, 1 << 64)) % (1 << 64)
    table = [(p >> (64 * j)) & _MASK64 for j in range(4)] + [pinv]
    table_name = f"zkr_mont_table_{p:x}"  # one per modulus, shared by every kernel

    def codegen(context, builder, signature, args):
        limbs = [builder.extract_value(tup, j) for tup in args for j in range(4)]
        consts = cgutils.global_constant(
            builder, table_name, ir.Constant(ir.ArrayType(_I64, 5), table)
        )
        pp = builder.gep(consts, [ir.Constant(ir.IntType(32), 0)] * 2)
        res = builder.asm(fnty, text, constraints, [*limbs, pp], side_effect=False)
        vals = [builder.extract_value(res, result[j]) for j in range(4)]
        return context.make_tuple(builder, _TUPLE4, vals)

    return codegen


def make_mont_mul_asm(p: int):
    """An intrinsic ``mul(a, b) -> a·b·2^-256 mod p`` (see the module docstring); needs
    ``HAVE_ADX`` on the machine that compiles it."""
    text, n_out, result = mont_mul_asm_text(p)
    codegen = asm_codegen(p, text, 8, n_out, result)

    @intrinsic
    def mont_mul(typingctx, a, b):
        if not (_is_int4(a) and _is_int4(b)):
            return None
        return _TUPLE4(a, b), codegen

    return mont_mul
