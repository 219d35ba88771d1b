"""Trades (and the liquidator's order): order terms, signed messages, fills, fees.

rollup/checks.py, rollup/state.py ``_check_order`` / ``_trade``, rollup/effects.py ``trade``,
``_fill``::

    order    = Poseidon(1, account, market, side, size, limit_price, fee, nonce, expiry)
    0 < quantity ≤ size < 2^48,  0 < price < 2^64,  0 < limit < 2^64,  fee ≤ max fee < 2^80,
    buy: price ≤ limit,  sell: price ≥ limit,  last_oracle_time ≤ expiry < 2^40
    maker side s, taker side 1 − s, one market (one-hot msel), maker ≠ taker
    side-0 fill (update 0): size += q·(1 − 2·side0), collateral −= q·price·(1 − 2·side0) + fee0
    update 1 mirrors it: size −= …, collateral += q·price·(1 − 2·side0) − fee1
    side0 = side for a trade (maker), 1 − side for a liquidation (the liquidated account)
    fee pool += fee0 + fee1 < 2^127

Order 0 is the maker's (trade) or the liquidator's (liquidation); order 1 the taker's.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import cond_range, nonzero_if
from circuits.batch.inputs import SlotInputs
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Value, Variable
from protocol.messages import order_preimage
from protocol.spec import (
    FEE_BITS,
    LIQUIDATE,
    PRICE_BITS,
    SIZE_BITS,
    TIME_BITS,
    TRADE,
)

__all__ = ["FillTerms", "fill_terms"]


@dataclass(frozen=True)
class FillTerms:
    market: Variable
    ds: tuple[Variable, Variable]
    dc: tuple[Variable, Variable]
    order_messages: tuple[Variable, Variable]


def _order_checks(
    api: API,
    o: int,
    inp: SlotInputs,
    en: Value,
    side: Value,
    fee: Value,
    oracle_time: Value,
) -> None:
    size, limit, max_fee, expiry = inp.orders[o]
    q, price = inp.quantity, inp.price
    with api.namespace(f"order{o}"):
        api.range_check(size, SIZE_BITS, "size_range")
        api.range_check(limit, PRICE_BITS, "limit_range")
        api.range_check(max_fee, FEE_BITS, "max_fee_range")
        api.range_check(expiry, TIME_BITS, "expiry_range")
        nonzero_if(api, en, limit, "limit_positive")
        cond_range(api, en, size - q, SIZE_BITS, "size")
        slack = limit - price
        signed_slack = slack - api.mul(side, slack, name="side_slack") * 2
        cond_range(api, en, signed_slack, PRICE_BITS, "limit_price")
        cond_range(api, en, max_fee - fee, FEE_BITS, "fee")
        cond_range(api, en, expiry - oracle_time, TIME_BITS, "expiry")


def fill_terms(api: API, inp: SlotInputs, oracle_time: Value) -> FillTerms:
    """Order checks, messages and the fill deltas of both updates. ~1.5k constraints."""
    sel, q, price, side = inp.sel, inp.quantity, inp.price, inp.side
    fill = sel[TRADE] + sel[LIQUIDATE]
    a0, a1 = inp.acct
    with api.namespace("fill"):
        api.assert_boolean(side, "side_bool")
        for k, s in enumerate(inp.msel):
            api.assert_boolean(s, f"market_bool{k}")
        api.assert_equal(api.sum(inp.msel), fill, "market_onehot")
        market = api.sum(inp.msel, list(range(len(inp.msel))))
        api.range_check(q, SIZE_BITS, "quantity_range")
        nonzero_if(api, fill, q, "quantity_positive")
        api.range_check(price, PRICE_BITS, "price_range")
        nonzero_if(api, fill, price, "price_positive")
        api.range_check(inp.fee[0], FEE_BITS, "fee0_range")
        api.range_check(inp.fee[1], FEE_BITS, "fee1_range")
        liq_fee = api.mul(sel[LIQUIDATE], inp.fee[1], name="liquidator_fee")
        _order_checks(api, 0, inp, fill, side, inp.fee[0] + liq_fee, oracle_time)
        _order_checks(api, 1, inp, sel[TRADE], 1 - side, inp.fee[1], oracle_time)
        signer0 = a0 + api.mul(sel[LIQUIDATE], a1 - a0, name="order0_account")
        msgs = []
        for o, (acct, s) in enumerate(((signer0, side), (a1, 1 - side))):
            size, limit, max_fee, expiry = inp.orders[o]
            fields = order_preimage(acct, market, s, size, limit, max_fee, inp.nonce[o], expiry)
            msgs.append(poseidon(api, fields, f"order{o}_msg"))
        side0 = side + sel[LIQUIDATE] - api.mul(side, sel[LIQUIDATE], name="side0") * 2
        ds0 = q - api.mul(q, side0, name="signed_q") * 2
        qp = api.mul(q, price, name="notional")
        paid0 = qp - api.mul(qp, side0, name="signed_notional") * 2
    return FillTerms(
        market, (ds0, -ds0), (-paid0 - inp.fee[0], paid0 - inp.fee[1]), (msgs[0], msgs[1])
    )
