"""Shared fixtures for the rollup tests: keys (derived once), a small world of funded accounts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from protocol.eddsa import derive_public_key, sign
from protocol.errors import ProtocolError
from protocol.messages import domain
from protocol.spec import VALUE_SCALE, RollupParams
from rollup.account import GlobalState
from rollup.state import RollupState
from rollup.tx import Deposit
from verifier.settlement import sign_batch

PRICE = 100 * VALUE_SCALE  #: 100 quanta per base quantum
ORACLE_KEY = b"oracle-key".ljust(32, b"\0")
OPERATOR_KEY = b"operator-key".ljust(32, b"\0")
GENESIS_TIME = 1_000_000  #: the genesis oracle (and funding) time
CHAIN_ID, ROLLUP_ID = 31337, 0x5EED
DOMAIN = domain(CHAIN_ID, ROLLUP_ID)
OPERATOR_ADDRESS = 0xFEE


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


def genesis(params: RollupParams, prices: tuple[int, ...] | None = None) -> GlobalState:
    prices = (PRICE,) * params.n_markets if prices is None else prices
    return GlobalState.genesis(
        params, public_key(ORACLE_KEY), prices, GENESIS_TIME, DOMAIN, public_key(OPERATOR_KEY)
    )


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


def operator_signed(l1, pubdata, new_root, key: bytes = OPERATOR_KEY):
    """The operator's signature for submitting (pubdata, new_root) as ``l1``'s next batch
    (``verifier.settlement.sign_batch``); malformed pubdata, which is refused before the
    signature is read, gets a signature over 0."""
    try:
        return sign_batch(key, l1.config.domain, l1.batch_count, l1.root, new_root, pubdata)
    except (ProtocolError, ValueError, TypeError):
        return sign(key, 0)


def echo_checker(public_inputs: tuple[int, int, int], proof: object) -> bool:
    """Stand-in proof check for the tests that do not prove: the 'proof' must be the list of
    public inputs (old root, new root, pubdata commitment) — binds all three."""
    return proof == list(public_inputs)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class System:
    """A sequencer (SQLite) and a settlement layer (SQLite) side by side."""

    params: RollupParams
    genesis: GlobalState
    seq: object
    l1: object
    keys: list[bytes]
    clock: Clock
    path: Path

    def settle_all(self) -> int:
        n = 0
        while (batch := self.seq.seal_batch(self.l1.queue())) is not None:
            proof = [batch.old_root, batch.new_root, batch.commitment]
            pubdata = list(batch.pubdata)
            self.l1.submit_batch(
                pubdata, batch.new_root, proof, operator_signed(self.l1, pubdata, batch.new_root)
            )
            n += 1
        return n

    def invariant(self) -> None:
        """vault = Σ TV (pending funding included) + insurance fund + claimable + queued
        deposits and fees, once every sealed batch is settled (positions net to zero, so
        Σ TV = Σ settled collateral)."""
        from rollup.margin import total_value

        s = self.seq.state
        assert self.l1.root == s.root and self.l1.vault >= 0
        tv = sum(total_value(a, s.global_state) for a in s.accounts.values())
        reserved = self.l1.total_claimable() + self.l1.pending_deposits()
        fund = s.global_state.insurance_fund
        assert self.l1.vault * VALUE_SCALE == tv + fund + reserved * VALUE_SCALE
        for m in range(self.params.n_markets):
            assert sum(a.positions[m].size for a in s.accounts.values()) == 0


def make_system(
    tmp_path: Path, depth: int = 4, slots: int = 2, n_users: int = 3, amount: int = 10**6,
    max_batches: int = 4, max_seconds: int = 3600, fee: int = 0,
) -> System:  # fmt: skip
    from rollup.sequencer import Sequencer
    from verifier.settlement import Settlement, SettlementConfig

    params = RollupParams(depth=depth, batch_slots=slots)
    g = genesis(params)
    seq = Sequencer.open(str(tmp_path / "sequencer.db"), params, g)
    clock = Clock()
    config = SettlementConfig(
        depth, slots, seq.state.root, tuple(g.to_list()), CHAIN_ID, ROLLUP_ID, max_batches,
        max_seconds, fee, OPERATOR_ADDRESS,
    )  # fmt: skip
    l1 = Settlement(config, echo_checker, tmp_path / "l1.db", clock=clock, create=True)
    keys = [user_key(i) for i in range(n_users)]
    for i, k in enumerate(keys):
        l1.deposit(i, public_key(k), amount, 500 + i)
    system = System(params, g, seq, l1, keys, clock, tmp_path)
    system.settle_all()
    return system
