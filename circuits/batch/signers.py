"""Who signs what in a slot: the signed nonce, the two messages and keys, the EdDSA checks.

``rollup.state`` (``_check_signed``, ``_check_order``, ``_oracle``)::

    nonce = (withdraw + transfer)·nonce_0          (the sender's account nonce; orders carry
                                                    order ids instead: circuits.batch.orders)
    sig0:  withdraw, transfer   message of circuits.batch.transfer,  key of update 0
           trade (maker)        order0's message,                    key of update 0
           liquidate            order0's message (the liquidator),   key of update 1
           oracle               the oracle message,                  the oracle key
    sig1:  trade (taker)        order1's message,                    key of update 1
    deleverage, deposit, forced withdrawal, no-op: no signature (the checks are disabled with
    the placeholder key (0, 1); ``circuits.gadgets.eddsa``)

Messages carry the domain of the global state, so a message signed for another deployment
never verifies.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.api import API
from circuits.batch.inputs import SlotInputs
from circuits.batch.state import AccountVars, GlobalVars
from circuits.gadgets.eddsa import eddsa_poseidon_verify
from circuits.linear import Value, Variable
from protocol.spec import LIQUIDATE, ORACLE, TRADE, TRANSFER, WITHDRAW

__all__ = ["signatures"]


def signatures(
    api: API,
    inp: SlotInputs,
    old: Sequence[AccountVars],
    g: GlobalVars,
    transfer_message: Value,
    order_messages: tuple[Value, Value],
    oracle_message: Value,
) -> None:
    """The nonce row and both signature checks of the module docstring."""
    sel = inp.sel
    moves = sel[WITHDRAW] + sel[TRANSFER]
    signs0 = moves + sel[TRADE]
    api.assert_equal(inp.nonce, api.mul(moves, old[0].nonce, name="nonce_u0"), "nonce")
    with api.namespace("signers"):
        msg0 = api.sum(
            [
                api.mul(moves, transfer_message, name="msg_withdraw_transfer"),
                api.mul(sel[TRADE] + sel[LIQUIDATE], order_messages[0], name="msg_order0"),
                api.mul(sel[ORACLE], oracle_message, name="msg_oracle"),
            ]
        )
        msg1 = api.mul(sel[TRADE], order_messages[1], name="msg_order1")
        en0 = signs0 + sel[LIQUIDATE] + sel[ORACLE]
        pk0: list[Variable] = []
        keys = zip(
            (old[0].pubkey_x, old[0].pubkey_y),
            (old[1].pubkey_x, old[1].pubkey_y),
            g.oracle_pk,
            strict=True,
        )
        for c, (k0, k1, ko) in enumerate(keys):
            pk0.append(
                api.mul(signs0, k0, name=f"pk0_u0_{c}")
                + api.mul(sel[LIQUIDATE], k1, name=f"pk0_u1_{c}")
                + api.mul(sel[ORACLE], ko, name=f"pk0_oracle_{c}")
                + (1 - en0) * c
            )
        pk1 = [
            api.mul(sel[TRADE], k, name=f"pk1_u1_{c}") + (1 - sel[TRADE]) * c
            for c, k in enumerate((old[1].pubkey_x, old[1].pubkey_y))
        ]
    eddsa_poseidon_verify(api, (pk0[0], pk0[1]), msg0, tuple(inp.sigs[0]), enabled=en0, name="sig0")
    eddsa_poseidon_verify(
        api, (pk1[0], pk1[1]), msg1, tuple(inp.sigs[1]), enabled=sel[TRADE], name="sig1"
    )
