"""Forced withdrawals, and the proven reasons of a refunded deposit or a void forced withdrawal.

``rollup.effects`` ``forced_withdraw`` (update 0, funding settled, unless void)::

    free   = ⌊((TV − LV)·10^6 − IR) / 10^6⌋       (LV: the long options' value, uncounted)
    amount = min(max(0, ⌊min(collateral, free) / 2^32⌋), 2^63 − 1)

``deposit`` returning None (refunded) and ``forced_withdraw`` returning None (void); the request's
account is update 0's leaf, read and not written::

    refunded deposit        ⇒ foreign key (circuits.batch.transfer) ∨
                              |collateral_s + amount·2^32| ≥ 2^95
    void forced withdrawal  ⇒ empty account ∨ |collateral_s| ≥ 2^95
    forced withdrawal of an empty account ⇒ void  (|collateral_s| ≥ 2^95 ⇒ void: the forced
                              amount's range check on collateral_s)

|collateral_s| < 2^95 + M·2^48·2^97 < 2^149 (M ≤ 8): the overflow checks use 150 bits.
"""

from __future__ import annotations

from circuits.api import API
from circuits.batch.account import AccountUpdate
from circuits.batch.arith import bounded, cond_range, floor_div, sign_ge
from circuits.batch.inputs import SlotInputs
from circuits.batch.spec import BatchShape
from circuits.linear import Value, Variable, as_variable
from protocol.spec import (
    AMOUNT_BITS,
    COLLATERAL_BITS,
    FORCED_WITHDRAW,
    FRACTION_BITS,
    FRACTION_SCALE,
    VALUE_SCALE,
)
from prover.fields import R

__all__ = ["assert_overflows", "forced_amount_check", "refund_reasons"]

_OVERFLOW_BITS = 150


def forced_amount_check(api: API, shape: BatchShape, inp: SlotInputs, upd: AccountUpdate) -> None:
    """forced_withdraw ⇒ amount equals the native formula (0 when void)."""
    sf = inp.sel[FORCED_WITHDRAW]
    q_bits = max(shape.tv_bits, shape.risk_bits - FRACTION_BITS + 1) + 2
    with api.namespace("forced"):
        en = sf - api.mul(sf, inp.flag, name="not_void")
        withdrawn = inp.amount * VALUE_SCALE
        tv_s = upd.total_value + withdrawn
        tv_s = tv_s - upd.long_value  # |TV − LV| has TV's bound (spec.py)
        excess = api.mul(en, tv_s * FRACTION_SCALE - upd.initial_risk, name="excess")
        free = floor_div(api, excess, FRACTION_SCALE, q_bits, "free")
        cash = api.mul(en, upd.new.collateral + withdrawn, name="cash")
        bounded(api, cash, COLLATERAL_BITS, "settled_collateral_range")
        lt = api.less_than(cash, free, q_bits, signed=True, name="cash_lt_free")
        v = api.select(lt, cash, free, "min")
        positive = sign_ge(api, v, q_bits, "positive")
        quanta = floor_div(api, api.mul(positive, v, name="clamped"), VALUE_SCALE, q_bits, "quanta")
        cap = (1 << AMOUNT_BITS) - 1
        below = api.less_than(quanta, cap, q_bits, signed=True, name="below_cap")
        amount = api.select(below, quanta, cap, "capped")
        api.assert_product(sf, inp.amount - amount, 0, "amount")


def _overflow_sign(x: int, en: int) -> list[int]:
    v = x - R if x > R >> 1 else x
    return [int(bool(en) and v >= 0)]


def assert_overflows(api: API, x: Value, en: Value, name: str) -> None:
    """en ⇒ |x| ≥ 2^95 for |x| < 2^150: with a hinted sign s (pinned to 0 when en = 0),
    en·(s ? x − 2^95 : −x − 2^95) ∈ [0, 2^150)."""
    x = as_variable(x)
    with api.namespace(name):
        (s,) = api.hint(_overflow_sign, [x, en], 1, "sign")
        api.assert_boolean(s, "sign_bool")
        api.assert_product(s, 1 - as_variable(en), 0, "sign_pinned")
        gap = -x - (1 << COLLATERAL_BITS) + api.mul(s, x * 2, name="signed")
        cond_range(api, en, gap, _OVERFLOW_BITS, "beyond")


def refund_reasons(
    api: API,
    inp: SlotInputs,
    settled0: Value,
    refunded: Variable,
    foreign: Value,
    empty0: Variable,
) -> None:
    """A refunded deposit of the account's own key (or into an empty account) only if the credit
    overflows; a void forced withdrawal only if the account is empty or out of range."""
    with api.namespace("refund"):
        own = api.mul(refunded, 1 - as_variable(foreign), name="own_key")
        credit = as_variable(settled0) + inp.amount * VALUE_SCALE
        assert_overflows(api, credit, own, "deposit_overflows")
        void = api.mul(inp.sel[FORCED_WITHDRAW], inp.flag, name="void")
        void_nonempty = api.mul(void, 1 - empty0, name="void_nonempty")
        assert_overflows(api, settled0, void_nonempty, "collateral_out_of_range")
        api.assert_product(inp.sel[FORCED_WITHDRAW] - void, empty0, 0, "forced_nonempty")
