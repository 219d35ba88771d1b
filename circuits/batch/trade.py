"""Fills (trade, liquidation, deleverage): the instrument, the fill deltas, price bands, order
terms and the signed orders' message preimages (hashed by circuits.batch.signers).

``rollup.effects`` (``resolve``, ``reference``, ``check_tradable``, ``fill``, ``check_band``,
``trade``), ``rollup.checks`` (``check_order_terms``, ``check_fill``) and ``rollup.bankruptcy``
(the liquidation band)::

    fill = trade + liquidate + deleverage;  msel one-hot iff fill (or a listing: its market)
    market = Σ k·msel_k: a perpetual's market or an option's underlying
    jsel (circuits.batch.series): opt = an option fill of the series in slot j = Σ j·jsel_j;
        opt ⇒ j tradable (listed, unsettled, oracle_time < expiry; a liquidation or deleverage:
        listed and unsettled, after expiry too, ``rollup.effects.check_open``) ∧ market = the
        series' market
    instrument (pubdata) = opt ? M + j : market;  signed instrument = opt ? 256 + sid_j : market
    reference o = opt ? mark'_j : price_m (mark' = max(mark, intrinsic): the value the
        series' positions are carried at, ``rollup.options``);  scale s = price_m (the
        underlying's index)
    0 < quantity < 2^48,  0 < price < 2^64 (a listing's strike too),  0 ≤ fee < 2^80
    side0 (update 0's side: 1 sells) = side for a trade / deleverage, 1 − side for a liquidation
    ds0 = q·(1 − 2·side0) contracts or base quanta: opt ? option delta dn0 : perpetual delta
    paid0 = q·price·(1 − 2·side0),  update 1 fills −ds0, receives paid0;  ds_oracle = ds0·o
    perp_value = (1 − opt)·ds_oracle  (a perpetual fill's value at the index);
    dn_value = dn0·mark'_j  (an option fill's contracts at mark': the positions' value change,
        ``circuits.batch.options``'s ΔTV)
    trade band        |price − o|·10^6 ≤ s·band_m     (two checks A, B below, both enabled)
    liquidation band  L long (side = 0):  (price − o)·10^6 + s·mf_m ≥ 0      (A only)
                      L short:            (o − price)·10^6 + s·mf_m ≥ 0      (B only)
        A = (price − o)·10^6 + w + off_A·2^86,  B = (o − price)·10^6 + w + off_B·2^86 ∈ [0, 2^87)
        with w = trade·s·band_m + liquidate·s·mf_m and off = 1 for a disabled side (deleverage,
        listing; |·| < 2^85)
    order o (order0: maker or liquidator, order1: taker), when enabled:
        0 < id < 2^32, 0 < size < 2^48, 0 < limit < 2^64, max_fee < 2^80, expiry < 2^40;
        buy: price ≤ limit, sell: price ≥ limit;  expiry ≥ oracle_time;
        fee·size ≤ max_fee·q  (|·| < 2^128)       (q ≤ size − filled: circuits.batch.orders)
    message = Poseidon(order_preimage(domain, account, signed instrument, side, size, limit,
                                      max_fee, id, expiry))        (protocol.messages)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import cond_range, nonzero_if, pick
from circuits.batch.inputs import SlotInputs
from circuits.batch.series import SeriesTerms
from circuits.batch.state import GlobalVars
from circuits.linear import Value, Variable
from protocol.messages import order_preimage
from protocol.spec import (
    DELEVERAGE,
    FEE_BITS,
    FRACTION_SCALE,
    LIQUIDATE,
    LIST_SERIES,
    OPTION_BASE,
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

    market: Variable  #: Σ k·msel_k (an option's underlying)
    instrument: Variable  #: the pubdata instrument: market, or M + j
    opt: Variable  #: an option fill
    jslot: Variable  #: Σ j·jsel_j
    oracle: Variable  #: the reference price o: price_m, or mark'_j for an option
    mark: Variable  #: mark'_j (any value for a perpetual fill)
    maint_price: Variable  #: price_m · maintenance_m (the liquidation band's width)
    unit_risk: tuple[Variable, Variable]  #: per update, MR_b − MR_a per contract shrunk
    fill_risk: tuple[Variable, Variable]  #: the series' (im_j, mm_j)
    penalty: Variable  #: liquidation_penalty_m
    side0: Variable  #: 1 if update 0 sells
    ds: tuple[Variable, Variable]  #: perpetual size deltas of updates 0, 1
    dn: tuple[Variable, Variable]  #: option size deltas of updates 0, 1
    paid0: Variable  #: q·price·(1 − 2·side0), paid by update 0 to update 1
    ds_oracle: Variable  #: ds0 · o
    perp_value: tuple[Variable, Variable]  #: per update ±(1 − opt)·ds0·o
    dn_value: tuple[Variable, Variable]  #: dn_u · mark_j
    order_ids: tuple[Variable, Variable]  #: the order id whose fill update u records
    order_sizes: tuple[Variable, Variable]  #: that order's size
    preimages: tuple[list, list]  #: order0's and order1's message preimages


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


def _bands(
    api: API, inp: SlotInputs, ref: Value, scale: Value, band: Value, maint_price: Value
) -> None:
    """Trade band (both sides) and liquidation band (L's side) as the A / B checks above."""
    sel, price = inp.sel, inp.price
    liq, off = sel[LIQUIDATE], sel[DELEVERAGE] + sel[LIST_SERIES]
    width = api.mul(sel[TRADE], api.mul(scale, band, name="scale_band"), name="trade_width")
    width = width + api.mul(liq, maint_price, name="liquidation_width")
    liq_side = api.mul(liq, inp.side, name="liquidator_sells")
    move = (price - ref) * FRACTION_SCALE
    low = move + width + (liq_side + off) * _BAND_OFF
    high = -move + width + (liq - liq_side + off) * _BAND_OFF
    api.range_check(low, _BAND_BITS, "price_floor")
    api.range_check(high, _BAND_BITS, "price_ceiling")


def fill_terms(
    api: API, inp: SlotInputs, g: GlobalVars, maint_prices: Sequence[Value], st: SeriesTerms
) -> FillTerms:
    """The module docstring's checks and values; ``maint_prices[k] = price_k·mf_k``."""
    sel, q, price, side = inp.sel, inp.quantity, inp.price, inp.side
    trade, liq = sel[TRADE], sel[LIQUIDATE]
    fill = trade + liq + sel[DELEVERAGE]
    opt, t, m = st.opt, g.series, len(g.prices)
    with api.namespace("fill"):
        api.assert_boolean(side, "side_bool")
        for k, s in enumerate(inp.msel):
            api.assert_boolean(s, f"market_bool{k}")
        api.assert_equal(api.sum(inp.msel), fill + sel[LIST_SERIES], "market_onehot")
        market = api.sum(inp.msel, list(range(m)))
        jslot = api.sum(inp.jsel, list(range(len(inp.jsel))))
        api.range_check(q, SIZE_BITS, "quantity_range")
        nonzero_if(api, fill, q, "quantity_positive")
        api.range_check(price, PRICE_BITS, "price_range")
        nonzero_if(api, fill + sel[LIST_SERIES], price, "price_positive")
        api.range_check(inp.fee[0], FEE_BITS, "fee0_range")
        api.range_check(inp.fee[1], FEE_BITS, "fee1_range")
        index = pick(api, inp.msel, g.prices, "index")
        maint_price = pick(api, inp.msel, maint_prices, "maint_price")
        band = pick(api, inp.msel, g.band, "band")
        penalty = pick(api, inp.msel, g.penalty, "penalty")
        tradable = pick(api, inp.jsel, st.tradable, "tradable")
        busy = pick(api, inp.jsel, st.busy, "open")
        usable = tradable + api.mul(liq + sel[DELEVERAGE], busy - tradable, name="open_suffices")
        api.assert_product(opt, 1 - usable, 0, "series_tradable")
        api.assert_product(opt, market - pick(api, inp.jsel, t.market, "underlying"), 0,
                           "series_market")  # fmt: skip
        mark = pick(api, inp.jsel, st.marked, "mark")
        side0 = side + liq - api.mul(liq, side, name="side0") * 2
        ref = index + api.mul(opt, mark - index, name="reference")
        _bands(api, inp, ref, index, band, maint_price)
        ds0 = q - api.mul(q, side0, name="signed_q") * 2
        dn0 = api.mul(opt, ds0, name="option_q")
        qp = api.mul(q, price, name="notional")
        paid0 = qp - api.mul(qp, side0, name="signed_notional") * 2
        ds_oracle = api.mul(ds0, ref, name="ds_oracle")
        perp_value = ds_oracle - api.mul(opt, ds_oracle, name="option_reference")
        dn_value = api.mul(dn0, mark, name="dn_value")
        fill_risk = (pick(api, inp.jsel, st.im, "im"), pick(api, inp.jsel, st.mm, "mm"))
        # MR_b − MR_a per contract shrunk: o·mf, or mm_j when the update buys (shrinks a short)
        perp_unit = maint_price - api.mul(opt, maint_price, name="perp_unit")
        short_unit = api.mul(opt, fill_risk[1], name="short_unit")
        sold = api.mul(short_unit, side0, name="short_unit_sells0")
        instrument = market + api.mul(opt, m + jslot - market, name="instrument")
        sid = pick(api, inp.jsel, t.sid, "sid")
        signed = market + api.mul(opt, OPTION_BASE + sid - market, name="signed_instrument")

        liq_fee = api.mul(liq, inp.fee[1], name="liquidator_fee")
        _order_checks(api, inp, 0, trade + liq, side, inp.fee[0] + liq_fee, g.oracle_time)
        _order_checks(api, inp, 1, trade, 1 - side, inp.fee[1], g.oracle_time)
        a0, a1 = inp.acct
        signer0 = a0 + api.mul(liq, a1 - a0, name="order0_account")
        pre = []
        for o, (acct, s) in enumerate(((signer0, side), (a1, 1 - side))):
            size, limit, max_fee, order_id, expiry = inp.orders[o]
            pre.append(order_preimage(
                g.domain, acct, signed, s, size, limit, max_fee, order_id, expiry
            ))  # fmt: skip
        (size0, *_, id0, _), (size1, *_, id1, _) = inp.orders
        liq_id = api.mul(liq, id0, name="liquidator_id")
        liq_size = api.mul(liq, size0, name="liquidator_size")
    ds_perp = ds0 - dn0
    return FillTerms(
        market=market,
        instrument=instrument,
        opt=opt,
        jslot=jslot,
        oracle=ref,
        mark=mark,
        maint_price=maint_price,
        unit_risk=(perp_unit + short_unit - sold, perp_unit + sold),
        fill_risk=fill_risk,
        penalty=penalty,
        side0=side0,
        ds=(ds_perp, -ds_perp),
        dn=(dn0, -dn0),
        paid0=paid0,
        ds_oracle=ds_oracle,
        perp_value=(perp_value, -perp_value),
        dn_value=(dn_value, -dn_value),
        order_ids=(id0 - liq_id, id1 + liq_id),
        order_sizes=(size0 - liq_size, size1 + liq_size),
        preimages=(pre[0], pre[1]),
    )
