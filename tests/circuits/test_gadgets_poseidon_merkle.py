"""Poseidon and Merkle gadgets against the native twins, with negative twins and soundness."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits.api import API
from circuits.compiled import compile_circuit
from circuits.errors import DefinitionError, UnsatisfiedConstraint
from circuits.gadgets.merkle import index_bits, merkle_inclusion, merkle_root, merkle_update
from circuits.gadgets.poseidon import (
    poseidon,
    poseidon_constraint_count,
    poseidon_reference,
    poseidon_sponge,
)
from circuits.soundness import assert_sound
from protocol.poseidon import merkle_path_root, poseidon_hash
from protocol.poseidon import poseidon_sponge as native_sponge
from prover.fields import R

FIELD = st.integers(min_value=0, max_value=R - 1)
CIRCOMLIB_POSEIDON2 = 240


@dataclass(frozen=True)
class Hash:
    n: int
    reference: bool = False

    def define(self, api: API) -> None:
        xs = api.private_input("x", self.n)
        gadget = poseidon_reference if self.reference else poseidon
        api.public_output("out", gadget(api, xs))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 16), st.data())
def test_poseidon_matches_native(n: int, data: st.DataObject) -> None:
    xs = data.draw(st.lists(FIELD, min_size=n, max_size=n))
    compiled = compile_circuit(Hash(n))
    z = compiled.solve({"x": xs})
    assert compiled.output(z, "out") == poseidon_hash(xs)


@pytest.mark.parametrize("n", [1, 2, 5, 16])
def test_poseidon_twins_agree_and_are_sound(n: int) -> None:
    xs = [random.Random(n).randrange(R) for _ in range(n)]
    fast, ref = compile_circuit(Hash(n)), compile_circuit(Hash(n, reference=True))
    z = fast.solve({"x": xs})
    assert fast.output(z, "out") == ref.output(ref.solve({"x": xs}), "out") == poseidon_hash(xs)
    assert fast.n_constraints == ref.n_constraints == poseidon_constraint_count(n) + 1  # +1 output
    assert_sound(fast, z, random.Random(n))


@dataclass(frozen=True)
class Sponge:
    n: int

    def define(self, api: API) -> None:
        xs = api.private_input("x", self.n)
        api.public_output("out", poseidon_sponge(api, xs))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 40), st.data())
def test_sponge_matches_native(n: int, data: st.DataObject) -> None:
    xs = data.draw(st.lists(FIELD, min_size=n, max_size=n))
    compiled = compile_circuit(Sponge(n))
    z = compiled.solve({"x": xs})
    assert compiled.output(z, "out") == native_sponge(xs)
    if n:
        other = compiled.solve({"x": [(xs[0] + 1) % R, *xs[1:]]})
        assert compiled.output(other, "out") != compiled.output(z, "out")


def test_poseidon2_costs_circomlib_240() -> None:
    api = API()
    a, b = api.private_input("a"), api.private_input("b")
    poseidon(api, [a, b])
    assert len(api.rows) == CIRCOMLIB_POSEIDON2


def test_poseidon_wrong_output_is_rejected() -> None:
    compiled = compile_circuit(Hash(2))
    z = compiled.solve({"x": [1, 2]})
    forged = list(z)
    forged[compiled.outputs["out"]] = (forged[compiled.outputs["out"]] + 1) % R
    with pytest.raises(UnsatisfiedConstraint, match="output:out"):
        compiled.check(forged)
    with pytest.raises(DefinitionError, match=r"1\.\.16"):
        poseidon(API(), [])


@dataclass(frozen=True)
class Inclusion:
    depth: int

    def define(self, api: API) -> None:
        leaf, index, root = (
            api.private_input("leaf"),
            api.private_input("index"),
            api.public_input("root"),
        )
        siblings = api.private_input("siblings", self.depth)
        merkle_inclusion(api, leaf, index_bits(api, index, self.depth), siblings, root)


@dataclass(frozen=True)
class Update:
    depth: int

    def define(self, api: API) -> None:
        old_leaf, new_leaf = api.private_input("old_leaf"), api.private_input("new_leaf")
        bits = api.private_input("bits", self.depth)
        siblings = api.private_input("siblings", self.depth)
        old_root, new_root = api.public_input("old_root"), api.public_input("new_root")
        got_old, got_new = merkle_update(api, old_leaf, new_leaf, bits, siblings)
        api.assert_equal(got_old, old_root, "old_root")
        api.assert_equal(got_new, new_root, "new_root")


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 6), st.data())
def test_merkle_inclusion_matches_native(depth: int, data: st.DataObject) -> None:
    leaf = data.draw(FIELD)
    index = data.draw(st.integers(0, (1 << depth) - 1))
    siblings = data.draw(st.lists(FIELD, min_size=depth, max_size=depth))
    root = merkle_path_root(leaf, index, siblings)
    compiled = compile_circuit(Inclusion(depth))
    good = {"leaf": leaf, "index": index, "root": root, "siblings": siblings}
    compiled.solve(good)
    with pytest.raises(UnsatisfiedConstraint, match="merkle_inclusion/root"):
        compiled.solve({**good, "siblings": [*siblings[:-1], (siblings[-1] + 1) % R]})
    with pytest.raises(UnsatisfiedConstraint, match="merkle_inclusion/root"):
        compiled.solve({**good, "leaf": (leaf + 1) % R})
    if siblings[0] != leaf:  # swapping equal children changes nothing
        with pytest.raises(UnsatisfiedConstraint, match="merkle_inclusion/root"):
            compiled.solve({**good, "index": index ^ 1})


def test_merkle_index_cannot_wrap() -> None:
    depth = 4
    siblings = [3, 5, 7, 11]
    root = merkle_path_root(9, 6, siblings)
    compiled = compile_circuit(Inclusion(depth))
    z = compiled.solve({"leaf": 9, "index": 6, "root": root, "siblings": siblings})
    assert_sound(compiled, z, random.Random(4))
    for bad in (6 + 16, 6 + R - 16, R - 1):
        with pytest.raises(UnsatisfiedConstraint, match="index/bit3"):
            compiled.solve({"leaf": 9, "index": bad, "root": root, "siblings": siblings})


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 5), st.data())
def test_merkle_update_matches_native(depth: int, data: st.DataObject) -> None:
    old_leaf, new_leaf = data.draw(FIELD), data.draw(FIELD)
    index = data.draw(st.integers(0, (1 << depth) - 1))
    siblings = data.draw(st.lists(FIELD, min_size=depth, max_size=depth))
    bits = [(index >> i) & 1 for i in range(depth)]
    good = {
        "old_leaf": old_leaf,
        "new_leaf": new_leaf,
        "bits": bits,
        "siblings": siblings,
        "old_root": merkle_path_root(old_leaf, index, siblings),
        "new_root": merkle_path_root(new_leaf, index, siblings),
    }
    compiled = compile_circuit(Update(depth))
    z = compiled.solve(good)
    assert_sound(compiled, z, random.Random(depth))
    with pytest.raises(UnsatisfiedConstraint, match="new_root"):
        compiled.solve({**good, "new_root": merkle_path_root((new_leaf + 1) % R, index, siblings)})
    with pytest.raises(UnsatisfiedConstraint, match="old_root"):
        compiled.solve({**good, "old_leaf": (old_leaf + 1) % R})
    with pytest.raises(UnsatisfiedConstraint, match="level0/bit"):
        compiled.solve({**good, "bits": [2, *bits[1:]]})


def test_merkle_costs() -> None:
    api = API()
    leaf = api.private_input("leaf")
    bits, siblings = api.private_input("bits", 16), api.private_input("siblings", 16)
    merkle_root(api, leaf, bits, siblings)
    assert len(api.rows) == 3872  # circomlib: 242 per level with its mux
    api = API()
    merkle_update(
        api,
        api.private_input("o"),
        api.private_input("n"),
        api.private_input("b", 2),
        api.private_input("s", 2),
    )
    assert len(api.rows) == 2 * 483
    with pytest.raises(DefinitionError, match="siblings"):
        merkle_root(API(), 1, [1], [])
