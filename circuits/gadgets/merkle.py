"""Sparse Merkle tree paths (Poseidon(2) nodes): inclusion and single-leaf update.

Matches ``protocol.poseidon.merkle_path_root``: ``siblings[i]`` is the sibling at level
i (bottom-up) and bit i of the leaf index says where the current node sits,

    bit = 0:  node' = Poseidon(node, sibling)        bit = 1:  node' = Poseidon(sibling, node)

The mux costs one constraint per level: left = node + bit·(sibling − node), and
right = node + sibling − left is linear. With the index bit's booleanity that is
1 + 1 + 240 = 242 constraints per level (circomlib's Merkle level with its mux) and 3,872 for
depth 16. Index bits come either as values checked boolean here, or from ``index_bits`` (which
range-checks an index to depth bits: the same depth rows, and the index cannot wrap).

``merkle_update`` proves old root → new root for one leaf with one shared path: the bits are
checked once, each level costs 2 muxes + 2 hashes = 483 constraints.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.api import API
from circuits.errors import DefinitionError
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Value, Variable, as_variable

__all__ = ["index_bits", "merkle_inclusion", "merkle_level", "merkle_root", "merkle_update"]


def index_bits(api: API, index: Value, depth: int, name: str = "index") -> list[Variable]:
    """The depth bits of a leaf index, enforcing 0 ≤ index < 2^depth. depth constraints."""
    return api.to_bits(index, depth, name)


def merkle_level(
    api: API, node: Value, sibling: Value, bit: Value, name: str = "level"
) -> Variable:
    """Poseidon of (node, sibling) ordered by bit. 241 constraints (+1 if bit not known boolean)."""
    node, sibling = as_variable(node), as_variable(sibling)
    with api.namespace(name):
        api.assert_boolean(bit, "bit")
        left = node + api.mul(bit, sibling - node, name="mux")
        right = node + sibling - left
        return poseidon(api, [left, right], "hash")


def _check_path(bits: Sequence[Value], siblings: Sequence[Value]) -> None:
    if len(bits) != len(siblings) or not siblings:
        raise DefinitionError(
            f"Merkle path of {len(siblings)} siblings with {len(bits)} index bits"
        )


def merkle_root(
    api: API, leaf: Value, bits: Sequence[Value], siblings: Sequence[Value], name: str = "merkle"
) -> Variable:
    """The root reached from leaf along the path. 242·depth constraints (241·depth, known bits)."""
    _check_path(bits, siblings)
    node = as_variable(leaf)
    with api.namespace(name):
        for i, (bit, sibling) in enumerate(zip(bits, siblings, strict=True)):
            node = merkle_level(api, node, sibling, bit, f"level{i}")
    return node


def merkle_inclusion(
    api: API,
    leaf: Value,
    bits: Sequence[Value],
    siblings: Sequence[Value],
    root: Value,
    name: str = "merkle_inclusion",
) -> None:
    """leaf is at the bits' index under root. 242·depth + 1 constraints."""
    with api.namespace(name):
        api.assert_equal(merkle_root(api, leaf, bits, siblings, "path"), root, "root")


def merkle_update(
    api: API,
    old_leaf: Value,
    new_leaf: Value,
    bits: Sequence[Value],
    siblings: Sequence[Value],
    name: str = "merkle_update",
) -> tuple[Variable, Variable]:
    """(old root, new root) of one leaf change along one path. 483·depth constraints
    (482·depth for known-boolean bits). Assert the old root against the state to use it."""
    _check_path(bits, siblings)
    old, new = as_variable(old_leaf), as_variable(new_leaf)
    with api.namespace(name):
        for i, (bit, sibling) in enumerate(zip(bits, siblings, strict=True)):
            with api.namespace(f"level{i}"):
                api.assert_boolean(bit, "bit")
                old = merkle_level(api, old, sibling, bit, "old")
                new = merkle_level(api, new, sibling, bit, "new")
    return old, new
