"""Sparse Merkle tree of depth D with Poseidon(2) nodes, inclusion and update proofs.

Layout (as ``circuits.primitives.poseidon.merkle_path_root``): level 0 holds the leaves, level D the
root; node (l+1, i) = Poseidon(node(l, 2i), node(l, 2i+1)); siblings are listed bottom-up and bit l
of the leaf index says whether the path node at level l is a right child.  Only non-default nodes
are stored; an update hashes its whole path in one call (``rollup.hashing.path_nodes``, numba);
``empty[l]`` is the hash of an all-default subtree of height l (computed once), so a
tree of depth 32 costs no more per update than one of depth 16 beyond the 16 extra hashes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from circuits.primitives.poseidon import merkle_path_root
from rollup.errors import AccountOutOfRange
from rollup.hashing import hash_pair, path_nodes


@dataclass(frozen=True)
class UpdateProof:
    """A leaf write: the path proves old_leaf under old_root and new_leaf under new_root."""

    index: int
    old_leaf: int
    new_leaf: int
    siblings: tuple[int, ...]  #: bottom-up, len D
    old_root: int
    new_root: int

    def verify(self) -> bool:
        return (
            merkle_path_root(self.old_leaf, self.index, self.siblings) == self.old_root
            and merkle_path_root(self.new_leaf, self.index, self.siblings) == self.new_root
        )


def verify_inclusion(root: int, index: int, leaf: int, siblings: tuple[int, ...]) -> bool:
    """True iff ``leaf`` sits at ``index`` under ``root`` with this authentication path."""
    return merkle_path_root(leaf, index, siblings) == root


class SparseMerkleTree:
    """A mutable sparse Merkle tree; ``dirty`` collects node keys written since the last flush."""

    def __init__(
        self,
        depth: int,
        default_leaf: int,
        hash2: Callable[[int, int], int] = hash_pair,
        path: Callable[[int, int, tuple[int, ...]], tuple[int, ...]] = path_nodes,
        nodes: dict[tuple[int, int], int] | None = None,
    ) -> None:
        self.depth = depth
        self.hash2, self.path = hash2, path
        empty = [default_leaf]
        for _ in range(depth):
            empty.append(hash2(empty[-1], empty[-1]))
        self.empty: tuple[int, ...] = tuple(empty)
        self.nodes: dict[tuple[int, int], int] = dict(nodes or {})
        self.dirty: set[tuple[int, int]] = set()

    def node(self, level: int, index: int) -> int:
        return self.nodes.get((level, index), self.empty[level])

    @property
    def root(self) -> int:
        return self.node(self.depth, 0)

    def _check(self, index: int) -> None:
        if not 0 <= index < 1 << self.depth:
            raise AccountOutOfRange(account=index, depth=self.depth)

    def leaf(self, index: int) -> int:
        self._check(index)
        return self.node(0, index)

    def siblings(self, index: int) -> tuple[int, ...]:
        self._check(index)
        get, empty = self.nodes.get, self.empty
        return tuple(
            [get((level, (index >> level) ^ 1), empty[level]) for level in range(self.depth)]
        )

    def update(self, index: int, leaf: int) -> UpdateProof:
        """Write ``leaf`` at ``index``; return the update proof (siblings read before the write).

        One ``path`` call hashes the whole path; the loop below stores its nodes (a default value
        removes the stored node) and marks every path key dirty."""
        siblings = self.siblings(index)
        nodes, empty = self.nodes, self.empty
        old_leaf, old_root = nodes.get((0, index), empty[0]), nodes.get((self.depth, 0), empty[-1])
        path = self.path(leaf, index, siblings)
        keys = [(level, index >> level) for level in range(self.depth + 1)]
        for key, value, default in zip(keys, (leaf, *path), empty, strict=True):
            if value == default:
                nodes.pop(key, None)
            else:
                nodes[key] = value
        self.dirty.update(keys)
        return UpdateProof(index, old_leaf, leaf, siblings, old_root, path[-1] if path else leaf)

    def take_dirty(self) -> dict[tuple[int, int], int | None]:
        """The nodes written since the last call (None = back to default), and clear the set."""
        out = {key: self.nodes.get(key) for key in self.dirty}
        self.dirty.clear()
        return out

    def items(self) -> Iterable[tuple[tuple[int, int], int]]:
        return self.nodes.items()
