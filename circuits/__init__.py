"""Circuits: the constraint-building API, its gadgets, and the native reference primitives.

Build a circuit as data plus ``define(api)`` and compile it::

    from dataclasses import dataclass
    from circuits import API, compile_circuit

    @dataclass(frozen=True)
    class Square:
        def define(self, api: API) -> None:
            x = api.private_input("x")
            y = api.public_input("y")
            api.assert_equal(api.mul(x, x), y)

    compiled = compile_circuit(Square())      # R1CS + row names + witness program
    z = compiled.solve({"x": 3, "y": 9})       # witness; UnsatisfiedConstraint if wrong

Modules: ``circuits.linear`` (symbolic linear combinations), ``circuits.builder`` (wires, named
rows, the recorded witness program), ``circuits.api`` (the API methods and their costs),
``circuits.compiled`` (compile_circuit, solve), ``circuits.solver`` (the program interpreter),
``circuits.soundness`` (unconstrained-wire finder), ``circuits.export`` (iden3 .r1cs/.wtns),
``circuits.gadgets`` (comparators, Poseidon, Merkle, EdDSA, fixed point, signed integers) and
``circuits.batch`` (the rollup's batch circuit); the native primitives are ``protocol``'s.

The names below are imported lazily, so importing a submodule does not pull in numpy or the
prover.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "API": "circuits.api",
    "Variable": "circuits.linear",
    "Circuit": "circuits.compiled",
    "CompiledCircuit": "circuits.compiled",
    "compile_circuit": "circuits.compiled",
    "compile_api": "circuits.compiled",
    "CircuitError": "circuits.errors",
    "DefinitionError": "circuits.errors",
    "InputError": "circuits.errors",
    "UnsatisfiedConstraint": "circuits.errors",
    "find_unconstrained": "circuits.soundness",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'circuits' has no attribute {name!r}")
