"""Shared fixtures for the rollup tests: keys (derived once), a small world of funded accounts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from circuits.primitives.eddsa import derive_public_key

from rollup.account import GlobalState
from rollup.params import VALUE_SCALE, RollupParams
from rollup.state import RollupState
from rollup.tx import Deposit

PRICE = 100 * VALUE_SCALE  #: 100 quanta per base quantum
ORACLE_KEY = b"oracle-key".ljust(32, b"\0")


@pytest.fixture
def vectors_dir() -> Path:
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"


def user_key(i: int) -> bytes:
    return bytes([i + 1]) * 32


@cache
def public_key(key: bytes) -> tuple[int, int]:
    return derive_public_key(key)


@dataclass
class World:
    params: RollupParams
    state: RollupState
    keys: list[bytes]

    def deposit(self, index: int, amount: int) -> None:
        x, y = public_key(self.keys[index])
        self.state.apply(Deposit(index, x, y, amount, 1000 + index))


def genesis(params: RollupParams) -> GlobalState:
    return GlobalState.genesis(params, public_key(ORACLE_KEY), (PRICE,) * params.n_markets)


def make_world(depth: int = 4, n_accounts: int = 4, amount: int = 10**6, slots: int = 2) -> World:
    params = RollupParams(depth=depth, batch_slots=slots)
    world = World(
        params, RollupState(params, genesis(params)), [user_key(i) for i in range(n_accounts)]
    )
    for i in range(n_accounts):
        world.deposit(i, amount)
    return world


@pytest.fixture
def world() -> World:
    return make_world()
