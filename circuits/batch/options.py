"""An account's option positions in one leaf update: lazy settlement, the position an option fill
uses, and the positions' share of TV, IR and MR and of the open interest.

Per position k (slot_k, n_k) of the account before (``rollup.options``; the series figures
settled_j, marked_j (mark'_j), im_j, mm_j are ``circuits.batch.series``'s, picked with psel_k,
the one-hot of slot_k; |n_k| < 2^40 and n_k = 0 ⇒ slot_k = 0 by induction)::

    s_k = settled(slot_k),  short_k = max(−n_k, 0),  gross_k = |n_k| = n_k + 2·short_k
    long_k = n_k + short_k = max(n_k, 0)
    nv_k = n_k·mark'_k                          (long or short: a stale mark never values a
                                                 position below its intrinsic value; = n_k·payoff
                                                 once settled, where mark' = payoff)
    lazy settlement (when written, ws_k = write·s_k):
        collateral += Σ s_k·nv_k            (the payoff; read also for an unwritten refund)
        (slot_k, n_k) := ws_k ? (0, 0) : (slot_k, n_k)           →  (slot''_k, n''_k)
        decrement_k = ws_k·gross_k          (leaves the series' open interest)

An option fill of dn contracts of the series in slot j (ksel one-hot position k*, kmatch;
``rollup.options.add_option``)::

    key_k = slot''_k + [n''_k ≠ 0]          (0 for an empty position, slot + 1 otherwise)
    key_k* = kmatch·(j + 1)                 (match: k* holds j; else k* is empty)
    ¬kmatch ⇒ Π_k (key_k − j − 1) ≠ 0       (no position holds j)
    ¬kmatch ⇒ ∀ k < k*: n''_k ≠ 0           (k* is the FIRST empty position: unique; none
                                             empty ⇒ unsatisfiable, as OptionSlotsFull)
    n_new = n''_k* + dn,  |n_new| ≤ 2^40 − 1,  slot_new = [n_new ≠ 0]·j
    (slot, n)_k* := (slot_new, n_new)

Figures of the account after (value units; risk · 10^6), with v'_f (the fill series' mark'),
im_f, mm_f the fill series':

    ΔTV    = dn·v'_f                               (n·v' of position k*)
    ΔLV    = ΔTV + (short_new − short_k*)·v'_f     (the fill changes long_k* by
             (n_new + short_new) − (n''_k* + short''_k*))
    TV_opt = Σ nv_k − write·Σ s_k·nv_k + ΔTV          (the payoff moved to collateral)
    LV_opt = Σ long''_k·mark'_k + ΔLV
             (the long positions' value, long''_k = n''_k + short''_k = max(n''_k, 0);
             < K·2^104, ≥ 0)
    IR_opt = Σ short_k·im_k + (short_new − short_k*)·im_f         (settled series need 0)
    MR_opt = Σ short_k·mm_k + (short_new − short_k*)·mm_f
    open interest (gross, Σ |n| over longs and shorts, so a slot is free only when nobody holds
    a position in it): fill_delta = |n_new| − gross''_k*,  and the decrements above

Each sum is < K·2^104 (value) or < K·2^40·2^85 (risk): ``circuits.batch.spec``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from circuits.api import API
from circuits.batch.arith import nonzero_if, pick
from circuits.batch.series import SeriesTerms, market_onehot
from circuits.batch.state import AccountVars
from circuits.gadgets.signed import is_negative
from circuits.linear import Value, Variable, as_variable
from protocol.spec import MAX_SERIES, OPTION_SIZE_BITS

__all__ = ["HeldOptions", "OptionFill", "fill_option", "held_options"]


@dataclass(frozen=True)
class HeldOptions:
    """The positions before the update and after its lazy settlement."""

    psel: tuple[list[Variable], ...]  #: one-hot series slot per position
    slots: tuple[Variable, ...]  #: slot''_k
    sizes: tuple[Variable, ...]  #: n''_k
    gross: tuple[Variable, ...]  #: |n''_k|
    shorts: tuple[Variable, ...]  #: max(−n''_k, 0)
    decrement: tuple[Variable, ...]  #: ws_k·gross_k
    payoff: Variable  #: Σ s_k·nv_k
    value: Variable  #: Σ nv_k (the positions' value before, at mark')
    risk_im: Variable  #: Σ short_k·im_k
    risk_mm: Variable  #: Σ short_k·mm_k
    long_value: Variable  #: Σ long''_k·mark'_k (after lazy settlement)


@dataclass(frozen=True)
class OptionFill:
    """The positions after the update, their figures and the fill's open-interest delta."""

    slots: tuple[Variable, ...]
    sizes: tuple[Variable, ...]
    size_before: Variable  #: n''_k* (0 when the fill takes an empty position)
    total_value: Variable  #: TV_opt
    value_delta: Variable  #: ΔTV, the fill's change of the positions' value
    long_value: Variable  #: LV_opt
    initial_risk: Variable  #: IR_opt
    maint_risk: Variable  #: MR_opt
    fill_delta: Variable  #: |n_new| − gross''_k*


def held_options(
    api: API, st: SeriesTerms, old: AccountVars, write: Value, name: str
) -> HeldOptions:
    """The before part of the module docstring. ~101 rows per position."""
    write = as_variable(write)
    cols: dict[str, list[Variable]] = {k: [] for k in (
        "psel", "slots", "sizes", "gross", "shorts", "decrement", "payoff", "value", "im",
        "mm", "long")}  # fmt: skip
    with api.namespace(name):
        for k, (slot, n) in enumerate(zip(old.slots, old.contracts, strict=True)):
            with api.namespace(f"position{k}"):
                psel = market_onehot(api, slot, MAX_SERIES, "slot")
                s = pick(api, psel, st.settled, "settled")
                v = pick(api, psel, st.marked, "marked")
                im = pick(api, psel, st.im, "im")
                mm = pick(api, psel, st.mm, "mm")
                neg = is_negative(api, n, OPTION_SIZE_BITS + 1, "sign")
                short = api.mul(neg, -n, name="short")
                nv = api.mul(n, v, name="n_value")
                ws = api.mul(write, s, name="settles")
                cols["psel"].append(psel)
                cols["slots"].append(slot - api.mul(ws, slot, name="free_slot"))
                cols["sizes"].append(n - api.mul(ws, n, name="free_size"))
                gross = n + 2 * short
                dec = api.mul(ws, gross, name="decrement")
                cols["gross"].append(gross - dec)
                short_s = short - api.mul(ws, short, name="settled_short")
                cols["shorts"].append(short_s)
                size_s = cols["sizes"][-1]
                cols["long"].append(api.mul(size_s + short_s, v, name="long_value"))
                cols["decrement"].append(dec)
                cols["payoff"].append(api.mul(s, nv, name="payoff"))
                cols["value"].append(nv)
                cols["im"].append(api.mul(short, im, name="short_im"))
                cols["mm"].append(api.mul(short, mm, name="short_mm"))
    return HeldOptions(
        tuple(cols["psel"]), tuple(cols["slots"]), tuple(cols["sizes"]), tuple(cols["gross"]),
        tuple(cols["shorts"]), tuple(cols["decrement"]), api.sum(cols["payoff"]),
        api.sum(cols["value"]), api.sum(cols["im"]), api.sum(cols["mm"]), api.sum(cols["long"]),
    )  # fmt: skip


def fill_option(
    api: API,
    held: HeldOptions,
    ksel: Sequence[Variable],
    kmatch: Variable,
    *,
    opt: Value,
    jslot: Value,
    dn: Value,
    dn_value: Value,
    fill_value: Value,
    write: Value,
    fill_risk: tuple[Value, Value],
    name: str,
) -> OptionFill:
    """The position choice and the after part of the module docstring (``dn_value`` = dn·v'_f,
    ``fill_value`` = v'_f (any value when the update fills no option: then dn = short_new =
    short_k* = 0), ``fill_risk`` = (im_f, mm_f)). ~76 + 6K rows."""
    opt, jslot, dn = as_variable(opt), as_variable(jslot), as_variable(dn)
    with api.namespace(name):
        for k, s in enumerate(ksel):
            api.assert_boolean(s, f"ksel_bool{k}")
        api.assert_equal(api.sum(ksel), opt, "ksel_onehot")
        api.assert_boolean(kmatch, "kmatch_bool")
        api.assert_product(kmatch, 1 - opt, 0, "kmatch_unused")
        alloc = opt - kmatch
        nz = [1 - api.is_zero(n, f"empty{k}") for k, n in enumerate(held.sizes)]
        keys = [slot + z for slot, z in zip(held.slots, nz, strict=True)]
        key_sel = pick(api, ksel, keys, "key")
        api.assert_equal(key_sel, api.mul(kmatch, jslot + 1, name="match_key"), "position_key")
        others = keys[0] - jslot - 1
        for k in range(1, len(keys)):
            others = api.mul(others, keys[k] - jslot - 1, name=f"distinct{k}")
        nonzero_if(api, alloc, others, "new_series")
        for k in range(len(keys) - 1):
            before = api.sum(list(ksel[k + 1 :]))
            earlier = api.mul(alloc, before, name=f"earlier{k}")
            api.assert_product(earlier, 1 - nz[k], 0, f"first_empty{k}")
        n_sel = pick(api, ksel, held.sizes, "size")
        gross_sel = pick(api, ksel, held.gross, "gross")
        short_sel = pick(api, ksel, held.shorts, "short_before")
        n_new = n_sel + dn
        neg = is_negative(api, n_new, OPTION_SIZE_BITS + 1, "size_range")
        api.assert_nonzero(n_new + (1 << OPTION_SIZE_BITS), "size_not_min")
        short_new = api.mul(neg, -n_new, name="short")
        slot_new = api.mul(1 - api.is_zero(n_new, "closed"), jslot, name="slot")
        sizes = tuple(
            n + api.mul(s, dn, name=f"set_size{k}")
            for k, (s, n) in enumerate(zip(ksel, held.sizes, strict=True))
        )
        slots = tuple(
            j + api.mul(s, slot_new - j, name=f"set_slot{k}")
            for k, (s, j) in enumerate(zip(ksel, held.slots, strict=True))
        )
        short_delta = short_new - short_sel
        im = held.risk_im + api.mul(short_delta, fill_risk[0], name="im")
        mm = held.risk_mm + api.mul(short_delta, fill_risk[1], name="mm")
        dtv = as_variable(dn_value)
        dlv = dtv + api.mul(short_delta, fill_value, name="long_value")
        tv = held.value - api.mul(write, held.payoff, name="settled_value") + dtv
        lv = held.long_value + dlv
    return OptionFill(slots, sizes, n_sel, tv, dtv, lv, im, mm, n_new + 2 * short_new - gross_sel)


def decrements(
    api: API, held: Sequence[HeldOptions], name: str = "settled_interest"
) -> list[Variable]:
    """Per series j: Σ over both updates' positions of [slot_k = j]·decrement_k."""
    out = []
    with api.namespace(name):
        for j in range(MAX_SERIES):
            terms = [
                api.mul(h.psel[k][j], h.decrement[k], name=f"s{j}_{u}_{k}")
                for u, h in enumerate(held)
                for k in range(len(h.decrement))
            ]
            out.append(api.sum(terms))
    return out
