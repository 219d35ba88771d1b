"""What the node reports: ``status`` and an account's view (``zkr status`` / ``zkr account show``,
``--json``, and the HTTP API), in human units.

Both are JSON-ready dicts with stable keys. Money is a decimal string in USD — exact for balances
(every protocol integer has a finite decimal expansion) and rounded to 6 decimals for derived
figures (entry price, P&L, leverage, ratios: display only). Roots and other field elements are
decimal strings; counts are integers; absent values are ``null``.

``status`` keys: ``head_root``, ``settled_root``, ``head_batch`` (sealed batches),
``settled_batches``, ``unproven`` (batch numbers), ``resting_orders``, ``frozen``, ``vault_usd``,
``claimable_usd``, ``queued_deposits_usd``, ``l1_queue`` (pending priority requests),
``overdue_request`` (id or null), ``seconds_since_settlement``, ``insurance_fund_usd`` (at the
head: fees and liquidation penalties in, bad debt out), ``oracle_time``, ``series_listed``,
``chain_id``, ``rollup_id``, ``domain`` (what every signed message carries),
``priority_fee_usd``, ``divergence``
{``unsettled_batches``, ``unsettled_transactions``, ``unsettled_notional_usd``, ``mempool``,
``seconds_since_checkpoint``}.

``account`` keys: ``account``, ``exists``, ``nonce``, ``order_floor``, ``state`` ("head": after
the last sealed batch), ``collateral_usd``, ``total_value_usd``, ``initial_requirement_usd``,
``maintenance_requirement_usd``, ``free_collateral_usd`` (TV − long options' value − initial
requirement: what a withdrawal may take),
``margin_ratio`` (TV / maintenance requirement), ``leverage`` (Σ|notional| / TV),
``liquidatable``, ``funding_pending_usd`` (owed on the next touch; positive = the account pays),
``funding_paid_usd`` (since genesis), ``unrealised_pnl_usd``, ``l1_address``,
``claimable_usd``, ``positions`` [{``market``, ``name``, ``size`` (whole units),
``oracle_price_usd``, ``mark_price_usd`` (= the oracle index price: the protocol marks to it),
``notional_usd``, ``entry_price_usd``, ``unrealised_pnl_usd``, ``funding_pending_usd``,
``funding_paid_usd``, ``liquidation_price_usd``}], ``options`` [{``series_id``, ``slot``,
``market``, ``name`` (the underlying's), ``kind``, ``strike_usd``, ``expiry``, ``size`` (contracts
in whole units of the underlying), ``mark_usd`` (per unit), ``settlement_price_usd`` (null until
settled), ``value_usd`` (size · payoff once settled, else size · mark for a long and size · mark' =
max(mark, intrinsic) for a short), ``status`` ("live",
"expired", "settled")}], ``options_value_usd``, and with ``proof`` the Merkle proof of the
account against the last settled root (what an escape or a forced withdrawal submits):
{``root``, ``leaf``, ``siblings``, ``global_state``}.

Entry prices and funding paid are not in the state (the protocol settles funding virtually and
keeps no entry price): they come from replaying the account's history from pubdata — the settled
batches as published on L1, then the sealed ones from the sequencer store — without hashing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from protocol.errors import ProtocolError
from protocol.pubdata import decode_chunk, split_pubdata
from protocol.spec import DELEVERAGE, FRACTION_SCALE, LIQUIDATE, PUT, TRADE
from rollup.account import Account, GlobalState
from rollup.errors import RollupError
from rollup.margin import margin_report, settle, total_value
from rollup.node.files import strs
from rollup.node.units import (
    base_to_size,
    exact,
    quanta_to_usd,
    show,
    units_to_price,
    value_to_usd,
)
from rollup.options import long_value, option_value
from rollup.rebuild import replay_chunk
from rollup.state import RollupState

if TYPE_CHECKING:
    from rollup.node.facade import Rollup

__all__ = ["account_report", "batches", "status"]

PLACES = 6


def _usd(value: int | Fraction) -> str:
    return (
        exact(value_to_usd(value))
        if isinstance(value, int)
        else show(value / (10**6 << 32), PLACES)
    )


def status(node: Rollup) -> dict[str, Any]:
    l1 = node.l1.status()
    settled = l1["batches"]
    div = node.seq.divergence(settled, l1["seconds_since_settlement"])
    g = node.seq.state.global_state
    return {
        "head_root": str(node.seq.state.root),
        "settled_root": str(l1["root"]),
        "head_batch": node.head(),
        "settled_batches": settled,
        "unproven": node.unproven(),
        "resting_orders": len(node.book.load()),
        "frozen": bool(l1["frozen"]),
        "vault_usd": exact(quanta_to_usd(l1["vault"])),
        "claimable_usd": exact(quanta_to_usd(l1["claimable"])),
        "queued_deposits_usd": exact(quanta_to_usd(node.l1.pending_deposits())),
        "l1_queue": l1["queue"],
        "overdue_request": l1["overdue_request"],
        "seconds_since_settlement": round(float(l1["seconds_since_settlement"]), 3),
        "insurance_fund_usd": _usd(g.insurance_fund),
        "oracle_time": g.oracle_time,
        "series_listed": sum(s.listed for s in g.series),
        "chain_id": node.l1.config.chain_id,
        "domain": str(g.domain),
        "rollup_id": str(node.l1.config.rollup_id),
        "priority_fee_usd": exact(quanta_to_usd(node.l1.config.priority_fee)),
        "divergence": {
            "unsettled_batches": div["unsettled_batches"],
            "unsettled_transactions": div["unsettled_transactions"],
            "unsettled_notional_usd": _usd(div["unsettled_notional"]),
            "mempool": div["mempool"],
            "seconds_since_checkpoint": round(float(div["seconds_since_checkpoint"]), 3),
        },
    }


def batches(node: Rollup) -> list[dict[str, Any]]:
    """Every batch the sequencer store holds: number, roots, transactions, proven, settled."""
    settled, proven = node.l1.batch_count, node.seq.store.proven()
    out = []
    for number, pubdata, new_root in node.seq.store.batches():
        kinds = [
            decode_chunk(c, node.params.n_markets)[0]
            for c in split_pubdata(pubdata, node.params.batch_slots)
        ]
        out.append({
            "number": number,
            "new_root": str(new_root),
            "transactions": sum(k != 0 for k in kinds),
            "proven": number in proven or number < settled,
            "settled": number < settled,
        })  # fmt: skip
    return out


@dataclass
class _Book:
    """One market's history for one account: signed cost basis (Σ size·price, value units)."""

    basis: Fraction = Fraction(0)
    funding_paid: int = 0


@dataclass
class History:
    markets: list[_Book] = field(default_factory=list)
    consistent: bool = True


def replay_history(node: Rollup, index: int) -> History:
    """Cost basis and funding paid per market of account ``index``, replayed from pubdata."""
    params = node.params
    hist = History([_Book() for _ in range(params.n_markets)])
    state = RollupState(params, node.meta.genesis)
    settled = node.l1.batch_count
    published = node.l1.published_batches()
    stored = [(n, p) for n, p, _ in node.seq.store.batches() if n >= settled]
    try:
        for _, pubdata in [(n, p) for n, p, _ in published] + stored:
            for slot, chunk in enumerate(split_pubdata(pubdata, params.batch_slots)):
                before = state.account(index)
                replay_chunk(state, chunk, slot)
                after = state.account(index)
                if before != after:
                    _touch(hist, before, after, decode_chunk(chunk, params.n_markets))
            state.staged.clear()  # the hashes are not needed: only accounts are read
    except (RollupError, ProtocolError):
        hist.consistent = False
    hist.consistent &= state.account(index) == node.seq.state.account(index)
    return hist


def _touch(hist: History, before: Account, after: Account, decoded: tuple[int, dict]) -> None:
    tx_type, fields = decoded
    for m, (b, a) in enumerate(zip(before.positions, after.positions, strict=True)):
        book = hist.markets[m]
        if a.funding_index != b.funding_index:
            book.funding_paid += b.size * (a.funding_index - b.funding_index)
        delta = a.size - b.size
        if delta == 0 or tx_type not in (TRADE, LIQUIDATE, DELEVERAGE):
            continue
        price = fields["price"]
        if b.size == 0 or (b.size > 0) == (delta > 0):
            book.basis += delta * price
        elif (a.size > 0) == (b.size > 0) and a.size != 0:
            book.basis = book.basis * a.size / b.size  # reduced: the rest keeps its entry
        else:
            book.basis = Fraction(a.size * price)  # closed or flipped: the rest enters now


def option_rows(node: Rollup, account: Account, g: GlobalState) -> list[dict[str, Any]]:
    """The account's option positions with their series, marks and values (module docstring)."""
    rows = []
    for o in account.options:
        if not o.size:
            continue
        s = g.series[o.slot]
        market = node.params.markets[s.market]
        price = lambda v, market=market: exact(units_to_price(v, market))  # noqa: E731
        status = "settled" if s.settlement_price else (
            "expired" if g.oracle_time >= s.expiry else "live")  # fmt: skip
        rows.append({
            "series_id": s.series_id,
            "slot": o.slot,
            "market": s.market,
            "name": market.name,
            "kind": "put" if s.kind == PUT else "call",
            "strike_usd": price(s.strike),
            "expiry": s.expiry,
            "size": exact(base_to_size(o.size, market)),
            "mark_usd": price(s.mark),
            "settlement_price_usd": price(s.settlement_price) if s.settlement_price else None,
            "value_usd": _usd(s.position_value(g.markets[s.market].price, o.size)),
            "status": status,
        })  # fmt: skip
    return rows


def account_report(node: Rollup, index: int, proof: bool = False) -> dict[str, Any]:
    """The account's view at the sequencer's head (see the module docstring)."""
    state = node.seq.state
    account = state.account(index)
    g = state.global_state
    report = margin_report(account, g)
    hist = replay_history(node, index)
    positions, notional, pnl = [], 0, Fraction(0)
    pending_total = 0
    for m, (p, ms) in enumerate(zip(account.positions, g.markets, strict=True)):
        market = node.params.markets[m]
        pending = p.size * (ms.funding_index - p.funding_index)
        pending_total += pending
        book = hist.markets[m]
        position_pnl = p.size * ms.price - book.basis if hist.consistent else None
        if position_pnl is not None:
            pnl += position_pnl
        notional += abs(p.size) * ms.price
        liq = report.liquidation_prices[m]
        positions.append({
            "market": m,
            "name": market.name,
            "size": exact(base_to_size(p.size, market)),
            "oracle_price_usd": exact(units_to_price(ms.price, market)),
            "mark_price_usd": exact(units_to_price(ms.price, market)),
            "notional_usd": _usd(p.size * ms.price),
            "entry_price_usd": (
                show(units_to_price(1, market) * book.basis / p.size, PLACES)
                if p.size and hist.consistent else None
            ),
            "unrealised_pnl_usd": None if position_pnl is None else _usd(Fraction(position_pnl)),
            "funding_pending_usd": _usd(pending),
            "funding_paid_usd": _usd(book.funding_paid) if hist.consistent else None,
            "liquidation_price_usd": (
                None if liq is None else show(units_to_price(liq, market), PLACES)
            ),
        })  # fmt: skip
    tv = total_value(account, g)
    ratio = report.margin_ratio_ppm
    paid = sum(b.funding_paid for b in hist.markets)
    out: dict[str, Any] = {
        "account": index,
        "exists": not account.is_empty,
        "nonce": account.nonce,
        "order_floor": account.order_floor,
        "state": "head",
        "collateral_usd": _usd(account.collateral),
        "total_value_usd": _usd(tv),
        "initial_requirement_usd": _usd(report.initial_requirement),
        "maintenance_requirement_usd": _usd(report.maintenance_requirement),
        "free_collateral_usd": _usd(
            tv - long_value(settle(account, g), g) - report.initial_requirement
        ),
        "margin_ratio": (
            None if ratio is None else show(Fraction(ratio, FRACTION_SCALE), PLACES)
        ),
        "leverage": show(Fraction(notional, tv), PLACES) if tv > 0 else None,
        "liquidatable": report.liquidatable,
        "funding_pending_usd": _usd(pending_total),
        "funding_paid_usd": _usd(paid) if hist.consistent else None,
        "unrealised_pnl_usd": _usd(pnl) if hist.consistent else None,
        "positions": positions,
        "options": option_rows(node, account, g),
        "options_value_usd": _usd(option_value(account, g)),
    }  # fmt: skip
    if not account.is_empty:
        from rollup.node.l1 import default_address

        address = default_address(account.pubkey)
        out["l1_address"] = str(address)
        out["claimable_usd"] = exact(quanta_to_usd(node.l1.claimable(address)))
    if proof:
        settled = node.rebuild()
        leaf, siblings, global_state = node.account_proof(index, settled)
        out["proof"] = {
            "root": str(node.l1.root),
            "leaf": strs(leaf),
            "siblings": strs(list(siblings)),
            "global_state": strs(global_state),
        }
    return out
