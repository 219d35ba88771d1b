"""Fills (trade, liquidation, deleverage): the market, the fill deltas, price bands, order terms
and the signed order messages.

``rollup.effects`` (``fill``, ``check_band``, ``trade``), ``rollup.checks`` (``check_order_terms``,
``check_fill``) and ``rollup.bankruptcy`` (the liquidation band)::

    fill = trade + liquidate + deleverage;  msel one-hot iff fill;  market = Σ k·msel_k
    0 < quantity < 2^48,  0 < price < 2^64,  0 ≤ fee < 2^80
    side0 (update 0's side: 1 sells) = side for a trade / deleverage, 1 − side for a liquidation
    ds0 = q·(1 − 2·side0),  paid0 = q·price·(1 − 2·side0),  update 1 fills −ds0, receives paid0
    trade band        |price − o|·10^6 ≤ o·band_m     (two checks A, B below, both enabled)
    liquidation band  L long (side = 0):  (price − o)·10^6 + o·mf_m ≥ 0      (A only)
                      L short:            (o − price)·10^6 + o·mf_m ≥ 0      (B only)
        A = (price − o)·10^6 + w + off_A·2^86,  B = (o − price)·10^6 + w + off_B·2^86 ∈ [0, 2^87)
        with w = trade·o·band_m + liquidate·o·mf_m and off = 1 for a disabled side (|·| < 2^85)
    order o (order0: maker or liquidator, order1: taker), when enabled:
        0 < id < 2^32, 0 < size < 2^48, 0 < limit < 2^64, max_fee < 2^80, expiry < 2^40;
        buy: price ≤ limit, sell: price ≥ limit;  expiry ≥ oracle_time;
        fee·size ≤ max_fee·q  (|·| < 2^128)       (q ≤ size − filled: circuits.batch.orders)
    message = Poseidon(order_preimage(domain, account, market, side, size, limit, max_fee, id,
                                      expiry))        (protocol.messages)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import cond_range, nonzero_if, pick
from circuits.batch.inputs import SlotInputs
from circuits.batch.state import GlobalVars
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Value, Variable
from protocol.messages import order_preimage
from protocol.spec import (
    DELEVERAGE,
    FEE_BITS,
    FRACTION_SCALE,
    LIQUIDATE,
    ORDER_ID_BITS,
    PRICE_BITS,
    SIZE_BITS,
    TIME_BITS,
    TRADE,
)

__all__ = ["FillTerms", "fill_terms"]

_BAND_OFF = 1 << 86  #: moves a disabled band check into range (|A − off_A·2^86| < 2^85)
_BAND_BITS = 87
_FEE_PRODUCT_BITS = FEE_BITS + SIZE_BITS  #: fee·size, max_fee·q < 2^128


@dataclass(frozen=True)
class FillTerms:
    """What the updates, the margin rules and the pubdata take from a fill (0 for other types)."""

    market: Variable  #: Σ k·msel_k
    oracle: Variable  #: price_m
    maint_price: Variable  #: price_m · maintenance_m
    penalty: Variable  #: liquidation_penalty_m
    side0: Variable  #: 1 if update 0 sells
    ds: tuple[Variable, Variable]  #: size deltas of updates 0, 1
    paid0: Variable  #: q·price·(1 − 2·side0), paid by update 0 to update 1
    ds_oracle: Variable  #: ds0 · price_m
    order_ids: tuple[Variable, Variable]  #: the order id whose fill update u records
    order_sizes: tuple[Variable, Variable]  #: that order's size
    messages: tuple[Variable, Variable]  #: Poseidon of order0's and order1's preimages


def _order_checks(
    api: API, inp: SlotInputs, o: int, en: Value, side: Value, fee: Value, oracle_time: Value
) -> None:
    size, limit, max_fee, order_id, expiry = inp.orders[o]
    q, price = inp.quantity, inp.price
    with api.namespace(f"order{o}"):
        api.range_check(size, SIZE_BITS, "size_range")
        api.range_check(limit, PRICE_BITS, "limit_range")
        api.range_check(max_fee, FEE_BITS, "max_fee_range")
        api.range_check(order_id, ORDER_ID_BITS, "id_range")
        api.range_check(expiry, TIME_BITS, "expiry_range")
        nonzero_if(api, en, limit, "limit_positive")
        nonzero_if(api, en, order_id, "id_positive")
        slack = limit - price
        signed_slack = slack - api.mul(side, slack, name="side_slack") * 2
        cond_range(api, en, signed_slack, PRICE_BITS, "limit_price")
        pro_rata = api.mul(max_fee, q, name="max_fee_q") - api.mul(fee, size, name="fee_size")
        cond_range(api, en, pro_rata, _FEE_PRODUCT_BITS, "fee")
        cond_range(api, en, expiry - oracle_time, TIME_BITS, "expiry")


def _bands(api: API, inp: SlotInputs, oracle: Value, band: Value, maint_price: Value) -> None:
    """Trade band (both sides) and liquidation band (L's side) as the A / B checks above."""
    sel, price = inp.sel, inp.price
    liq, dl = sel[LIQUIDATE], sel[DELEVERAGE]
    width = api.mul(sel[TRADE], api.mul(oracle, band, name="oracle_band"), name="trade_width")
    width = width + api.mul(liq, maint_price, name="liquidation_width")
    liq_side = api.mul(liq, inp.side, name="liquidator_sells")
    move = (price - oracle) * FRACTION_SCALE
    low = move + width + (liq_side + dl) * _BAND_OFF
    high = -move + width + (liq - liq_side + dl) * _BAND_OFF
    api.range_check(low, _BAND_BITS, "price_floor")
    api.range_check(high, _BAND_BITS, "price_ceiling")


def fill_terms(
    api: API, inp: SlotInputs, g: GlobalVars, maint_prices: Sequence[Value]
) -> FillTerms:
    """The module docstring's checks and values; ``maint_prices[k] = price_k·mf_k``."""
    sel, q, price, side = inp.sel, inp.quantity, inp.price, inp.side
    trade, liq = sel[TRADE], sel[LIQUIDATE]
    fill = trade + liq + sel[DELEVERAGE]
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
        oracle = pick(api, inp.msel, g.prices, "oracle")
        maint_price = pick(api, inp.msel, maint_prices, "maint_price")
        band = pick(api, inp.msel, g.band, "band")
        penalty = pick(api, inp.msel, g.penalty, "penalty")
        _bands(api, inp, oracle, band, maint_price)
        side0 = side + liq - api.mul(liq, side, name="side0") * 2
        ds0 = q - api.mul(q, side0, name="signed_q") * 2
        qp = api.mul(q, price, name="notional")
        paid0 = qp - api.mul(qp, side0, name="signed_notional") * 2
        ds_oracle = api.mul(ds0, oracle, name="ds_oracle")

        liq_fee = api.mul(liq, inp.fee[1], name="liquidator_fee")
        _order_checks(api, inp, 0, trade + liq, side, inp.fee[0] + liq_fee, g.oracle_time)
        _order_checks(api, inp, 1, trade, 1 - side, inp.fee[1], g.oracle_time)
        a0, a1 = inp.acct
        signer0 = a0 + api.mul(liq, a1 - a0, name="order0_account")
        msgs = []
        for o, (acct, s) in enumerate(((signer0, side), (a1, 1 - side))):
            size, limit, max_fee, order_id, expiry = inp.orders[o]
            preimage = order_preimage(
                g.domain, acct, market, s, size, limit, max_fee, order_id, expiry
            )
            msgs.append(poseidon(api, preimage, f"order{o}_msg"))
        (size0, *_, id0, _), (size1, *_, id1, _) = inp.orders
        liq_id = api.mul(liq, id0, name="liquidator_id")
        liq_size = api.mul(liq, size0, name="liquidator_size")
    return FillTerms(
        market=market,
        oracle=oracle,
        maint_price=maint_price,
        penalty=penalty,
        side0=side0,
        ds=(ds0, -ds0),
        paid0=paid0,
        ds_oracle=ds_oracle,
        order_ids=(id0 - liq_id, id1 + liq_id),
        order_sizes=(size0 - liq_size, size1 + liq_size),
        messages=(msgs[0], msgs[1]),
    )
