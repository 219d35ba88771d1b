"""Trading on a rollup directory: orders (checked, signed, matched or resting), cancellations,
liquidations and deleverages — the ``Rollup`` methods behind ``zkr order``, ``zkr liquidate`` and
``zkr deleverage`` and the API's order endpoints (units: the protocol's, ``rollup.node.facade``).

An order is checked completely before it rests or trades (``check_order``), so the book holds
only orders that can execute: its own terms within the protocol widths, an instrument that exists
(a market, or a listed option series that is live: unsettled and before its expiry by the oracle's
and the wall clock's time), an expiry not before now (wall-clock) nor the oracle time, a signature
of the account's key over the rollup's domain, an unused order id (monotone per account), and the
margin the whole size would need at its limit price and maximum fee (the state machine's own rule,
``rollup.effects.trade_side``, on the pending state). Matching is ``rollup.node.orders``'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocol.eddsa import Signature, sign
from protocol.spec import BUY, OPTION_BASE, SELL
from rollup import effects
from rollup.checks import check_order_terms
from rollup.errors import OrderDead, OrderExpired, PriceOutsideBand, RollupError
from rollup.node.errors import NodeError
from rollup.node.orders import cancel_message, fee_for, filled, remaining
from rollup.state import RollupState
from rollup.tx import Deleverage, Liquidate, Order, SignedOrder, Trade

if TYPE_CHECKING:
    from rollup.node.facade import Rollup

__all__ = ["DEFAULT_ORDER_SECONDS", "Trading", "option_instrument", "position_in"]

DEFAULT_ORDER_SECONDS = 7 * 86_400  #: an order's default lifetime (wall-clock seconds)


def position_in(state: RollupState, account: int, instrument: int) -> int:
    """The account's signed size in a market or an option series (0 if none)."""
    inst = effects.resolve(state.global_state, instrument)
    return effects.size_of(state.account(account), inst)


class Trading:
    """Mixed into ``Rollup``: orders, cancellations, liquidations, deleverages."""

    def now(self: Rollup) -> int:
        """The wall clock (the directory's clock) in whole seconds."""
        return int(self.clock())

    # -- checks --------------------------------------------------------------------------------
    def check_order(self: Rollup, state: RollupState, o: Order, fill: int | None = None) -> None:
        """Refuse an order that could never execute (module docstring); ``fill`` is the
        quantity the margin check assumes (default: the whole size)."""
        g = state.global_state
        check_order_terms(o, self.params.n_markets)
        inst = effects.resolve(g, o.instrument)
        effects.check_tradable(g, inst)
        now = self.now()
        if inst.option and g.series[inst.index].expiry <= now:
            s = g.series[inst.index]
            raise NodeError(detail=f"option series {s.series_id} expired at {s.expiry} (now {now})")
        if o.expiry < max(now, g.oracle_time):
            raise NodeError(
                detail=f"order expiry {o.expiry} is in the past (now {now}, oracle time "
                f"{g.oracle_time})"
            )
        account = state.existing(o.account)
        q = o.size if fill is None else fill
        if q > 0:
            effects.trade_side(o.account, account, g, inst, o.side, q, o.limit_price,
                               fee_for(o, q))  # fmt: skip

    def underlying(self: Rollup, instrument: int) -> int:
        """The market of an instrument: itself, or an option series' underlying (NodeError if
        the series is not listed)."""
        if instrument < OPTION_BASE:
            return instrument
        g = self.pending_state().global_state
        slot = g.series_by_id(instrument - OPTION_BASE)
        if slot is None:
            raise NodeError(detail=f"option series {instrument - OPTION_BASE} is not listed")
        return g.series[slot].market

    # -- orders --------------------------------------------------------------------------------
    def next_order_id(self: Rollup, account: int) -> int:
        """The id the account's next order must carry (monotone per account)."""
        return self.book.next_id(account, self.pending_state().account(account))

    def order(
        self: Rollup, account: int, instrument: int, side: int, size: int, price: int,
        max_fee: int = 0, expiry: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Sign an order with the keystore's key (the next order id, ``expiry`` default a week
        from now), then ``place`` it."""
        self._require_live()
        with self.book.lock:
            state = self.pending_state()
            oid = self.book.next_id(account, state.account(account))
            expiry = self.now() + DEFAULT_ORDER_SECONDS if expiry is None else expiry
            o = Order(account, instrument, side, size, price, max_fee, oid, expiry)
            self.check_order(state, o)
            return self.place(o.sign(self.key(account), self.domain))

    def place(self: Rollup, signed: SignedOrder) -> dict[str, Any]:
        """Check a signed order, drop dead, filled and expired (wall clock) resting orders,
        match it against the others (each fill a trade in the mempool) and rest what is left.
        Returns {"account", "order_id", "filled", "resting", "trades": [{"maker",
        "maker_order_id", "quantity", "price", "mempool"}]}."""
        self._require_live()
        o = signed.order
        with self.book.lock:
            state = self.pending_state()
            self.check_order(state, o)
            owner = state.existing(o.account)
            if not state.verify_signature(owner.pubkey, o.message(self.domain), signed.signature):
                raise NodeError(detail=f"order of account {o.account}: signature does not verify")
            self.book.take_id(o.account, o.order_id, state.account(o.account))
            resting = {s.order.account for s in self.book.load()}
            self.book.prune({a: state.account(a) for a in resting}, self.now())
            trades = self._match(signed)
            left = o.size - sum(t["quantity"] for t in trades)
            if left:
                self.book.add(signed)
            return {"account": o.account, "order_id": o.order_id, "filled": o.size - left,
                    "resting": left > 0, "trades": trades}  # fmt: skip

    def _match(self: Rollup, taker: SignedOrder) -> list[dict[str, Any]]:
        """Fill ``taker`` against the crossing resting orders; the trades made."""
        t, trades, left = taker.order, [], taker.order.size
        for maker in self.book.makers(t):
            if left == 0:
                break
            m = maker.order
            state = self.pending_state()
            q = min(left, remaining(state.account(m.account), m))
            if q == 0:
                self.book.remove(m.account, m.order_id)  # dead or filled
                continue
            trade = Trade(maker, taker, q, m.limit_price, fee_for(m, q), fee_for(t, q))
            try:
                seq = self.submit(trade)
            except RollupError as e:
                makers_fault = isinstance(e, PriceOutsideBand)  # it trades at the maker's limit
                if not makers_fault and e.fields.get("account") != m.account:
                    if trades:  # what matched already stands; the rest is refused
                        break
                    raise
                if isinstance(e, (OrderDead, OrderExpired)):
                    self.book.remove(m.account, m.order_id)
                continue  # the maker cannot fill now: it keeps resting
            left -= q
            trades.append({"maker": m.account, "maker_order_id": m.order_id, "quantity": q,
                           "price": m.limit_price, "mempool": seq})  # fmt: skip
            if remaining(self.pending_state().account(m.account), m) == 0:
                self.book.remove(m.account, m.order_id)
        return trades

    def orders(self: Rollup, account: int | None = None) -> list[dict[str, Any]]:
        """Resting orders (of ``account``, or all) with what they filled and have left, in
        protocol units: {"account", "order_id", "instrument", "side", "size", "limit_price",
        "max_fee", "expiry", "filled", "remaining"}."""
        state = self.pending_state()
        out = []
        for s in self.book.load():
            o = s.order
            if account is not None and o.account != account:
                continue
            done = filled(state.account(o.account), o.order_id)
            out.append({"account": o.account, "order_id": o.order_id, "instrument": o.instrument,
                        "side": o.side, "size": o.size, "limit_price": o.limit_price,
                        "max_fee": o.max_fee, "expiry": o.expiry,
                        "filled": o.size if done is None else done,
                        "remaining": remaining(state.account(o.account), o)})  # fmt: skip
        return out

    def cancel(
        self: Rollup, account: int, order_id: int, signature: Signature | None = None
    ) -> None:
        """Remove ``account``'s resting order ``order_id``; authorised by the keystore's key, or by
        ``signature`` over ``cancel_message(domain, account, order_id)``."""
        message = cancel_message(self.domain, account, order_id)
        if signature is None:
            signature = sign(self.key(account), message)
        pk = self.seq.state.existing(account).pubkey
        if not self.seq.state.verify_signature(pk, message, signature):
            raise NodeError(detail=f"cancel of account {account}: signature does not verify")
        with self.book.lock:
            self.book.cancel(account, order_id)

    # -- bankruptcy ----------------------------------------------------------------------------
    def liquidate(
        self: Rollup, liquidator: int, liquidated: int, instrument: int, quantity: int,
        price: int, fee: int = 0,
    ) -> int:  # fmt: skip
        """The liquidator's order takes ``quantity`` of ``liquidated``'s position in
        ``instrument`` at ``price``; a bankrupt account's shortfall is drawn from the insurance fund
        in proportion to the risk closed (``rollup.bankruptcy``)."""
        self._require_live()
        with self.book.lock:
            state = self.pending_state()
            size = position_in(state, liquidated, instrument)
            if size == 0:
                raise NodeError(detail=f"account {liquidated} has no position in {instrument}")
            side = BUY if size > 0 else SELL  # the liquidator takes over the position
            oid = self.book.next_id(liquidator, state.account(liquidator))
            o = Order(liquidator, instrument, side, quantity, price, fee, oid,
                      self.now() + DEFAULT_ORDER_SECONDS)  # fmt: skip
            check_order_terms(o, self.params.n_markets)
            state.existing(liquidator)
            tx = Liquidate(o.sign(self.key(liquidator), self.domain), liquidated, quantity, price,
                           fee)  # fmt: skip
            seq = self.submit(tx)
            self.book.take_id(liquidator, oid, state.account(liquidator))
            return seq

    def deleverage(
        self: Rollup, deleveraged: int, deleverager: int, instrument: int, quantity: int
    ) -> int:
        """Close ``quantity`` of bankrupt ``deleveraged``'s position in ``instrument`` against
        ``deleverager``'s opposite one at the bankruptcy price (the insurance fund cannot cover
        it)."""
        self._require_live()
        return self.submit(Deleverage(deleveraged, deleverager, instrument, quantity))


def option_instrument(series_id: int) -> int:
    """The order instrument of an option series."""
    return OPTION_BASE + series_id
