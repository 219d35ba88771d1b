"""The witness program: recorded at define time, compiled to flat op tuples, run to fill z.

A program is a list of ops in creation order (final iden3 wire indices):

    (OP_MUL,   out, a, b)        z[out] = ⟨a, z⟩ · ⟨b, z⟩            (a defining constraint)
    (OP_HINT,  fn, ins, outs)     z[outs] = fn(⟨in_1, z⟩, …)         (no constraint)
    (OP_CHECK, row, a, b, c)      ⟨a, z⟩ · ⟨b, z⟩ = ⟨c, z⟩ or raise   (an assertion)

A defining constraint holds by construction, so only assertions are evaluated: since rows and
ops are created in the same order, the first failing assertion is the first failing row.

``run_program`` is the Python path (the numba solver ``circuits.solver_fast``, which
``CompiledCircuit.solve`` uses, is its twin): each linear combination is pre-encoded as a bare
int (a single wire with coefficient 1) or a tuple of (wire, coefficient) pairs with coefficients
in signed form (−1 instead of r − 1, so products stay small), and evaluated with one list
comprehension; no objects are created per constraint. ``run_program_reference`` is its plain
twin: it evaluates the dict-form terms and then checks every row of the R1CS in order.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.builder import OP_CHECK, OP_HINT, OP_MUL
from circuits.errors import UnsatisfiedConstraint
from prover.fields import R
from prover.r1cs import R1CS

_HALF = R >> 1

#: A linear combination in the fast encoding: a wire index, or ((wire, signed coeff), ...).
FastLC = int | tuple[tuple[int, int], ...]


def encode_lc(terms: dict[int, int], perm: Sequence[int]) -> FastLC:
    """Dict terms over raw wire ids → the fast encoding over final ids (``perm[raw] = final``)."""
    if len(terms) == 1:
        ((w, c),) = terms.items()
        if c == 1 and w != 0:
            return perm[w]
    return tuple(
        zip(
            map(perm.__getitem__, terms),
            [c if c <= _HALF else c - R for c in terms.values()],
            strict=True,
        )
    )


def encode_ops(ops: Sequence[tuple], perm: Sequence[int]) -> list[tuple]:
    """Raw builder ops → fast ops over final wire indices.

    A linear combination used by several ops (the S-box input x in x·x and x⁴·x) is encoded
    once and shared, so ``run_program`` can reuse its value by identity.
    """
    memo: dict[int, FastLC] = {}

    def enc(terms: dict[int, int]) -> FastLC:
        key = id(terms)
        got = memo.get(key)
        if got is None:
            got = memo[key] = encode_lc(terms, perm)
        return got

    fast: list[tuple] = []
    for op in ops:
        code = op[0]
        if code == OP_MUL:
            fast.append((OP_MUL, perm[op[1]], enc(op[2]), enc(op[3])))
        elif code == OP_HINT:
            _, fn, ins, outs = op
            fast.append((OP_HINT, fn, tuple(enc(t) for t in ins), tuple(perm[w] for w in outs)))
        else:
            fast.append((OP_CHECK, op[1], enc(op[2]), enc(op[3]), enc(op[4])))
    return fast


def _terms(lc: FastLC) -> dict[int, int]:
    return {lc: 1} if isinstance(lc, int) else {w: c % R for w, c in lc}


def reference_ops(ops: Sequence[tuple]) -> list[tuple]:
    """Fast ops → (MUL, HINT) ops with plain dict terms, for the reference twin (which checks
    every row against the R1CS matrices instead of the program's CHECK ops)."""
    ref: list[tuple] = []
    for op in ops:
        if op[0] == OP_MUL:
            ref.append((OP_MUL, op[1], _terms(op[2]), _terms(op[3])))
        elif op[0] == OP_HINT:
            ref.append((OP_HINT, op[1], [_terms(t) for t in op[2]], list(op[3])))
    return ref


def run_program(ops: Sequence[tuple], z: list[int], names: Sequence[str]) -> list[int]:
    """Fill z in place from its inputs by running the fast ops; raise on the first failed row.

    The last non-trivial linear combination evaluated by a product is remembered by identity
    (z only grows, so a shared combination's value cannot change once its wires are set).
    """
    last_lc: FastLC = -1
    last_val = 0
    for op in ops:
        code = op[0]
        if code == OP_MUL:
            _, out, a, b = op
            if a.__class__ is int:
                va = z[a]
            elif a is last_lc:
                va = last_val
            else:
                va = sum([z[w] * c for w, c in a]) % R
                last_lc, last_val = a, va
            if b is a:
                z[out] = va * va % R
            elif b.__class__ is int:
                z[out] = va * z[b] % R
            elif b is last_lc:
                z[out] = va * last_val % R
            else:
                vb = sum([z[w] * c for w, c in b]) % R
                last_lc, last_val = b, vb
                z[out] = va * vb % R
        elif code == OP_CHECK:
            _, row, a, b, c = op
            va = z[a] if a.__class__ is int else sum([z[w] * k for w, k in a])
            vb = z[b] if b.__class__ is int else sum([z[w] * k for w, k in b])
            vc = z[c] if c.__class__ is int else sum([z[w] * k for w, k in c])
            if (va * vb - vc) % R:
                raise UnsatisfiedConstraint(row, names[row])
        else:
            _, fn, ins, outs = op
            args = [
                (z[x] if x.__class__ is int else sum([z[w] * c for w, c in x])) % R for x in ins
            ]
            for w, v in zip(outs, fn(*args), strict=True):
                z[w] = v % R
    return z


def run_program_reference(
    ops: Sequence[tuple], z: list[int], r1cs: R1CS, names: Sequence[str]
) -> list[int]:
    """Plain twin of ``run_program``: compute every wire from dict terms, then check all rows."""
    for op in ops:
        if op[0] == OP_MUL:
            _, out, a, b = op
            va = sum(z[w] * c for w, c in a.items()) % R
            vb = sum(z[w] * c for w, c in b.items()) % R
            z[out] = va * vb % R
        else:
            _, fn, ins, outs = op
            args = [sum(z[w] * c for w, c in t.items()) % R for t in ins]
            for w, v in zip(outs, fn(*args), strict=True):
                z[w] = v % R
    check_rows(r1cs, z, names)
    return z


def row_satisfied(r1cs: R1CS, z: Sequence[int], i: int) -> bool:
    """Whether ⟨A_i, z⟩ · ⟨B_i, z⟩ = ⟨C_i, z⟩ (mod r)."""
    vals = []
    for mat in (r1cs.a, r1cs.b, r1cs.c):
        lo, hi = int(mat.indptr[i]), int(mat.indptr[i + 1])
        idx = mat.indices[lo:hi].tolist()
        vals.append(sum(z[w] * c for w, c in zip(idx, mat.coeffs[lo:hi], strict=True)))
    return (vals[0] * vals[1] - vals[2]) % R == 0


def check_rows(r1cs: R1CS, z: Sequence[int], names: Sequence[str]) -> None:
    """Raise ``UnsatisfiedConstraint`` for the first row of r1cs that z violates."""
    for i in range(r1cs.n_constraints):
        if not row_satisfied(r1cs, z, i):
            raise UnsatisfiedConstraint(i, names[i])
