"""Deposit, withdraw and transfer: amounts, collateral deltas, the signed message, key rules.

``rollup.effects`` (``deposit``, ``withdraw``, ``transfer``) and ``rollup.state``::

    deposit   0 < amount < 2^63 (quanta); credited: collateral += amount·2^32; an empty account
              takes the deposit's key (on BabyJubJub, x ≠ 0; subgroup membership is checked by
              the settlement layer when it queues the request); a non-empty account is credited
              only under its own key:
                  empty    = [x = 0 ∧ y = 0]            same = [x = pubkey_x ∧ y = pubkey_y]
                  foreign  = ¬empty ∧ ¬same
                  credited ⇒ ¬foreign;  refunded ⇒ foreign ∨ the credit overflows 2^95
                  (the overflow: circuits.batch.refunds)
    withdraw  0 < amount < 2^63; collateral −= amount·2^32; nonce; signature of
              Poseidon(2, domain, account, amount, l1_address, nonce)
    transfer  0 < amount < 2^95 (value units); sender −amount, recipient +amount; the recipient
              exists, sender ≠ recipient; signature of
              Poseidon(3, domain, sender, recipient, amount, nonce)
    forced    collateral −= amount·2^32 (amount: circuits.batch.refunds)

Both messages are one Poseidon(6) preimage (hashed by circuits.batch.signers): the unused fields
are 0 (acct1 for a withdrawal, l1_address for a transfer), so its inputs 3, 4 are (amount, l1)
or (recipient, amount).
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import cond_range, nonzero_if
from circuits.batch.inputs import SlotInputs
from circuits.batch.state import AccountVars, GlobalVars
from circuits.linear import Variable
from protocol import babyjubjub as bjj
from protocol.fields import inverse_or_zero
from protocol.messages import transfer_preimage, withdraw_preimage
from protocol.spec import (
    AMOUNT_BITS,
    DEPOSIT,
    FORCED_WITHDRAW,
    L1_ADDRESS_BITS,
    TRANSFER,
    TRANSFER_BITS,
    VALUE_SCALE,
    WITHDRAW,
)

__all__ = ["DepositKeys", "TransferTerms", "deposit_keys", "is_empty", "transfer_terms"]


@dataclass(frozen=True)
class TransferTerms:
    dc: tuple[Variable, Variable]  #: collateral deltas of updates 0 and 1
    preimage: list[Variable]  #: the withdraw or transfer message's preimage


def transfer_terms(api: API, inp: SlotInputs, g: GlobalVars) -> TransferTerms:
    """Range checks, deltas and the message preimage of the collateral-moving types."""
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
        x = a1 + api.mul(sel[WITHDRAW], amount, name="msg_x")
        y = inp.l1_address + a_tr
        w = withdraw_preimage(g.domain, a0, x, y, inp.nonce)
        t = transfer_preimage(g.domain, a0, x, y, inp.nonce)
        assert w[1:] == t[1:]  # the same inputs after the tag
        tag = sel[WITHDRAW] * w[0] + sel[TRANSFER] * t[0]
    return TransferTerms((dc0, a_tr), [tag, *w[1:]])


def is_empty(api: API, acct: AccountVars, name: str) -> Variable:
    """[pubkey = (0, 0)]. 5 constraints."""
    with api.namespace(name):
        return api.mul(
            api.is_zero(acct.pubkey_x, "x"), api.is_zero(acct.pubkey_y, "y"), name="both"
        )


def _inverse_or_zero(x: int, en: int) -> list[int]:
    return [inverse_or_zero(x) if en else 0]


@dataclass(frozen=True)
class DepositKeys:
    refunded: Variable  #: deposit ∧ flag
    foreign: Variable  #: the account is non-empty and of another key
    register: Variable  #: a credited deposit into an empty account


def deposit_keys(api: API, inp: SlotInputs, old0: AccountVars, empty0: Variable) -> DepositKeys:
    """The key rules of a deposit (module docstring) on update 0's account."""
    px, py = inp.pubkey
    dep = inp.sel[DEPOSIT]
    with api.namespace("deposit"):
        refunded = api.mul(dep, inp.flag, name="refunded")
        same = api.mul(
            api.is_equal(old0.pubkey_x, px, "same_x"),
            api.is_equal(old0.pubkey_y, py, "same_y"),
            name="same_key",
        )
        foreign = 1 - empty0 - same + api.mul(empty0, same, name="empty_same")
        api.assert_product(dep - refunded, foreign, 0, "credited_own_key")
        reg = api.mul(dep - refunded, empty0, name="register")
        x2 = api.mul(px, px, name="x2")
        y2 = api.mul(py, py, name="y2")
        x2y2 = api.mul(x2, y2, name="x2y2")
        curve = x2 * bjj.A + y2 - 1 - x2y2 * bjj.D
        api.assert_product(reg, curve, 0, "pubkey_on_curve")
        (inv,) = api.hint(_inverse_or_zero, [px, reg], 1, "x_inv")
        api.assert_product(api.mul(reg, px, name="reg_x"), inv, reg, "pubkey_not_identity")
        api.assert_product(inv, 1 - reg, 0, "x_inv_pinned")
    return DepositKeys(refunded, foreign, reg)
