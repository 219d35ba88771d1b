"""The Poseidon used by the rollup: circomlib Poseidon (``circuits.primitives.poseidon``).

``poseidon`` is the hash every rollup module calls; ``poseidon_reference`` is the pure-Python twin.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.primitives.poseidon import poseidon_hash as poseidon_reference
from circuits.primitives.poseidon import poseidon_sponge

poseidon = poseidon_reference


def hash_pair(left: int, right: int) -> int:
    """A Merkle node: Poseidon(left, right)."""
    return poseidon([left, right])


__all__ = ["Sequence", "hash_pair", "poseidon", "poseidon_reference", "poseidon_sponge"]
