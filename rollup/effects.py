"""State transitions at the level of their effects (what pubdata records), with every
effect-level precondition; signatures, nonces and order terms are ``rollup.state``'s.

Each function takes accounts and the global state and returns new values; it mutates nothing,
so a raised error leaves the state untouched. ``rollup.rebuild`` replays pubdata through the
same functions. Every touched account first has its funding settled (``margin.settle``).
Liquidation and deleverage live in ``rollup.bankruptcy``. Rules (value units, ppm fractions):

    deposit   credit amount·2^32; an empty account takes the deposit's key; an account of another
              key is never credited: the deposit is refunded on L1 (so is one that would overflow)
    withdraw  collateral −= amount·2^32; after: (TV − LV)·10^6 ≥ IR (LV: the long options'
              value, not collateral; ``rollup.margin.meets_initial``)
    transfer  sender −amount, recipient +amount; sender after: (TV − LV)·10^6 ≥ IR
    trade     in a perpetual market or a live option series (listed, before expiry, not settled);
              |price − ref|·10^6 ≤ scale·band (perpetual: ref = scale = oracle price; option:
              ref = mark, scale = the underlying's index); each side after: (TV − LV)·10^6 ≥
              IR, or its position in the instrument shrinks (no flip) and TV/TR does not get
              worse (TV_a·MR_b ≥ TV_b·MR_a; where MR_b = 0, TV_a ≥ min(TV_b, 0)); fees to
              the insurance fund; each order's fill recorded (``rollup.fills``); an option
              premium is paid at once (collateral ∓ q·price)
    oracle    timestamp increases; F_m += ⌊rate_m·Δt·price_m / 2^32⌋ with the rate and price in
              force since the last update; then the new prices and rates (|rate| ≤ max rate)
    forced    withdraw all free collateral (see ``forced_withdraw``)

Option series are listed and marked in ``rollup.series``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from protocol.babyjubjub import in_subgroup, is_on_curve
from protocol.spec import (
    AMOUNT_BITS,
    BUY,
    COLLATERAL_BITS,
    FEE_BITS,
    FRACTION_SCALE,
    FUNDING_BITS,
    INSURANCE_BITS,
    NONCE_BITS,
    OPTION_BASE,
    OPTION_SIZE_BITS,
    PRICE_BITS,
    RATE_SCALE,
    SIZE_BITS,
    TIME_BITS,
    TRANSFER_BITS,
    VALUE_SCALE,
)
from rollup.account import Account, GlobalState, MarketState, Position
from rollup.errors import (
    FundingRateTooHigh,
    InsufficientMargin,
    MarketOutOfRange,
    OrderMismatch,
    PriceOutsideBand,
    SeriesUnavailable,
    StaleTimestamp,
    ValueOutOfRange,
)
from rollup.margin import (
    initial_risk,
    initial_value,
    meets_initial,
    ratio_not_worse,
    settle,
)
from rollup.options import add_option, option_size


@dataclass(frozen=True)
class Instrument:
    """A perpetual market (``option`` False, ``index`` = m) or the option series in slot j."""

    option: bool
    index: int

    def code(self, n_markets: int) -> int:
        """The pubdata ``instrument`` field: m, or M + j."""
        return n_markets + self.index if self.option else self.index


def resolve(state: GlobalState, instrument: int) -> Instrument:
    """An order's instrument (m < 256, or 256 + series id) → the market or the series slot."""
    if not isinstance(instrument, int) or isinstance(instrument, bool) or instrument < 0:
        raise MarketOutOfRange(market=instrument, n_markets=len(state.markets))
    if instrument < OPTION_BASE:
        if instrument >= len(state.markets):
            raise MarketOutOfRange(market=instrument, n_markets=len(state.markets))
        return Instrument(False, instrument)
    slot = state.series_by_id(instrument - OPTION_BASE)
    if slot is None:
        raise SeriesUnavailable(series=instrument - OPTION_BASE, detail="not listed")
    return Instrument(True, slot)


def decode_instrument(state: GlobalState, code: int) -> Instrument:
    """The pubdata ``instrument`` field → Instrument."""
    m = len(state.markets)
    return Instrument(code >= m, code - m if code >= m else code)


def check_tradable(state: GlobalState, inst: Instrument) -> None:
    """An option series trades while listed, before expiry and unsettled."""
    if inst.option:
        s = state.series[inst.index]
        if not s.listed or state.oracle_time >= s.expiry or s.settlement_price:
            detail = "expired" if s.listed else "not listed"
            raise SeriesUnavailable(series=s.series_id, detail=detail)


def check_open(state: GlobalState, inst: Instrument) -> None:
    """Positions in an option series can be liquidated or deleveraged while it is listed and
    unsettled — after its expiry too: a short that expired under water must still be closable
    (by the insurance fund or a deleverage) before its settlement turns the loss into debt."""
    if inst.option:
        s = state.series[inst.index]
        if not s.listed or s.settlement_price:
            detail = "settled" if s.listed else "not listed"
            raise SeriesUnavailable(series=s.series_id, detail=detail)


def reference(state: GlobalState, inst: Instrument) -> tuple[int, int, object]:
    """(ref, scale, market): the price a fill is measured against (a perpetual's index; an
    option's mark' = max(mark, intrinsic), the value its positions are carried at,
    ``rollup.options``), the notional bands and penalties scale with, and the (underlying)
    market state."""
    if inst.option:
        s = state.series[inst.index]
        m = state.markets[s.market]
        return s.marked_value(m.price), m.price, m
    m = state.markets[inst.index]
    return m.price, m.price, m


def size_of(account: Account, inst: Instrument) -> int:
    return option_size(account, inst.index) if inst.option else account.positions[inst.index].size


def check_range(name: str, value: int, low: int, high: int) -> int:
    """Require low ≤ value ≤ high (ints only), else ValueOutOfRange."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueOutOfRange(name=name, value=value, low=low, high=high)
    return value


def check_collateral(name: str, account: Account) -> Account:
    bound = (1 << COLLATERAL_BITS) - 1
    check_range(f"{name} collateral", account.collateral, -bound, bound)
    return account


def bump_nonce(account: Account) -> Account:
    return replace(account, nonce=check_range("nonce", account.nonce + 1, 0, (1 << NONCE_BITS) - 1))


def valid_pubkey(x: int, y: int) -> bool:
    """A deposit may register (x, y) only if it is a BabyJubJub point of the prime subgroup."""
    return (x, y) != (0, 1) and is_on_curve((x, y)) and in_subgroup((x, y))


def deposit(
    account: Account, state: GlobalState, pubkey: tuple[int, int], amount: int
) -> Account | None:
    """Credit ``amount`` quanta; register ``pubkey`` if empty.  None = refunded on L1: the account
    belongs to another key, the key is not a subgroup point, or the credit would overflow."""
    check_range("deposit amount", amount, 1, (1 << AMOUNT_BITS) - 1)
    if account.is_empty:
        if not valid_pubkey(*pubkey):
            return None
        account = replace(account, pubkey_x=pubkey[0], pubkey_y=pubkey[1])
    elif account.pubkey != tuple(pubkey):
        return None
    settled = settle(account, state)
    credited = replace(settled, collateral=settled.collateral + amount * VALUE_SCALE)
    if abs(credited.collateral) >= 1 << COLLATERAL_BITS:
        return None
    return credited


def require_initial(index: int, after: Account, state: GlobalState) -> None:
    """After: (TV − LV)·10^6 ≥ initial risk (``rollup.margin.meets_initial``), else
    InsufficientMargin, reporting TV − LV (the value initial margin counts)."""
    if not meets_initial(after, state):
        raise InsufficientMargin(
            account=index,
            total_value=initial_value(after, state),
            required=-(-initial_risk(after, state) // FRACTION_SCALE),
        )


def shrinks(before: int, after: int) -> bool:
    """The position is reduced towards zero without changing side."""
    return abs(after) < abs(before) and before * after >= 0


def require_trade_margin(
    index: int, before: Account, after: Account, state: GlobalState, inst: Instrument
) -> None:
    """A trading party after: (TV − LV)·10^6 ≥ IR, or its position in the instrument shrinks
    and its TV/TR (maintenance) does not get worse (``rollup.margin.ratio_not_worse``)."""
    if meets_initial(after, state):
        return
    if shrinks(size_of(before, inst), size_of(after, inst)) and ratio_not_worse(
        before, after, state
    ):
        return
    require_initial(index, after, state)


def withdraw(index: int, account: Account, state: GlobalState, amount: int) -> Account:
    check_range("withdraw amount", amount, 1, (1 << AMOUNT_BITS) - 1)
    settled = settle(account, state)
    after = replace(settled, collateral=settled.collateral - amount * VALUE_SCALE)
    check_collateral(f"account {index}", after)
    require_initial(index, after, state)
    return bump_nonce(after)


def transfer(
    sender_index: int, sender: Account, recipient: Account, state: GlobalState, amount: int
) -> tuple[Account, Account]:
    check_range("transfer amount", amount, 1, (1 << TRANSFER_BITS) - 1)
    s = settle(sender, state)
    s = check_collateral("sender", replace(s, collateral=s.collateral - amount))
    rcp = settle(recipient, state)
    rcp = check_collateral("recipient", replace(rcp, collateral=rcp.collateral + amount))
    require_initial(sender_index, s, state)
    return bump_nonce(s), rcp


def fill(
    index: int, account: Account, inst: Instrument, side: int, quantity: int, price: int, fee: int
) -> Account:
    """Buy (side 0) or sell ``quantity`` at ``price``, pay ``fee``: size ±q, collateral ∓q·p − f."""
    sign = 1 if side == BUY else -1
    if inst.option:
        after = add_option(index, account, inst.index, sign * quantity)
        bound = (1 << OPTION_SIZE_BITS) - 1
        check_range("option position", option_size(after, inst.index), -bound, bound)
    else:
        p = account.positions[inst.index]
        size = check_range(
            "position size", p.size + sign * quantity, -(1 << SIZE_BITS) + 1, (1 << SIZE_BITS) - 1
        )
        positions = list(account.positions)
        positions[inst.index] = Position(size, p.funding_index)
        return replace(
            account,
            positions=tuple(positions),
            collateral=account.collateral - sign * quantity * price - fee,
        )
    return replace(after, collateral=account.collateral - sign * quantity * price - fee)


def check_fill_terms(quantity: int, price: int, fees: tuple[int, ...]) -> None:
    check_range("quantity", quantity, 1, (1 << SIZE_BITS) - 1)
    check_range("price", price, 1, (1 << PRICE_BITS) - 1)
    for fee in fees:
        check_range("fee", fee, 0, (1 << FEE_BITS) - 1)


def check_band(state: GlobalState, inst: Instrument, price: int) -> None:
    """|price − ref|·10^6 ≤ scale·band (the underlying market's price band)."""
    ref, scale, m = reference(state, inst)
    if abs(price - ref) * FRACTION_SCALE > scale * m.price_band:
        reach = scale * m.price_band // FRACTION_SCALE
        raise PriceOutsideBand(
            price=price, market=inst.code(len(state.markets)), low=ref - reach, high=ref + reach,
            oracle=ref,
        )  # fmt: skip


def add_insurance(state: GlobalState, amount: int) -> GlobalState:
    """insurance_fund += amount (may be negative), within [0, 2^127)."""
    fund = check_range(
        "insurance fund", state.insurance_fund + amount, 0, (1 << INSURANCE_BITS) - 1
    )
    return replace(state, insurance_fund=fund)


def trade_side(
    index: int,
    account: Account,
    state: GlobalState,
    inst: Instrument,
    side: int,
    quantity: int,
    price: int,
    fee: int,
) -> Account:
    """One party of a trade (or the liquidator): settle, fill, margin rule (no order record)."""
    before = settle(account, state)
    after = fill(index, before, inst, side, quantity, price, fee)
    check_collateral(f"account {index}", after)
    require_trade_margin(index, before, after, state, inst)
    return after


def trade(
    indices: tuple[int, int],
    maker: Account,
    taker: Account,
    state: GlobalState,
    inst: Instrument,
    maker_side: int,
    quantity: int,
    price: int,
    fees: tuple[int, int],
) -> tuple[Account, Account, GlobalState]:
    """Maker fills ``maker_side`` and the taker the other side at a price within the band; each
    pays its fee to the insurance fund (order records: the caller's, ``rollup.fills``)."""
    check_fill_terms(quantity, price, fees)
    check_tradable(state, inst)
    check_band(state, inst, price)
    m = trade_side(indices[0], maker, state, inst, maker_side, quantity, price, fees[0])
    t = trade_side(indices[1], taker, state, inst, 1 - maker_side, quantity, price, fees[1])
    return m, t, add_insurance(state, fees[0] + fees[1])


def oracle(
    state: GlobalState, prices: tuple[int, ...], rates: tuple[int, ...], timestamp: int
) -> GlobalState:
    """Accrue funding up to ``timestamp`` at the rates and prices in force, then take the new
    prices and rates: F_m += ⌊rate_m·Δt·price_m / 2^32⌋ (floor, also when negative)."""
    n = len(state.markets)
    if len(prices) != n or len(rates) != n:
        raise OrderMismatch(
            detail=f"oracle update has {len(prices)} prices and {len(rates)} rates for {n} markets"
        )
    check_range("oracle timestamp", timestamp, 0, (1 << TIME_BITS) - 1)
    if timestamp <= state.oracle_time:
        raise StaleTimestamp(what="oracle", timestamp=timestamp, last=state.oracle_time)
    dt = timestamp - state.oracle_time
    markets: list[MarketState] = []
    for k, (m, price, rate) in enumerate(zip(state.markets, prices, rates, strict=True)):
        check_range(f"price {k}", price, 1, (1 << PRICE_BITS) - 1)
        if not isinstance(rate, int) or isinstance(rate, bool) or abs(rate) > m.max_funding_rate:
            raise FundingRateTooHigh(market=k, rate=rate, max_rate=m.max_funding_rate)
        index = m.funding_index + m.funding_rate * dt * m.price // RATE_SCALE
        bound = (1 << FUNDING_BITS) - 1
        index = check_range(f"funding index {k}", index, -bound, bound)
        markets.append(replace(m, price=price, funding_index=index, funding_rate=rate))
    return replace(state, markets=tuple(markets), oracle_time=timestamp)


def forced_withdraw(account: Account, state: GlobalState) -> tuple[Account, int] | None:
    """Withdraw all free collateral: amount = max(0, floor(min(collateral, TV − LV − IR) / 2^32))
    quanta with IR = ceil(risk_init / 10^6) and LV the long options' value (initial margin does
    not count it, ``rollup.margin``).  None = void (empty account or collateral out of range)."""
    if account.is_empty:
        return None
    settled = settle(account, state)
    if abs(settled.collateral) >= 1 << COLLATERAL_BITS:
        return None
    free_value = (
        initial_value(settled, state) * FRACTION_SCALE - initial_risk(settled, state)
    ) // FRACTION_SCALE
    amount = max(0, min(settled.collateral, free_value) // VALUE_SCALE)
    amount = min(amount, (1 << AMOUNT_BITS) - 1)
    return replace(settled, collateral=settled.collateral - amount * VALUE_SCALE), amount
