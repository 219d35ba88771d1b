"""Account leaves, the global state and the state root: their preimages, hashes and value.

Signed integers (collateral, sizes, funding indices, rates) enter hashes as field elements mod r
(``x mod r``, so -1 ↦ r - 1); the circuit recovers the sign by range-checking ``x + 2^(bits-1)``,
so every preimage handed in from outside is first checked canonical: each integer within its
protocol width (``check_account`` / ``check_global``). Nothing may hash equal to a valid preimage
by wrapping mod r.

Account (M markets, R = ``ORDER_RECORDS`` fill records, K = ``OPTION_SLOTS`` option positions)::

    positions_hash = Poseidon(size_0, f_0, ..., size_{M-1}, f_{M-1})
    orders_hash    = Poseidon(id_0, filled_0, ..., id_{R-1}, filled_{R-1})
    options_hash   = Poseidon(slot_0, n_0, ..., slot_{K-1}, n_{K-1})   (slot: a series slot)
    leaf           = Poseidon(pubkey_x, pubkey_y, nonce, order_floor, collateral,
                              positions_hash, orders_hash, options_hash)

The empty account is all zeros (pubkey (0, 0) is not a curve point); the tree's default leaf is
its hash, so empty leaves need no special case. An option position of size 0 is (0, 0).

Global state (S = ``MAX_SERIES`` series slots)::

    market_hash_m = Poseidon(price, F, rate, initial, maintenance, max_rate, band, penalty,
                             option_initial, option_floor, option_maintenance)
    series_hash_j = Poseidon(series_id, market, expiry, strike, kind, mark, settlement_price,
                             open_interest)                        (an empty slot: all zero)
    global_hash   = Poseidon(Poseidon(market hashes), Poseidon(series hashes),
                             oracle_pk_x, oracle_pk_y, operator_pk_x, operator_pk_y,
                             oracle_time, insurance_fund, domain, next_series_id)
    state_root    = Poseidon(accounts_root, global_hash)

List forms (what the store, the settlement layer and escapes exchange)::

    account = [pubkey_x, pubkey_y, nonce, order_floor, collateral,
               [[size, f] per market], [[order_id, filled] per record], [[slot, n] per option]]
    global  = [[[11 market fields] per market], [[8 series fields] per series slot],
               oracle_pk_x, oracle_pk_y, operator_pk_x, operator_pk_y, oracle_time,
               insurance_fund, domain, next_series_id]

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
    CALL,
    COLLATERAL_BITS,
    FRACTION_SCALE,
    FUNDING_BITS,
    INSURANCE_BITS,
    MAX_SERIES,
    NONCE_BITS,
    OPEN_INTEREST_BITS,
    OPTION_SIZE_BITS,
    OPTION_SLOTS,
    ORDER_ID_BITS,
    ORDER_RECORDS,
    PRICE_BITS,
    RATE_BITS,
    SERIES_ID_BITS,
    SIZE_BITS,
    TIME_BITS,
)

Hash = Callable[[Sequence[int]], int]

ACCOUNT_FIELDS = 8  #: x, y, nonce, order_floor, collateral, positions, orders, options
MARKET_FIELDS = 11  #: price, F, rate, initial, maint, max_rate, band, penalty, α, β, γ
SERIES_FIELDS = 8  #: series_id, market, expiry, strike, kind, mark, settlement, open_interest
#: markets, series, oracle x, y, operator x, y, oracle time, insurance fund, domain, next id
GLOBAL_FIELDS = 10
GLOBAL_OPERATOR = 4  #: the operator key's x coordinate's index in the global-state list form
GLOBAL_DOMAIN = 8  #: the domain's index in the global-state list form


def to_field(x: int) -> int:
    """Signed integer → field element (x mod r)."""
    return x % r


def _int(name: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ProtocolError(f"{name} = {value!r} is not an integer in [{low}, {high}]")
    return value


def _signed(name: str, value: Any, bits: int) -> int:
    return _int(name, value, -(1 << bits) + 1, (1 << bits) - 1)


def _pairs(name: str, value: Any, n: int) -> list:
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ProtocolError(f"{name} must be a list of {n} pairs")
    for k, p in enumerate(value):
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise ProtocolError(f"{name} {k} is not a pair")
    return list(value)


def empty_account(n_markets: int) -> list:
    """The list form of the empty account."""
    return [0, 0, 0, 0, 0, [[0, 0]] * n_markets, [[0, 0]] * ORDER_RECORDS,
            [[0, 0]] * OPTION_SLOTS]  # fmt: skip


def check_account(account: Sequence[Any], n_markets: int) -> list:
    """The account list form with every integer canonical (coordinates < r, signed values within
    their widths, an empty option position (0, 0)), or ProtocolError naming the first field that
    is not."""
    if not isinstance(account, (list, tuple)) or len(account) != ACCOUNT_FIELDS:
        raise ProtocolError(
            "an account is [x, y, nonce, floor, collateral, perps, orders, options]"
        )
    x, y, nonce, floor, collateral, positions, orders, options = account
    checked_options = []
    for k, (j, n) in enumerate(_pairs("options", options, OPTION_SLOTS)):
        _signed(f"option size {k}", n, OPTION_SIZE_BITS)
        _int(f"option series slot {k}", j, 0, MAX_SERIES - 1 if n else 0)
        checked_options.append([j, n])
    return [
        _int("pubkey x", x, 0, r - 1),
        _int("pubkey y", y, 0, r - 1),
        _int("nonce", nonce, 0, (1 << NONCE_BITS) - 1),
        _int("order floor", floor, 0, (1 << ORDER_ID_BITS) - 1),
        _signed("collateral", collateral, COLLATERAL_BITS),
        [
            [_signed(f"size {m}", s, SIZE_BITS), _signed(f"funding index {m}", f, FUNDING_BITS)]
            for m, (s, f) in enumerate(_pairs("positions", positions, n_markets))
        ],
        [
            [
                _int(f"order id {k}", i, 0, (1 << ORDER_ID_BITS) - 1),
                _int(f"filled {k}", q, 0, (1 << SIZE_BITS) - 1),
            ]
            for k, (i, q) in enumerate(_pairs("orders", orders, ORDER_RECORDS))
        ],
        checked_options,
    ]


def _market(m: int, mk: Any) -> list[int]:
    if not isinstance(mk, (list, tuple)) or len(mk) != MARKET_FIELDS:
        raise ProtocolError(f"market {m} must have {MARKET_FIELDS} fields")
    price, f, rate, initial, maint, max_rate, band, penalty, alpha, beta, gamma = mk
    return [
        _int(f"price {m}", price, 1, (1 << PRICE_BITS) - 1),
        _signed(f"funding index {m}", f, FUNDING_BITS),
        _signed(f"funding rate {m}", rate, RATE_BITS),
        _int(f"initial fraction {m}", initial, 1, FRACTION_SCALE),
        _int(f"maintenance fraction {m}", maint, 1, FRACTION_SCALE),
        _int(f"max funding rate {m}", max_rate, 0, (1 << RATE_BITS) - 1),
        _int(f"price band {m}", band, 1, FRACTION_SCALE),
        _int(f"liquidation penalty {m}", penalty, 0, FRACTION_SCALE),
        _int(f"option initial {m}", alpha, 1, FRACTION_SCALE),
        _int(f"option floor {m}", beta, 1, FRACTION_SCALE),
        _int(f"option maintenance {m}", gamma, 1, FRACTION_SCALE),
    ]


def _series(j: int, sr: Any, n_markets: int) -> list[int]:
    if not isinstance(sr, (list, tuple)) or len(sr) != SERIES_FIELDS:
        raise ProtocolError(f"series slot {j} must have {SERIES_FIELDS} fields")
    sid, market, expiry, strike, kind, mark, settlement, oi = sr
    return [
        _int(f"series id {j}", sid, 0, (1 << SERIES_ID_BITS) - 1),
        _int(f"series market {j}", market, 0, n_markets - 1),
        _int(f"series expiry {j}", expiry, 0, (1 << TIME_BITS) - 1),
        _int(f"series strike {j}", strike, 0, (1 << PRICE_BITS) - 1),
        _int(f"series kind {j}", kind, 0, 1),
        _int(f"series mark {j}", mark, 0, (1 << PRICE_BITS) - 1),
        _int(f"series settlement price {j}", settlement, 0, (1 << PRICE_BITS) - 1),
        _int(f"series open interest {j}", oi, 0, (1 << OPEN_INTEREST_BITS) - 1),
    ]


def check_global(state: Sequence[Any], n_markets: int) -> list:
    """The global-state list form with every integer canonical, or ProtocolError."""
    if not isinstance(state, (list, tuple)) or len(state) != GLOBAL_FIELDS:
        raise ProtocolError(f"a global state has {GLOBAL_FIELDS} fields")
    markets, series, px, py, ox, oy, t_oracle, insurance, domain, next_id = state
    if not isinstance(markets, (list, tuple)) or len(markets) != n_markets:
        raise ProtocolError(f"the global state must list {n_markets} markets")
    if not isinstance(series, (list, tuple)) or len(series) != MAX_SERIES:
        raise ProtocolError(f"the global state must list {MAX_SERIES} series slots")
    return [
        [_market(m, mk) for m, mk in enumerate(markets)],
        [_series(j, sr, n_markets) for j, sr in enumerate(series)],
        _int("oracle x", px, 0, r - 1),
        _int("oracle y", py, 0, r - 1),
        _int("operator x", ox, 0, r - 1),
        _int("operator y", oy, 0, r - 1),
        _int("oracle time", t_oracle, 0, (1 << TIME_BITS) - 1),
        _int("insurance fund", insurance, 0, (1 << INSURANCE_BITS) - 1),
        _int("domain", domain, 0, r - 1),
        _int("next series id", next_id, 1, (1 << SERIES_ID_BITS) - 1),
    ]


def positions_preimage(positions: Sequence[Sequence[int]]) -> list[int]:
    """[size_0, f_0, size_1, f_1, ...] as field elements."""
    return [to_field(v) for p in positions for v in p]


def orders_preimage(orders: Sequence[Sequence[int]]) -> list[int]:
    """[id_0, filled_0, id_1, filled_1, ...] (non-negative by their widths)."""
    return [v for o in orders for v in o]


def options_preimage(options: Sequence[Sequence[int]]) -> list[int]:
    """[slot_0, n_0, slot_1, n_1, ...] as field elements."""
    return [to_field(v) for o in options for v in o]


def leaf_head(account: Sequence[Any]) -> list[int]:
    """[pubkey_x, pubkey_y, nonce, order_floor, collateral] as field elements."""
    return [account[0], account[1], account[2], account[3], to_field(account[4])]


def leaf_hash(account: Sequence[Any], hash: Hash = poseidon_hash) -> int:
    """The leaf of an account list form (layout in the module docstring)."""
    return hash(
        [
            *leaf_head(account),
            hash(positions_preimage(account[5])),
            hash(orders_preimage(account[6])),
            hash(options_preimage(account[7])),
        ]
    )


def market_preimage(market: Sequence[int]) -> list[int]:
    """The 11 market fields as field elements."""
    return [to_field(v) for v in market]


def global_preimage(markets_root: int, series_root: int, state: Sequence[Any]) -> list[int]:
    """The global hash's inputs: the markets and series roots, then the tail fields."""
    return [markets_root, series_root, *state[2:]]


def global_hash(state: Sequence[Any], hash: Hash = poseidon_hash) -> int:
    """Poseidon(markets root, series root, keys, oracle time, insurance fund, domain, next id)."""
    markets_root = hash([hash(market_preimage(m)) for m in state[0]])
    series_root = hash([hash(list(s)) for s in state[1]])
    return hash(global_preimage(markets_root, series_root, state))


def state_root(accounts_root: int, global_state_hash: int, hash: Hash = poseidon_hash) -> int:
    """state_root = Poseidon(accounts_root, global_hash)."""
    return hash([accounts_root, global_state_hash])


def option_value(series: Sequence[int]) -> int:
    """A series' value per contract: its payoff once settled (call max(P − K, 0), put
    max(K − P, 0)), else its mark."""
    _, _, _, strike, kind, mark, settlement, _ = series
    if settlement:
        return max(settlement - strike, 0) if kind == CALL else max(strike - settlement, 0)
    return mark


def marked_value(series: Sequence[int], index: int) -> int:
    """A contract's value mark' (its series' underlying at index price ``index``): the payoff
    once settled, 0 if unlisted, else max(mark, intrinsic) with intrinsic = max(S − K, 0)
    (call) or max(K − S, 0) (put). Both sides of a position are valued at no less than what it
    would pay if the series settled at the current index: the index moves with OraclePrice and
    the marks with a separate Marks transaction, and the operator orders them, so a mark can be
    stale — a short must not look richer than it is, nor a long poorer (an operator withholding
    marks would liquidate it at the stale figure). One value for both sides keeps TV a ledger:
    Σ over accounts of n·mark' is 0 per series."""
    sid, _, _, strike, kind, mark, settlement, _ = series
    if not sid or settlement:
        return option_value(series)
    intrinsic = max(index - strike, 0) if kind == CALL else max(strike - index, 0)
    return max(mark, intrinsic)


def position_value(series: Sequence[int], index: int, n: int) -> int:
    """n contracts' value n · mark'(series), long or short (``marked_value``)."""
    return n * marked_value(series, index)


def total_value(account: Sequence[Any], state: Sequence[Any]) -> int:
    """TV = collateral + Σ_m size_m · (price_m − (F_m − f_m)) + Σ_k n_k · value(series_k), value
    units, pending funding applied, an option position at mark' (``marked_value``; the L2 rule
    of ``rollup.options``) — the settlement layer's escape value; list forms, checked canonical
    first."""
    collateral, positions, options = account[4], account[5], account[7]
    perps = sum(s * (m[0] - (m[1] - f)) for (s, f), m in zip(positions, state[0], strict=True))
    opts = sum(position_value(state[1][j], state[0][state[1][j][1]][0], n) for j, n in options)
    return collateral + perps + opts
