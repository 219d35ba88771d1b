"""The prover's error hierarchy: every failure a caller can act on is a ``ProverError``."""

from __future__ import annotations


class ProverError(Exception):
    """Base class of every error raised by ``prover``; the message is one actionable line."""


class FormatError(ProverError):
    """A file (.r1cs, .wtns, proving key, snarkjs JSON) is truncated, corrupt or of the wrong
    kind."""


class R1CSError(ProverError):
    """An R1CS is inconsistent (sizes, wire indices, field)."""


class WitnessError(ProverError):
    """A witness does not fit its R1CS or does not satisfy it."""


class KeyMismatchError(ProverError):
    """A proving key does not belong to the circuit or witness it is used with."""
