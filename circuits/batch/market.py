"""Oracle prices and funding ticks: the global-state updates of a slot.

rollup/effects.py ``oracle`` and ``funding``, rollup/tx.py ``OraclePrice``::

    oracle    message Poseidon(4, timestamp, price_0, ..., price_{M-1}) signed by the oracle key;
              last_oracle_time < timestamp < 2^40; 0 < price_m < 2^64; price_m := price; time := t
    funding   last_funding_time < timestamp ≤ last_oracle_time; |rate_m| ≤ max_rate_m;
              F_m += ⌊rate_m · Δt · price_m / 2^32⌋ (floor, also when negative), |F_m| ≤ 2^96 − 1;
              last_funding_time := timestamp
    every slot: fee_pool += fee0 + fee1 < 2^127 (only trades and liquidations have fees)

A rate is a signed field element; the two checks max − rate, max + rate ∈ [0, 2^33) pin it to
the integer interval [−max, max] (their sum 2·max < 2^33 leaves no room for a wrapped value).
"""

from __future__ import annotations

from dataclasses import replace

from circuits.api import API
from circuits.batch.arith import bounded, cond_range, floor_div, nonzero_if
from circuits.batch.inputs import SlotInputs
from circuits.batch.state import GlobalVars
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Variable
from protocol.messages import oracle_preimage
from protocol.spec import (
    FEE_POOL_BITS,
    FUNDING,
    FUNDING_BITS,
    ORACLE,
    PRICE_BITS,
    RATE_BITS,
    RATE_SCALE,
    TIME_BITS,
)

__all__ = ["market_update"]

#: ⌊rate·Δt·price / 2^32⌋ < 2^32·2^40·2^64 / 2^32 = 2^104 in absolute value
_DELTA_BITS = 106


def market_update(api: API, inp: SlotInputs, g: GlobalVars) -> tuple[GlobalVars, Variable]:
    """(global state after the slot, the oracle message). ~(130 + 320·M) constraints."""
    sel, ts = inp.sel, inp.timestamp
    so, sf = sel[ORACLE], sel[FUNDING]
    with api.namespace("market"):
        api.range_check(ts, TIME_BITS, "timestamp_range")
        cond_range(api, so, ts - g.oracle_time - 1, TIME_BITS, "oracle_time_increases")
        prices = []
        for k, (p, new) in enumerate(zip(g.prices, inp.prices, strict=True)):
            api.range_check(new, PRICE_BITS, f"oracle_price_range{k}")
            nonzero_if(api, so, new, f"oracle_price_positive{k}")
            prices.append(p + api.mul(so, new - p, name=f"set_price{k}"))
        message = poseidon(api, oracle_preimage(ts, inp.prices), "oracle_msg")
        cond_range(api, sf, ts - g.funding_time - 1, TIME_BITS, "funding_time_increases")
        cond_range(api, sf, g.oracle_time - ts, TIME_BITS, "funding_not_after_oracle")
        dt = ts - g.funding_time
        funding = []
        for k, rate in enumerate(inp.rates):
            cond_range(api, sf, g.max_rate[k] - rate, RATE_BITS + 1, f"funding_rate_bound{k}")
            cond_range(api, sf, g.max_rate[k] + rate, RATE_BITS + 1, f"funding_rate_floor{k}")
            rate_dt = api.mul(rate, dt, name=f"rate_dt{k}")
            product = api.mul(rate_dt, g.prices[k], name=f"rate_dt_price{k}")
            delta = floor_div(api, product, RATE_SCALE, _DELTA_BITS, f"funding_delta{k}")
            index = g.funding[k] + delta
            bounded(api, index, FUNDING_BITS, f"funding_index_range{k}")
            funding.append(index)
        fee_pool = g.fee_pool + inp.fee[0] + inp.fee[1]
        api.range_check(fee_pool, FEE_POOL_BITS, "fee_pool_range")
        new = replace(
            g,
            prices=tuple(prices),
            funding=tuple(funding),
            oracle_time=g.oracle_time + api.mul(so, ts - g.oracle_time, name="set_oracle_time"),
            funding_time=g.funding_time + api.mul(sf, dt, name="set_funding_time"),
            fee_pool=fee_pool,
        )
    return new, message
