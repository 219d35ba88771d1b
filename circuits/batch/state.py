"""Account and global state in-circuit, hashed exactly as rollup/account.py lays them out.

    positions_hash = Poseidon(size_0, f_0, ..., size_{M-1}, f_{M-1})
    leaf           = Poseidon(pubkey_x, pubkey_y, nonce, collateral, positions_hash)
    market_hash_m  = Poseidon(price_m, F_m, initial_fraction_m, maintenance_fraction_m, max_rate_m)
    global_hash    = Poseidon(market_hash_0, ..., market_hash_{M-1}, oracle_pk_x, oracle_pk_y,
                              last_oracle_time, last_funding_time, fee_pool)
    state_root     = Poseidon(accounts_root, global_hash)

Signed values (collateral, sizes, funding indices) are field elements x mod r, as natively.
Values read from the state are in range by induction: genesis is valid and every value the
circuit writes is range-checked to its width (rollup/params.py) before it is hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.spec import BatchShape
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Value, Variable, as_variable

__all__ = ["AccountVars", "GlobalVars", "account_leaf", "global_hash", "state_root"]


@dataclass(frozen=True)
class AccountVars:
    """An account leaf's preimage as circuit values."""

    pubkey_x: Variable
    pubkey_y: Variable
    nonce: Variable
    collateral: Variable
    sizes: tuple[Variable, ...]
    funding: tuple[Variable, ...]

    @classmethod
    def from_flat(cls, flat: Sequence[Value], n_markets: int) -> AccountVars:
        """[pubkey_x, pubkey_y, nonce, collateral, size_0, f_0, ...] (the input array layout)."""
        v = [as_variable(x) for x in flat]
        return cls(v[0], v[1], v[2], v[3], tuple(v[4::2][:n_markets]), tuple(v[5::2][:n_markets]))

    def flat(self) -> list[Variable]:
        out = [self.pubkey_x, self.pubkey_y, self.nonce, self.collateral]
        for s, f in zip(self.sizes, self.funding, strict=True):
            out += [s, f]
        return out


@dataclass(frozen=True)
class GlobalVars:
    """The global state as circuit values (rollup.account.GlobalState)."""

    prices: tuple[Variable, ...]
    funding: tuple[Variable, ...]
    initial: tuple[Variable, ...]
    maintenance: tuple[Variable, ...]
    max_rate: tuple[Variable, ...]
    oracle_pk: tuple[Variable, Variable]
    oracle_time: Variable
    funding_time: Variable
    fee_pool: Variable

    @classmethod
    def from_flat(cls, flat: Sequence[Value], shape: BatchShape) -> GlobalVars:
        """[price_0, F_0, if_0, mf_0, max_0, price_1, ..., opk_x, opk_y, t_or, t_fund, pool]."""
        v = [as_variable(x) for x in flat]
        m = shape.n_markets
        cols = [tuple(v[k : 5 * m : 5]) for k in range(5)]
        tail = v[5 * m :]
        return cls(*cols, (tail[0], tail[1]), tail[2], tail[3], tail[4])


def account_leaf(api: API, account: AccountVars, name: str = "leaf") -> Variable:
    """The account's leaf hash. Poseidon(2M) + Poseidon(5) constraints."""
    with api.namespace(name):
        positions = poseidon(api, account.flat()[4:], "positions")
        return poseidon(
            api,
            [account.pubkey_x, account.pubkey_y, account.nonce, account.collateral, positions],
            "account",
        )


def global_hash(api: API, g: GlobalVars, name: str = "global") -> Variable:
    """The global-state hash. M·Poseidon(5) + Poseidon(M + 5) constraints."""
    with api.namespace(name):
        markets = [
            poseidon(api, list(fields), f"market{m}")
            for m, fields in enumerate(
                zip(g.prices, g.funding, g.initial, g.maintenance, g.max_rate, strict=True)
            )
        ]
        tail = [*g.oracle_pk, g.oracle_time, g.funding_time, g.fee_pool]
        return poseidon(api, [*markets, *tail], "hash")


def state_root(api: API, accounts_root: Value, g: GlobalVars, name: str = "state_root") -> Variable:
    """Poseidon(accounts_root, global_hash)."""
    with api.namespace(name):
        return poseidon(api, [accounts_root, global_hash(api, g)], "root")
