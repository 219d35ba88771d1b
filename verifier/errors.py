"""The verifier's error hierarchy: every failure a caller can act on is a ``VerifierError``.

``verify`` returns False for a well-formed proof that does not verify; it raises only for malformed
input (wrong JSON shape, a coordinate that is not a canonical field element, a point off the curve
or outside the prime-order subgroup, a public input not < r or a count that does not match the key).
"""

from __future__ import annotations


class VerifierError(Exception):
    """Base class of every error raised by ``verifier``; the message is one actionable line."""


class MalformedInputError(VerifierError):
    """A verifying key, proof or public-input list is not well-formed (shape, range, curve)."""
