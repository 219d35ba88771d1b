"""The rollup on each Poseidon backend against REFERENCE: the tree built on each giving the same
roots and proofs, account leaves hashed in one call or one at a time, the state root."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.poseidon import poseidon_hash as poseidon_reference
from protocol.poseidon import poseidon_sponge
from protocol.spec import ORDER_RECORDS
from prover.fields import curve_order as r
from rollup.account import Account, OrderRecord, Position, hash_leaves, state_root
from rollup.hashing import REFERENCE, get_backend, poseidon, poseidon_many, sponge
from rollup.tree import SparseMerkleTree, verify_inclusion
from tests.hash_paths import ALL, FAST

felt = st.integers(0, r - 1)


@pytest.mark.parametrize("name", FAST)
@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), felt), min_size=1, max_size=5))
def test_tree_fast_equals_reference(name: str, writes: list[tuple[int, int]]) -> None:
    fast = SparseMerkleTree(4, 3, get_backend(name))
    slow = SparseMerkleTree(4, 3, REFERENCE)
    for index, leaf in writes:
        assert fast.update(index, leaf) == slow.update(index, leaf)
    assert fast.nodes == slow.nodes and fast.root == slow.root
    batch = [(i, None if leaf % 3 == 0 else leaf) for i, leaf in writes]
    assert fast.update_many(batch) == slow.update_many(batch)
    assert fast.nodes == slow.nodes and fast.root == slow.root
    index = writes[0][0]
    for backend in (fast.backend, slow.backend):
        assert verify_inclusion(fast.root, index, fast.leaf(index), fast.siblings(index), backend)
        assert not verify_inclusion(fast.root, index ^ 1, fast.leaf(index), fast.siblings(index))


@pytest.mark.parametrize("name", ALL)
def test_state_root_on_every_backend(name: str) -> None:
    expected = poseidon_reference([5, 6])
    assert state_root(5, 6, get_backend(name)) == state_root(5, 6, name) == expected
    assert state_root(6, 5, get_backend(name)) != expected  # negative twin: order matters
    assert poseidon([5, 6]) == expected  # the best backend, for memoised values
    assert poseidon_many([[5, 6], [6, 5]]) == [expected, poseidon_reference([6, 5])]
    assert sponge([5, 6]) == poseidon_sponge([5, 6]) != sponge([6, 5])


signed = st.integers(-(2**95), 2**95)


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=15, deadline=None)
@given(
    st.lists(
        st.tuples(
            felt, felt, st.integers(0, 2**32 - 1), signed, st.lists(signed, min_size=8, max_size=8)
        ),
        max_size=5,
    )
)
def test_hash_leaves_equals_reference(name: str, rows) -> None:
    accounts = [
        Account(x, y, n, n >> 1, c, tuple(Position(p[2 * k], p[2 * k + 1]) for k in range(4)),
                tuple(OrderRecord(n + k, abs(p[k]) >> 60) for k in range(ORDER_RECORDS)))
        for x, y, n, c, p in rows
    ]  # fmt: skip
    hash_leaves(accounts + accounts[:1], name)  # a repeated account is hashed once
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
        hash_leaves([moved], name)
        assert moved.leaf() != a.leaf()
