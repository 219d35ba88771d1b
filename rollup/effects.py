"""State transitions of DESIGN §4 at the level of their effects (what pubdata records).

Each function takes accounts and the global state, checks every effect-level precondition (ranges,
margin, liquidation bounds) and returns the new values; it mutates nothing, so a raised error
leaves the state untouched.  Signatures, nonces and order terms are checked by ``rollup.state``
before these run; ``rollup.rebuild`` replays pubdata through the same functions.  Every touched
account first has its funding settled in all markets (``margin.settle_funding``).
"""

from __future__ import annotations

from dataclasses import replace

from protocol.babyjubjub import in_subgroup, is_on_curve
from protocol.spec import (
    AMOUNT_BITS,
    BUY,
    COLLATERAL_BITS,
    FEE_BITS,
    FEE_POOL_BITS,
    FRACTION_SCALE,
    FUNDING_BITS,
    NONCE_BITS,
    PRICE_BITS,
    RATE_SCALE,
    SIZE_BITS,
    TIME_BITS,
    TRANSFER_BITS,
    VALUE_SCALE,
)
from rollup.account import Account, GlobalState, MarketState, Position
from rollup.errors import (
    InsufficientMargin,
    LiquidationNotImproving,
    LiquidationPriceOutOfBounds,
    NotLiquidatable,
    OrderMismatch,
    SizeExceeded,
    StaleTimestamp,
    ValueOutOfRange,
)
from rollup.margin import (
    initial_risk,
    maintenance_risk,
    meets_initial,
    settle_funding,
    total_value,
)


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
    a = account
    nonce = check_range("nonce", a.nonce + 1, 0, (1 << NONCE_BITS) - 1)
    return Account(a.pubkey_x, a.pubkey_y, nonce, a.collateral, a.positions)  # (hot path)


def valid_pubkey(x: int, y: int) -> bool:
    """A deposit may register (x, y) only if it is a BabyJubJub point of the prime subgroup."""
    return (x, y) != (0, 1) and is_on_curve((x, y)) and in_subgroup((x, y))


def deposit(
    account: Account, state: GlobalState, pubkey: tuple[int, int], amount: int
) -> Account | None:
    """Credit ``amount`` quanta; register ``pubkey`` if empty.  None = cannot credit (refunded)."""
    check_range("deposit amount", amount, 1, (1 << AMOUNT_BITS) - 1)
    if account.is_empty:
        if not valid_pubkey(*pubkey):
            return None
        account = replace(account, pubkey_x=pubkey[0], pubkey_y=pubkey[1])
    settled = settle_funding(account, state)
    credited = replace(settled, collateral=settled.collateral + amount * VALUE_SCALE)
    if abs(credited.collateral) >= 1 << COLLATERAL_BITS:
        return None
    return credited


def require_initial(index: int, after: Account, state: GlobalState, before: Account | None) -> None:
    """After: TV ≥ initial risk, or (``before`` given) its initial risk strictly decreased."""
    if meets_initial(after, state):
        return
    if before is not None and initial_risk(after, state) < initial_risk(before, state):
        return
    tv = total_value(after, state)
    raise InsufficientMargin(
        account=index, total_value=tv, required=-(-initial_risk(after, state) // FRACTION_SCALE)
    )


def withdraw(index: int, account: Account, state: GlobalState, amount: int) -> Account:
    check_range("withdraw amount", amount, 1, (1 << AMOUNT_BITS) - 1)
    settled = settle_funding(account, state)
    after = replace(settled, collateral=settled.collateral - amount * VALUE_SCALE)
    check_collateral(f"account {index}", after)
    require_initial(index, after, state, None)
    return bump_nonce(after)


def transfer(
    sender_index: int, sender: Account, recipient: Account, state: GlobalState, amount: int
) -> tuple[Account, Account]:
    check_range("transfer amount", amount, 1, (1 << TRANSFER_BITS) - 1)
    s = settle_funding(sender, state)
    s = check_collateral("sender", replace(s, collateral=s.collateral - amount))
    rcp = settle_funding(recipient, state)
    rcp = check_collateral("recipient", replace(rcp, collateral=rcp.collateral + amount))
    require_initial(sender_index, s, state, None)
    return bump_nonce(s), rcp


def _fill(account: Account, market: int, side: int, quantity: int, price: int, fee: int) -> Account:
    """Buy (side 0) or sell ``quantity`` at ``price``, pay ``fee``: size ±q, collateral ∓q·p − f."""
    sign = 1 if side == BUY else -1
    p = account.positions[market]
    size = check_range(
        "position size", p.size + sign * quantity, -(1 << SIZE_BITS) + 1, (1 << SIZE_BITS) - 1
    )
    positions = list(account.positions)
    positions[market] = Position(size, p.funding_index)
    collateral = account.collateral - sign * quantity * price - fee
    return Account(account.pubkey_x, account.pubkey_y, account.nonce, collateral, tuple(positions))


def _check_fill_terms(quantity: int, price: int, fees: tuple[int, ...]) -> None:
    check_range("quantity", quantity, 1, (1 << SIZE_BITS) - 1)
    check_range("price", price, 1, (1 << PRICE_BITS) - 1)
    for fee in fees:
        check_range("fee", fee, 0, (1 << FEE_BITS) - 1)


def _add_fees(state: GlobalState, fees: int) -> GlobalState:
    pool = check_range("fee pool", state.fee_pool + fees, 0, (1 << FEE_POOL_BITS) - 1)
    s = state
    return GlobalState(
        s.markets, s.oracle_pk_x, s.oracle_pk_y, s.last_oracle_time, s.last_funding_time, pool
    )


def trade(
    indices: tuple[int, int],
    maker: Account,
    taker: Account,
    state: GlobalState,
    market: int,
    maker_side: int,
    quantity: int,
    price: int,
    maker_fee: int,
    taker_fee: int,
) -> tuple[Account, Account, GlobalState]:
    """Maker fills ``maker_side`` and the taker the other side; each pays its fee to the fee pool;
    each party after: TV ≥ initial risk, or its initial risk strictly decreased."""
    _check_fill_terms(quantity, price, (maker_fee, taker_fee))
    out = []
    for index, account, side, fee in (
        (indices[0], maker, maker_side, maker_fee),
        (indices[1], taker, 1 - maker_side, taker_fee),
    ):
        before = settle_funding(account, state)
        after = check_collateral(
            f"account {index}", _fill(before, market, side, quantity, price, fee)
        )
        require_initial(index, after, state, before)
        out.append(bump_nonce(after))
    return out[0], out[1], _add_fees(state, maker_fee + taker_fee)


def oracle(state: GlobalState, prices: tuple[int, ...], timestamp: int) -> GlobalState:
    if len(prices) != len(state.markets):
        raise OrderMismatch(
            detail=f"oracle update has {len(prices)} prices for {len(state.markets)} markets"
        )
    check_range("oracle timestamp", timestamp, 0, (1 << TIME_BITS) - 1)
    if timestamp <= state.last_oracle_time:
        raise StaleTimestamp(what="oracle", timestamp=timestamp, last=state.last_oracle_time)
    markets = tuple(
        replace(m, price=check_range(f"price {k}", p, 1, (1 << PRICE_BITS) - 1))
        for k, (m, p) in enumerate(zip(state.markets, prices, strict=True))
    )
    return replace(state, markets=markets, last_oracle_time=timestamp)


def funding(state: GlobalState, rates: tuple[int, ...], timestamp: int) -> GlobalState:
    """F_m += floor(rate_m · Δt · price_m / 2^32), Δt = timestamp − last_funding_time > 0,
    timestamp ≤ last_oracle_time, |rate_m| ≤ max_funding_rate_m, |F_m| < 2^96 after."""
    from rollup.errors import FundingRateTooHigh

    if len(rates) != len(state.markets):
        raise OrderMismatch(
            detail=f"funding tick has {len(rates)} rates for {len(state.markets)} markets"
        )
    if timestamp <= state.last_funding_time:
        raise StaleTimestamp(what="funding", timestamp=timestamp, last=state.last_funding_time)
    check_range("funding timestamp", timestamp, 0, state.last_oracle_time)
    dt = timestamp - state.last_funding_time
    markets: list[MarketState] = []
    for k, (m, rate) in enumerate(zip(state.markets, rates, strict=True)):
        if not isinstance(rate, int) or abs(rate) > m.max_funding_rate:
            raise FundingRateTooHigh(market=k, rate=rate, max_rate=m.max_funding_rate)
        index = m.funding_index + rate * dt * m.price // RATE_SCALE
        bound = (1 << FUNDING_BITS) - 1
        markets.append(
            replace(m, funding_index=check_range(f"funding index {k}", index, -bound, bound))
        )
    return replace(state, markets=tuple(markets), last_funding_time=timestamp)


def liquidate(
    indices: tuple[int, int],
    liquidated: Account,
    liquidator: Account,
    state: GlobalState,
    market: int,
    liquidator_side: int,
    quantity: int,
    price: int,
    fee: int,
) -> tuple[Account, Account, GlobalState]:
    """The liquidator takes ``quantity`` of the liquidated position (reducing it, no flip) at a
    price
    within the maintenance band: liquidated long → price·10^6 ≥ oracle·(10^6 − mf); short →
    price·10^6 ≤ oracle·(10^6 + mf).  Before: TV·10^6 < risk_maint.  After: TV/TR strictly improves,
    i.e. TV_after · risk_before > TV_before · risk_after.  The liquidator passes the trade margin
    rule."""
    _check_fill_terms(quantity, price, (fee,))
    victim_index, liquidator_index = indices
    before = settle_funding(liquidated, state)
    tv_b, risk_b = total_value(before, state), maintenance_risk(before, state)
    if tv_b * FRACTION_SCALE >= risk_b:
        raise NotLiquidatable(
            account=victim_index, total_value=tv_b, required=-(-risk_b // FRACTION_SCALE)
        )
    size = before.positions[market].size
    if size == 0 or (size > 0) != (liquidator_side == BUY):
        raise OrderMismatch(
            detail=f"liquidator side {liquidator_side} does not reduce position {size}"
        )
    if quantity > abs(size):
        raise SizeExceeded(
            account=victim_index, quantity=quantity, what="position", limit=abs(size)
        )
    m = state.markets[market]
    low = -(-m.price * (FRACTION_SCALE - m.maintenance_fraction) // FRACTION_SCALE)
    high = m.price * (FRACTION_SCALE + m.maintenance_fraction) // FRACTION_SCALE
    if (
        size > 0 and price * FRACTION_SCALE < m.price * (FRACTION_SCALE - m.maintenance_fraction)
    ) or (
        size < 0 and price * FRACTION_SCALE > m.price * (FRACTION_SCALE + m.maintenance_fraction)
    ):
        raise LiquidationPriceOutOfBounds(
            price=price,
            low=low if size > 0 else 1,
            high=high if size < 0 else (1 << PRICE_BITS) - 1,
            oracle=m.price,
            market=market,
        )
    after = check_collateral(
        "liquidated", _fill(before, market, 1 - liquidator_side, quantity, price, 0)
    )
    tv_a, risk_a = total_value(after, state), maintenance_risk(after, state)
    if tv_a * risk_b <= tv_b * risk_a:
        raise LiquidationNotImproving(
            account=victim_index, detail=f"TV {tv_b}→{tv_a}, risk·10^6 {risk_b}→{risk_a}"
        )
    lq_before = settle_funding(liquidator, state)
    lq_after = check_collateral(
        "liquidator", _fill(lq_before, market, liquidator_side, quantity, price, fee)
    )
    require_initial(liquidator_index, lq_after, state, lq_before)
    return after, bump_nonce(lq_after), _add_fees(state, fee)


def forced_withdraw(account: Account, state: GlobalState) -> tuple[Account, int] | None:
    """Withdraw all free collateral: amount = max(0, floor(min(collateral, TV − IR) / 2^32)) quanta
    with IR = ceil(risk_init / 10^6).  None = void (empty account or collateral out of range)."""
    if account.is_empty:
        return None
    settled = settle_funding(account, state)
    if abs(settled.collateral) >= 1 << COLLATERAL_BITS:
        return None
    free_value = (
        total_value(settled, state) * FRACTION_SCALE - initial_risk(settled, state)
    ) // FRACTION_SCALE
    amount = max(0, min(settled.collateral, free_value) // VALUE_SCALE)
    amount = min(amount, (1 << AMOUNT_BITS) - 1)
    return replace(settled, collateral=settled.collateral - amount * VALUE_SCALE), amount
