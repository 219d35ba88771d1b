"""The batch circuit's own specification: its shape and the protocol constants it enforces.

``circuits/`` never imports ``rollup/`` (the import direction is rollup → circuits → prover), so
the protocol's numbers are restated here; ``tests/rollup/test_circuit_agreement.py`` checks them
against ``rollup.params``, ``rollup.tx`` and ``rollup.pubdata`` field by field.

Derived widths (for M markets, the largest |value| a check can meet, so that every range check
is a statement about integers, never about residues mod r):

    TV  = collateral + Σ size·price          < 2^95 + (M+1)·2^48·2^64        < 2^tv_bits
    IR  = Σ |size|·price·fraction            < M·2^48·2^64·2^20              < 2^risk_bits
    TV·10^6 − IR                             < 2^(max(tv_bits + 20, risk_bits) + 1)
    TV_a·MR_b − TV_b·MR_a (liquidation)      < 2^(tv_bits + risk_bits + 1)  ≤ 2^252 < r/2

References: rollup/params.py (widths, scales, codes, tags), DESIGN.md §3–§5.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.errors import DefinitionError

VALUE_SCALE = 1 << 32
FRACTION_SCALE = 10**6
RATE_SCALE = 1 << 32

ACCOUNT_BITS = 32
MARKET_BITS = 8
NONCE_BITS = 32
AMOUNT_BITS = 63
COLLATERAL_BITS = 95
TRANSFER_BITS = 95
SIZE_BITS = 48
PRICE_BITS = 64
FEE_BITS = 80
FEE_POOL_BITS = 127
FUNDING_BITS = 96
RATE_BITS = 32
FRACTION_BITS = 20
TIME_BITS = 40
L1_ADDRESS_BITS = 160
MAX_MARKETS = 8

NOOP, DEPOSIT, WITHDRAW, TRANSFER, TRADE, ORACLE, FUNDING, LIQUIDATE, FORCED_WITHDRAW = range(9)
N_TX_TYPES = 9
TX_TYPE_NAMES = (
    "noop",
    "deposit",
    "withdraw",
    "transfer",
    "trade",
    "oracle",
    "funding",
    "liquidate",
    "forced_withdraw",
)
TAG_ORDER, TAG_WITHDRAW, TAG_TRANSFER, TAG_ORACLE = 1, 2, 3, 4

CHUNK_WIDTH = 4
PACK_BITS = 253
FULL = 254
TYPE_BITS = 4
RATE_OFFSET = 1 << RATE_BITS

#: fields of an account leaf preimage, then 2 per market (size, funding index)
ACCOUNT_HEAD = ("pubkey_x", "pubkey_y", "nonce", "collateral")
#: fields of a market in the global state
MARKET_FIELDS = ("price", "funding_index", "initial_fraction", "maintenance_fraction", "max_rate")
#: the global fields after the M markets
GLOBAL_TAIL = ("oracle_pk_x", "oracle_pk_y", "last_oracle_time", "last_funding_time", "fee_pool")
#: per order: the signed terms that are not shared slot fields (account, market, side, nonce)
ORDER_FIELDS = ("size", "limit_price", "max_fee", "expiry")


@dataclass(frozen=True)
class BatchShape:
    """B slots, accounts tree depth D, M markets: one circuit (and one key pair) per shape."""

    batch_slots: int
    depth: int
    n_markets: int

    def __post_init__(self) -> None:
        if self.batch_slots < 1:
            raise DefinitionError(f"batch_slots must be ≥ 1, got {self.batch_slots}")
        if not 1 <= self.depth <= ACCOUNT_BITS:
            raise DefinitionError(f"depth must be in 1..{ACCOUNT_BITS}, got {self.depth}")
        if not 1 <= self.n_markets <= MAX_MARKETS:
            raise DefinitionError(f"n_markets must be in 1..{MAX_MARKETS}, got {self.n_markets}")
        if self.improve_bits > 252:
            raise DefinitionError(f"liquidation product width {self.improve_bits} > 252")

    @property
    def account_width(self) -> int:
        """Leaf preimage length: 4 + 2M."""
        return len(ACCOUNT_HEAD) + 2 * self.n_markets

    @property
    def global_width(self) -> int:
        """Global-state preimage length: 5M + 5."""
        return len(MARKET_FIELDS) * self.n_markets + len(GLOBAL_TAIL)

    @property
    def tv_bits(self) -> int:
        """|TV| < 2^tv_bits, also for TV before a fill (collateral ± q·price not yet checked)."""
        bound = (1 << COLLATERAL_BITS) + ((self.n_markets + 1) << (SIZE_BITS + PRICE_BITS))
        return bound.bit_length()

    @property
    def risk_bits(self) -> int:
        """0 ≤ risk < 2^risk_bits (value units · 10^6)."""
        return ((self.n_markets << (SIZE_BITS + PRICE_BITS + FRACTION_BITS)) - 1).bit_length()

    @property
    def margin_bits(self) -> int:
        """|TV·10^6 − risk| < 2^margin_bits."""
        return max(self.tv_bits + FRACTION_BITS, self.risk_bits) + 1

    @property
    def improve_bits(self) -> int:
        """|TV_a·MR_b − TV_b·MR_a| < 2^improve_bits."""
        return self.tv_bits + self.risk_bits + 1

    @property
    def n_pubdata(self) -> int:
        return CHUNK_WIDTH * self.batch_slots
