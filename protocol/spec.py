"""The protocol's numbers: fixed-point scales, widths, transaction codes, tags and markets.

Every number that is proven or settled is an integer. Units:

* **collateral quantum** — 1e-6 USD. L1 amounts (deposits, withdrawals, claimable, vault) are
  in quanta.
* **value unit** — 2^-32 collateral quantum (``VALUE_SCALE = 2^32`` value units per quantum).
  Every L2 balance and value (account collateral, fees, total value, funding index, price) is in
  value units, so trades and funding are exact: ``collateral -= q · price`` and
  ``collateral -= size · (F - f)`` need no division and conserve collateral to the last unit.
* **base quantum** — each market's smallest position unit (e.g. 1e-8 BTC); sizes are signed.
* **price** — value units per base quantum, ``0 < price < 2^PRICE_BITS``.
* **margin fractions** — parts per million (``FRACTION_SCALE = 10^6``). Risk is kept scaled:
  ``risk = Σ |size| · price · fraction`` (value units × 10^6), and ``TV ≥ TR`` is checked as
  ``TV · FRACTION_SCALE ≥ risk`` — no division anywhere.
* **funding rate** — 2^-32 per second (``RATE_SCALE = 2^32``); a tick adds
  ``floor(rate · Δt · price / RATE_SCALE)`` to the funding index (floor division, also when < 0).

Widths bound every integer the state machine, the circuit and the settlement layer meet. The
derived widths below (``tv_bits`` …) bound the figures of an account *as written* (collateral,
sizes and funding indices within their widths, funding settled), so a margin check on the
account after a transaction is a statement about integers, never about residues mod r:

    TV  = collateral + Σ size·price + Σ n·value
                              < 2^95 + (M+1)·2^48·2^64 + K·2^40·2^64                 < 2^tv_bits
    IR  = Σ |size|·price·fraction + Σ |n|·(per-contract requirement < 2^85)
                              < M·2^48·2^64·2^20 + K·2^40·2^85                      < 2^risk_bits
    TV·10^6 − IR              < 2^(max(tv_bits + 20, risk_bits) + 1)
    TV_a·MR_b − TV_b·MR_a     < 2^(tv_bits + risk_bits + 1)  ≤ 2^252 < r/2   (M ≤ 7)

Figures *before* a transaction can be larger (pending funding of a stored account can reach
2^48·2^97 per market; a liquidation's draw from the fund is < 2^SHORTFALL_BITS); the circuit
derives and range-checks its own bounds for those (``circuits.batch.spec``).

Options: an option contract is one base quantum of its underlying market; a series (underlying,
expiry, strike, call/put) sits in one of ``MAX_SERIES`` slots of the global state; an account
holds at most ``OPTION_SLOTS`` option positions of at most ``OPTION_SIZE_BITS`` bits. Prices,
strikes and marks are in the perpetuals' price unit (value units per base quantum).
"""

from __future__ import annotations

from dataclasses import dataclass

VALUE_SCALE: int = 1 << 32
FRACTION_SCALE: int = 10**6
RATE_SCALE: int = 1 << 32

ACCOUNT_BITS: int = 32  #: account index < 2^32 (so tree depth D ≤ 32)
MARKET_BITS: int = 8
NONCE_BITS: int = 32  #: 0 ≤ nonce < 2^32
ORDER_ID_BITS: int = 32  #: 0 < order id < 2^32 (0 marks an empty order record)
AMOUNT_BITS: int = 63  #: L1 amounts (quanta): 0 < amount < 2^63
COLLATERAL_BITS: int = 95  #: |collateral| < 2^95 value units (= 2^63 quanta)
TRANSFER_BITS: int = 95  #: 0 < transfer amount < 2^95 value units
SIZE_BITS: int = 48  #: |position size| < 2^48 and 0 < order size < 2^48 base quanta
PRICE_BITS: int = 64  #: 0 < price < 2^64 value units per base quantum
FEE_BITS: int = 80  #: 0 ≤ fee < 2^80 value units
INSURANCE_BITS: int = 127  #: 0 ≤ insurance fund < 2^127 value units
SHORTFALL_BITS: int = 112  #: one liquidation draws < 2^112 value units (2^80 quanta) from the fund
FUNDING_BITS: int = 96  #: |funding index| < 2^96 value units per base quantum
RATE_BITS: int = 32  #: |funding rate| ≤ max rate < 2^32 (units of 2^-32 per second)
FRACTION_BITS: int = 20  #: margin fractions, bands and penalties 0 ≤ f ≤ 10^6 < 2^20
TIME_BITS: int = 40  #: timestamps (seconds) 0 ≤ t < 2^40
L1_ADDRESS_BITS: int = 160  #: L1 addresses are 160-bit integers
CHAIN_ID_BITS: int = 64  #: the settlement chain's id
ROLLUP_ID_BITS: int = 160  #: the rollup's identifier on that chain (its contract address)
MAX_MARKETS: int = 7  #: keeps the TV/TR cross products below 2^252 (see above)
ORDER_RECORDS: int = 4  #: R, fill records per account (the orders hash has 2R inputs)
MAX_SERIES: int = 8  #: S, option series slots in the global state
OPTION_SLOTS: int = 4  #: K, option positions per account (the options hash has 2K inputs)
OPTION_SIZE_BITS: int = 40  #: |option position| < 2^40 contracts
SERIES_ID_BITS: int = 32  #: 0 < series id < 2^32 (0 marks an empty series slot)
OPEN_INTEREST_BITS: int = 72  #: Σ |n| of a series over all accounts < 2^32 · 2^40
#: An order's instrument: a perpetual market m < OPTION_BASE, or OPTION_BASE + series id.
OPTION_BASE: int = 1 << MARKET_BITS
INSTRUMENT_BITS: int = SERIES_ID_BITS + 1
CALL, PUT = 0, 1

#: Signed rates travel in offset binary: ``rate + RATE_OFFSET`` in ``RATE_BITS + 1`` bits.
RATE_OFFSET: int = 1 << RATE_BITS

#: Transaction types (the low ``TYPE_BITS`` bits of each pubdata chunk).
(
    NOOP, DEPOSIT, WITHDRAW, TRANSFER, TRADE, ORACLE, LIQUIDATE, DELEVERAGE, FORCED_WITHDRAW,
    LIST_SERIES, MARKS, SETTLE,
) = range(12)  # fmt: skip
TX_TYPE_NAMES: tuple[str, ...] = (
    "noop",
    "deposit",
    "withdraw",
    "transfer",
    "trade",
    "oracle",
    "liquidate",
    "deleverage",
    "forced_withdraw",
    "list_series",
    "marks",
    "settle",
)
N_TX_TYPES: int = len(TX_TYPE_NAMES)
#: Priority requests: the transaction types the settlement layer's queue feeds.
PRIORITY_TYPES: frozenset[int] = frozenset((DEPOSIT, FORCED_WITHDRAW))

#: Tags: the first input of every signed-message hash (``protocol.messages``) and of the domain.
(
    TAG_ORDER, TAG_WITHDRAW, TAG_TRANSFER, TAG_ORACLE, TAG_FORCED, TAG_ESCAPE, TAG_DOMAIN,
    TAG_LIST, TAG_MARKS, TAG_BATCH,
) = range(1, 11)  # fmt: skip

BUY, SELL = 0, 1


#: A short option's requirement per contract, scaled by 10^6: < 2·2^20·2^64.
OPTION_UNIT_BITS: int = FRACTION_BITS + PRICE_BITS + 1


def tv_bits(n_markets: int) -> int:
    """|TV| < 2^tv_bits for an account as written (see the module docstring)."""
    bound = (
        (1 << COLLATERAL_BITS)
        + ((n_markets + 1) << (SIZE_BITS + PRICE_BITS))
        + (OPTION_SLOTS << (OPTION_SIZE_BITS + PRICE_BITS))
    )
    return bound.bit_length()


def risk_bits(n_markets: int) -> int:
    """0 ≤ risk < 2^risk_bits (value units · 10^6), perpetuals and short options."""
    perps = n_markets << (SIZE_BITS + PRICE_BITS + FRACTION_BITS)
    options = OPTION_SLOTS << (OPTION_SIZE_BITS + OPTION_UNIT_BITS)
    return (perps + options - 1).bit_length()


def margin_bits(n_markets: int) -> int:
    """|TV·10^6 − risk| < 2^margin_bits."""
    return max(tv_bits(n_markets) + FRACTION_BITS, risk_bits(n_markets)) + 1


def improve_bits(n_markets: int) -> int:
    """|TV_a·MR_b − TV_b·MR_a| < 2^improve_bits (must stay ≤ 252 < log2(r/2))."""
    return tv_bits(n_markets) + risk_bits(n_markets) + 1


def _int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return value


@dataclass(frozen=True)
class Market:
    """A perpetual market: risk parameters (hashed into the global state) and display metadata.

    Fractions are ppm of notional: ``initial_fraction`` and ``maintenance_fraction`` margin the
    positions, ``price_band`` bounds every trade's price around the oracle price
    (``|price − oracle| · 10^6 ≤ oracle · band``), ``liquidation_penalty`` is what a liquidated
    account pays the insurance fund per unit of notional closed (never more than its equity).
    The option fractions margin short options on this underlying (standard margin as Deribit,
    Aevo, Paradex publish it): per short contract with index S, initial
    ``max(α·S − OTM, β·S) + mark`` and maintenance ``γ·S + mark`` (puts capped at the strike).
    """

    name: str
    base_decimals: int  #: base quantum = 10^-base_decimals units of the asset (display)
    initial_fraction: int  #: ppm; 0 < maintenance ≤ initial ≤ 10^6
    maintenance_fraction: int  #: ppm
    max_funding_rate: int  #: |rate| ≤ this, units 2^-32 per second
    price_band: int  #: ppm; 0 < band ≤ 10^6
    liquidation_penalty: int  #: ppm; 0 ≤ penalty ≤ maintenance
    option_initial: int = 150_000  #: α, ppm
    option_floor: int = 100_000  #: β, ppm; β ≤ α
    option_maintenance: int = 75_000  #: γ, ppm; 0 < γ ≤ β

    def __post_init__(self) -> None:
        n = self.name
        _int(f"{n}: base_decimals", self.base_decimals, 0, 18)
        _int(f"{n}: maintenance_fraction", self.maintenance_fraction, 1, FRACTION_SCALE)
        _int(f"{n}: initial_fraction", self.initial_fraction, self.maintenance_fraction,
             FRACTION_SCALE)  # fmt: skip
        _int(f"{n}: max_funding_rate", self.max_funding_rate, 0, (1 << RATE_BITS) - 1)
        _int(f"{n}: price_band", self.price_band, 1, FRACTION_SCALE)
        _int(f"{n}: liquidation_penalty", self.liquidation_penalty, 0, self.maintenance_fraction)
        _int(f"{n}: option_maintenance", self.option_maintenance, 1, FRACTION_SCALE)
        _int(f"{n}: option_floor", self.option_floor, self.option_maintenance, FRACTION_SCALE)
        _int(f"{n}: option_initial", self.option_initial, self.option_floor, FRACTION_SCALE)


#: The default markets: BTC, ETH, SOL, DOGE perpetuals (max funding rate ~1e-6 and ~2e-6 per s).
DEFAULT_MARKETS: tuple[Market, ...] = (
    Market("BTC-PERP", 8, 100_000, 50_000, 4295, 50_000, 10_000),
    Market("ETH-PERP", 8, 100_000, 50_000, 4295, 50_000, 10_000),
    Market("SOL-PERP", 6, 200_000, 100_000, 8590, 100_000, 20_000),
    Market("DOGE-PERP", 2, 250_000, 125_000, 8590, 100_000, 25_000),
)


@dataclass(frozen=True)
class RollupParams:
    """The shape of a rollup: tree depth D, batch slots B and its markets (M = len(markets))."""

    depth: int = 16
    batch_slots: int = 8
    markets: tuple[Market, ...] = DEFAULT_MARKETS

    def __post_init__(self) -> None:
        _int("depth", self.depth, 1, ACCOUNT_BITS)
        _int("batch_slots", self.batch_slots, 1, 1 << 16)
        if not isinstance(self.markets, tuple) or not 1 <= len(self.markets) <= MAX_MARKETS:
            raise ValueError(f"need a tuple of 1..{MAX_MARKETS} markets")
        for m in self.markets:
            if not isinstance(m, Market):
                raise ValueError(f"{m!r} is not a Market")

    @property
    def n_markets(self) -> int:
        return len(self.markets)

    @property
    def n_accounts(self) -> int:
        return 1 << self.depth


def check_genesis_prices(prices: tuple[int, ...], n_markets: int) -> tuple[int, ...]:
    """Genesis oracle prices: one per market, each 0 < price < 2^64 (value units)."""
    if not isinstance(prices, tuple) or len(prices) != n_markets:
        raise ValueError(f"need a tuple of {n_markets} genesis prices")
    return tuple(
        _int(f"genesis price {k}", p, 1, (1 << PRICE_BITS) - 1) for k, p in enumerate(prices)
    )


def check_domain_ids(chain_id: int, rollup_id: int) -> tuple[int, int]:
    """The domain's two identifiers within their widths."""
    return (
        _int("chain id", chain_id, 0, (1 << CHAIN_ID_BITS) - 1),
        _int("rollup id", rollup_id, 0, (1 << ROLLUP_ID_BITS) - 1),
    )
