"""Unconstrained-wire finder: the test-time soundness check every gadget test runs.

Given a compiled circuit and a satisfying witness z, each non-input wire w (public outputs and
internal wires) is moved in turn to z_w + 1 and to a few random field elements; if some moved
value still satisfies **every** constraint, w is reported: the constraints do not pin it down,
so a prover could choose it freely (the classic circom ``<--`` without ``===`` bug).

Only the rows that mention w can change, so each trial re-checks just those rows, found through
a column index (wire → rows) built once from the CSR matrices: the cost is
O(trials · Σ_w rows(w)) instead of O(trials · wires · rows).

Wires the builder marked *auxiliary* (free by design at some witnesses without affecting any
other wire, e.g. the inverse inside ``is_zero`` when its input is 0) are reported separately.
A second pass catches wires free *together* (a hint h with only ``h + 1 = out`` constraining
it, where moving h alone breaks that row but moving h and out together does not): every hint
output is moved and the change propagated through the witness program — products and later
hints recomputed, assertions re-evaluated — using a reader index (wire → ops reading it) and
stopping at the first failed assertion. If none fails, the hint output is reported: the inputs
do not determine it. Products (``api.mul`` wires) are pinned by their defining row once their
operands are, so hint outputs are the only possible source of freedom in the program.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from circuits.builder import OP_CHECK, OP_MUL
from circuits.compiled import CompiledCircuit
from circuits.errors import UnconstrainedWire
from circuits.solver import FastLC, row_satisfied
from prover.fields import R

__all__ = ["SoundnessReport", "assert_sound", "column_index", "find_unconstrained"]


@dataclass(frozen=True)
class SoundnessReport:
    """Wires (index, name) whose change left every constraint satisfied."""

    unconstrained: tuple[tuple[int, str], ...]
    auxiliary_free: tuple[tuple[int, str], ...]
    wires_checked: int

    @property
    def ok(self) -> bool:
        return not self.unconstrained


def column_index(compiled: CompiledCircuit) -> list[np.ndarray]:
    """For every wire, the sorted distinct rows of A, B or C in which it has a term."""
    r1cs = compiled.r1cs
    wires, rows = [], []
    for mat in (r1cs.a, r1cs.b, r1cs.c):
        wires.append(mat.indices)
        rows.append(np.repeat(np.arange(mat.n_rows, dtype=np.int64), np.diff(mat.indptr)))
    w_all, r_all = np.concatenate(wires), np.concatenate(rows)
    order = np.lexsort((r_all, w_all))
    w_all, r_all = w_all[order], r_all[order]
    bounds = np.searchsorted(w_all, np.arange(r1cs.n_wires + 1))
    return [np.unique(r_all[bounds[w] : bounds[w + 1]]) for w in range(r1cs.n_wires)]


def find_unconstrained(
    compiled: CompiledCircuit,
    witness: Sequence[int],
    rng: random.Random,
    n_random: int = 2,
) -> SoundnessReport:
    """Perturb each non-input wire (z_w + 1, ``n_random`` random values); report the free ones.

    ``witness`` must satisfy the circuit (checked first; ``UnsatisfiedConstraint`` otherwise).
    """
    compiled.check(witness)
    r1cs = compiled.r1cs
    z = list(witness)
    cols = column_index(compiled)
    first_internal = 1 + r1cs.n_pub_out + r1cs.n_pub_in + r1cs.n_prv_in
    candidates = [*range(1, 1 + r1cs.n_pub_out), *range(first_internal, r1cs.n_wires)]
    free: list[tuple[int, str]] = []
    aux: list[tuple[int, str]] = []
    for w in candidates:
        original = z[w]
        trials = [(original + 1) % R] + [rng.randrange(R) for _ in range(n_random)]
        rows = cols[w].tolist()
        for value in trials:
            if value == original:
                continue
            z[w] = value
            if all(row_satisfied(r1cs, z, i) for i in rows):
                (aux if w in compiled.auxiliary_wires else free).append((w, compiled.wire_names[w]))
                break
            z[w] = original
    seen = {w for w, _ in free} | {w for w, _ in aux}
    for w in _free_hint_outputs(compiled, z, rng, n_random):
        if w not in seen:
            (aux if w in compiled.auxiliary_wires else free).append((w, compiled.wire_names[w]))
    free.sort()
    aux.sort()
    return SoundnessReport(tuple(free), tuple(aux), len(candidates))


def _lc_wires(lc: FastLC) -> list[int]:
    return [lc] if isinstance(lc, int) else [w for w, _ in lc]


def _value(lc: FastLC, z: list[int]) -> int:
    return z[lc] if isinstance(lc, int) else sum(z[w] * c for w, c in lc) % R


def _free_hint_outputs(
    compiled: CompiledCircuit, z: list[int], rng: random.Random, n_random: int
) -> list[int]:
    """Hint outputs whose change, propagated through the program, fails no assertion."""
    ops = compiled.program
    readers: dict[int, list[int]] = {}
    hint_outputs: list[int] = []
    for pos, op in enumerate(ops):
        if op[0] == OP_MUL:
            read = _lc_wires(op[2]) + _lc_wires(op[3])
        elif op[0] == OP_CHECK:
            read = _lc_wires(op[2]) + _lc_wires(op[3]) + _lc_wires(op[4])
        else:
            read = [w for lc in op[2] for w in _lc_wires(lc)]
            hint_outputs.extend(op[3])
        for w in set(read):
            readers.setdefault(w, []).append(pos)
    found = []
    for w in hint_outputs:
        original = z[w]
        trials = [(original + 1) % R] + [rng.randrange(R) for _ in range(n_random)]
        if any(_propagates_freely(ops, readers, z, w, v) for v in trials if v != original):
            found.append(w)
    return found


def _propagates_freely(
    ops: Sequence[tuple], readers: dict[int, list[int]], z: list[int], w: int, value: int
) -> bool:
    """Set z_w = value, recompute what depends on it in program order; True if no assertion fails.

    z is restored before returning.
    """
    saved = {w: z[w]}
    z[w] = value
    heap = list(readers.get(w, ()))
    heapq.heapify(heap)
    queued = set(heap)
    ok = True
    try:
        while heap:
            pos = heapq.heappop(heap)
            op = ops[pos]
            if op[0] == OP_CHECK:
                if (_value(op[2], z) * _value(op[3], z) - _value(op[4], z)) % R:
                    ok = False
                    break
                continue
            if op[0] == OP_MUL:
                outs, vals = [op[1]], [_value(op[2], z) * _value(op[3], z) % R]
            else:
                outs = list(op[3])
                vals = [v % R for v in op[1](*[_value(lc, z) for lc in op[2]])]
            for out, v in zip(outs, vals, strict=True):
                if out == w or z[out] == v:
                    continue
                saved.setdefault(out, z[out])
                z[out] = v
                for p in readers.get(out, ()):
                    if p not in queued:
                        queued.add(p)
                        heapq.heappush(heap, p)
    finally:
        for k, v in saved.items():
            z[k] = v
    return ok


def assert_sound(compiled: CompiledCircuit, witness: Sequence[int], rng: random.Random) -> None:
    """Raise ``UnconstrainedWire`` listing what ``find_unconstrained`` reports (for tests)."""
    report = find_unconstrained(compiled, witness, rng)
    if not report.ok:
        names = ", ".join(f"{w}:{n}" for w, n in report.unconstrained[:5])
        raise UnconstrainedWire(f"{len(report.unconstrained)} unconstrained wire(s): {names}")
