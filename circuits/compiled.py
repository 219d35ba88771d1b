"""Circuits and their compiled form: ``compile_circuit(circuit) -> CompiledCircuit``.

A circuit is data (its shape: depth, number of inputs …, usually a frozen dataclass) plus a
``define(api)`` method (gnark ``frontend.Circuit``). ``compile_circuit`` runs ``define`` once on a
fresh ``API``, renumbers the wires into the iden3 layout

    z = [1, public outputs…, public inputs…, private inputs…, internal wires…]

(each group in creation order) and returns the prover's ``R1CS`` with every row's name, the
wire names and the witness program. Compilation is deterministic: the same shape gives the same
R1CS and the same ``digest()`` (``R1CS.digest``, a SHA-256 of every term), and results are cached
per circuit value when the circuit is hashable.

``CompiledCircuit.solve(assignment)`` maps input names to values (ints, or lists for arrays) and
returns the full witness, raising ``InputError`` for a bad assignment and
``UnsatisfiedConstraint`` (row index, name, namespace) when the inputs violate the circuit.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Protocol

import numpy as np

from circuits.api import API
from circuits.builder import INTERNAL, ONE, PRV_IN, PUB_IN, PUB_OUT
from circuits.errors import InputError
from circuits.solver import (
    check_rows,
    encode_ops,
    reference_ops,
    run_program,
    run_program_reference,
)
from circuits.solver_fast import EncodedProgram, encode, solve_fast
from prover.fields import R
from prover.r1cs import R1CS, SparseMatrix

__all__ = ["Circuit", "CompiledCircuit", "InputSpec", "compile_api", "compile_circuit"]


class Circuit(Protocol):
    """Anything with ``define(api)``; make it a frozen dataclass of shape parameters to cache it."""

    def define(self, api: API) -> None: ...


@dataclass(frozen=True)
class InputSpec:
    """A declared input: its final wire indices, whether it is public, and whether an array."""

    name: str
    wires: tuple[int, ...]
    public: bool
    is_array: bool


@dataclass(frozen=True, eq=False)
class CompiledCircuit:
    """An R1CS with named rows and wires, the declared inputs/outputs and the witness program."""

    r1cs: R1CS
    constraint_names: tuple[str, ...]
    wire_names: tuple[str, ...]
    inputs: Mapping[str, InputSpec]
    outputs: Mapping[str, int]
    auxiliary_wires: frozenset[int]
    program: tuple[tuple, ...]

    @property
    def n_constraints(self) -> int:
        return self.r1cs.n_constraints

    def digest(self) -> str:
        """The stable circuit hash (``R1CS.digest``)."""
        return self.r1cs.digest()

    def _initial(self, assignment: Mapping[str, int | Sequence[int]]) -> list[int]:
        unknown = sorted(set(assignment) - set(self.inputs))
        if unknown:
            raise InputError(f"assignment names undeclared inputs {unknown}")
        z = [0] * self.r1cs.n_wires
        z[0] = 1
        for name, spec in self.inputs.items():
            if name not in assignment:
                raise InputError(f"input {name!r} is not assigned")
            value = assignment[name]
            values = list(value) if spec.is_array else [value]
            if spec.is_array and isinstance(value, int):
                raise InputError(f"input {name!r} is an array of {len(spec.wires)}, got an int")
            if len(values) != len(spec.wires):
                raise InputError(
                    f"input {name!r} needs {len(spec.wires)} values, got {len(values)}"
                )
            for w, v in zip(spec.wires, values, strict=True):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise InputError(f"input {name!r} has a non-integer value {v!r}")
                z[w] = v % R
        return z

    @cached_property
    def encoded(self) -> EncodedProgram:
        """The program in the numba solver's arrays (``circuits.solver_fast``), built once."""
        return encode(self.program, self.r1cs.n_wires)

    def solve(self, assignment: Mapping[str, int | Sequence[int]]) -> list[int]:
        """The full witness z for these inputs (negative ints mean r − |v|); the numba solver
        (``circuits.solver_fast``; ``solve_python`` is its twin on Python ints)."""
        return solve_fast(self.encoded, self._initial(assignment), self.constraint_names)

    def solve_python(self, assignment: Mapping[str, int | Sequence[int]]) -> list[int]:
        """``solve`` on Python ints (``circuits.solver.run_program``)."""
        return run_program(self.program, self._initial(assignment), self.constraint_names)

    def solve_reference(self, assignment: Mapping[str, int | Sequence[int]]) -> list[int]:
        """Plain twin of ``solve``: compute all wires, then check every row in order."""
        z = self._initial(assignment)
        ops = reference_ops(self.program)
        return run_program_reference(ops, z, self.r1cs, self.constraint_names)

    def check(self, witness: Sequence[int]) -> None:
        """Raise ``UnsatisfiedConstraint`` naming the first row the witness violates."""
        if len(witness) != self.r1cs.n_wires or witness[0] != 1:
            raise InputError(f"witness must have {self.r1cs.n_wires} values with z[0] = 1")
        check_rows(self.r1cs, witness, self.constraint_names)

    def public_signals(self, witness: Sequence[int]) -> list[int]:
        """The public signals (outputs then public inputs) as in snarkjs ``public.json``."""
        return self.r1cs.public_signals(witness)

    def output(self, witness: Sequence[int], name: str) -> int:
        """The value of a declared public output."""
        return witness[self.outputs[name]]

    def wire(self, name: str) -> int:
        """The final index of the wire called ``name`` (first match)."""
        return self.wire_names.index(name)


def compile_api(api: API) -> CompiledCircuit:
    """Renumber a finished builder into the iden3 layout and freeze it."""
    kinds = api.wire_kinds
    order = [
        w
        for kind in (ONE, PUB_OUT, PUB_IN, PRV_IN, INTERNAL)
        for w, k in enumerate(kinds)
        if k == kind
    ]
    perm = [0] * len(order)
    for final, raw in enumerate(order):
        perm[raw] = final
    counts = {kind: kinds.count(kind) for kind in (PUB_OUT, PUB_IN, PRV_IN)}
    perm_arr = np.asarray(perm, dtype=np.int64)
    mats = [_matrix([row[j] for row in api.rows], perm_arr) for j in range(3)]
    r1cs = R1CS(
        n_wires=len(order),
        n_pub_out=counts[PUB_OUT],
        n_pub_in=counts[PUB_IN],
        n_prv_in=counts[PRV_IN],
        a=mats[0],
        b=mats[1],
        c=mats[2],
        n_labels=len(order),
    )
    fast = encode_ops(api.ops, perm)
    inputs = {
        name: InputSpec(name, tuple(perm[w] for w in ws), kind == PUB_IN, is_array)
        for name, (kind, ws, is_array) in api.inputs.items()
    }
    return CompiledCircuit(
        r1cs=r1cs,
        constraint_names=tuple(api.row_names),
        wire_names=tuple(api.wire_names[raw] for raw in order),
        inputs=inputs,
        outputs={name: perm[w] for name, w in api.outputs.items()},
        auxiliary_wires=frozenset(perm[w] for w in api.auxiliary),
        program=tuple(fast),
    )


def _matrix(rows: list[dict[int, int]], perm: np.ndarray) -> SparseMatrix:
    """CSR matrix of rows (raw wire → canonical coefficient), wires renumbered by ``perm``."""
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    raw: list[int] = []
    coeffs: list[int] = []
    for r in rows:
        raw.extend(r)
        coeffs.extend(r.values())
    indices = perm[np.asarray(raw, dtype=np.int64)] if raw else np.zeros(0, dtype=np.int64)
    return SparseMatrix(indptr, indices, tuple(coeffs))


@lru_cache(maxsize=32)
def _compile_cached(circuit: Hashable) -> CompiledCircuit:
    return _compile_uncached(circuit)  # type: ignore[arg-type]


def _compile_uncached(circuit: Circuit) -> CompiledCircuit:
    api = API()
    circuit.define(api)
    return compile_api(api)


def compile_circuit(circuit: Circuit, *, cache: bool = True) -> CompiledCircuit:
    """Run ``circuit.define`` and compile it; cached per (hashable) circuit value when ``cache``."""
    if cache:
        try:
            hash(circuit)
        except TypeError:
            return _compile_uncached(circuit)
        return _compile_cached(circuit)
    return _compile_uncached(circuit)
