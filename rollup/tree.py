"""Sparse Merkle tree of depth D with Poseidon(2) nodes, inclusion and update proofs.

Layout (as ``protocol.poseidon.merkle_path_root``): level 0 holds the leaves, level D the
root; node (l+1, i) = Poseidon(node(l, 2i), node(l, 2i+1)); siblings are listed bottom-up and bit l
of the leaf index says whether the path node at level l is a right child.  Only non-default nodes
are stored; ``empty[l]`` is the hash of an all-default subtree of height l (computed once), so a
tree of depth 32 costs no more per update than one of depth 16 beyond the 16 extra hashes.

``update_many`` writes (or reads) a whole batch of leaves in order through its backend's
``tree_update`` (`prover.poseidon_engine`: the numba backends hash only the node versions someone
reads; ``REFERENCE`` writes one leaf at a time with full paths).  An ``UpdateProof`` is the path
(index, old leaf, new leaf, siblings); the roots it proves are computed from it on demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from rollup.errors import AccountOutOfRange
from rollup.hashing import PoseidonBackend, get_backend


@dataclass(frozen=True)
class UpdateProof:
    """A leaf write (or a read: old = new): the siblings carry old_leaf to old_root and new_leaf
    to new_root; both roots are computed from the path when first asked for."""

    index: int
    old_leaf: int
    new_leaf: int
    siblings: tuple[int, ...]  #: bottom-up, len D

    @cached_property
    def old_root(self) -> int:
        return get_backend().path_root(self.old_leaf, self.index, self.siblings)

    @cached_property
    def new_root(self) -> int:
        if self.new_leaf == self.old_leaf:
            return self.old_root
        return get_backend().path_root(self.new_leaf, self.index, self.siblings)

    def verify(self, old_root: int, new_root: int) -> bool:
        """True iff this path takes old_leaf to ``old_root`` and new_leaf to ``new_root``."""
        return self.old_root == old_root and self.new_root == new_root


def verify_inclusion(
    root: int,
    index: int,
    leaf: int,
    siblings: tuple[int, ...],
    backend: PoseidonBackend | str | None = None,
) -> bool:
    """True iff ``leaf`` sits at ``index`` under ``root`` with this authentication path."""
    return get_backend(backend).path_root(leaf, index, siblings) == root


class SparseMerkleTree:
    """A mutable sparse Merkle tree; ``dirty`` collects node keys written since the last flush."""

    def __init__(
        self,
        depth: int,
        default_leaf: int,
        backend: PoseidonBackend | str | None = None,
        nodes: dict[tuple[int, int], int] | None = None,
    ) -> None:
        self.depth = depth
        self.backend = get_backend(backend)
        empty = [default_leaf]
        for _ in range(depth):
            empty.append(self.backend.pair(empty[-1], empty[-1]))
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
        """Write ``leaf`` at ``index``; return the update proof (siblings read before the write)."""
        return self.update_many([(index, leaf)])[0]

    def update_many(self, entries: Sequence[tuple[int, int | None]]) -> list[UpdateProof]:
        """Apply (index, new leaf) writes and (index, None) reads in order; one proof per entry,
        with the siblings as they were at that entry's turn.  All indices are checked first, so
        an out-of-range index changes nothing."""
        for index, _ in entries:
            self._check(index)
        indices = [index for index, _ in entries]
        before = {index: self.siblings(index) for index in set(indices)}
        siblings, final = self.backend.tree_update(
            self.depth, indices, [leaf for _, leaf in entries], [before[i] for i in indices]
        )
        current: dict[int, int] = {}
        proofs = []
        for (index, leaf), path in zip(entries, siblings, strict=True):
            old = current[index] if index in current else self.node(0, index)
            new = old if leaf is None else leaf
            current[index] = new
            proofs.append(UpdateProof(index, old, new, path))
        nodes, empty = self.nodes, self.empty
        nodes.update(final)
        for key in [key for key, value in final.items() if value == empty[key[0]]]:
            del nodes[key]  # back to the default: not stored
        self.dirty.update(final)
        return proofs

    def take_dirty(self) -> dict[tuple[int, int], int | None]:
        """The nodes written since the last call (None = back to default), and clear the set."""
        out = {key: self.nodes.get(key) for key in self.dirty}
        self.dirty.clear()
        return out

    def items(self) -> Iterable[tuple[tuple[int, int], int]]:
        return self.nodes.items()
