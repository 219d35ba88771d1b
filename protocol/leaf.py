"""Account leaves, the global state and the state root: their preimages, hashes and value.

Signed integers (collateral, sizes, funding indices) enter hashes as field elements mod r
(``x mod r``, so -1 ↦ r - 1); the circuit recovers the sign by range-checking ``x + 2^(bits-1)``,
so every preimage here is first checked canonical: each integer within its protocol width
(``check_account`` / ``check_global``). Nothing may hash equal to a valid preimage by wrapping.

Account leaf (M markets, 2M ≤ 16)::

    positions_hash = Poseidon(size_0, f_0, size_1, f_1, ..., size_{M-1}, f_{M-1})
    leaf           = Poseidon(pubkey_x, pubkey_y, nonce, collateral, positions_hash)

The empty account has pubkey (0, 0) (not a curve point), nonce 0, collateral 0, positions (0, 0);
the tree's default leaf is the hash of the empty account, so empty leaves need no special case.

Global state::

    market_hash_m = Poseidon(price_m, F_m, initial_fraction_m, maintenance_fraction_m, max_rate_m)
    global_hash   = Poseidon(market_hash_0, ..., market_hash_{M-1},
                             oracle_pk_x, oracle_pk_y, last_oracle_time, last_funding_time,
                             fee_pool)
    state_root    = Poseidon(accounts_root, global_hash)

List forms (what the store, the settlement layer and escapes exchange)::

    account = [pubkey_x, pubkey_y, nonce, collateral, [size_0, f_0], ..., [size_{M-1}, f_{M-1}]]
    global  = [[[price, F, initial, maintenance, max_rate] per market],
               oracle_pk_x, oracle_pk_y, last_oracle_time, last_funding_time, fee_pool]

Every hash takes an optional ``hash`` (a Poseidon of the same signature as
``protocol.poseidon.poseidon_hash``) so the sequencer can use a fast twin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from protocol.errors import ProtocolError
from protocol.fields import curve_order as r
from protocol.poseidon import poseidon_hash
from protocol.spec import (
    COLLATERAL_BITS,
    FEE_POOL_BITS,
    FRACTION_SCALE,
    FUNDING_BITS,
    NONCE_BITS,
    PRICE_BITS,
    RATE_BITS,
    SIZE_BITS,
    TIME_BITS,
)

Hash = Callable[[Sequence[int]], int]


def to_field(x: int) -> int:
    """Signed integer → field element (x mod r)."""
    return x % r


def _int(name: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProtocolError(f"{name} = {value!r} is not an integer in [{low}, {high}]")
    return value


def _signed(name: str, value: Any, bits: int) -> int:
    return _int(name, value, -(1 << bits) + 1, (1 << bits) - 1)


def check_account(account: Sequence[Any], n_markets: int) -> list:
    """The account list form with every integer canonical (coordinates < r, signed values within
    their widths), or ProtocolError naming the first field that is not."""
    if not isinstance(account, (list, tuple)) or len(account) != 4 + n_markets:
        raise ProtocolError(f"an account is [x, y, nonce, collateral, {n_markets} positions]")
    x, y, nonce, collateral, *positions = account
    out: list = [
        _int("pubkey x", x, 0, r - 1),
        _int("pubkey y", y, 0, r - 1),
        _int("nonce", nonce, 0, (1 << NONCE_BITS) - 1),
        _signed("collateral", collateral, COLLATERAL_BITS),
    ]
    for m, p in enumerate(positions):
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise ProtocolError(f"position {m} is not [size, funding_index]")
        out.append([_signed(f"size {m}", p[0], SIZE_BITS), _signed(f"f {m}", p[1], FUNDING_BITS)])
    return out


def check_global(state: Sequence[Any], n_markets: int) -> list:
    """The global-state list form with every integer canonical, or ProtocolError."""
    if not isinstance(state, (list, tuple)) or len(state) != 6:
        raise ProtocolError("a global state is [markets, oracle x, y, t_oracle, t_funding, fees]")
    markets, px, py, t_oracle, t_funding, fee_pool = state
    if not isinstance(markets, (list, tuple)) or len(markets) != n_markets:
        raise ProtocolError(f"the global state must list {n_markets} markets")
    out_markets = []
    for m, mk in enumerate(markets):
        if not isinstance(mk, (list, tuple)) or len(mk) != 5:
            raise ProtocolError(f"market {m} is not [price, F, initial, maintenance, max_rate]")
        out_markets.append(
            [
                _int(f"price {m}", mk[0], 1, (1 << PRICE_BITS) - 1),
                _signed(f"funding index {m}", mk[1], FUNDING_BITS),
                _int(f"initial fraction {m}", mk[2], 1, FRACTION_SCALE),
                _int(f"maintenance fraction {m}", mk[3], 1, FRACTION_SCALE),
                _int(f"max funding rate {m}", mk[4], 0, (1 << RATE_BITS) - 1),
            ]
        )
    return [
        out_markets,
        _int("oracle x", px, 0, r - 1),
        _int("oracle y", py, 0, r - 1),
        _int("oracle time", t_oracle, 0, (1 << TIME_BITS) - 1),
        _int("funding time", t_funding, 0, (1 << TIME_BITS) - 1),
        _int("fee pool", fee_pool, 0, (1 << FEE_POOL_BITS) - 1),
    ]


def positions_preimage(positions: Sequence[Sequence[int]]) -> list[int]:
    """[size_0, f_0, size_1, f_1, ...] as field elements."""
    return [to_field(v) for p in positions for v in p]


def leaf_head(account: Sequence[Any]) -> list[int]:
    """[pubkey_x, pubkey_y, nonce, collateral] as field elements (the leaf's first four inputs)."""
    return [account[0], account[1], account[2], to_field(account[3])]


def leaf_hash(account: Sequence[Any], hash: Hash = poseidon_hash) -> int:
    """Poseidon(x, y, nonce, collateral, Poseidon(size_0, f_0, ...)) of an account list form."""
    return hash([*leaf_head(account), hash(positions_preimage(account[4:]))])


def market_preimage(market: Sequence[int]) -> list[int]:
    """[price, F, initial, maintenance, max_rate] as field elements."""
    price, funding_index, initial, maintenance, max_rate = market
    return [price, to_field(funding_index), initial, maintenance, max_rate]


def global_preimage(market_hashes: Sequence[int], state: Sequence[Any]) -> list[int]:
    """The global hash's inputs: market hashes, then the tail fields."""
    _, px, py, t_oracle, t_funding, fee_pool = state
    return [*market_hashes, px, py, t_oracle, t_funding, fee_pool]


def global_hash(state: Sequence[Any], hash: Hash = poseidon_hash) -> int:
    """Poseidon(market hashes..., oracle x, oracle y, oracle time, funding time, fee pool)."""
    return hash(global_preimage([hash(market_preimage(m)) for m in state[0]], state))


def state_root(accounts_root: int, global_state_hash: int, hash: Hash = poseidon_hash) -> int:
    """state_root = Poseidon(accounts_root, global_hash)."""
    return hash([accounts_root, global_state_hash])


def total_value(account: Sequence[Any], state: Sequence[Any]) -> int:
    """TV = collateral + Σ_m size_m · (price_m − (F_m − f_m)), value units, pending funding
    applied (the settlement layer's escape value; list forms, checked canonical first)."""
    collateral, positions = account[3], account[4:]
    return collateral + sum(
        s * (m[0] - (m[1] - f)) for (s, f), m in zip(positions, state[0], strict=True)
    )
