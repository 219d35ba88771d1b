"""Option positions: their value and margin, lazy settlement, position slots, open interest.

A series (``rollup.account.SeriesState``) is a cash-settled European call or put on a market's
index; one contract is one base quantum of the underlying, prices and marks are in the
perpetuals' unit. With S the underlying's index price, K the strike, α, β, γ the market's option
fractions (ppm), per contract and scaled by 10^6 like every risk figure (``rollup.margin``):

    value          payoff once settled (call max(P − K, 0), put max(K − P, 0)), else the mark
    intrinsic      call max(S − K, 0), put max(K − S, 0)
    mark'          the value a position is carried at: max(mark, intrinsic) while unsettled
                   (payoff once settled, 0 unlisted)
    OTM            call max(K − S, 0), put max(S − K, 0)
    initial unit   max(α·S − 10^6·OTM, β·S) + 10^6·mark'
    maint. unit    γ·S + 10^6·mark'
    puts           each unit capped at 10^6·K (also with mark': a put never owes more than K)
    position       n·mark', long (n > 0) or short (n < 0)
    long value     LV = Σ over long positions (n > 0) of n·mark'; a long needs no requirement,
                   but its value does not count towards the initial margin (``rollup.margin``)

Every position is valued at mark' (``protocol.leaf.marked_value``): the index moves with
OraclePrice transactions, the marks only with the oracle's separate Marks transaction, and the
operator orders the two, so a mark can be stale. A short call whose underlying jumped from 100
to 130 must not look worth −5 (its old mark) while it owes at least 30: the writer is
liquidatable, may not withdraw against the stale figure, and after expiry cannot withdraw
below what the settlement at the current index will take. And a long call must not look worth
5 while it is worth 30: an operator that applied the index and withheld the marks could
otherwise liquidate a hedged holder at the stale figure, or draw the insurance fund for an
account whose deep in-the-money options it valued at nothing. Consequences:

* TV is a ledger: both sides of a position are carried at the same mark', so Σ over accounts
  of n·mark' is 0 per series, a fill moves collateral only, and settlement turns n·payoff into
  collateral, which both sides' values already equal once settled (mark' = payoff).
* Every figure built on option values uses this one function: margin (``rollup.margin``), the
  reference price of a trade, liquidation or deleverage of an option (``rollup.effects``:
  o = mark', so that a fill at o leaves TV unchanged, as the bankruptcy price and the
  liquidation rules assume), the escape payout at L1 (``protocol.leaf.total_value``), and the
  batch circuit (``circuits.batch.series`` computes mark'_j once per series,
  ``circuits.batch.options`` values every position with it).

An account's option requirement is Σ over short positions of |n| · unit, for every listed series
not yet settled — after its expiry too: between expiry and settlement the short is still valued
at mark' and still owes the payoff, so it keeps its requirement until the settlement turns it
into collateral (unlisted or settled series need none). A position in a settled
series is worth n·payoff and is *settled lazily*: whenever the account is written, such
positions turn into collateral (n·payoff) and free their slot (``settle_options``); the value is
the same before and after, so an account need not be touched for its value to be right.

Open interest of every series is kept in the global state, gross — Σ |n| over longs and shorts
— and follows from the accounts: each write changes it by Σ over the account's positions of
[slot = j]·(|n_after| − |n_before|) (``open_interest_deltas``). A slot can be listed again only
when its series is settled and its open interest is 0, i.e. nobody holds a position in it (a
short left behind must not become a short in the next series listed there).
"""

from __future__ import annotations

from dataclasses import replace

from protocol.spec import FRACTION_SCALE, PUT
from rollup.account import Account, GlobalState, MarketState, OptionPosition, SeriesState
from rollup.errors import OptionSlotsFull

__all__ = [
    "add_option",
    "long_value",
    "open_interest_deltas",
    "option_risk",
    "option_value",
    "position_value",
    "requirement_units",
    "settle_options",
]


def requirement_units(series: SeriesState, market: MarketState, now: int) -> tuple[int, int]:
    """(initial, maintenance) requirement of one short contract, scaled by 10^6; 0 for an
    unlisted or settled series, and kept after expiry until settlement (``now`` is unused: the
    requirement does not depend on the time)."""
    del now
    if not series.listed or series.settlement_price:
        return 0, 0
    s, k = market.price, series.strike
    otm = max(s - k, 0) if series.kind == PUT else max(k - s, 0)
    mark = FRACTION_SCALE * series.marked_value(s)
    im = max(market.option_initial * s - FRACTION_SCALE * otm, market.option_floor * s) + mark
    mm = market.option_maintenance * s + mark
    if series.kind == PUT:
        im, mm = min(im, FRACTION_SCALE * k), min(mm, FRACTION_SCALE * k)
    return im, mm


def position_value(state: GlobalState, slot: int, n: int) -> int:
    """n contracts of the series in ``slot``: n · mark' (``SeriesState.marked_value``)."""
    series = state.series[slot]
    return series.position_value(state.markets[series.market].price, n)


def option_value(account: Account, state: GlobalState) -> int:
    """Σ n · mark'(series) over the positions (value units; ``position_value``)."""
    return sum(position_value(state, o.slot, o.size) for o in account.options if o.size)


def long_value(account: Account, state: GlobalState) -> int:
    """LV = Σ n · mark'(series) over the account's long positions (n > 0), value units."""
    return sum(position_value(state, o.slot, o.size) for o in account.options if o.size > 0)


def option_risk(account: Account, state: GlobalState) -> tuple[int, int]:
    """(initial, maintenance) requirement of the short positions, value units · 10^6."""
    im = mm = 0
    for o in account.options:
        if o.size < 0:
            series = state.series[o.slot]
            i, m = requirement_units(series, state.markets[series.market], state.oracle_time)
            im, mm = im - o.size * i, mm - o.size * m
    return im, mm


def settle_options(account: Account, state: GlobalState) -> Account:
    """Turn every position in a settled series into collateral (n · payoff) and free its slot."""
    if not any(o.size and state.series[o.slot].settlement_price for o in account.options):
        return account
    collateral, options = account.collateral, []
    for o in account.options:
        series = state.series[o.slot]
        if o.size and series.settlement_price:
            collateral += o.size * series.value()
            options.append(OptionPosition())
        else:
            options.append(o)
    return replace(account, collateral=collateral, options=tuple(options))


def add_option(index: int, account: Account, slot: int, delta: int) -> Account:
    """``delta`` more contracts of the series in ``slot``: the position holding it, else the first
    empty one (OptionSlotsFull if none); a position back at 0 becomes (0, 0)."""
    options = list(account.options)
    k = next((i for i, o in enumerate(options) if o.size and o.slot == slot), None)
    if k is None:
        k = next((i for i, o in enumerate(options) if not o.size), None)
        if k is None:
            raise OptionSlotsFull(account=index, slots=len(options))
    size = options[k].size + delta
    options[k] = OptionPosition(slot, size) if size else OptionPosition()
    return replace(account, options=tuple(options))


def option_size(account: Account, slot: int) -> int:
    """The account's position in the series of ``slot`` (0 if none)."""
    return next((o.size for o in account.options if o.size and o.slot == slot), 0)


def open_interest_deltas(before: Account, after: Account) -> dict[int, int]:
    """slot → change of Σ |n| from ``before`` to ``after`` (non-zero entries only)."""
    deltas: dict[int, int] = {}
    for sign, account in ((-1, before), (1, after)):
        for o in account.options:
            if o.size:
                deltas[o.slot] = deltas.get(o.slot, 0) + sign * abs(o.size)
    return {j: d for j, d in deltas.items() if d}
