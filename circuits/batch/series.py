"""The option series table in a slot: listing, marks and settlement, and per series (once per
slot, for all S) its value and its short-contract requirements.

Per series j of the table T before the slot (``rollup.options``, ``rollup.series``; S_j the index
of its market, K strike, mark, P settlement price, α β γ its market's option fractions, e_j the
carried ``expired_j = [oracle_time ≥ expiry_j]``)::

    listed = [sid ≠ 0],  settled = [P ≠ 0],  busy = listed ∧ ¬settled,  live = busy ∧ ¬e
    X = settled ? P : S,  d = K − X,  pos = max(d, 0)             (sign_ge, |d| < 2^64)
    call: OTM = pos, payoff = max(−d, 0);  put: OTM = max(−d, 0), payoff = pos
    e  = payoff − mark,  m' = mark + listed·max(e, 0)            (sign_ge, |e| ≤ 2^64)
         (mark' = max(mark, intrinsic) while unsettled — payoff is the intrinsic value at X = S —,
         the payoff once settled (mark = 0), 0 unlisted; < 2^64: every position, long or short,
         is valued at it, ``rollup.options``)
    t  = (α − β)·S − 10^6·OTM          (|t| < 2^85)   im_raw = β·S + max(t, 0) + 10^6·m'
                                                       mm_raw = γ·S + 10^6·m'
    put: im = min(im_raw, 10^6·K), mm = min(mm_raw, 10^6·K)       (|·| < 2^86)
    im_j, mm_j = busy ? (im, mm) : 0   (< 2^85)      marked_j = m'   (im / mm only weigh shorts)
    (a short keeps its requirement after expiry until its series is settled; ``live`` only
    gates trading: ``tradable``; a liquidation or deleverage needs ``busy`` alone, so a
    position that expired under water can still be closed before settlement)

(empty slots are all zero, and mark = 0 once settled: both invariants of every write below.)

The comparators above are idle in slots that write no account; they check those slots' rules:

    oracle  d := new oracle_time − expiry_j:  e_j' = [d ≥ 0]         (the new expiry flags)
    list    d := oracle_time − expiry_j' (slot j* takes the new series): j* ⇒ [d ≥ 0] = 0
            (oracle_time < expiry); other slots [d ≥ 0] = e_j as before
    marks   d := cap_j − mark'_j ≥ 0 and t := mark'_j ≥ 0, so 0 ≤ mark'_j ≤ cap_j < 2^64,
            cap_j = flag_j ? 2^64 − 1 : (call: S_j, put: K)

List (operator key; ``jsel`` one-hot slot j*, ``msel`` the market, timestamp = expiry,
price = strike, side = kind)::

    slot free: OI_j* = 0 ∧ ¬busy_j*  (empty, or settled with no open interest)
    0 < strike < 2^64 (trade.py's price checks), oracle_time < expiry < 2^40, 0 ≤ market < M
    T_j* := (next_series_id, market, expiry, strike, kind, 0, 0, 0);  next' = next + 1 < 2^32

Marks (oracle key, timestamp = oracle_time; ``flags`` boolean)::

    ¬busy_j ⇒ mark'_j = 0 ∧ flag_j = 0;   flag_j ⇒ e_j ∧ mark'_j ≠ 0
    mark_j := flag_j ? 0 : mark'_j,   P_j := P_j + flag_j·mark'_j

Open interest: ``apply_open_interest``. Cost ≈ 464 rows per series, most of it the five
comparators (d 66, e 67, t 87, the two put caps 88 each; m' adds 69 rows); the expiry flags
cost nothing per slot beyond two rows per series (``circuits.batch.state.expiry_flags`` once
per batch). Reference: Deribit / Derive standard margin for short options, circomlib
``comparators.circom`` (signs of bounded differences).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from circuits.api import API
from circuits.batch.arith import nonzero_if, pick, sign_ge
from circuits.batch.inputs import SlotInputs
from circuits.batch.state import GlobalVars, SeriesTable
from circuits.linear import Value, Variable, as_variable
from protocol.spec import (
    DELEVERAGE,
    FRACTION_SCALE,
    LIQUIDATE,
    LIST_SERIES,
    MARKS,
    MAX_SERIES,
    OPEN_INTEREST_BITS,
    ORACLE,
    PRICE_BITS,
    SERIES_ID_BITS,
    TRADE,
)

__all__ = ["SeriesTerms", "apply_open_interest", "series_terms"]

_T_BITS = 85  #: |(α − β)·S − 10^6·OTM| < 2^85
_CAP_BITS = 86  #: |10^6·K − im_raw| < 2^86
_MARK_CAP = (1 << PRICE_BITS) - 1  #: a settlement price's only bound


@dataclass(frozen=True)
class SeriesTerms:
    """What the accounts and fills of the slot read per series, and the table after the slot's
    listing / marks (open interest: ``apply_open_interest``)."""

    opt: Variable  #: the slot is an option fill
    settled: tuple[Variable, ...]
    marked: tuple[Variable, ...]  #: mark'_j: a contract's value, long or short
    im: tuple[Variable, ...]
    mm: tuple[Variable, ...]
    tradable: tuple[Variable, ...]  #: listed, unsettled, before expiry
    busy: tuple[Variable, ...]  #: listed, unsettled (liquidation / deleverage: after expiry too)
    table: SeriesTable  #: after the listing / marks (open interest as before)
    expired: tuple[Variable, ...]  #: the flags for the oracle time after the slot
    next_id: Variable


def _onehot_hint(n: int):
    def hint(v: int) -> list[int]:
        return [int(v == k) for k in range(n)]

    return hint


def market_onehot(api: API, market: Value, n: int, name: str) -> list[Variable]:
    """oh_k = [market = k] for a market field < n (by induction): n booleans, Σ oh = 1,
    Σ k·oh_k = market. n + 2 rows."""
    with api.namespace(name):
        oh = api.hint(_onehot_hint(n), [as_variable(market)], n, "oh")
        for k, b in enumerate(oh):
            api.assert_boolean(b, f"bool{k}")
        api.assert_equal(api.sum(oh), 1, "one")
        api.assert_equal(api.sum(oh, list(range(n))), market, "index")
    return oh


def _selectors(api: API, inp: SlotInputs) -> tuple[Variable, Variable]:
    """jsel boolean, Σ jsel ∈ {0, 1}, set only by a fill or a listing and always by a listing;
    (opt = Σ jsel − list, Σ jsel)."""
    sel = inp.sel
    fill = sel[TRADE] + sel[LIQUIDATE] + sel[DELEVERAGE]
    with api.namespace("select"):
        for j, s in enumerate(inp.jsel):
            api.assert_boolean(s, f"jsel_bool{j}")
        any_ = api.sum(inp.jsel)
        api.assert_boolean(any_, "jsel_onehot")
        api.assert_product(any_, 1 - fill - sel[LIST_SERIES], 0, "jsel_unused")
        api.assert_product(sel[LIST_SERIES], 1 - any_, 0, "list_slot")
    return any_ - sel[LIST_SERIES], any_


def series_terms(api: API, inp: SlotInputs, g: GlobalVars, new_time: Value) -> SeriesTerms:
    """The module docstring's per-series figures, listing and marks; ``new_time`` is the oracle
    time after the slot (oracle.py)."""
    sel, t = inp.sel, g.series
    ls = sel[LIST_SERIES]
    timed = sel[ORACLE] + ls  #: slots whose comparator d recomputes the expiry flags
    m = len(g.prices)
    opt, _ = _selectors(api, inp)
    market_in = api.sum(inp.msel, list(range(m)))
    with api.namespace("series"):
        ab = [api.mul(g.alpha[k] - g.beta[k], g.prices[k], name=f"ab_price{k}") for k in range(m)]
        b = [api.mul(g.beta[k], g.prices[k], name=f"b_price{k}") for k in range(m)]
        c = [api.mul(g.gamma[k], g.prices[k], name=f"c_price{k}") for k in range(m)]
        api.range_check(g.next_id + ls, SERIES_ID_BITS, "next_id_range")
        out: dict[str, list[Variable]] = {k: [] for k in (
            "settled", "marked", "im", "mm", "tradable", "busy", "sid", "market", "expiry",
            "strike", "kind", "mark", "settlement", "expired")}  # fmt: skip
        for j in range(MAX_SERIES):
            with api.namespace(f"s{j}"):
                row = _one_series(api, inp, g, j, (ab, b, c), new_time, market_in, timed)
            for k, v in row.items():
                out[k].append(v)
    table = SeriesTable(
        tuple(out["sid"]), tuple(out["market"]), tuple(out["expiry"]), tuple(out["strike"]),
        tuple(out["kind"]), tuple(out["mark"]), tuple(out["settlement"]), t.oi,
    )  # fmt: skip
    return SeriesTerms(
        opt, tuple(out["settled"]), tuple(out["marked"]),
        tuple(out["im"]), tuple(out["mm"]),
        tuple(out["tradable"]), tuple(out["busy"]), table, tuple(out["expired"]), g.next_id + ls,
    )  # fmt: skip


def _one_series(
    api: API,
    inp: SlotInputs,
    g: GlobalVars,
    j: int,
    products: tuple[list[Variable], list[Variable], list[Variable]],
    new_time: Value,
    market_in: Variable,
    timed: Variable,
) -> dict[str, Variable]:
    t, sel = g.series, inp.sel
    ls, mk = sel[LIST_SERIES], sel[MARKS]
    sid, strike, kind, mark, p = t.sid[j], t.strike[j], t.kind[j], t.mark[j], t.settlement[j]
    e, flag, mark_in = g.expired[j], inp.flags[j], inp.marks[j]
    listed = 1 - api.is_zero(sid, "unlisted")
    settled = 1 - api.is_zero(p, "unsettled")
    busy = api.mul(listed, 1 - settled, name="busy")
    lj = api.mul(ls, inp.jsel[j], name="listed_here")
    api.assert_product(lj, t.oi[j], 0, "slot_free_interest")
    api.assert_product(lj, busy, 0, "slot_free")
    oh = market_onehot(api, t.market[j], len(g.prices), "market")
    ab, b, c = (pick(api, oh, col, f"pick{i}_") for i, col in enumerate(products))
    index = pick(api, oh, g.prices, "index")
    x = p + api.mul(1 - settled, index, name="underlying")
    capb = index + api.mul(kind, strike - index, name="cap_kind")
    cap = capb + api.mul(flag, _MARK_CAP - capb, name="cap_flag")
    expiry = t.expiry[j] + api.mul(lj, inp.timestamp - t.expiry[j], name="new_expiry")
    d_n, d_m, d_t = strike - x, cap - mark_in, as_variable(new_time) - expiry
    d = d_n + api.mul(mk, d_m - d_n, name="d_marks") + api.mul(timed, d_t - d_n, name="d_time")
    ge_d = sign_ge(api, d, PRICE_BITS, "d_sign")
    api.assert_product(mk, 1 - ge_d, 0, "mark_bound")
    api.assert_product(lj, ge_d, 0, "list_before_expiry")
    pos = api.mul(ge_d, d, name="pos")
    kd = api.mul(kind, d, name="kind_d")
    otm, payoff = pos - kd, pos - d + kd
    excess = payoff - mark
    above = sign_ge(api, excess, PRICE_BITS + 1, "intrinsic_sign")
    marked = mark + api.mul(listed, api.mul(above, excess, name="intrinsic_excess"),
                            name="marked")  # fmt: skip
    t_n = ab - otm * FRACTION_SCALE
    tt = t_n + api.mul(mk, mark_in - t_n, name="t_marks")
    ge_t = sign_ge(api, tt, _T_BITS, "t_sign")
    api.assert_product(mk, 1 - ge_t, 0, "mark_nonnegative")
    im_raw = b + api.mul(ge_t, tt, name="t_pos") + marked * FRACTION_SCALE
    mm_raw = c + marked * FRACTION_SCALE
    limit = strike * FRACTION_SCALE
    capped = []
    for label, raw in (("im", im_raw), ("mm", mm_raw)):
        below = sign_ge(api, limit - raw, _CAP_BITS, f"{label}_cap_sign")
        over = api.mul(1 - below, limit - raw, name=f"{label}_over")
        capped.append(raw + api.mul(kind, over, name=f"{label}_put_cap"))
    tradable = api.mul(busy, 1 - e, name="tradable")
    im = api.mul(busy, capped[0], name="im")
    mm = api.mul(busy, capped[1], name="mm")
    expired = e + api.mul(timed, ge_d - e, name="expired")
    with api.namespace("marks"):
        api.assert_boolean(flag, "flag_bool")
        api.assert_product(1 - busy, mark_in, 0, "idle_mark")
        api.assert_product(1 - busy, flag, 0, "idle_flag")
        api.assert_product(flag, 1 - e, 0, "settle_after_expiry")
        nonzero_if(api, flag, mark_in, "settlement_positive")
        settles = api.mul(flag, mark_in, name="settles")
        new_mark = mark + api.mul(mk, mark_in - mark, name="set_mark") - settles
    new_p = p + settles - api.mul(lj, p, name="list_unsettled")
    listing = {
        "sid": (sid, g.next_id),
        "market": (t.market[j], market_in),
        "strike": (strike, inp.price),
        "kind": (kind, inp.side),
    }
    new = {k: old + api.mul(lj, v - old, name=f"list_{k}") for k, (old, v) in listing.items()}
    return {
        "settled": settled, "marked": marked, "im": im, "mm": mm, "tradable": tradable,
        "busy": busy, **new, "expiry": expiry, "mark": new_mark, "settlement": new_p,
        "expired": expired,
    }  # fmt: skip


def apply_open_interest(
    api: API, table: SeriesTable, jsel: Sequence[Variable], decrements: Sequence[Value],
    fill_delta: Value,
) -> SeriesTable:  # fmt: skip
    """OI_j' = OI_j − decrement_j + jsel_j·fill_delta; the fill series' OI' ∈ [0, 2^72).

    Invariant (induction from genesis, where every OI and every position is 0): OI_j equals
    the sum of the long positions in slot j over all accounts, since every write changes it by
    exactly its account's change (``circuits.batch.options``) and a listing requires OI = 0.
    So a decrement (a lazily settled long, part of that sum) never takes OI below 0 and no OI
    reaches 2^72 > 2^32·2^40: the only increase, the fill series', is still range-checked."""
    with api.namespace("open_interest"):
        moved = [api.mul(s, fill_delta, name=f"fill{j}") for j, s in enumerate(jsel)]
        oi = tuple(o - dec + mv for o, dec, mv in zip(table.oi, decrements, moved, strict=True))
        api.range_check(pick(api, jsel, oi, "filled"), OPEN_INTEREST_BITS, "range")
    return replace(table, oi=oi)
