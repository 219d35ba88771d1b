"""Account and global state in-circuit, hashed exactly as ``protocol.leaf`` lays them out.

    positions_hash = Poseidon(size_0, f_0, ..., size_{M-1}, f_{M-1})
    orders_hash    = Poseidon(id_0, filled_0, ..., id_{R-1}, filled_{R-1})
    leaf           = Poseidon(pubkey_x, pubkey_y, nonce, order_floor, collateral,
                              positions_hash, orders_hash)
    market_hash_m  = Poseidon(price, F, rate, initial, maintenance, max_rate, band, penalty)
    global_hash    = Poseidon(market_hash_0, ..., market_hash_{M-1}, oracle_pk_x, oracle_pk_y,
                              oracle_time, insurance_fund, domain)
    state_root     = Poseidon(accounts_root, global_hash)

Signed values (collateral, sizes, funding indices, rates) are field elements x mod r, as natively.
Values read from the state are in range by induction: genesis is valid (``protocol.leaf``'s
``check_global``) and every value the circuit writes is range-checked to its protocol width
before it is hashed. Input arrays use the same flat layouts as ``rollup.codec``'s blobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.spec import BatchShape
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Value, Variable, as_variable
from protocol.spec import ORDER_RECORDS

__all__ = ["AccountVars", "GlobalVars", "account_leaf", "global_hash", "state_root"]


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

    @classmethod
    def from_flat(cls, flat: Sequence[Value], n_markets: int) -> AccountVars:
        """[x, y, nonce, floor, collateral, size_0, f_0, ..., id_0, filled_0, ...]."""
        v = [as_variable(x) for x in flat]
        pos, rec = v[5 : 5 + 2 * n_markets], v[5 + 2 * n_markets :]
        assert len(rec) == 2 * ORDER_RECORDS
        return cls(*v[:5], tuple(pos[0::2]), tuple(pos[1::2]), tuple(rec[0::2]), tuple(rec[1::2]))

    def positions(self) -> list[Variable]:
        return [x for pair in zip(self.sizes, self.funding, strict=True) for x in pair]

    def records(self) -> list[Variable]:
        return [x for pair in zip(self.ids, self.filled, strict=True) for x in pair]


@dataclass(frozen=True)
class GlobalVars:
    """The global state as circuit values (``rollup.account.GlobalState``)."""

    prices: tuple[Variable, ...]
    funding: tuple[Variable, ...]
    rates: tuple[Variable, ...]
    initial: tuple[Variable, ...]
    maintenance: tuple[Variable, ...]
    max_rate: tuple[Variable, ...]
    band: tuple[Variable, ...]
    penalty: tuple[Variable, ...]
    oracle_pk: tuple[Variable, Variable]
    oracle_time: Variable
    fund: Variable
    domain: Variable

    @classmethod
    def from_flat(cls, flat: Sequence[Value], shape: BatchShape) -> GlobalVars:
        """[price_0, F_0, rate_0, if_0, mf_0, max_0, band_0, pen_0, price_1, ..., opk_x, opk_y,
        oracle_time, insurance_fund, domain]."""
        v = [as_variable(x) for x in flat]
        m = shape.n_markets
        cols = [tuple(v[k : 8 * m : 8]) for k in range(8)]
        tail = v[8 * m :]
        return cls(*cols, (tail[0], tail[1]), tail[2], tail[3], tail[4])

    def market(self, k: int) -> list[Variable]:
        return [
            self.prices[k], self.funding[k], self.rates[k], self.initial[k],
            self.maintenance[k], self.max_rate[k], self.band[k], self.penalty[k],
        ]  # fmt: skip


def account_leaf(api: API, account: AccountVars, name: str = "leaf") -> Variable:
    """The account's leaf hash. Poseidon(2M) + Poseidon(2R) + Poseidon(7) constraints."""
    a = account
    with api.namespace(name):
        positions = poseidon(api, a.positions(), "positions")
        orders = poseidon(api, a.records(), "orders")
        head = [a.pubkey_x, a.pubkey_y, a.nonce, a.floor, a.collateral]
        return poseidon(api, [*head, positions, orders], "account")


def global_hash(api: API, g: GlobalVars, name: str = "global") -> Variable:
    """The global-state hash. M·Poseidon(8) + Poseidon(M + 5) constraints."""
    with api.namespace(name):
        markets = [poseidon(api, g.market(k), f"market{k}") for k in range(len(g.prices))]
        tail = [*g.oracle_pk, g.oracle_time, g.fund, g.domain]
        return poseidon(api, [*markets, *tail], "hash")


def state_root(api: API, accounts_root: Value, g: GlobalVars, name: str = "state_root") -> Variable:
    """Poseidon(accounts_root, global_hash)."""
    with api.namespace(name):
        return poseidon(api, [accounts_root, global_hash(api, g)], "root")
