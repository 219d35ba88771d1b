"""Account and global state in-circuit, hashed exactly as ``protocol.leaf`` lays them out.

    positions_hash = Poseidon(size_0, f_0, ..., size_{M-1}, f_{M-1})
    orders_hash    = Poseidon(id_0, filled_0, ..., id_{R-1}, filled_{R-1})
    options_hash   = Poseidon(slot_0, n_0, ..., slot_{K-1}, n_{K-1})
    leaf           = Poseidon(pubkey_x, pubkey_y, nonce, order_floor, collateral,
                              positions_hash, orders_hash, options_hash)
    market_hash_m  = Poseidon(price, F, rate, initial, maintenance, max_rate, band, penalty,
                              option_initial α, option_floor β, option_maintenance γ)
    series_hash_j  = Poseidon(series_id, market, expiry, strike, kind, mark, settlement_price,
                              open_interest)
    global_hash    = Poseidon(Poseidon(market hashes), Poseidon(series hashes), oracle_pk_x,
                              oracle_pk_y, operator_pk_x, operator_pk_y, oracle_time,
                              insurance_fund, domain, next_series_id)
    state_root     = Poseidon(accounts_root, global_hash)

Signed values (collateral, sizes, funding indices, rates, option sizes) are field elements
x mod r, as natively. Values read from the state are in range by induction: genesis is valid
(``protocol.leaf``'s ``check_global``) and every value the circuit writes is range-checked to its
protocol width before it is hashed, or is exact by an invariant its module states (open
interest: ``circuits.batch.series``). The global state travels between slots as circuit values
with one derived, unhashed field: ``expired_j = [oracle_time ≥ expiry_j]`` (computed once at the
batch start, kept exact by every slot; ``circuits.batch.series``). Input arrays use the flat
layouts of ``rollup.circuit_input``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import sign_ge
from circuits.batch.spec import BatchShape
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Value, Variable, as_variable
from protocol.leaf import MARKET_FIELDS, SERIES_FIELDS
from protocol.spec import MAX_SERIES, OPTION_SLOTS, ORDER_RECORDS, TIME_BITS

__all__ = [
    "AccountVars",
    "GlobalVars",
    "SeriesTable",
    "account_leaf",
    "expiry_flags",
    "global_hash",
    "state_root",
]


@dataclass(frozen=True)
class AccountVars:
    """An account leaf's preimage as circuit values."""

    pubkey_x: Variable
    pubkey_y: Variable
    nonce: Variable
    floor: Variable
    collateral: Variable
    sizes: tuple[Variable, ...]
    funding: tuple[Variable, ...]
    ids: tuple[Variable, ...]
    filled: tuple[Variable, ...]
    slots: tuple[Variable, ...]  #: option positions: series slot (0 when empty)
    contracts: tuple[Variable, ...]  #: option positions: signed size n

    @classmethod
    def from_flat(cls, flat: Sequence[Value], n_markets: int) -> AccountVars:
        """[x, y, nonce, floor, collateral, size_0, f_0, ..., id_0, filled_0, ..., slot_0,
        n_0, ...]."""
        v = [as_variable(x) for x in flat]
        pos_end = 5 + 2 * n_markets
        rec_end = pos_end + 2 * ORDER_RECORDS
        pos, rec, opt = v[5:pos_end], v[pos_end:rec_end], v[rec_end:]
        assert len(opt) == 2 * OPTION_SLOTS
        return cls(
            *v[:5], tuple(pos[0::2]), tuple(pos[1::2]), tuple(rec[0::2]), tuple(rec[1::2]),
            tuple(opt[0::2]), tuple(opt[1::2]),
        )  # fmt: skip

    def positions(self) -> list[Variable]:
        return [x for pair in zip(self.sizes, self.funding, strict=True) for x in pair]

    def records(self) -> list[Variable]:
        return [x for pair in zip(self.ids, self.filled, strict=True) for x in pair]

    def options(self) -> list[Variable]:
        return [x for pair in zip(self.slots, self.contracts, strict=True) for x in pair]


@dataclass(frozen=True)
class SeriesTable:
    """The S option series slots, one tuple per field (``rollup.account.SeriesState``)."""

    sid: tuple[Variable, ...]
    market: tuple[Variable, ...]
    expiry: tuple[Variable, ...]
    strike: tuple[Variable, ...]
    kind: tuple[Variable, ...]
    mark: tuple[Variable, ...]
    settlement: tuple[Variable, ...]
    oi: tuple[Variable, ...]

    def row(self, j: int) -> list[Variable]:
        return [
            self.sid[j], self.market[j], self.expiry[j], self.strike[j], self.kind[j],
            self.mark[j], self.settlement[j], self.oi[j],
        ]  # fmt: skip


@dataclass(frozen=True)
class GlobalVars:
    """The global state as circuit values (``rollup.account.GlobalState``), plus the derived
    expiry flags (see the module docstring)."""

    prices: tuple[Variable, ...]
    funding: tuple[Variable, ...]
    rates: tuple[Variable, ...]
    initial: tuple[Variable, ...]
    maintenance: tuple[Variable, ...]
    max_rate: tuple[Variable, ...]
    band: tuple[Variable, ...]
    penalty: tuple[Variable, ...]
    alpha: tuple[Variable, ...]
    beta: tuple[Variable, ...]
    gamma: tuple[Variable, ...]
    series: SeriesTable
    oracle_pk: tuple[Variable, Variable]
    operator_pk: tuple[Variable, Variable]
    oracle_time: Variable
    fund: Variable
    domain: Variable
    next_id: Variable
    expired: tuple[Variable, ...] = ()

    @classmethod
    def from_flat(cls, flat: Sequence[Value], shape: BatchShape) -> GlobalVars:
        """[11 fields per market ..., 8 fields per series slot ..., oracle_pk_x, oracle_pk_y,
        operator_pk_x, operator_pk_y, oracle_time, insurance_fund, domain, next_series_id]
        (``expired`` left empty: ``expiry_flags`` derives it)."""
        v = [as_variable(x) for x in flat]
        m, w = shape.n_markets, MARKET_FIELDS
        cols = [tuple(v[k : w * m : w]) for k in range(w)]
        base = w * m
        rows = [tuple(v[base + k : base + SERIES_FIELDS * MAX_SERIES : SERIES_FIELDS])
                for k in range(SERIES_FIELDS)]  # fmt: skip
        t = v[base + SERIES_FIELDS * MAX_SERIES :]
        assert len(t) == 8
        return cls(*cols, SeriesTable(*rows), (t[0], t[1]), (t[2], t[3]), t[4], t[5], t[6], t[7])

    def market(self, k: int) -> list[Variable]:
        return [
            self.prices[k], self.funding[k], self.rates[k], self.initial[k],
            self.maintenance[k], self.max_rate[k], self.band[k], self.penalty[k],
            self.alpha[k], self.beta[k], self.gamma[k],
        ]  # fmt: skip


def expiry_flags(api: API, g: GlobalVars, name: str = "expired") -> tuple[Variable, ...]:
    """expired_j = [oracle_time ≥ expiry_j] (both < 2^40 by induction). 42 rows per series."""
    with api.namespace(name):
        return tuple(
            sign_ge(api, g.oracle_time - e, TIME_BITS, f"series{j}")
            for j, e in enumerate(g.series.expiry)
        )


def account_leaf(api: API, account: AccountVars, name: str = "leaf") -> Variable:
    """The account's leaf hash. Poseidon(2M) + 2·Poseidon(8) + Poseidon(8) constraints."""
    a = account
    with api.namespace(name):
        positions = poseidon(api, a.positions(), "positions")
        orders = poseidon(api, a.records(), "orders")
        options = poseidon(api, a.options(), "options")
        head = [a.pubkey_x, a.pubkey_y, a.nonce, a.floor, a.collateral]
        return poseidon(api, [*head, positions, orders, options], "account")


def global_hash(api: API, g: GlobalVars, name: str = "global") -> Variable:
    """The global-state hash. M·Poseidon(11) + Poseidon(M) + S·Poseidon(8) + Poseidon(S) +
    Poseidon(10) constraints."""
    with api.namespace(name):
        markets = [poseidon(api, g.market(k), f"market{k}") for k in range(len(g.prices))]
        series = [poseidon(api, g.series.row(j), f"series{j}") for j in range(MAX_SERIES)]
        tail = [*g.oracle_pk, *g.operator_pk, g.oracle_time, g.fund, g.domain, g.next_id]
        roots = [poseidon(api, markets, "markets_root"), poseidon(api, series, "series_root")]
        return poseidon(api, [*roots, *tail], "hash")


def state_root(api: API, accounts_root: Value, g: GlobalVars, name: str = "state_root") -> Variable:
    """Poseidon(accounts_root, global_hash)."""
    with api.namespace(name):
        return poseidon(api, [accounts_root, global_hash(api, g)], "root")
