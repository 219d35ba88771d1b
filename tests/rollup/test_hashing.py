"""The rollup's fast hashing path (numba) against its pure-Python twin, on random inputs, and the
tree built on each giving the same roots."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from prover.fields import curve_order as r
from rollup.hashing import (
    path_nodes,
    path_nodes_reference,
    poseidon,
    poseidon_reference,
    sponge,
    sponge_reference,
)
from rollup.tree import SparseMerkleTree

felt = st.integers(0, r - 1)


@settings(max_examples=30, deadline=None)
@given(st.lists(felt, min_size=1, max_size=16))
def test_poseidon_twins(inputs: list[int]) -> None:
    assert poseidon(inputs) == poseidon_reference(inputs)


@settings(max_examples=15, deadline=None)
@given(st.lists(felt, max_size=40))
def test_sponge_twins(elements: list[int]) -> None:
    assert sponge(elements) == sponge_reference(elements)


@settings(max_examples=20, deadline=None)
@given(felt, st.integers(0, 2**6 - 1), st.lists(felt, min_size=6, max_size=6))
def test_path_twins(leaf: int, index: int, siblings: list[int]) -> None:
    assert path_nodes(leaf, index, siblings) == path_nodes_reference(leaf, index, siblings)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), felt), min_size=1, max_size=5))
def test_tree_fast_equals_reference(writes: list[tuple[int, int]]) -> None:
    fast = SparseMerkleTree(4, 3)
    slow = SparseMerkleTree(4, 3, lambda a, b: poseidon_reference([a, b]), path_nodes_reference)
    for index, leaf in writes:
        assert fast.update(index, leaf) == slow.update(index, leaf)
    assert fast.nodes == slow.nodes and fast.root == slow.root


def test_twins_disagree_on_different_inputs() -> None:
    assert poseidon([1, 2]) != poseidon_reference([2, 1])
    assert path_nodes(1, 0, [5]) != path_nodes_reference(1, 1, [5])
    assert sponge([1, 2]) != sponge_reference([1, 2, 0])
