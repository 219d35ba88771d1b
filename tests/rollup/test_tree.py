"""Sparse Merkle tree against a dense recomputation, inclusion and update proofs (and tampering)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollup.errors import AccountOutOfRange
from rollup.hashing import get_backend
from rollup.tree import SparseMerkleTree, UpdateProof, verify_inclusion

DEPTH = 3


def dense_root(leaves: list[int]) -> int:
    level = leaves
    while len(level) > 1:
        level = [get_backend().pair(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**DEPTH - 1), st.integers(0, 50)), max_size=6))
def test_matches_dense_tree(writes: list[tuple[int, int]]) -> None:
    tree = SparseMerkleTree(DEPTH, default_leaf=7)
    leaves = [7] * 2**DEPTH
    for index, leaf in writes:
        root = tree.root
        proof = tree.update(index, leaf)
        leaves[index] = leaf
        assert proof.verify(root, tree.root) and not proof.verify(root + 1, tree.root)
    assert tree.root == dense_root(leaves)
    dirty = tree.take_dirty()
    assert set(dirty) == {(lv, i >> lv) for i, _ in writes for lv in range(DEPTH + 1)}
    assert all(dirty[key] == tree.nodes.get(key) for key in dirty) and not tree.take_dirty()
    for i in range(2**DEPTH):
        assert verify_inclusion(tree.root, i, leaves[i], tree.siblings(i))
    # back to all-default: only default nodes remain, nothing stored
    for i in range(2**DEPTH):
        tree.update(i, 7)
    assert tree.nodes == {} and tree.root == dense_root([7] * 2**DEPTH)


def test_tampered_proofs_rejected() -> None:
    tree = SparseMerkleTree(DEPTH, default_leaf=0)
    tree.update(1, 11)
    old_root = tree.root
    proof = tree.update(5, 55)
    assert proof.verify(old_root, tree.root)
    bad_sibling = (proof.siblings[0] + 1, *proof.siblings[1:])
    assert not UpdateProof(5, 0, 55, bad_sibling).verify(old_root, tree.root)
    assert not UpdateProof(4, 0, 55, proof.siblings).verify(old_root, tree.root)
    assert not UpdateProof(5, 0, 56, proof.siblings).verify(old_root, tree.root)
    assert not UpdateProof(5, 1, 55, proof.siblings).verify(old_root, tree.root)
    assert verify_inclusion(tree.root, 1, 11, tree.siblings(1))
    assert not verify_inclusion(tree.root, 1, 12, tree.siblings(1))
    assert not verify_inclusion(tree.root, 0, 11, tree.siblings(1))


def test_index_out_of_range() -> None:
    tree = SparseMerkleTree(DEPTH, default_leaf=0)
    root = tree.root
    with pytest.raises(AccountOutOfRange, match="outside the tree of depth 3"):
        tree.update(8, 1)
    with pytest.raises(AccountOutOfRange):
        tree.siblings(-1)
    assert tree.root == root and not tree.nodes


def test_empty_subtrees_cached_deep_tree() -> None:
    tree = SparseMerkleTree(32, default_leaf=0)
    root = tree.root
    proof = tree.update(2**32 - 1, 9)
    assert proof.verify(root, tree.root) and len(proof.siblings) == 32
    assert len(tree.nodes) == 33  # one path, leaf to root


def test_update_many_equals_one_at_a_time_and_checks_all_indices_first() -> None:
    a, b = SparseMerkleTree(DEPTH, default_leaf=0), SparseMerkleTree(DEPTH, default_leaf=0)
    entries = [(1, 11), (0, None), (6, 66), (1, 12), (7, None)]
    one_by_one = [a.update(i, leaf) if leaf is not None else None for i, leaf in entries]
    proofs = b.update_many(entries)
    assert [p for p, q in zip(proofs, one_by_one, strict=True) if q is not None] == [
        q for q in one_by_one if q is not None
    ]
    assert a.nodes == b.nodes and a.root == b.root and b.take_dirty() == a.take_dirty()
    assert proofs[1].old_leaf == proofs[1].new_leaf == 0 and proofs[3].old_leaf == 11
    root, nodes = b.root, dict(b.nodes)
    with pytest.raises(AccountOutOfRange):
        b.update_many([(2, 5), (8, 1)])
    assert b.root == root and b.nodes == nodes
