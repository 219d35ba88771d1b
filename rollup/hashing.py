"""The Poseidon used by the rollup: circomlib Poseidon, numba fast path and pure-Python twin.

``poseidon`` / ``poseidon_many`` / ``path_nodes`` / ``sponge`` are what the rollup calls (numba,
from ``prover.kernels.poseidon_scalar``); ``poseidon_reference`` / ``poseidon_many_reference`` /
``path_nodes_reference`` / ``sponge_reference`` are the plain twins, same signatures
(``protocol.poseidon``);
``tests/rollup/test_hashing.py`` compares them.  ``path_nodes(leaf, index, siblings)`` returns the
nodes at levels 1..D of a Merkle path (siblings bottom-up, bit l of index = 1: the level-l node is
a right child); the last one is the root.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.poseidon import SPONGE_RATE, SPONGE_TAG
from protocol.poseidon import merkle_path_nodes as path_nodes_reference
from protocol.poseidon import poseidon_hash as poseidon_reference
from protocol.poseidon import poseidon_many as poseidon_many_reference
from protocol.poseidon import poseidon_sponge as sponge_reference
from prover.kernels.poseidon_scalar import merkle_path_nodes as path_nodes
from prover.kernels.poseidon_scalar import poseidon_hash_fast as poseidon
from prover.kernels.poseidon_scalar import poseidon_many, poseidon_many_nested


def sponge(elements: Sequence[int]) -> int:
    """Twin of ``protocol.poseidon.poseidon_sponge`` on the fast hash: h = 2^64 + len,
    then h = Poseidon([h, *chunk]) for each chunk of 15 elements (empty list: Poseidon([h]))."""
    values = list(elements)
    h = SPONGE_TAG + len(values)
    if not values:
        return poseidon([h])
    for i in range(0, len(values), SPONGE_RATE):
        h = poseidon([h, *values[i : i + SPONGE_RATE]])
    return h


def hash_pair(left: int, right: int) -> int:
    """A Merkle node: Poseidon(left, right)."""
    return poseidon([left, right])


__all__ = [
    "hash_pair",
    "path_nodes",
    "path_nodes_reference",
    "poseidon",
    "poseidon_many",
    "poseidon_many_nested",
    "poseidon_many_reference",
    "poseidon_reference",
    "sponge",
    "sponge_reference",
]
