"""The circuit package's error hierarchy: everything a circuit author or caller can act on.

``CircuitError`` is the base. Definition-time misuse (``DefinitionError``), bad input assignments
(``InputError``) and unsatisfied constraints (``UnsatisfiedConstraint``, halo2-style: it names the
failing constraint and its namespace path) are the three ways a circuit can fail.
"""

from __future__ import annotations


class CircuitError(Exception):
    """Base class of every error raised by the constraint-building API; one actionable line."""


class DefinitionError(CircuitError):
    """``define(api)`` misused the API (bad bit width, duplicate input, impossible constant)."""


class InputError(CircuitError):
    """An assignment misses a declared input, names an unknown one or has a wrong length."""


class UnsatisfiedConstraint(CircuitError):  # noqa: N818 (says what failed)
    """A witness violates a constraint; carries its index, name and namespace path.

    The message reads ``constraint 17 'merkle/level3/mux' is not satisfied: A·z * B·z != C·z``.
    """

    def __init__(self, index: int, name: str, detail: str = "") -> None:
        self.index = index
        self.name = name
        self.namespace = name.rpartition("/")[0]
        msg = f"constraint {index} '{name}' is not satisfied: A·z * B·z != C·z"
        super().__init__(msg + (f" ({detail})" if detail else ""))


class UnconstrainedWire(CircuitError):  # noqa: N818
    """The soundness helper found wires the constraints do not determine (names them)."""
