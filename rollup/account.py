"""Account and global state as immutable objects, hashed by ``protocol.leaf``'s layouts on a
Poseidon backend (``rollup.hashing``). List forms (``to_list``) are ``protocol.leaf``'s."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from protocol import leaf
from protocol.spec import MAX_SERIES, OPTION_SLOTS, ORDER_RECORDS, RollupParams
from rollup.hashing import PoseidonBackend, get_backend, poseidon


@dataclass(frozen=True)
class Position:
    """A signed position size (base quanta) and the funding index cached at its last settlement."""

    size: int = 0
    funding_index: int = 0


@dataclass(frozen=True)
class OrderRecord:
    """How much of order ``order_id`` has been filled (0 = an empty record)."""

    order_id: int = 0
    filled: int = 0


EMPTY_RECORDS: tuple[OrderRecord, ...] = (OrderRecord(),) * ORDER_RECORDS


@dataclass(frozen=True)
class OptionPosition:
    """``size`` contracts (signed) of the series in global series slot ``slot``; (0, 0) empty."""

    slot: int = 0
    size: int = 0


EMPTY_OPTIONS: tuple[OptionPosition, ...] = (OptionPosition(),) * OPTION_SLOTS


@dataclass(frozen=True)
class Account:
    """An account leaf's preimage. ``order_floor``: orders with a smaller id can never execute
    again; ``orders``: the R fill records (``rollup.fills``); ``options``: K option positions."""

    pubkey_x: int
    pubkey_y: int
    nonce: int
    order_floor: int
    collateral: int  #: value units, signed
    positions: tuple[Position, ...]
    orders: tuple[OrderRecord, ...] = EMPTY_RECORDS
    options: tuple[OptionPosition, ...] = EMPTY_OPTIONS

    @classmethod
    def empty(cls, n_markets: int) -> Account:
        return cls(0, 0, 0, 0, 0, (Position(),) * n_markets, EMPTY_RECORDS, EMPTY_OPTIONS)

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
        return [
            self.pubkey_x,
            self.pubkey_y,
            self.nonce,
            self.order_floor,
            self.collateral,
            [[p.size, p.funding_index] for p in self.positions],
            [[o.order_id, o.filled] for o in self.orders],
            [[o.slot, o.size] for o in self.options],
        ]

    @classmethod
    def from_list(cls, data: Sequence) -> Account:
        x, y, nonce, floor, collateral, positions, orders, options = data
        return cls(
            x,
            y,
            nonce,
            floor,
            collateral,
            tuple(Position(s, f) for s, f in positions),
            tuple(OrderRecord(i, q) for i, q in orders),
            tuple(OptionPosition(j, n) for j, n in options),
        )


@dataclass(frozen=True)
class MarketState:
    """One market in the global state: oracle price, funding index and the oracle's current
    funding rate, and the market's risk parameters (``protocol.spec.Market``)."""

    price: int  #: value units per base quantum
    funding_index: int  #: F_m, value units per base quantum, signed
    funding_rate: int  #: the oracle's rate in force since the last oracle update (2^-32 / s)
    initial_fraction: int
    maintenance_fraction: int
    max_funding_rate: int
    price_band: int
    liquidation_penalty: int
    option_initial: int  #: α, ppm
    option_floor: int  #: β, ppm
    option_maintenance: int  #: γ, ppm

    def hash(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return poseidon(leaf.market_preimage(self.to_list()))

    def to_list(self) -> list[int]:
        return [
            self.price,
            self.funding_index,
            self.funding_rate,
            self.initial_fraction,
            self.maintenance_fraction,
            self.max_funding_rate,
            self.price_band,
            self.liquidation_penalty,
            self.option_initial,
            self.option_floor,
            self.option_maintenance,
        ]


@dataclass(frozen=True)
class SeriesState:
    """One option series slot: a cash-settled European option on ``market``'s index. An empty
    slot is all zeros; ``settlement_price`` 0 = not settled; ``open_interest`` = Σ |n| over every
    position in the series (longs and shorts)."""

    series_id: int = 0
    market: int = 0
    expiry: int = 0
    strike: int = 0
    kind: int = 0  #: 0 call, 1 put
    mark: int = 0  #: value units per contract, signed by the oracle
    settlement_price: int = 0
    open_interest: int = 0

    def to_list(self) -> list[int]:
        return [self.series_id, self.market, self.expiry, self.strike, self.kind, self.mark,
                self.settlement_price, self.open_interest]  # fmt: skip

    @property
    def listed(self) -> bool:
        return self.series_id != 0

    def value(self) -> int:
        """Per contract: the payoff once settled, else the mark (``protocol.leaf.option_value``)."""
        return leaf.option_value(self.to_list())

    def marked_value(self, index: int) -> int:
        """Per contract at the underlying's index ``index``: mark' = max(mark, intrinsic) while
        listed and unsettled, else ``value`` (``protocol.leaf.marked_value``)."""
        return leaf.marked_value(self.to_list(), index)

    def position_value(self, index: int, n: int) -> int:
        """n contracts: n · mark', long or short (``marked_value``)."""
        return leaf.position_value(self.to_list(), index, n)

    def hash(self) -> int:
        """``series_hash`` of ``protocol.leaf`` (memoised)."""
        return self._hash

    @cached_property
    def _hash(self) -> int:
        return poseidon(self.to_list())


EMPTY_SERIES: tuple[SeriesState, ...] = (SeriesState(),) * MAX_SERIES


@dataclass(frozen=True)
class GlobalState:
    markets: tuple[MarketState, ...]
    series: tuple[SeriesState, ...]
    oracle_pk_x: int
    oracle_pk_y: int
    operator_pk_x: int  #: the key that lists option series
    operator_pk_y: int
    oracle_time: int  #: the last oracle update's timestamp (funding accrues up to it)
    insurance_fund: int  #: value units, ≥ 0: fed by fees and penalties, covers bad debt
    domain: int  #: ``protocol.messages.domain(chain_id, rollup_id)``
    next_series_id: int = 1

    @classmethod
    def genesis(
        cls,
        params: RollupParams,
        oracle_pubkey: tuple[int, int],
        prices: tuple[int, ...],
        time: int,
        domain: int,
        operator_pubkey: tuple[int, int] = (0, 0),
    ) -> GlobalState:
        """Genesis: the given prices, zero funding indices and rates, no option series, the
        oracle's first time."""
        from protocol.spec import check_genesis_prices

        prices = check_genesis_prices(tuple(prices), params.n_markets)
        markets = tuple(
            MarketState(
                p, 0, 0, m.initial_fraction, m.maintenance_fraction, m.max_funding_rate,
                m.price_band, m.liquidation_penalty, m.option_initial, m.option_floor,
                m.option_maintenance,
            )
            for p, m in zip(prices, params.markets, strict=True)
        )  # fmt: skip
        state = cls(markets, EMPTY_SERIES, *oracle_pubkey, *operator_pubkey, time, 0, domain, 1)
        leaf.check_global(state.to_list(), params.n_markets)
        return state

    def hash(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        markets_root, series_root = _roots(self.markets), _roots(self.series)
        return poseidon(leaf.global_preimage(markets_root, series_root, self.to_list()))

    def to_list(self) -> list:
        return [
            [m.to_list() for m in self.markets],
            [s.to_list() for s in self.series],
            self.oracle_pk_x,
            self.oracle_pk_y,
            self.operator_pk_x,
            self.operator_pk_y,
            self.oracle_time,
            self.insurance_fund,
            self.domain,
            self.next_series_id,
        ]

    @classmethod
    def from_list(cls, data: Sequence) -> GlobalState:
        markets, series, *tail = data
        return cls(
            tuple(MarketState(*m) for m in markets), tuple(SeriesState(*s) for s in series),
            *tail,
        )  # fmt: skip

    def series_by_id(self, series_id: int) -> int | None:
        """The slot holding ``series_id``, or None."""
        for j, s in enumerate(self.series):
            if s.series_id == series_id and series_id:
                return j
        return None


@lru_cache(maxsize=64)
def _roots(items: tuple[MarketState, ...] | tuple[SeriesState, ...]) -> int:
    """Poseidon of the items' hashes (the markets or the series root of ``protocol.leaf``),
    memoised by value: most transactions leave both tuples as they were."""
    return poseidon([x.hash() for x in items])


#: options_hash by options row: an account that trades perpetuals only keeps its options row
_OPTIONS_HASHES: dict[tuple[int, ...], int] = {}


def _options_hashes(rows: list[list[int]], many: Callable[[list], list[int]]) -> list[int]:
    """``many(rows)`` for options rows, each row hashed once per process (bounded cache)."""
    keys = [tuple(r) for r in rows]
    missing = list({k for k in keys if k not in _OPTIONS_HASHES})
    if missing:
        if len(_OPTIONS_HASHES) > 4096:
            _OPTIONS_HASHES.clear()
        _OPTIONS_HASHES.update(zip(missing, many([list(k) for k in missing]), strict=True))
    return [_OPTIONS_HASHES[k] for k in keys]


def hash_leaves(accounts: Sequence[Account], backend: PoseidonBackend | str | None = None) -> None:
    """Fill the leaf cache of every account not hashed yet: the positions, orders and options
    hashes, then the leaves, each one ``backend.many`` call over all of them (``Account.leaf`` is
    the one-at-a-time twin; tests/rollup/test_hashing.py compares them)."""
    todo = list({id(a): a for a in accounts if "_leaf" not in a.__dict__}.values())
    if not todo:
        return
    lists = [a.to_list() for a in todo]
    many = get_backend(backend).many
    positions = many([leaf.positions_preimage(x[5]) for x in lists])
    orders = many([leaf.orders_preimage(x[6]) for x in lists])
    options = _options_hashes([leaf.options_preimage(x[7]) for x in lists], many)
    rows = [
        [*leaf.leaf_head(x), p, o, k]
        for x, p, o, k in zip(lists, positions, orders, options, strict=True)
    ]
    for a, value in zip(todo, many(rows), strict=True):
        a.__dict__["_leaf"] = value  # the cached_property's slot


def state_root(
    accounts_root: int, global_hash: int, backend: PoseidonBackend | str | None = None
) -> int:
    """``protocol.leaf.state_root`` on the backend's hash."""
    return leaf.state_root(accounts_root, global_hash, get_backend(backend).hash)
