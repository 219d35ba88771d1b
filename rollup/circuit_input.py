"""A sealed batch (``rollup.witness.BatchWitness``) as the batch circuit's input assignment.

The native state machine is the witness source (gnark's rollup example): every value below is
read from the applied transactions, their effects and the recorded leaf updates; nothing is
recomputed here except layouts. Input names and meanings: ``circuits.batch.inputs`` (per slot)
and ``circuits.batch.circuit`` (batch level). Signed integers are passed as Python ints; the
solver maps them to x mod r like ``rollup.account.to_field``.
"""

from __future__ import annotations

from circuits.batch.spec import BatchShape
from protocol.pubdata import CHUNK_WIDTH
from protocol.spec import (
    DEPOSIT,
    FORCED_WITHDRAW,
    FUNDING,
    LIQUIDATE,
    N_TX_TYPES,
    ORACLE,
    TRADE,
    TRANSFER,
    WITHDRAW,
    RollupParams,
)
from rollup.account import Account, GlobalState
from rollup.tx import SignedOrder
from rollup.witness import BatchWitness, SlotWitness

__all__ = ["account_inputs", "batch_assignment", "global_inputs", "shape_of", "slot_assignment"]

_NO_SIG = [0, 1, 0]


def shape_of(params: RollupParams) -> BatchShape:
    """The circuit shape of a rollup: (B, D, M)."""
    return BatchShape(params.batch_slots, params.depth, params.n_markets)


def account_inputs(account: Account) -> list[int]:
    """[pubkey_x, pubkey_y, nonce, collateral, size_0, f_0, ...] (the leaf preimage)."""
    out = [account.pubkey_x, account.pubkey_y, account.nonce, account.collateral]
    for p in account.positions:
        out += [p.size, p.funding_index]
    return out


def global_inputs(g: GlobalState) -> list[int]:
    """[price, F, initial, maintenance, max_rate per market..., oracle pk, times, fee pool]."""
    out: list[int] = []
    for m in g.markets:
        out += [m.price, m.funding_index, m.initial_fraction, m.maintenance_fraction]
        out.append(m.max_funding_rate)
    return [*out, g.oracle_pk_x, g.oracle_pk_y, g.last_oracle_time, g.last_funding_time, g.fee_pool]


def _order(signed: SignedOrder) -> list[int]:
    o = signed.order
    return [o.size, o.limit_price, o.fee, o.expiry]


def _sig(signature) -> list[int]:
    return [signature.r8_x, signature.r8_y, signature.s]


def slot_assignment(w: SlotWitness, shape: BatchShape) -> dict[str, int | list[int]]:
    """The inputs of one slot (without the ``slot{s}.`` prefix)."""
    m = shape.n_markets
    e, tx = w.effect, w.tx
    a: dict[str, int | list[int]] = {
        "sel": [int(t == w.tx_type) for t in range(N_TX_TYPES)],
        "acct": [0, 0],
        "amount": 0,
        "l1_address": 0,
        "pubkey": [0, 0],
        "flag": 0,
        "msel": [0] * m,
        "side": 0,
        "quantity": 0,
        "price": 0,
        "fee": [0, 0],
        "order0": [0] * 4,
        "order1": [0] * 4,
        "nonce": [0, 0],
        "sig0": list(_NO_SIG),
        "sig1": list(_NO_SIG),
        "timestamp": 0,
        "prices": [0] * m,
        "rates": [0] * m,
    }
    t = w.tx_type
    if t in (DEPOSIT, WITHDRAW, FORCED_WITHDRAW):
        a["acct"] = [e["account"], 0]
        a["amount"], a["l1_address"] = e["amount"], e["l1_address"]
    if t == DEPOSIT:
        a["pubkey"], a["flag"] = [e["pubkey_x"], e["pubkey_y"]], e["refunded"]
    elif t == FORCED_WITHDRAW:
        a["flag"] = e["void"]
    elif t in (WITHDRAW, TRANSFER):
        a["nonce"], a["sig0"] = [tx.nonce, 0], _sig(tx.signature)
        if t == TRANSFER:
            a["acct"], a["amount"] = [e["sender"], e["recipient"]], e["amount"]
    elif t in (TRADE, LIQUIDATE):
        a["msel"] = [int(k == e["market"]) for k in range(m)]
        a["quantity"], a["price"] = e["quantity"], e["price"]
        if t == TRADE:
            a["acct"], a["side"] = [e["maker"], e["taker"]], e["maker_side"]
            a["fee"] = [e["maker_fee"], e["taker_fee"]]
            a["order0"], a["order1"] = _order(tx.maker), _order(tx.taker)
            a["nonce"] = [tx.maker.order.nonce, tx.taker.order.nonce]
            a["sig0"], a["sig1"] = _sig(tx.maker.signature), _sig(tx.taker.signature)
        else:
            a["acct"], a["side"] = [e["liquidated"], e["liquidator"]], e["liquidator_side"]
            a["fee"] = [0, e["fee"]]
            a["order0"] = _order(tx.liquidator)
            a["nonce"] = [tx.liquidator.order.nonce, 0]
            a["sig0"] = _sig(tx.liquidator.signature)
    elif t == ORACLE:
        a["timestamp"], a["prices"], a["sig0"] = tx.timestamp, list(tx.prices), _sig(tx.signature)
    elif t == FUNDING:
        a["timestamp"], a["rates"] = tx.timestamp, list(tx.rates)
    a["index"] = [u.index for u in w.updates]
    for u, upd in enumerate(w.updates):
        a[f"old{u}"] = account_inputs(upd.old_account)
        a[f"siblings{u}"] = list(upd.proof.siblings)
    return a


def batch_assignment(batch: BatchWitness, shape: BatchShape) -> dict[str, int | list[int]]:
    """The full assignment of ``circuits.batch.BatchCircuit(shape)`` for a sealed batch."""
    if len(batch.slots) != shape.batch_slots:
        raise ValueError(f"batch has {len(batch.slots)} slots, the shape {shape.batch_slots}")
    if len(batch.pubdata) != CHUNK_WIDTH * shape.batch_slots:
        raise ValueError(f"pubdata has {len(batch.pubdata)} elements")
    first = batch.slots[0]
    out: dict[str, int | list[int]] = {
        "old_root": batch.old_root,
        "new_root": batch.new_root,
        "commitment": batch.commitment,
        "accounts_root": first.updates[0].proof.old_root,
        "global": global_inputs(first.old_global),
    }
    for s, w in enumerate(batch.slots):
        for name, value in slot_assignment(w, shape).items():
            out[f"slot{s}.{name}"] = value
    return out
