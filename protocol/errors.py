"""The protocol package's error hierarchy: malformed input to a primitive or a protocol codec."""

from __future__ import annotations


class ProtocolError(ValueError):
    """Base class: input that does not follow the protocol (a one-line, actionable message)."""


class PrimitiveError(ProtocolError):
    """Malformed input to a native primitive (wrong type, size or a value outside its field)."""


class PubdataError(ProtocolError):
    """A pubdata chunk that does not decode: unknown type, stray bits, wrong length."""


class CodecError(ProtocolError):
    """A stored or published blob that does not decode (torn, unknown extension, wrong type)."""
