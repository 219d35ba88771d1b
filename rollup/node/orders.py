"""The order book: resting signed orders in ``orders.json``, matched into trades by the node.

Semantics (kept as they are until the protocol gives orders ids and per-account fill records): an
incoming order is matched against the first resting order of the same market, the other side and
another account whose limit crosses it; the trade executes at the resting (maker) order's limit
price for min(size) with each side paying its own order's fee, and the maker order leaves the
book. An order that crosses nothing rests. An order's nonce is the account's nonce plus the number
of its resting orders.

What the book checks before anything is signed — the parts that need no protocol change: the
market exists, size and limit price are within the protocol widths (``rollup.node.units`` refuses
them in human units at the CLI), the expiry is after the last oracle time and within the time
width, and the account exists. The directory lock (``rollup.node.files.DirectoryLock``) held by
the caller serialises concurrent orders, so two processes never take the same nonce or maker.

``orders.json`` is a checksummed envelope (``rollup.node.files``) of ``SignedOrder.to_list()``
entries with integers as decimal strings, replaced atomically on every change.
"""

from __future__ import annotations

from pathlib import Path

from protocol.spec import PRICE_BITS, SELL, SIZE_BITS, TIME_BITS, RollupParams
from rollup.hashing import poseidon
from rollup.node.errors import CorruptFile, NodeError
from rollup.node.files import ints, read_envelope, strs, write_envelope
from rollup.tx import Order, SignedOrder

__all__ = ["TAG_CANCEL", "OrderBook", "cancel_message", "check_order"]

#: Domain tag of an order cancellation: an application-level message (the book is off-chain),
#: kept apart from the protocol's tags (``protocol.spec.TAG_*``, 1..6).
TAG_CANCEL = 100


def cancel_message(account: int, nonce: int) -> int:
    """What an account's key signs to cancel its resting order ``nonce``: Poseidon(100, a, n)."""
    return poseidon([TAG_CANCEL, account, nonce])


FILE = "orders.json"
RECOVER = (
    "restore orders.json from a backup, or replace it with an empty book "
    "(resting orders are not on L1; their owners re-submit them)"
)


def check_order(params: RollupParams, order: Order, oracle_time: int) -> None:
    """Refuse an order the state machine would refuse for its own terms (before signing)."""
    if not 0 <= order.market < params.n_markets:
        raise NodeError(
            detail=f"market {order.market} does not exist (there are {params.n_markets})"
        )
    if not 0 < order.size < 1 << SIZE_BITS:
        raise NodeError(detail=f"order size {order.size} outside (0, 2^{SIZE_BITS}) base quanta")
    if not 0 < order.limit_price < 1 << PRICE_BITS:
        raise NodeError(detail=f"limit price {order.limit_price} outside (0, 2^{PRICE_BITS})")
    if not oracle_time < order.expiry < 1 << TIME_BITS:
        raise NodeError(
            detail=f"expiry {order.expiry} must be after the last oracle time {oracle_time} "
            f"and below 2^{TIME_BITS}"
        )


def crosses(maker: Order, taker: Order) -> bool:
    """Whether a resting ``maker`` order can fill ``taker`` (same market, other side and account,
    limits crossing)."""
    if maker.market != taker.market or maker.side == taker.side or maker.account == taker.account:
        return False
    if taker.side == SELL:
        return maker.limit_price >= taker.limit_price
    return maker.limit_price <= taker.limit_price


class OrderBook:
    """``orders.json`` of one rollup directory."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / FILE

    @classmethod
    def create(cls, directory: str | Path) -> OrderBook:
        book = cls(directory)
        book.save([])
        return book

    def load(self) -> list[SignedOrder]:
        body = read_envelope(self.path, "orders", RECOVER)
        try:
            return [SignedOrder.from_list(ints(o)) for o in body]
        except (TypeError, ValueError, IndexError) as e:
            raise CorruptFile(
                path=self.path, detail=f"not an order book ({e}); {RECOVER}"
            ) from None

    def save(self, orders: list[SignedOrder]) -> None:
        write_envelope(self.path, "orders", [strs(o.to_list()) for o in orders])

    def resting(self, account: int) -> int:
        """How many of ``account``'s orders rest in the book."""
        return sum(o.order.account == account for o in self.load())

    def match(self, taker: Order) -> tuple[int, SignedOrder] | None:
        """(position in the book, resting order) of the first order that fills ``taker``."""
        for k, maker in enumerate(self.load()):
            if crosses(maker.order, taker):
                return k, maker
        return None

    def remove(self, k: int) -> None:
        orders = self.load()
        self.save(orders[:k] + orders[k + 1 :])

    def add(self, order: SignedOrder) -> None:
        self.save([*self.load(), order])

    def cancel(self, account: int, nonce: int) -> SignedOrder:
        """Remove ``account``'s resting order of ``nonce``; NodeError if there is none."""
        orders = self.load()
        for k, o in enumerate(orders):
            if o.order.account == account and o.order.nonce == nonce:
                self.save(orders[:k] + orders[k + 1 :])
                return o
        raise NodeError(detail=f"account {account} has no resting order with nonce {nonce}")
