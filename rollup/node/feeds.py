"""The oracle and the operator on a rollup directory: index prices with funding rates, option
marks and settlement prices, series listings, and the sweep of settled options — the ``Rollup``
methods behind ``zkr oracle``, ``zkr series`` and ``zkr settle-options`` (protocol units).

``oracle`` signs one ``OraclePrice`` (prices and funding rates; funding accrues at each update at
the rate and price in force since the last one) and, when any series is listed and unsettled, one
``Marks`` for the same oracle time: Black-76 marks at each series' implied volatility, and the
settlement price (the index TWAP before expiry, from ``oracle.json``) of every series that has
expired (``rollup.node.oracle``). Once settlement prices are in, ``settle_options`` sweeps the
accounts still holding settled positions (``Settle``: the payoff becomes collateral).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protocol.spec import CALL, PUT
from rollup import pricing
from rollup.node.errors import InvalidArgument, NodeError
from rollup.node.oracle import DEFAULT_IV, compute_marks
from rollup.series import slot_is_free
from rollup.tx import ListSeries, Marks, OraclePrice, Settle

if TYPE_CHECKING:
    from rollup.node.facade import Rollup

__all__ = ["Feeds"]


class Feeds:
    """Mixed into ``Rollup``: oracle updates, series listings, settlement sweeps."""

    def oracle(
        self: Rollup,
        prices: tuple[int, ...],
        rates: tuple[int, ...] | None = None,
        timestamp: int | None = None,
        ivs: dict[int, float] | None = None,
    ) -> dict[str, Any]:
        """Sign index ``prices`` and funding ``rates`` (default 0) with the oracle key at
        ``timestamp`` (default: now, after the last oracle time), then the marks of every listed
        series (``ivs``: series id → implied volatility, remembered). Returns {"timestamp",
        "mempool", "marks_mempool" (or None), "marks": {series id: mark}, "settled": {series id:
        settlement price}}."""
        self._require_live()
        n = self.params.n_markets
        prices = tuple(prices)
        rates = (0,) * n if rates is None else tuple(rates)
        if len(prices) != n or len(rates) != n:
            raise NodeError(detail=f"give {n} prices and {n} funding rates, one per market")
        log = self.oracle_log.read()  # a damaged log refuses the update before anything is sent
        state = self.pending_state()
        g = state.global_state
        if timestamp is None:
            timestamp = max(self.now(), g.oracle_time + 1)
        for sid, iv in (ivs or {}).items():  # every argument checked before anything is written
            if g.series_by_id(sid) is None:
                raise NodeError(detail=f"option series {sid} is not listed")
            try:
                log.iv[sid] = pricing.checked_float(f"series {sid}: iv", iv, positive=True)
            except ValueError as e:
                raise InvalidArgument(detail=str(e)) from None
        key = self.keystore.oracle_key()
        txs = [OraclePrice.signed(key, self.domain, prices, rates, timestamp, g.oracle_time)]
        out: dict[str, Any] = {"timestamp": timestamp, "marks_mempool": None, "marks": {},
                               "settled": {}}  # fmt: skip
        if any(s.listed and not s.settlement_price for s in g.series):
            marks, flags = compute_marks(g, timestamp, prices, log)
            txs.append(Marks.signed(key, self.domain, timestamp, marks, flags))
            for j, s in enumerate(g.series):
                if s.listed and not s.settlement_price:
                    target = out["settled"] if flags >> j & 1 else out["marks"]
                    target[s.series_id] = marks[j]
        for tx in txs:  # refused (stale time, a bad rate or mark …) before anything is written
            state.stage(tx)
        # The oracle's own record first (its sample and ivs: harmless if the update then never
        # reaches the mempool), then the update and its marks in one SQL transaction — a crash
        # leaves all of it or none of it in the mempool, never a price without its marks.
        log.add_sample(timestamp, prices)
        self.oracle_log.save(log)
        self._require_live()
        seqs = self.seq.submit_many(txs)
        out["mempool"] = seqs[0]
        if len(seqs) > 1:
            out["marks_mempool"] = seqs[1]
        return out

    def list_series(
        self: Rollup, market: int, expiry: int, strike: int, kind: int, iv: float | None = None
    ) -> dict[str, Any]:
        """List an option series (operator key) in the first free slot; its first mark comes
        with the next oracle update (at ``iv``, default ``DEFAULT_IV``). Returns {"series_id",
        "slot", "mempool"}."""
        self._require_live()
        if kind not in (CALL, PUT):
            raise NodeError(detail=f"kind {kind} is neither 0 (call) nor 1 (put)")
        if expiry <= self.now():
            raise NodeError(detail=f"expiry {expiry} is not in the future (now {self.now()})")
        if iv is not None:  # checked before the listing is submitted
            try:
                iv = pricing.checked_float("iv", iv, positive=True)
            except ValueError as e:
                raise InvalidArgument(detail=str(e)) from None
        g = self.pending_state().global_state
        slot = next((j for j, s in enumerate(g.series) if slot_is_free(s)), None)
        if slot is None:
            raise NodeError(detail=f"every one of the {len(g.series)} series slots is in use")
        sid = g.next_series_id
        tx = ListSeries.signed(self.keystore.operator_key(), self.domain, slot, sid, market,
                               expiry, strike, kind)  # fmt: skip
        seq = self.submit(tx)
        self.oracle_log.set_iv(sid, DEFAULT_IV if iv is None else iv)
        return {"series_id": sid, "slot": slot, "mempool": seq}

    def series(self: Rollup) -> list[dict[str, Any]]:
        """Every listed series at the pending state (protocol units): {"series_id", "slot",
        "market", "kind", "strike", "expiry", "mark", "settlement_price", "open_interest",
        "iv", "status" ("live", "expired", "settled")}."""
        g = self.pending_state().global_state
        ivs = self.oracle_log.read().iv
        out = []
        for j, s in enumerate(g.series):
            if not s.listed:
                continue
            status = "settled" if s.settlement_price else (
                "expired" if max(g.oracle_time, self.now()) >= s.expiry else "live")  # fmt: skip
            out.append({"series_id": s.series_id, "slot": j, "market": s.market,
                        "kind": "put" if s.kind == PUT else "call", "strike": s.strike,
                        "expiry": s.expiry, "mark": s.mark,
                        "settlement_price": s.settlement_price,
                        "open_interest": s.open_interest,
                        "iv": ivs.get(s.series_id, DEFAULT_IV), "status": status})  # fmt: skip
        return out

    def settle_options(self: Rollup, account: int | None = None) -> list[tuple[int, int]]:
        """Sweep settled option positions into collateral: one ``Settle`` per account holding a
        position in a settled series (or for ``account`` only). Returns (account, mempool)."""
        self._require_live()
        state = self.pending_state()
        g = state.global_state
        if account is not None:
            state.existing(account)
            candidates = [account]
        else:
            candidates = sorted(state.accounts)
        done = []
        for index in candidates:
            a = state.account(index)
            if any(o.size and g.series[o.slot].settlement_price for o in a.options):
                done.append((index, self.submit(Settle(index))))
        if account is not None and not done:
            raise NodeError(detail=f"account {account} holds no position in a settled series")
        return done
