"""The order book: resting signed orders in ``orders.json``, matched into trades by the node.

An order names an instrument (a perpetual market m, or ``OPTION_BASE`` + an option series id) and
an ``order_id`` that is unique per account. The protocol keeps per-account fill records
(``rollup.fills``), so a signed order can execute in several trades, across batches, never beyond
its size, and resting orders never take the account's nonce (withdrawals and transfers go on while
orders rest). The book therefore keeps:

- the resting signed orders, in arrival order;
- per account, the next order id it hands out (``next_id``): ids are monotone per account, so the
  protocol's window of the ``ORDER_RECORDS`` most recent fill records admits every new order.

What an order has filled is read from the state's fill records, never kept here: a record with the
order's id holds its filled quantity; an id below the account's ``order_floor`` is dead (its record
was evicted, it can never execute again); any other id has filled nothing. ``remaining`` gives the
quantity left; dead and filled orders leave the book (``prune``).

Matching (price-time priority): an incoming order fills against resting orders of the same
instrument, the other side and another account whose limit crosses it, best price first, then the
oldest; each trade executes at the resting (maker) order's limit for the quantity both have left,
each side paying at most its signed maximum fee pro rata (``fee_for``). What is left of the
incoming order rests. The caller holds the directory lock (one process at a time) and the book's
own lock (one thread at a time), so two orders of one account never take the same id or maker.

A cancellation is an application-level message (the book is off-chain): the account key signs
``Poseidon(TAG_CANCEL, domain, account, order_id)`` (``cancel_message``) with a tag outside the
protocol's signed-message tags, bound to the rollup's domain like every protocol message.

``orders.json`` is a checksummed envelope (``rollup.node.files``) of ``{"next_ids": {account:
id}, "orders": [SignedOrder.to_list()]}`` with integers as decimal strings, replaced atomically.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from protocol.spec import (
    OPTION_BASE,
    ORDER_ID_BITS,
    SELL,
    TAG_DOMAIN,
    TAG_ESCAPE,
    TAG_FORCED,
    TAG_LIST,
    TAG_MARKS,
    TAG_ORACLE,
    TAG_ORDER,
    TAG_TRANSFER,
    TAG_WITHDRAW,
)
from rollup.account import Account
from rollup.hashing import poseidon
from rollup.node.errors import CorruptFile, NodeError
from rollup.node.files import ints, read_envelope, strs, write_envelope
from rollup.tx import Order, SignedOrder

__all__ = [
    "TAG_CANCEL",
    "OrderBook",
    "cancel_message",
    "crosses",
    "fee_for",
    "filled",
    "remaining",
]

#: Tag of an order cancellation: an application-level message, outside the protocol's tags
#: (``protocol.spec.TAG_*``), so no cancellation is ever a protocol message.
TAG_CANCEL = 100
PROTOCOL_TAGS = frozenset((TAG_ORDER, TAG_WITHDRAW, TAG_TRANSFER, TAG_ORACLE, TAG_FORCED,
                           TAG_ESCAPE, TAG_DOMAIN, TAG_LIST, TAG_MARKS))  # fmt: skip


def cancel_message(domain: int, account: int, order_id: int) -> int:
    """What an account's key signs to cancel its resting order ``order_id``."""
    return poseidon([TAG_CANCEL, domain, account, order_id])


FILE = "orders.json"
RECOVER = (
    "restore orders.json from a backup, or replace it with an empty book "
    "(resting orders are not on L1; their owners re-submit them)"
)


def filled(account: Account, order_id: int) -> int | None:
    """What order ``order_id`` of ``account`` has filled (its fill record), or None if it is
    dead (below the account's order floor: it can never execute again)."""
    if order_id < account.order_floor:
        return None
    return next((r.filled for r in account.orders if r.order_id == order_id), 0)


def remaining(account: Account, order: Order) -> int:
    """The quantity ``order`` can still fill (0 if it is dead or filled)."""
    done = filled(account, order.order_id)
    return 0 if done is None else max(order.size - done, 0)


def fee_for(order: Order, quantity: int) -> int:
    """The fee a fill of ``quantity`` pays: the signed maximum pro rata, rounded down."""
    return order.max_fee * quantity // order.size


def crosses(maker: Order, taker: Order) -> bool:
    """Whether a resting ``maker`` order can fill ``taker`` (same instrument, other side and
    account, limits crossing)."""
    if (
        maker.instrument != taker.instrument
        or maker.side == taker.side
        or maker.account == taker.account
    ):
        return False
    if taker.side == SELL:
        return maker.limit_price >= taker.limit_price
    return maker.limit_price <= taker.limit_price


def instrument_name(instrument: int, market_names: tuple[str, ...]) -> str:
    """A market's name, or ``series:ID``."""
    if instrument >= OPTION_BASE:
        return f"series:{instrument - OPTION_BASE}"
    return market_names[instrument] if instrument < len(market_names) else f"market {instrument}"


@dataclass
class BookState:
    """The parsed ``orders.json``."""

    next_ids: dict[int, int]
    orders: list[SignedOrder]


class OrderBook:
    """``orders.json`` of one rollup directory, and the lock one process's threads share."""

    _locks: ClassVar[dict[Path, threading.RLock]] = {}

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / FILE
        self.lock = OrderBook._locks.setdefault(self.path.resolve(), threading.RLock())

    @classmethod
    def create(cls, directory: str | Path) -> OrderBook:
        book = cls(directory)
        book.save(BookState({}, []))
        return book

    def read(self) -> BookState:
        body = read_envelope(self.path, "orders", RECOVER)
        try:
            if not isinstance(body, dict) or set(body) != {"next_ids", "orders"}:
                raise ValueError("not an object with next_ids and orders")
            next_ids = {int(k): int(v) for k, v in body["next_ids"].items()}
            orders = [SignedOrder.from_list(ints(o)) for o in body["orders"]]
        except (TypeError, ValueError, IndexError, AttributeError) as e:
            raise CorruptFile(
                path=self.path, detail=f"not an order book ({e}); {RECOVER}"
            ) from None
        return BookState(next_ids, orders)

    def load(self) -> list[SignedOrder]:
        return self.read().orders

    def save(self, book: BookState) -> None:
        body = {
            "next_ids": {str(k): str(v) for k, v in sorted(book.next_ids.items())},
            "orders": [strs(o.to_list()) for o in book.orders],
        }
        write_envelope(self.path, "orders", body)

    def next_id(self, account: int, state_account: Account) -> int:
        """The id the account's next order takes: above every id it used, in the book or in
        its fill records, and not below its order floor."""
        used = [r.order_id for r in state_account.orders]
        candidates = [self.read().next_ids.get(account, 1), state_account.order_floor, 1]
        candidates += [i + 1 for i in used]
        nid = max(candidates)
        if nid >= 1 << ORDER_ID_BITS:
            raise NodeError(detail=f"account {account} has used every order id")
        return nid

    def take_id(self, account: int, order_id: int, state_account: Account) -> None:
        """Record that ``order_id`` is used (ids are monotone: a smaller one is refused)."""
        expected = self.next_id(account, state_account)
        if order_id < expected:
            raise NodeError(
                detail=f"order id {order_id} of account {account} is used or too old; "
                f"the next is {expected}"
            )
        book = self.read()
        book.next_ids[account] = order_id + 1
        self.save(book)

    def add(self, order: SignedOrder) -> None:
        book = self.read()
        book.orders.append(order)
        self.save(book)

    def makers(self, taker: Order) -> list[SignedOrder]:
        """Resting orders that cross ``taker``: best price first, then the oldest."""
        found = [o for o in self.load() if crosses(o.order, taker)]
        sign = -1 if taker.side == SELL else 1  # a seller wants the highest bid first
        return sorted(found, key=lambda o: sign * o.order.limit_price)  # stable: time priority

    def remove(self, account: int, order_id: int) -> SignedOrder | None:
        book = self.read()
        for k, o in enumerate(book.orders):
            if o.order.account == account and o.order.order_id == order_id:
                del book.orders[k]
                self.save(book)
                return o
        return None

    def prune(self, accounts: dict[int, Account], now: int | None = None) -> list[SignedOrder]:
        """Remove dead, filled (and, given ``now``, expired) orders; returns them. ``accounts``
        maps each resting order's account to its current state."""
        book = self.read()
        keep, gone = [], []
        for o in book.orders:
            a = accounts.get(o.order.account)
            expired = now is not None and o.order.expiry < now
            if a is None or expired or remaining(a, o.order) == 0:
                gone.append(o)
            else:
                keep.append(o)
        if gone:
            book.orders = keep
            self.save(book)
        return gone

    def cancel(self, account: int, order_id: int) -> SignedOrder:
        """Remove ``account``'s resting order ``order_id``; NodeError if there is none."""
        removed = self.remove(account, order_id)
        if removed is None:
            raise NodeError(detail=f"account {account} has no resting order {order_id}")
        return removed
