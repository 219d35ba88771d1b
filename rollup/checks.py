"""Signer-level checks that need no tree: signatures (memoised), order terms, fills.

``RollupState`` runs them before any effect (``rollup.effects``); each failure is a named
``RollupError`` and nothing has changed when it is raised.

    order terms:  0 < order id < 2^32, instrument a market < M or 256 + a series id,
                  side ∈ {buy, sell}, 0 < size < 2^48, 0 < limit price < 2^64,
                  0 ≤ max fee < 2^80, 0 ≤ expiry < 2^40
    fill:         expiry ≥ last oracle time; buy: price ≤ limit, sell: price ≥ limit;
                  quantity ≤ size; fee·size ≤ max_fee·quantity (the signed maximum, pro rata)
    (what the order already filled is ``rollup.fills``')
"""

from __future__ import annotations

from collections.abc import Callable

from protocol.eddsa import Signature
from protocol.spec import (
    BUY,
    FEE_BITS,
    OPTION_BASE,
    ORDER_ID_BITS,
    PRICE_BITS,
    SELL,
    SERIES_ID_BITS,
    SIZE_BITS,
    TIME_BITS,
)
from prover.eddsa_fast import verify
from rollup.effects import check_range
from rollup.errors import (
    FeeExceeded,
    LimitPriceViolated,
    MarketOutOfRange,
    OrderExpired,
    OrderMismatch,
    SizeExceeded,
)
from rollup.tx import Order

SignatureCheck = Callable[[tuple[int, int], int, Signature], bool]

__all__ = ["SignatureCache", "SignatureCheck", "check_fill", "check_order_terms"]


class SignatureCache:
    """EdDSA verification memoised on (pubkey, message, signature): the mempool verifies on
    admission and the state machine's re-check is then a lookup.  Same signature as ``verify``;
    the default check is `prover.eddsa_fast.verify`, the kernels' twin of
    `protocol.eddsa.verify`."""

    def __init__(self, check: SignatureCheck = verify, size: int = 1 << 16) -> None:
        self.check, self.size = check, size
        self.memo: dict[tuple, bool] = {}

    def __call__(self, pubkey: tuple[int, int], message: int, signature: Signature) -> bool:
        key = (pubkey, message, signature.r8_x, signature.r8_y, signature.s)
        hit = self.memo.get(key)
        if hit is None:
            if len(self.memo) >= self.size:
                self.memo.clear()
            hit = self.memo[key] = bool(self.check(pubkey, message, signature))
        return hit


def check_order_terms(o: Order, n_markets: int) -> None:
    """The signed order's own fields are in range (before its signature is checked)."""
    check_range("order id", o.order_id, 1, (1 << ORDER_ID_BITS) - 1)
    if not isinstance(o.instrument, int) or not (
        0 <= o.instrument < n_markets
        or OPTION_BASE < o.instrument < OPTION_BASE + (1 << SERIES_ID_BITS)
    ):
        raise MarketOutOfRange(market=o.instrument, n_markets=n_markets)
    if o.side not in (BUY, SELL):
        raise OrderMismatch(detail=f"side {o.side} is neither 0 (buy) nor 1 (sell)")
    check_range("order size", o.size, 1, (1 << SIZE_BITS) - 1)
    check_range("limit price", o.limit_price, 1, (1 << PRICE_BITS) - 1)
    check_range("order max fee", o.max_fee, 0, (1 << FEE_BITS) - 1)
    check_range("order expiry", o.expiry, 0, (1 << TIME_BITS) - 1)


def check_fill(o: Order, price: int, quantity: int, fee: int, now: int) -> None:
    """The fill (price, quantity, fee) honours the order at oracle time ``now``."""
    if o.expiry < now:
        raise OrderExpired(account=o.account, expiry=o.expiry, now=now)
    if (o.side == BUY and price > o.limit_price) or (o.side == SELL and price < o.limit_price):
        side = "buy" if o.side == BUY else "sell"
        raise LimitPriceViolated(account=o.account, price=price, side=side, limit=o.limit_price)
    if quantity > o.size:
        raise SizeExceeded(account=o.account, quantity=quantity, what="order size", limit=o.size)
    if fee * o.size > o.max_fee * quantity:
        raise FeeExceeded(account=o.account, fee=fee, max_fee=o.max_fee * quantity // o.size)
