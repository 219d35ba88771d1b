"""One batch slot: every transaction type of DESIGN §4 behind a one-hot selector.

A slot takes the accounts root and global state before it and returns them after it, with its
pubdata chunk. In order (each part's equations are in its module):

    sel one-hot; every field a type does not use is 0                       (inputs.USED_BY)
    nonce0/nonce1 = the signers' account nonces; signatures sig0 (withdraw, transfer, trade
        maker, liquidator, oracle) and sig1 (trade taker) by the right key     (eddsa gadget)
    deltas: transfer.py (deposit/withdraw/transfer), trade.py (fills, fees), market.py (oracle,
        funding), liquidation.py (liquidation, forced withdrawal)
    two leaf updates (account.py), chained: root → after update 0 → after update 1
        write0 = any account type except a refunded deposit / void forced withdrawal,
        write1 = transfer, trade, liquidation; the leaf of update 0 (written, or only read for a
        refund/void, whose reason liquidation.refund_reasons checks on it) and a written leaf 1
        are the tx's accounts
    margin: update 0 after withdraw/transfer/trade, update 1 after trade/liquidation:
        TV ≥ initial risk, or (trade/liquidation only) |size_market| decreased
        (≡ initial risk decreased: only that market changed, price·fraction > 0)
    chunk = packed fields of the selected type                                 (pubdata.py)
"""

from __future__ import annotations

from circuits.api import API
from circuits.batch.account import abs49, update_account
from circuits.batch.arith import pick
from circuits.batch.inputs import USED_BY, SlotInputs
from circuits.batch.liquidation import forced_amount_check, liquidation_checks, refund_reasons
from circuits.batch.market import market_update
from circuits.batch.pubdata import chunk
from circuits.batch.spec import BatchShape
from circuits.batch.state import AccountVars, GlobalVars
from circuits.batch.trade import fill_terms
from circuits.batch.transfer import register_key, transfer_terms
from circuits.gadgets.eddsa import eddsa_poseidon_verify
from circuits.linear import Variable
from protocol.spec import (
    DEPOSIT,
    FORCED_WITHDRAW,
    FUNDING,
    LIQUIDATE,
    N_TX_TYPES,
    NOOP,
    ORACLE,
    RATE_OFFSET,
    SIZE_BITS,
    TRADE,
    TRANSFER,
    WITHDRAW,
)
from prover.fields import R

__all__ = ["define_slot"]


def _field_values(inp: SlotInputs) -> dict[str, list[Variable]]:
    return {
        "acct0": [inp.acct[0]],
        "acct1": [inp.acct[1]],
        "amount": [inp.amount],
        "l1_address": [inp.l1_address],
        "pubkey": inp.pubkey,
        "flag": [inp.flag],
        "side": [inp.side],
        "quantity": [inp.quantity],
        "price": [inp.price],
        "fee0": [inp.fee[0]],
        "fee1": [inp.fee[1]],
        "order0": inp.orders[0],
        "order1": inp.orders[1],
        "nonce0": [inp.nonce[0]],
        "nonce1": [inp.nonce[1]],
        "timestamp": [inp.timestamp],
        "prices": inp.prices,
        "rates": inp.rates,
    }


def _selectors(api: API, inp: SlotInputs) -> None:
    for t, s in enumerate(inp.sel):
        api.assert_boolean(s, f"type_bool{t}")
    api.assert_equal(api.sum(inp.sel), 1, "type_onehot")
    for field, values in _field_values(inp).items():
        used = api.sum([inp.sel[t] for t in sorted(USED_BY[field])])
        for i, v in enumerate(values):
            api.assert_product(v, 1 - used, 0, f"unused_{field}{i}")
    for o in (0, 1):
        used = api.sum([inp.sel[t] for t in sorted(USED_BY[f"sig{o}"])])
        r8x, r8y, s = inp.sigs[o]
        api.assert_product(r8x, 1 - used, 0, f"unused_sig{o}_r8x")
        api.assert_product(r8y - 1, 1 - used, 0, f"unused_sig{o}_r8y")
        api.assert_product(s, 1 - used, 0, f"unused_sig{o}_s")


def _inverse_or_zero(x: int, en: int) -> list[int]:
    return [pow(x, R - 2, R) if en and x else 0]


def _distinct(api: API, a: Variable, b: Variable, en: Variable, name: str) -> None:
    """en ⇒ a ≠ b: (a − b)·inv = en, inv·(1 − en) = 0. 2 constraints."""
    (inv,) = api.hint(_inverse_or_zero, [a - b, en], 1, name + ":inv")
    api.assert_product(a - b, inv, en, name)
    api.assert_product(inv, 1 - en, 0, name + ":pinned")


def _is_empty(api: API, acct: AccountVars, name: str) -> Variable:
    with api.namespace(name):
        return api.mul(
            api.is_zero(acct.pubkey_x, "x"), api.is_zero(acct.pubkey_y, "y"), name="both"
        )


def define_slot(
    api: API, shape: BatchShape, inp: SlotInputs, root: Variable, g: GlobalVars
) -> tuple[Variable, GlobalVars, list[Variable]]:
    """Constrain one slot; returns (accounts root after, global state after, pubdata chunk)."""
    sel, m = inp.sel, shape.n_markets
    _selectors(api, inp)
    old = [AccountVars.from_flat(inp.old[u], m) for u in (0, 1)]
    a0, a1 = inp.acct
    fill = sel[TRADE] + sel[LIQUIDATE]
    api.range_check(a0, shape.depth, "acct0_range")
    api.range_check(a1, shape.depth, "acct1_range")
    api.assert_boolean(inp.flag, "flag_bool")

    # signers, nonces and signatures
    signs0 = sel[WITHDRAW] + sel[TRANSFER] + sel[TRADE]
    n0 = api.mul(signs0, old[0].nonce, name="nonce0_u0") + api.mul(
        sel[LIQUIDATE], old[1].nonce, name="nonce0_u1"
    )
    api.assert_equal(inp.nonce[0], n0, "nonce0")
    api.assert_equal(inp.nonce[1], api.mul(sel[TRADE], old[1].nonce, name="nonce1_u1"), "nonce1")
    tr = transfer_terms(api, inp)
    fl = fill_terms(api, inp, g.oracle_time)
    g_after, oracle_msg = market_update(api, inp, g)
    with api.namespace("signers"):
        msg0 = api.sum(
            [
                api.mul(sel[WITHDRAW] + sel[TRANSFER], tr.message, name="msg_withdraw_transfer"),
                api.mul(fill, fl.order_messages[0], name="msg_order0"),
                api.mul(sel[ORACLE], oracle_msg, name="msg_oracle"),
            ]
        )
        msg1 = api.mul(sel[TRADE], fl.order_messages[1], name="msg_order1")
        en0 = signs0 + sel[LIQUIDATE] + sel[ORACLE]
        pk0 = []
        for c, (k0, k1, ko) in enumerate(
            zip(
                (old[0].pubkey_x, old[0].pubkey_y),
                (old[1].pubkey_x, old[1].pubkey_y),
                g.oracle_pk,
                strict=True,
            )
        ):
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

    # the two leaf updates
    empty = [_is_empty(api, old[u], f"empty{u}") for u in (0, 1)]
    api.assert_product(sel[TRANSFER], empty[1], 0, "recipient_exists")
    _distinct(api, a0, a1, sel[TRANSFER] + fill, "distinct_accounts")
    reg = register_key(api, inp, empty[0])
    pk_new = tuple(
        k + api.mul(reg, new - k, name=f"registered_{c}")
        for c, (k, new) in enumerate(
            zip((old[0].pubkey_x, old[0].pubkey_y), inp.pubkey, strict=True)
        )
    )
    write = (
        sel[DEPOSIT] + sel[WITHDRAW] + sel[TRANSFER] + fill + sel[FORCED_WITHDRAW] - inp.flag,
        sel[TRANSFER] + fill,
    )
    # the leaf read or written is the tx's account (also when a refund/void writes nothing)
    binds = (write[0] + inp.flag, write[1])
    inc = (signs0, fill)
    dc = (tr.dc[0] + fl.dc[0], tr.dc[1] + fl.dc[1])
    initial_price = [api.mul(g.prices[k], g.initial[k], name=f"initial_price{k}") for k in range(m)]
    maint_price = [api.mul(g.prices[k], g.maintenance[k], name=f"maint_price{k}") for k in range(m)]
    updates = []
    for u in (0, 1):
        api.assert_product(binds[u], inp.acct[u] - inp.index[u], 0, f"account{u}_is_leaf_index")
        with api.namespace(f"update{u}"):
            updates.append(
                update_account(
                    api,
                    shape,
                    g,
                    old[u],
                    root=root,
                    index=inp.index[u],
                    siblings=inp.siblings[u],
                    msel=inp.msel,
                    ds=fl.ds[u],
                    dc=dc[u],
                    inc=inc[u],
                    write=write[u],
                    pubkey=pk_new if u == 0 else None,
                    initial_price=initial_price,
                )
            )
        root = updates[u].root

    # margin after: TV ≥ initial risk, or (fills) the traded position shrank
    need = (signs0, fill)
    for u in (0, 1):
        with api.namespace(f"margin{u}"):
            before = pick(api, inp.msel, old[u].sizes, "position")
            shrank = api.less_than(
                abs49(api, before + fl.ds[u], "abs_after"),
                abs49(api, before, "abs_before"),
                SIZE_BITS + 1,
                name="shrank",
            )
            short = api.mul(need[u], 1 - updates[u].meets_initial, name="short")
            api.assert_product(short, 1 - api.mul(fill, shrank, name="fill_shrank"), 0, "initial")
    liquidation_checks(api, shape, inp, g, old[0], updates[0], maint_price)
    forced_amount_check(api, shape, inp, updates[0])
    refund_reasons(api, inp, updates[0], empty[0])

    fields = {
        NOOP: {},
        DEPOSIT: {
            "account": a0,
            "amount": inp.amount,
            "refunded": inp.flag,
            "l1_address": inp.l1_address,
            "pubkey_x": inp.pubkey[0],
            "pubkey_y": inp.pubkey[1],
        },
        WITHDRAW: {"account": a0, "amount": inp.amount, "l1_address": inp.l1_address},
        TRANSFER: {"sender": a0, "recipient": a1, "amount": inp.amount},
        TRADE: {
            "maker": a0,
            "taker": a1,
            "market": fl.market,
            "maker_side": inp.side,
            "quantity": inp.quantity,
            "price": inp.price,
            "maker_fee": inp.fee[0],
            "taker_fee": inp.fee[1],
        },
        ORACLE: {"timestamp": inp.timestamp} | {f"price_{k}": p for k, p in enumerate(inp.prices)},
        FUNDING: {"timestamp": inp.timestamp}
        | {f"rate_{k}": r + RATE_OFFSET for k, r in enumerate(inp.rates)},
        LIQUIDATE: {
            "liquidator": a1,
            "liquidated": a0,
            "market": fl.market,
            "liquidator_side": inp.side,
            "quantity": inp.quantity,
            "price": inp.price,
            "fee": inp.fee[1],
        },
        FORCED_WITHDRAW: {
            "account": a0,
            "amount": inp.amount,
            "void": inp.flag,
            "l1_address": inp.l1_address,
        },
    }
    assert len(fields) == N_TX_TYPES
    out = chunk(api, sel, fields, m)
    return root, g_after, out
