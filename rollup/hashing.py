"""The Poseidon used by the rollup: circomlib Poseidon, numba fast path and pure-Python twin.

``poseidon`` / ``path_nodes`` are what the rollup calls (``circuits.primitives.poseidon_fast``,
numba); ``poseidon_reference`` / ``path_nodes_reference`` are the plain twins with the same
signatures (``circuits.primitives.poseidon``).  ``tests/rollup/test_hashing.py`` compares them.
``path_nodes(leaf, index, siblings)`` returns the nodes at levels 1..D of a Merkle path (siblings
bottom-up, bit l of index = 1: the level-l node is a right child); the last one is the root.
"""

from __future__ import annotations

from circuits.primitives.poseidon import merkle_path_nodes as path_nodes_reference
from circuits.primitives.poseidon import poseidon_hash as poseidon_reference
from circuits.primitives.poseidon import poseidon_sponge
from circuits.primitives.poseidon_fast import merkle_path_nodes as path_nodes
from circuits.primitives.poseidon_fast import poseidon_hash_fast as poseidon


def hash_pair(left: int, right: int) -> int:
    """A Merkle node: Poseidon(left, right)."""
    return poseidon([left, right])


__all__ = [
    "hash_pair",
    "path_nodes",
    "path_nodes_reference",
    "poseidon",
    "poseidon_reference",
    "poseidon_sponge",
]
