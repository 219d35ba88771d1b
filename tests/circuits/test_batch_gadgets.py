"""The batch circuit's own gadgets against their native twins, each with a negative twin:
leaf / global-state hashes (``protocol.leaf`` layout), the commitment sponge
(protocol.poseidon.poseidon_sponge), and the integer gadgets of circuits/batch/arith.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circuits import API, compile_circuit
from circuits.batch.arith import bounded, cond_range, floor_div, sign_ge
from circuits.batch.spec import BatchShape
from circuits.batch.state import AccountVars, GlobalVars, account_leaf, state_root
from circuits.errors import UnsatisfiedConstraint
from circuits.gadgets.poseidon import poseidon_sponge as sponge
from circuits.soundness import find_unconstrained
from protocol.poseidon import poseidon_sponge
from prover.fields import R
from rollup.account import (
    EMPTY_SERIES,
    Account,
    GlobalState,
    MarketState,
    OptionPosition,
    OrderRecord,
    Position,
    SeriesState,
)
from rollup.account import state_root as native_root
from rollup.circuit_input import account_inputs, global_inputs

SHAPE = BatchShape(1, 2, 2)


@dataclass(frozen=True)
class Hashes:
    def define(self, api: API) -> None:
        acct = AccountVars.from_flat(api.private_input("account", SHAPE.account_width), 2)
        g = GlobalVars.from_flat(api.private_input("global", SHAPE.global_width), SHAPE)
        root = api.private_input("accounts_root")
        api.assert_equal(account_leaf(api, acct), api.public_input("leaf"), "leaf")
        api.assert_equal(state_root(api, root, g), api.public_input("root"), "root")


@dataclass(frozen=True)
class Arith:
    def define(self, api: API) -> None:
        x, en = api.private_input("x"), api.private_input("en")
        api.assert_boolean(en, "en_bool")
        cond_range(api, en, x, 40, "cond")
        api.assert_equal(sign_ge(api, x, 60, "sign"), api.public_input("ge"), "ge")
        api.assert_equal(floor_div(api, x, 1000, 60, "div"), api.public_input("q"), "q")
        bounded(api, x, 58, "bounded")


@dataclass(frozen=True)
class Sponge:
    n: int

    def define(self, api: API) -> None:
        xs = api.private_input("xs", self.n)
        api.assert_equal(sponge(api, xs), api.public_input("h"), "h")


signed = st.integers(-(1 << 50), 1 << 50)


@settings(max_examples=15, deadline=None)
@given(signed, signed, st.integers(0, 1 << 30), st.integers(0, 1 << 40))
def test_hashes_match_native(collateral: int, size: int, nonce: int, price: int) -> None:
    c = compile_circuit(Hashes())
    records = (OrderRecord(nonce + 1, 3), OrderRecord(), OrderRecord(7, 1), OrderRecord(2, 0))
    positions = (Position(size, -3), Position(-size, 11))
    options = (OptionPosition(3, -size), OptionPosition(), OptionPosition(7, 2), OptionPosition())
    acct = Account(5, 7, nonce, nonce // 3, collateral, positions, records, options)
    series = list(EMPTY_SERIES)
    series[3] = SeriesState(4, 1, 99, price, 1, price // 3, 0, nonce)
    series[7] = SeriesState(9, 0, 98, 2, 0, 0, price, 1)
    g = GlobalState(
        (
            MarketState(price + 1, -9, -size, 10, 5, 4, 30, 2, 7, 6, 5),
            MarketState(2, size, 7, 20, 10, 8, 40, 3, 9, 8, 1),
        ),
        tuple(series), 1, 2, 3, 4, 5, 6, 7, 10,
    )  # fmt: skip
    a = {
        "account": account_inputs(acct),
        "global": global_inputs(g),
        "accounts_root": 1234,
        "leaf": acct.leaf(),
        "root": native_root(1234, g.hash()),
    }
    z = c.solve(a)
    with pytest.raises(UnsatisfiedConstraint, match="leaf"):
        c.solve(a | {"account": [*account_inputs(acct)[:-1], 1]})
    assert find_unconstrained(c, z, random.Random(1), n_random=1).ok


@settings(max_examples=25, deadline=None)
@given(st.integers(-(1 << 57) + 1, (1 << 57) - 1), st.booleans())
def test_arith_gadgets(x: int, en: bool) -> None:
    c = compile_circuit(Arith())
    a = {"x": x, "en": int(en), "ge": int(x >= 0), "q": x // 1000}
    if en and not 0 <= x < 1 << 40:
        with pytest.raises(UnsatisfiedConstraint, match="cond"):
            c.solve(a)
        return
    z = c.solve(a)
    assert find_unconstrained(c, z, random.Random(2), n_random=1).ok
    with pytest.raises(UnsatisfiedConstraint, match="ge"):
        c.solve(a | {"ge": 1 - int(x >= 0)})
    with pytest.raises(UnsatisfiedConstraint, match="q"):
        c.solve(a | {"q": x // 1000 + 1})


def test_bounded_rejects_the_edges_and_wrapped_values() -> None:
    c = compile_circuit(Arith())
    for bad in (1 << 58, -(1 << 58), R - (1 << 60)):
        with pytest.raises(UnsatisfiedConstraint):
            c.solve({"x": bad, "en": 0, "ge": 0, "q": 0})


@pytest.mark.parametrize("n", [1, 15, 16, 30])
def test_sponge_matches_native(n: int) -> None:
    c = compile_circuit(Sponge(n))
    xs = [random.Random(n).randrange(R) for _ in range(n)]
    c.solve({"xs": xs, "h": poseidon_sponge(xs)})
    with pytest.raises(UnsatisfiedConstraint, match="h"):
        c.solve({"xs": xs, "h": poseidon_sponge([*xs[:-1], xs[-1] ^ 1])})
