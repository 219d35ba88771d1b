"""Oracle updates: funding accrual, new prices and rates, the oracle's signed message.

``rollup.effects.oracle`` (o = the oracle slot's selector, ts its timestamp, G the global state
before the slot)::

    oracle_time < ts < 2^40:      dt = o·(ts − oracle_time),  dt − o ∈ [0, 2^40)
    F_m' = F_m + δ_m,  δ_m = ⌊rate_m·dt·price_m / 2^32⌋        (rate and price in force)
        rate_m·dt·price_m = δ_m·2^32 + rem_m,  0 ≤ rem_m < 2^32,  |F_m'| ≤ 2^96 − 1
        (|F_m| < 2^96 by induction, so |δ_m| < 2^97: both sides are integers < 2^137 and the
        division is exact over the integers; no separate range check of δ_m is needed)
    0 < price_m' < 2^64;   max_rate_m − rate_m', max_rate_m + rate_m' ∈ [0, 2^33)
        (so −max ≤ rate' ≤ max as integers: their sum 2·max < 2^33 leaves no wrapped value;
        rate' + 2^32 ∈ (0, 2^33) is the pubdata field)
    price_m := o ? price_m' : price_m,  rate_m := o ? rate_m' : rate_m,  oracle_time += dt
    message preimage oracle_preimage(domain, oracle_time, ts, prices', rates')   (signed by the
    oracle key, hashed by circuits.batch.signers; rates in offset binary; the oracle time before
    the slot is the update's ``previous``: an update signed after another one than the last
    applied fails its signature)

Every unused input is 0 outside an oracle slot, so dt = δ = 0 there.
"""

from __future__ import annotations

from dataclasses import replace

from circuits.api import API
from circuits.batch.arith import bounded, nonzero_if
from circuits.batch.inputs import SlotInputs
from circuits.batch.state import GlobalVars
from protocol.messages import oracle_preimage
from protocol.spec import (
    FUNDING_BITS,
    ORACLE,
    PRICE_BITS,
    RATE_BITS,
    RATE_SCALE,
    TIME_BITS,
)
from prover.fields import R

__all__ = ["oracle_update"]

_RATE_SHIFT = RATE_SCALE.bit_length() - 1
_HALF = R >> 1


def _delta_hint(product: int) -> list[int]:
    v = product - R if product > _HALF else product
    q, rem = divmod(v, RATE_SCALE)
    return [q, rem]


def oracle_update(api: API, inp: SlotInputs, g: GlobalVars) -> tuple[GlobalVars, list]:
    """(global state after the slot's oracle update, the oracle message's preimage)."""
    so, ts = inp.sel[ORACLE], inp.timestamp
    with api.namespace("oracle"):
        api.range_check(ts, TIME_BITS, "timestamp_range")
        dt = api.mul(so, ts - g.oracle_time, name="dt")
        api.range_check(dt - so, TIME_BITS, "time_increases")
        prices, rates, funding = [], [], []
        for k in range(len(g.prices)):
            new_p, new_r = inp.prices[k], inp.rates[k]
            api.range_check(new_p, PRICE_BITS, f"price_range{k}")
            nonzero_if(api, so, new_p, f"price_positive{k}")
            api.range_check(g.max_rate[k] - new_r, RATE_BITS + 1, f"rate_ceiling{k}")
            api.range_check(g.max_rate[k] + new_r, RATE_BITS + 1, f"rate_floor{k}")
            prices.append(g.prices[k] + api.mul(so, new_p - g.prices[k], name=f"set_price{k}"))
            rates.append(g.rates[k] + api.mul(so, new_r - g.rates[k], name=f"set_rate{k}"))
            rate_dt = api.mul(g.rates[k], dt, name=f"rate_dt{k}")
            product = api.mul(rate_dt, g.prices[k], name=f"rate_dt_price{k}")
            delta, rem = api.hint(_delta_hint, [product], 2, f"delta{k}")
            api.range_check(rem, _RATE_SHIFT, f"delta_rem{k}")
            api.assert_equal(delta * RATE_SCALE + rem, product, f"delta_division{k}")
            index = g.funding[k] + delta
            bounded(api, index, FUNDING_BITS, f"funding_index_range{k}")
            funding.append(index)
        # chained: the update signs the oracle time it follows, so an update applies only on
        # the one before it (the operator cannot skip any)
        preimage = oracle_preimage(g.domain, g.oracle_time, ts, inp.prices, inp.rates)
        new = replace(
            g,
            prices=tuple(prices),
            funding=tuple(funding),
            rates=tuple(rates),
            oracle_time=g.oracle_time + dt,
        )
    return new, preimage
