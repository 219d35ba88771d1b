"""The rollup's fast hashing path (numba) against its pure-Python twin, on random inputs, and the
tree built on each giving the same roots."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.spec import ORDER_RECORDS
from prover.fields import curve_order as r
from rollup.account import Account, OrderRecord, Position, hash_leaves
from rollup.hashing import (
    path_nodes,
    path_nodes_reference,
    poseidon,
    poseidon_reference,
    sponge,
    sponge_reference,
)
from rollup.tree import SparseMerkleTree
from rollup.tree_batch import batch_update_reference

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
    slow = SparseMerkleTree(4, 3, lambda a, b: poseidon_reference([a, b]), batch_update_reference)
    for index, leaf in writes:
        assert fast.update(index, leaf) == slow.update(index, leaf)
    assert fast.nodes == slow.nodes and fast.root == slow.root
    batch = [(i, None if leaf % 3 == 0 else leaf) for i, leaf in writes]
    assert fast.update_many(batch) == slow.update_many(batch)
    assert fast.nodes == slow.nodes and fast.root == slow.root


def test_twins_disagree_on_different_inputs() -> None:
    assert poseidon([1, 2]) != poseidon_reference([2, 1])
    assert path_nodes(1, 0, [5]) != path_nodes_reference(1, 1, [5])
    assert sponge([1, 2]) != sponge_reference([1, 2, 0])


signed = st.integers(-(2**95), 2**95)


@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(
            felt, felt, st.integers(0, 2**32 - 1), signed, st.lists(signed, min_size=8, max_size=8)
        ),
        max_size=5,
    )
)
def test_hash_leaves_equals_reference(rows) -> None:
    accounts = [
        Account(x, y, n, n >> 1, c, tuple(Position(p[2 * k], p[2 * k + 1]) for k in range(4)),
                tuple(OrderRecord(n + k, abs(p[k]) >> 60) for k in range(ORDER_RECORDS)))
        for x, y, n, c, p in rows
    ]  # fmt: skip
    hash_leaves(accounts + accounts[:1])  # a repeated account is hashed once
    for a, (x, y, n, c, p) in zip(accounts, rows, strict=True):
        positions = poseidon_reference([v % r for v in p])
        orders = poseidon_reference([v for o in a.orders for v in (o.order_id, o.filled)])
        options = poseidon_reference([0] * 8)
        leaf = poseidon_reference([x, y, n, n >> 1, c % r, positions, orders, options])
        assert a.__dict__["_leaf"] == leaf == a.leaf()
    # negative twin: an account that differs in one position differs in its leaf
    if accounts:
        a = accounts[0]
        moved = a.with_position(3, Position(a.positions[3].size + 1, a.positions[3].funding_index))
        hash_leaves([moved])
        assert moved.leaf() != a.leaf()
