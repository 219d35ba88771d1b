"""Order fill records: how an account's signed orders execute at most their size, in part or in
full, without tying orders to the account nonce (so resting orders never block a withdrawal).

An account keeps ``R = ORDER_RECORDS`` records ``(order_id, filled)`` and an ``order_floor``.
A fill of ``q`` of an order (id, size) is recorded by exactly one rule:

    dead        id < order_floor                                  → refused (OrderDead)
    match       some record k has id_k = id      → filled_k += q, q ≤ size − filled_k
    allocate    no record has id                 → k = the first record of smallest id;
                                                   id_k < id (else refused: every record holds
                                                   a newer order), q ≤ size;
                                                   record k := (id, q),
                                                   order_floor := max(order_floor, id_k + 1)

Evicting the oldest record raises the floor past it, so an order whose record was evicted can
never execute again: an order never fills more than its size. Orders with increasing ids behave
like a window of the R most recent partially filled orders; empty records (id 0) and records of
dead orders are evicted first. The circuit enforces the same rule with the record index as a
witness (``circuits.batch.orders``); the choice is unique, so the transition is.
"""

from __future__ import annotations

from dataclasses import replace

from protocol.spec import ORDER_ID_BITS
from rollup.account import Account, OrderRecord
from rollup.errors import OrderDead, SizeExceeded, ValueOutOfRange

__all__ = ["fill_order", "record_fill", "record_index"]


def record_index(account: Account, order_id: int) -> tuple[int, bool]:
    """(k, matched): the record an order's fill uses, and whether it already holds the order."""
    for k, rec in enumerate(account.orders):
        if rec.order_id == order_id:
            return k, True
    ids = [rec.order_id for rec in account.orders]
    return ids.index(min(ids)), False


def record_fill(index: int, account: Account, order_id: int, quantity: int) -> tuple[Account, int]:
    """(the account with ``quantity`` more of order ``order_id`` recorded, the order's filled
    total after it); the caller checks the total against the order's size."""
    if not isinstance(order_id, int) or not 0 < order_id < 1 << ORDER_ID_BITS:
        raise ValueOutOfRange(name="order id", value=order_id, low=1, high=(1 << ORDER_ID_BITS) - 1)
    if order_id < account.order_floor:
        raise OrderDead(
            account=index, order_id=order_id, detail=f"below the order floor {account.order_floor}"
        )
    k, matched = record_index(account, order_id)
    records = list(account.orders)
    floor = account.order_floor
    if matched:
        filled = records[k].filled + quantity
    else:
        oldest = records[k].order_id
        if oldest >= order_id:
            raise OrderDead(
                account=index, order_id=order_id, detail="every fill record holds a newer order"
            )
        filled, floor = quantity, max(floor, oldest + 1)
    records[k] = OrderRecord(order_id, filled)
    return replace(account, order_floor=floor, orders=tuple(records)), filled


def fill_order(index: int, account: Account, order_id: int, size: int, quantity: int) -> Account:
    """``record_fill`` and the order's size: filled total ≤ size, else SizeExceeded."""
    after, filled = record_fill(index, account, order_id, quantity)
    if filled > size:
        raise SizeExceeded(
            account=index, quantity=quantity, what="order's unfilled size",
            limit=size - filled + quantity,
        )  # fmt: skip
    return after
