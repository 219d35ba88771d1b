"""Deposit, withdraw and transfer: amounts, collateral deltas, messages, registration.

rollup/effects.py and rollup/state.py (``_deposit``, ``_withdraw``, ``_transfer``)::

    deposit   0 < amount < 2^63 (quanta); collateral += amount·2^32; an empty account takes the
              deposit's key (on the curve, x ≠ 0; subgroup membership is checked by the settlement
              layer when the request is queued); refunded = no write.
    withdraw  0 < amount < 2^63; collateral −= amount·2^32; nonce; signature of
              Poseidon(2, account, amount, l1_address, nonce); after: TV ≥ initial risk.
    transfer  0 < amount < 2^95 (value units); sender −amount, recipient +amount; the recipient
              exists, sender ≠ recipient; signature of Poseidon(3, sender, recipient, amount,
              nonce); sender after: TV ≥ initial risk.
    forced    collateral −= amount·2^32 with amount computed in circuits.batch.liquidation.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import cond_range, nonzero_if
from circuits.batch.inputs import SlotInputs
from circuits.gadgets.poseidon import poseidon
from circuits.linear import Variable
from protocol import babyjubjub as bjj
from protocol.spec import (
    AMOUNT_BITS,
    DEPOSIT,
    FORCED_WITHDRAW,
    L1_ADDRESS_BITS,
    TAG_TRANSFER,
    TAG_WITHDRAW,
    TRANSFER,
    TRANSFER_BITS,
    VALUE_SCALE,
    WITHDRAW,
)

__all__ = ["TransferTerms", "register_key", "transfer_terms"]


@dataclass(frozen=True)
class TransferTerms:
    dc: tuple[Variable, Variable]  #: collateral deltas of updates 0 and 1
    message: (
        Variable  #: Poseidon(2, account, amount, l1, nonce) | Poseidon(3, from, to, amount, nonce)
    )


def transfer_terms(api: API, inp: SlotInputs) -> TransferTerms:
    """Range checks and deltas of the collateral-moving types. ~450 constraints."""
    sel, amount, (a0, a1) = inp.sel, inp.amount, inp.acct
    with api.namespace("transfer"):
        api.range_check(inp.l1_address, L1_ADDRESS_BITS, "l1_address_range")
        cond_range(api, sel[DEPOSIT] + sel[WITHDRAW], amount, AMOUNT_BITS, "amount_range")
        cond_range(api, sel[TRANSFER], amount, TRANSFER_BITS, "transfer_amount_range")
        moving = sel[DEPOSIT] + sel[WITHDRAW] + sel[TRANSFER]
        nonzero_if(api, moving, amount, "amount_positive")
        a_in = api.mul(sel[DEPOSIT], amount, name="deposit_amount")
        a_out = api.mul(sel[WITHDRAW] + sel[FORCED_WITHDRAW], amount, name="withdraw_amount")
        a_tr = api.mul(sel[TRANSFER], amount, name="transfer_amount")
        dc0 = (a_in - a_out) * VALUE_SCALE - a_tr
        # one Poseidon(5) for both messages: the unused fields are 0 (a1 for a withdrawal,
        # l1_address for a transfer), so (x, y) = (amount, l1) or (recipient, amount)
        tag = sel[WITHDRAW] * TAG_WITHDRAW + sel[TRANSFER] * TAG_TRANSFER
        x = a1 + api.mul(sel[WITHDRAW], amount, name="msg_x")
        y = inp.l1_address + a_tr
        msg = poseidon(api, [tag, a0, x, y, inp.nonce[0]], "withdraw_transfer_msg")
    return TransferTerms((dc0, a_tr), msg)


def _inverse_or_zero(x: int, en: int) -> list[int]:
    from prover.fields import R

    return [pow(x, R - 2, R) if en and x else 0]


def register_key(api: API, inp: SlotInputs, empty0: Variable) -> Variable:
    """The key of update 0 after a deposit into an empty account (else unchanged there):
    reg = deposit ∧ empty; reg ⇒ pubkey on BabyJubJub and pubkey_x ≠ 0 (not (0, ±1))."""
    px, py = inp.pubkey
    with api.namespace("register"):
        reg = api.mul(inp.sel[DEPOSIT], empty0, name="reg")
        x2 = api.mul(px, px, name="x2")
        y2 = api.mul(py, py, name="y2")
        x2y2 = api.mul(x2, y2, name="x2y2")
        curve = x2 * bjj.A + y2 - 1 - x2y2 * bjj.D
        api.assert_product(reg, curve, 0, "pubkey_on_curve")
        (inv,) = api.hint(_inverse_or_zero, [px, reg], 1, "x_inv")
        api.assert_product(api.mul(reg, px, name="reg_x"), inv, reg, "pubkey_not_identity")
        api.assert_product(inv, 1 - reg, 0, "x_inv_pinned")
    return reg
