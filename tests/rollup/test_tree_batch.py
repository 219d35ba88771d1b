"""The batched tree hashing (numba, 2 threads, only the node versions anyone reads) against its
twin that writes one leaf at a time and hashes every path in full (plain Python Poseidon)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import PrimitiveError
from protocol.poseidon import merkle_path_root, poseidon_hash
from prover.fields import curve_order as r
from rollup.tree_batch import batch_update, batch_update_reference
from tests.hash_paths import PATHS, hash_path

DEPTH = 5


def pre_batch(seed: int):
    """A tree with a few non-default nodes before the batch (values need not be consistent:
    the batch only reads them as siblings)."""
    stored = {
        (lv, (seed * 7 + lv) % (1 << (DEPTH - lv))): poseidon_hash([seed, lv])
        for lv in range(DEPTH)
    }
    return lambda index: tuple(
        stored.get((lv, (index >> lv) ^ 1), 1000 + lv) for lv in range(DEPTH)
    )


entry = st.tuples(st.integers(0, (1 << DEPTH) - 1), st.one_of(st.none(), st.integers(0, r - 1)))


@pytest.mark.parametrize("ifma", PATHS)
@settings(max_examples=40, deadline=None)
@given(st.lists(entry, min_size=1, max_size=20), st.integers(0, 5), st.sampled_from([1, 2, 3]))
def test_batch_equals_one_write_at_a_time(ifma: bool, entries, seed: int, threads: int) -> None:
    node = pre_batch(seed)
    with hash_path(ifma):
        fast = batch_update(DEPTH, entries, node, threads=threads)
    assert fast == batch_update_reference(DEPTH, entries, node)
    # plain Python ints throughout (keys and values go to SQLite and msgpack)
    assert all(type(x) is int for key in fast[1] for x in key)
    assert all(type(x) is int for x in fast[1].values())
    assert all(type(x) is int for path in fast[0] for x in path)


@pytest.mark.parametrize("ifma", PATHS)
def test_clustered_indices_split_across_threads(ifma: bool) -> None:
    """A trade-like pattern: pairs of accounts, indices in both halves of a subtree."""
    entries = [(i, poseidon_hash([i, j])) for j in range(3) for i in (3, 17, 4, 30, 3, 0)]
    entries += [(9, None), (17, 5)]
    node = pre_batch(1)
    for threads in (1, 2, 3):
        with hash_path(ifma):
            fast = batch_update(DEPTH, entries, node, threads=threads)
        assert fast == batch_update_reference(DEPTH, entries, node)


def test_siblings_prove_each_write() -> None:
    """Each entry's siblings carry its old leaf to the running root, its new leaf to the next."""
    empty = [0]
    for _ in range(DEPTH):
        empty.append(poseidon_hash([empty[-1], empty[-1]]))
    entries = [(5, 11), (4, 12), (5, 13), (31, None), (20, 14)]
    siblings, final = batch_update(DEPTH, entries, lambda i: tuple(empty[:DEPTH]))
    leaves: dict[int, int] = {}
    root = empty[DEPTH]
    for (index, leaf), path in zip(entries, siblings, strict=True):
        old = leaves.get(index, 0)
        assert merkle_path_root(old, index, path) == root
        if leaf is not None:
            root = merkle_path_root(leaf, index, path)
            leaves[index] = leaf
    assert final[(DEPTH, 0)] == root
    assert final[(0, 5)] == 13 and final[(0, 20)] == 14 and (0, 31) not in final


@pytest.mark.parametrize("ifma", PATHS)
@pytest.mark.parametrize("leaf", [r, r + 5, -1, True, 2**256])
def test_a_non_canonical_leaf_is_refused_like_the_reference(ifma: bool, leaf) -> None:
    """Negative twin: both paths refuse a leaf outside [0, r) with the reference's error (the
    scalar kernels would otherwise reduce it mod r, the IFMA ones keep it)."""
    entries = [(1, 7), (0, leaf)]
    with pytest.raises(PrimitiveError) as ref_error:
        batch_update_reference(DEPTH, entries, pre_batch(0))
    with hash_path(ifma), pytest.raises(PrimitiveError) as error:
        batch_update(DEPTH, entries, pre_batch(0))
    assert str(error.value) == str(ref_error.value)


def test_a_wrong_sibling_is_caught() -> None:
    """Negative twin: the reference and the batch disagree once a pre-batch node differs."""
    entries = [(2, 7), (3, 8)]
    a = batch_update(DEPTH, entries, lambda i: tuple(range(DEPTH)))
    b = batch_update(DEPTH, entries, lambda i: tuple(lv + (lv == 3) for lv in range(DEPTH)))
    assert a[0][0] != b[0][0] and a[1][(DEPTH, 0)] != b[1][(DEPTH, 0)]
