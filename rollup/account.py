"""Account and global state as immutable objects, hashed by ``protocol.leaf``'s layouts on a
Poseidon backend (``rollup.hashing``). List forms (``to_list``) are ``protocol.leaf``'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from protocol import leaf
from protocol.spec import RollupParams
from rollup.hashing import PoseidonBackend, get_backend, poseidon


@dataclass(frozen=True)
class Position:
    """A signed position size (base quanta) and the funding index cached at its last settlement."""

    size: int = 0
    funding_index: int = 0


@dataclass(frozen=True)
class Account:
    pubkey_x: int
    pubkey_y: int
    nonce: int
    collateral: int  #: value units, signed
    positions: tuple[Position, ...]

    @classmethod
    def empty(cls, n_markets: int) -> Account:
        return cls(0, 0, 0, 0, (Position(),) * n_markets)

    @property
    def is_empty(self) -> bool:
        return self.pubkey_x == 0 and self.pubkey_y == 0

    @property
    def pubkey(self) -> tuple[int, int]:
        return (self.pubkey_x, self.pubkey_y)

    def with_position(self, market: int, position: Position) -> Account:
        positions = list(self.positions)
        positions[market] = position
        return replace(self, positions=tuple(positions))

    def leaf(self) -> int:
        """``protocol.leaf.leaf_hash`` of this account (memoised)."""
        return self._leaf

    @cached_property
    def _leaf(self) -> int:
        return leaf.leaf_hash(self.to_list(), poseidon)

    def to_list(self) -> list:
        return [self.pubkey_x, self.pubkey_y, self.nonce, self.collateral] + [
            [p.size, p.funding_index] for p in self.positions
        ]

    @classmethod
    def from_list(cls, data: list) -> Account:
        x, y, nonce, collateral, *positions = data
        return cls(x, y, nonce, collateral, tuple(Position(s, f) for s, f in positions))


@dataclass(frozen=True)
class MarketState:
    price: int  #: value units per base quantum
    funding_index: int  #: F_m, value units per base quantum, signed
    initial_fraction: int
    maintenance_fraction: int
    max_funding_rate: int

    def hash(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return poseidon(leaf.market_preimage(self.to_list()))

    def to_list(self) -> list[int]:
        return [
            self.price,
            self.funding_index,
            self.initial_fraction,
            self.maintenance_fraction,
            self.max_funding_rate,
        ]


@dataclass(frozen=True)
class GlobalState:
    markets: tuple[MarketState, ...]
    oracle_pk_x: int
    oracle_pk_y: int
    last_oracle_time: int
    last_funding_time: int
    fee_pool: int  #: fees collected, value units

    @classmethod
    def genesis(
        cls,
        params: RollupParams,
        oracle_pubkey: tuple[int, int],
        prices: tuple[int, ...],
        time: int = 0,
    ) -> GlobalState:
        """Genesis: the given prices, zero funding indices, oracle and funding time ``time``."""
        if len(prices) != params.n_markets:
            raise ValueError(f"need {params.n_markets} genesis prices, got {len(prices)}")
        markets = tuple(
            MarketState(p, 0, m.initial_fraction, m.maintenance_fraction, m.max_funding_rate)
            for p, m in zip(prices, params.markets, strict=True)
        )
        return cls(markets, oracle_pubkey[0], oracle_pubkey[1], time, time, 0)

    def hash(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return poseidon(leaf.global_preimage([m.hash() for m in self.markets], self.to_list()))

    def to_list(self) -> list:
        return [
            [m.to_list() for m in self.markets],
            self.oracle_pk_x,
            self.oracle_pk_y,
            self.last_oracle_time,
            self.last_funding_time,
            self.fee_pool,
        ]

    @classmethod
    def from_list(cls, data: list) -> GlobalState:
        markets, px, py, t_oracle, t_funding, fee_pool = data
        return cls(tuple(MarketState(*m) for m in markets), px, py, t_oracle, t_funding, fee_pool)


def hash_leaves(accounts: Sequence[Account], backend: PoseidonBackend | str | None = None) -> None:
    """Fill the leaf cache of every account not hashed yet: positions hashes and leaves in one
    ``backend.many_nested`` call (``Account.leaf`` is the one-at-a-time twin;
    tests/rollup/test_hashing.py compares them)."""
    todo = list({id(a): a for a in accounts if "_leaf" not in a.__dict__}.values())
    if not todo:
        return
    lists = [a.to_list() for a in todo]
    inner = [leaf.positions_preimage(x[4:]) for x in lists]
    outer = [leaf.leaf_head(x) for x in lists]
    for a, value in zip(todo, get_backend(backend).many_nested(inner, outer), strict=True):
        a.__dict__["_leaf"] = value  # the cached_property's slot


def state_root(
    accounts_root: int, global_hash: int, backend: PoseidonBackend | str | None = None
) -> int:
    """``protocol.leaf.state_root`` on the backend's hash."""
    return leaf.state_root(accounts_root, global_hash, get_backend(backend).hash)
