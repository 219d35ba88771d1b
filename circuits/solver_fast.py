"""The witness program on numba: ``solve_fast`` is the twin of ``circuits.solver.run_program``.

``encode(ops, n_wires)`` turns a program's fast ops (``circuits.solver.encode_ops``) into the flat
arrays of `prover.kernels.program` once per compiled circuit: every linear combination in CSR form
(an LC shared by several ops, by identity, gets one id), each distinct coefficient once in
Montgomery form (±1 first: an addition or a subtraction, not a product), and every hint a BREAK
whose
function, argument LCs and output wires stay here. ``solve_fast`` converts the inputs to limbs,
lets the kernel run the products, assertions and field divisions (hints marked
``circuits.builder.field_division``) up to each other hint, runs that hint in Python on
plain ints (its arguments evaluated by the kernel), stores its outputs and goes on; a failed
assertion raises the same ``UnsatisfiedConstraint`` (row and name) as ``run_program``. On the
B = 8, D = 16 batch circuit: 0.6–0.8 s against 2.0–2.3 s (``benchmarks/batch.py`` reports
both), the encoding ~3 s once per circuit and process; tests/circuits/test_solver_fast.py
compares the two on random circuits, divisions by zero and failing rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from circuits.builder import OP_HINT, OP_MUL
from circuits.errors import UnsatisfiedConstraint
from prover.fields import R
from prover.kernels import program as kernels
from prover.kernels.field import fr_from_mont_array, fr_to_mont_array
from prover.r1cs import ints_to_limbs, limbs_to_ints

__all__ = ["EncodedProgram", "encode", "solve_fast"]


@dataclass(frozen=True)
class EncodedProgram:
    """The arrays of `prover.kernels.program` and the hints (by op index)."""

    kind: np.ndarray
    out: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    lc_ptr: np.ndarray
    lc_wire: np.ndarray
    lc_coef: np.ndarray  #: per term, its row of ``coefs``
    coefs: np.ndarray  #: the distinct coefficients, Montgomery form (rows 0, 1: 1 and −1)
    hints: dict[int, tuple[Callable[..., Sequence[int]], np.ndarray, np.ndarray]]
    n_wires: int

    def lcs(self) -> tuple[np.ndarray, ...]:
        return self.lc_ptr, self.lc_wire, self.lc_coef, self.coefs


def encode(ops: Sequence[tuple], n_wires: int) -> EncodedProgram:
    """The flat form of fast ops (module docstring). Coefficients repeat (±1, powers of two,
    the Poseidon matrices), so each distinct one is converted once."""
    ptr, wires, cidx = [0], [], []
    table: dict[int, int] = {1: 0, -1: 1}  # signed coefficient → row of the coefficient table
    ids: dict[int, int] = {}
    keep: list[object] = []  # the LC objects whose id() keys ``ids`` (alive while encoding)

    def coef(cf: int) -> int:
        got = table.get(cf)
        if got is None:
            got = table[cf] = len(table)
        return got

    def lc_id(lc) -> int:
        got = ids.get(id(lc))
        if got is None:
            if lc.__class__ is int:
                wires.append(lc)
                cidx.append(0)
            elif lc:  # () is the zero combination: no terms
                ws, cs = zip(*lc, strict=True)
                wires.extend(ws)
                cidx.extend([coef(cf) for cf in cs])
            ptr.append(len(wires))
            got = ids[id(lc)] = len(ptr) - 2
            keep.append(lc)
        return got

    n = len(ops)
    kind = np.empty(n, dtype=np.int64)
    out = np.zeros(n, dtype=np.int64)
    a = np.zeros(n, dtype=np.int64)
    b = np.zeros(n, dtype=np.int64)
    c = np.zeros(n, dtype=np.int64)
    hints = {}
    for i, op in enumerate(ops):
        code = op[0]
        if code == OP_HINT and getattr(op[1], "field_division", False) and len(op[3]) == 1:
            _, _, ins, outs = op  # [num / den], or [1 / v]: wire 0 holds 1
            num, den = (ins[0], ins[1]) if len(ins) == 2 else (0, ins[0])
            kind[i], out[i], a[i], b[i] = kernels.DIV, outs[0], lc_id(num), lc_id(den)
            continue
        if code == OP_HINT:
            _, fn, ins, outs = op
            kind[i] = kernels.BREAK
            hints[i] = (
                fn,
                np.array([lc_id(x) for x in ins], dtype=np.int64),
                np.array(outs, dtype=np.int64),
            )
            continue
        if code == OP_MUL:
            kind[i], out[i] = kernels.MUL, op[1]
        else:
            kind[i], out[i] = kernels.CHECK, op[1]
            c[i] = lc_id(op[4])
        a[i] = lc_id(op[2])
        b[i] = a[i] if op[3] is op[2] else lc_id(op[3])
    return EncodedProgram(
        kind, out, a, b, c, np.array(ptr, dtype=np.int64), np.array(wires, dtype=np.int32),
        np.array(cidx, dtype=np.int32), fr_to_mont_array(ints_to_limbs([cf % R for cf in table])),
        hints, n_wires,
    )  # fmt: skip


def solve_fast(prog: EncodedProgram, z: list[int], names: Sequence[str]) -> list[int]:
    """Twin of ``circuits.solver.run_program``: fill z (its inputs set, the rest 0) and return
    it; ``UnsatisfiedConstraint`` for the first failing row."""
    limbs = np.zeros((len(z), 4), dtype=np.uint64)
    nonzero = [k for k, v in enumerate(z) if v]
    if nonzero:
        limbs[nonzero] = ints_to_limbs([z[k] for k in nonzero])
    zm = fr_to_mont_array(limbs)
    lcs = prog.lcs()
    i, n = 0, prog.kind.shape[0]
    while True:
        i, row = kernels.run_ops(prog.kind, prog.out, prog.a, prog.b, prog.c, *lcs, zm, i)
        if row >= 0:
            raise UnsatisfiedConstraint(int(row), names[row])
        if i == n:
            break
        fn, ins, outs = prog.hints[i]
        args = np.empty((ins.shape[0], 4), dtype=np.uint64)
        kernels.eval_lcs(ins, *lcs, zm, args)
        values = list(fn(*limbs_to_ints(args)))
        if len(values) != outs.shape[0]:
            raise ValueError(f"hint {getattr(fn, '__qualname__', fn)} returned {len(values)} "
                             f"values for {outs.shape[0]} outputs")  # fmt: skip
        kernels.store_values(outs, ints_to_limbs([v % R for v in values]), zm)
        i += 1
    return limbs_to_ints(fr_from_mont_array(zm))
