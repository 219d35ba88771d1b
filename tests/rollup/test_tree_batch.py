"""A batch of tree writes on each fast backend (only the node versions anyone reads, level by
level, on one or more threads) against ``tree_update_reference``, which writes one leaf at a
time and hashes every path in full (plain Python Poseidon); refusals alike."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import PrimitiveError
from protocol.poseidon import merkle_path_root, poseidon_hash
from prover.fields import curve_order as r
from prover.poseidon_engine import REFERENCE, get_backend, tree_update_reference
from tests.hash_paths import ALL, FAST

DEPTH = 5


def pre_batch(seed: int, indices: list[int]) -> list[tuple[int, ...]]:
    """Each entry's siblings in a tree with a few non-default nodes before the batch (values
    need not be consistent: the batch only reads them as siblings)."""
    stored = {
        (lv, (seed * 7 + lv) % (1 << (DEPTH - lv))): poseidon_hash([seed, lv])
        for lv in range(DEPTH)
    }
    return [
        tuple(stored.get((lv, (i >> lv) ^ 1), 1000 + lv) for lv in range(DEPTH)) for i in indices
    ]


def run(backend, entries, stored, **kw):
    indices = [i for i, _ in entries]
    return backend.tree_update(DEPTH, indices, [leaf for _, leaf in entries], stored, **kw)


entry = st.tuples(st.integers(0, (1 << DEPTH) - 1), st.one_of(st.none(), st.integers(0, r - 1)))


@pytest.mark.parametrize("name", FAST)
@settings(max_examples=40, deadline=None)
@given(st.lists(entry, min_size=1, max_size=20), st.integers(0, 5), st.sampled_from([1, 2, 3]))
def test_batch_equals_one_write_at_a_time(name: str, entries, seed: int, threads: int) -> None:
    stored = pre_batch(seed, [i for i, _ in entries])
    fast = run(get_backend(name), entries, stored, threads=threads)
    assert fast == run(REFERENCE, entries, stored)
    assert fast == run(get_backend(name), entries, stored)  # threads by the machine's policy
    # plain Python ints throughout (keys and values go to SQLite and msgpack)
    assert all(type(x) is int for key in fast[1] for x in key)
    assert all(type(x) is int for x in fast[1].values())
    assert all(type(x) is int for path in fast[0] for x in path)


@pytest.mark.parametrize("name", FAST)
def test_clustered_indices_split_across_threads(name: str) -> None:
    """A trade-like pattern: pairs of accounts, indices in both halves of a subtree."""
    entries = [(i, poseidon_hash([i, j])) for j in range(3) for i in (3, 17, 4, 30, 3, 0)]
    entries += [(9, None), (17, 5)]
    stored = pre_batch(1, [i for i, _ in entries])
    for threads in (1, 2, 3):
        assert run(get_backend(name), entries, stored, threads=threads) == run(
            REFERENCE, entries, stored
        )


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("balance", [0.5, 0.9])
def test_a_large_batch_split_into_halves(name: str, balance: float) -> None:
    """Enough writes below the first differing bit that the halves get a thread each (when
    balanced) or go level by level (when one half holds most): both give the reference's
    result; writes and reads in both halves, repeated indices, a read of a node written by the
    other half only at the top."""
    depth = 8
    rng = random.Random(int(balance * 4))
    left = int(24 * balance)
    indices = [rng.randrange(128) for _ in range(left)] + [
        rng.randrange(128, 256) for _ in range(24 - left)
    ]
    rng.shuffle(indices)
    indices += indices[:4]
    leaves = [None if k % 7 == 3 else poseidon_hash([k]) for k in range(len(indices))]
    stored = [tuple(poseidon_hash([i, lv]) for lv in range(depth)) for i in indices]
    expected = REFERENCE.tree_update(depth, indices, leaves, stored)
    for threads in (1, 2):
        assert (
            get_backend(name).tree_update(depth, indices, leaves, stored, threads=threads)
            == expected
        )


@pytest.mark.parametrize("name", ALL)
def test_siblings_prove_each_write(name: str) -> None:
    """Each entry's siblings carry its old leaf to the running root, its new leaf to the next."""
    empty = [0]
    for _ in range(DEPTH):
        empty.append(poseidon_hash([empty[-1], empty[-1]]))
    entries = [(5, 11), (4, 12), (5, 13), (31, None), (20, 14)]
    siblings, final = run(get_backend(name), entries, [tuple(empty[:DEPTH])] * len(entries))
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


def _error(call) -> str:
    with pytest.raises(PrimitiveError) as error:
        call()
    return str(error.value)


@pytest.mark.parametrize("name", FAST)
@pytest.mark.parametrize("bad", [r, r + 5, -1, True, 2**256])
def test_a_non_canonical_value_is_refused_like_the_reference(name: str, bad) -> None:
    """Negative twins: a leaf or a read pre-batch sibling outside [0, r), or an index outside
    the tree, is refused with the reference's message (the kernels would otherwise reduce the
    value mod r or drop the index bits)."""
    fast = get_backend(name)
    entries = [(1, 7), (0, bad)]
    stored = pre_batch(0, [1, 0])
    assert _error(lambda: run(fast, entries, stored)) == _error(
        lambda: run(REFERENCE, entries, stored)
    )
    bad_stored = [stored[0], (bad, *stored[1][1:])]  # entry 1 reads its level-0 sibling
    entries = [(1, 7), (6, 8)]
    assert _error(lambda: run(fast, entries, bad_stored)) == _error(
        lambda: run(REFERENCE, entries, bad_stored)
    )
    entries = [(1, 7), (1 << DEPTH, 8)]
    assert _error(lambda: run(fast, entries, stored)) == _error(
        lambda: run(REFERENCE, entries, stored)
    )


@pytest.mark.parametrize("name", ALL)
def test_shapes_are_checked_alike(name: str) -> None:
    backend = get_backend(name)
    with pytest.raises(PrimitiveError, match="as many indices, leaves and stored paths"):
        backend.tree_update(DEPTH, [1, 2], [3], [(0,) * DEPTH] * 2)
    with pytest.raises(PrimitiveError, match=r"stored\[1\] holds 4 siblings, expected 5"):
        backend.tree_update(DEPTH, [1, 2], [3, 4], [(0,) * DEPTH, (0,) * 4])
    assert backend.tree_update(DEPTH, [], [], []) == ([], {})


@pytest.mark.parametrize("name", FAST)
def test_a_wrong_sibling_is_caught(name: str) -> None:
    """Negative twin: the results differ once a pre-batch node differs."""
    entries = [(2, 7), (3, 8)]
    a = run(get_backend(name), entries, [tuple(range(DEPTH))] * 2)
    b = run(get_backend(name), entries, [tuple(lv + (lv == 3) for lv in range(DEPTH))] * 2)
    assert a[0][0] != b[0][0] and a[1][(DEPTH, 0)] != b[1][(DEPTH, 0)]
    assert a == tree_update_reference(DEPTH, [2, 3], [7, 8], [tuple(range(DEPTH))] * 2)
