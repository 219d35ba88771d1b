# ruff: noqa: N818  (names say what happened: Busy, Frozen, CorruptFile)
"""The application layer's refusals: subclasses of ``rollup.errors.RollupError``.

The rollup package keeps one error hierarchy (``RollupError``); the node adds the refusals that
belong to operating a rollup directory rather than to the state machine. Each message is one line
a person can act on, and the CLI maps each class to an exit code (``cli.EXIT_CODES``):

- ``NotARollup``, ``UnitError``, ``InvalidArgument`` — malformed or missing input: a directory
  that is not a rollup, a value that is not a number or does not convert exactly to protocol
  units, a parameter outside its range (genesis);
- ``NodeError`` — a refusal (unknown key, nothing to do, the rollup is frozen);
- ``CorruptFile`` — a file of the directory is missing, unreadable, truncated or fails its checksum;
  nothing was changed, and the message says how to recover;
- ``Busy`` — another process holds the directory's lock (a running ``zkr node`` or another verb).
"""

from __future__ import annotations

from rollup.errors import RollupError

__all__ = [
    "Busy", "CorruptFile", "Frozen", "InvalidArgument", "NodeError", "NotARollup", "UnitError",
]  # fmt: skip


class NodeError(RollupError):
    """A node-level refusal (missing directory, unknown key, nothing to do)."""


class NotARollup(NodeError):
    """The directory given is not a rollup directory (``zkr init`` makes one)."""


class UnitError(NodeError):
    """A human-unit value (USD, whole units) that is malformed or does not convert exactly."""


class InvalidArgument(NodeError):
    """A parameter outside what it may be (e.g. a genesis parameter): malformed input."""


class Frozen(NodeError):
    """The settlement layer is frozen: no new orders, transactions or batches (escape instead)."""


class CorruptFile(NodeError):
    """A file of the rollup directory is missing, unreadable or fails its integrity check."""

    template = "{path}: {detail}"


class Busy(NodeError):
    """Another process holds the rollup directory's lock."""


#: What went wrong, by kind; ``cli`` turns a kind into an exit code, the HTTP API into a status.
KINDS: tuple[str, ...] = ("malformed", "refused", "l1_refused", "corrupt", "busy")


def classify(error: BaseException) -> str | None:
    """The kind of an error of one of the packages (``KINDS``); None for anything else (a bug).

    malformed: bad input — a value that does not convert, a directory that is not a rollup, a
    malformed proof, key or witness, an unreadable file; refused: the rollup refused (state machine
    or node); l1_refused: the settlement layer refused; corrupt: a store or file is damaged or
    missing; busy: another process holds the directory.
    """
    import sqlite3
    import sys

    from rollup.errors import RollupError, StoreError
    from verifier.errors import VerifierError
    from verifier.settlement import SettlementError

    loaded = [sys.modules.get(m) for m in ("prover.errors", "circuits.errors", "protocol.errors")]
    names = ("ProverError", "CircuitError", "ProtocolError")
    malformed = tuple(getattr(m, n) for m, n in zip(loaded, names, strict=True) if m is not None)
    table: list[tuple[tuple[type, ...], str]] = [
        ((Busy,), "busy"),
        ((CorruptFile, StoreError, sqlite3.DatabaseError), "corrupt"),
        ((UnitError, NotARollup, InvalidArgument, VerifierError, OSError, *malformed), "malformed"),
        ((RollupError,), "refused"),
        ((SettlementError,), "l1_refused"),
    ]
    for kinds, kind in table:
        if isinstance(error, kinds):
            return kind
    return None
