"""One batch slot: every transaction type of ``protocol.spec`` behind a one-hot selector.

A slot takes the accounts root and global state before it and returns them after it, with its
pubdata chunk. In order (each part's equations are in its module):

    inputs.pin_unused      sel one-hot; every field a type does not use is 0
    slot.wiring            account indices < 2^D, flag boolean, distinct accounts of two-account
                           types, the transfer recipient and the settled account exist
    transfer, market       deltas, the oracle update                    (transfer.py, market.py)
    series                 per series: flags, value, requirements; listing, marks   (series.py)
    trade                  instrument, deltas, order terms, bands                    (trade.py)
    signers                nonce, messages and the two EdDSA checks                 (signers.py)
    options                per update: lazy settlement of the option positions     (options.py)
    liquidation            tv_fill, penalty, shortfall (a hint) before the updates (liquidation.py)
    slot.leaf_updates      order records (orders.py), then the two leaf updates (account.py,
                           with the option fill of options.py):
        write_0 = every account type except a refunded deposit / void forced withdrawal,
        write_1 = transfer, trade, liquidation, deleverage; update 0's leaf (written, or read
        for a refund / void, whose reason refunds.py proves on it) and a written leaf 1 are
        the transaction's accounts
        dc_0 = transfer deltas − paid0 − fee0 − penalty + shortfall,  dc_1 = … + paid0 − fee1
    margin                 figures and the rules of every type                       (margin.py)
    bankruptcy, refunds    liquidatable, the draw / deleverage price, forced amount, refunds
    insurance fund, open interest, chunk    (liquidation.py, series.py, pubdata.py)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from circuits.api import API
from circuits.batch.account import AccountUpdate, settle, update_account
from circuits.batch.arith import nonzero_if
from circuits.batch.inputs import SlotInputs, pin_unused
from circuits.batch.liquidation import (
    LiquidationTerms,
    bankruptcy_checks,
    insurance_fund,
    liquidation_terms,
)
from circuits.batch.margin import figures, margin_rules
from circuits.batch.market import oracle_update
from circuits.batch.options import HeldOptions, OptionFill, decrements, fill_option, held_options
from circuits.batch.orders import record_fill
from circuits.batch.pubdata import chunk, slot_fields
from circuits.batch.refunds import forced_amount_check, refund_reasons
from circuits.batch.series import apply_open_interest, series_terms
from circuits.batch.signers import signatures
from circuits.batch.spec import BatchShape
from circuits.batch.state import AccountVars, GlobalVars
from circuits.batch.trade import FillTerms, fill_terms
from circuits.batch.transfer import (
    DepositKeys,
    TransferTerms,
    deposit_keys,
    is_empty,
    transfer_terms,
)
from circuits.linear import Variable, linear_sum
from protocol.messages import list_preimage, marks_preimage
from protocol.spec import (
    DELEVERAGE,
    DEPOSIT,
    FORCED_WITHDRAW,
    LIQUIDATE,
    SETTLE,
    TRADE,
    TRANSFER,
    WITHDRAW,
)

__all__ = ["define_slot"]


def wiring(api: API, shape: BatchShape, inp: SlotInputs, empty: Sequence[Variable]) -> None:
    """acct_u < 2^D, flag ∈ {0, 1}; transfer, trade, liquidation, deleverage: acct0 ≠ acct1;
    transfer: the recipient exists; settle: the account exists."""
    sel = inp.sel
    api.range_check(inp.acct[0], shape.depth, "acct0_range")
    api.range_check(inp.acct[1], shape.depth, "acct1_range")
    api.assert_boolean(inp.flag, "flag_bool")
    two = sel[TRANSFER] + sel[TRADE] + sel[LIQUIDATE] + sel[DELEVERAGE]
    nonzero_if(api, two, inp.acct[0] - inp.acct[1], "distinct_accounts")
    api.assert_product(sel[TRANSFER], empty[1], 0, "recipient_exists")
    api.assert_product(sel[SETTLE], empty[0], 0, "settled_account_exists")


def collateral_deltas(
    inp: SlotInputs, tr: TransferTerms, fl: FillTerms, lt: LiquidationTerms
) -> tuple[Variable, Variable]:
    """dc_0 = transfer deltas − paid0 − fee0 − penalty + shortfall, dc_1 = … + paid0 − fee1."""
    return (
        tr.dc[0] - fl.paid0 - inp.fee[0] - lt.penalty + lt.shortfall,
        tr.dc[1] + fl.paid0 - inp.fee[1],
    )


def writes(inp: SlotInputs) -> tuple[Variable, Variable]:
    """(write_0, write_1) of the module docstring."""
    sel = inp.sel
    fill = sel[TRADE] + sel[LIQUIDATE] + sel[DELEVERAGE]
    write0 = sel[DEPOSIT] + sel[WITHDRAW] + sel[TRANSFER] + fill + sel[FORCED_WITHDRAW]
    return write0 + sel[SETTLE] - inp.flag, sel[TRANSFER] + fill


def leaf_updates(
    api: API,
    shape: BatchShape,
    inp: SlotInputs,
    g: GlobalVars,
    old: Sequence[AccountVars],
    held: Sequence[HeldOptions],
    settled: Sequence[Variable],
    root: Variable,
    terms: tuple[TransferTerms, FillTerms, LiquidationTerms, DepositKeys],
    prices: tuple[Sequence[Variable], Sequence[Variable]],
) -> tuple[tuple[AccountUpdate, AccountUpdate], tuple[OptionFill, OptionFill]]:
    """Records, then update 0 and update 1 chained: root → after update 0 → after update 1."""
    tr, fl, lt, keys = terms
    sel, q = inp.sel, inp.quantity
    write = writes(inp)
    binds = (write[0] + inp.flag, write[1])
    dc = collateral_deltas(inp, tr, fl, lt)
    records = [
        record_fill(api, inp.rsel[u], inp.match[u], en, old[u], fl.order_ids[u],
                    fl.order_sizes[u], q, f"records{u}")
        for u, en in enumerate((sel[TRADE], sel[TRADE] + sel[LIQUIDATE]))
    ]  # fmt: skip
    reg = keys.register
    keys0 = zip((old[0].pubkey_x, old[0].pubkey_y), inp.pubkey, strict=True)
    pubkey0 = tuple(
        k + api.mul(reg, new - k, name=f"registered_{c}") for c, (k, new) in enumerate(keys0)
    )
    updates, fills = [], []
    for u in (0, 1):
        api.assert_product(binds[u], inp.acct[u] - inp.index[u], 0, f"account{u}_is_leaf_index")
        with api.namespace(f"update{u}"):
            options = fill_option(
                api, held[u], inp.ksel[u], inp.kmatch[u], opt=fl.opt, jslot=fl.jslot,
                dn=fl.dn[u], dn_value=fl.dn_value[u], fill_value=fl.mark,
                write=write[u], fill_risk=fl.fill_risk,
                name="options",
            )  # fmt: skip
            upd = update_account(
                api, shape, g, old[u], settled=settled[u], root=root, index=inp.index[u],
                siblings=inp.siblings[u], msel=inp.msel, ds=fl.ds[u], dc=dc[u],
                inc=sel[WITHDRAW] + sel[TRANSFER] if u == 0 else 0, write=write[u],
                pubkey=pubkey0 if u == 0 else (old[1].pubkey_x, old[1].pubkey_y),
                records=records[u], options=options, initial_prices=prices[0],
                maint_prices=prices[1],
            )  # fmt: skip
        updates.append(upd)
        fills.append(options)
        root = upd.root
    return (updates[0], updates[1]), (fills[0], fills[1])


def define_slot(
    api: API, shape: BatchShape, inp: SlotInputs, root: Variable, g: GlobalVars
) -> tuple[Variable, GlobalVars, list[Variable]]:
    """Constrain one slot; returns (accounts root after, global state after, pubdata chunk)."""
    m = shape.n_markets
    pin_unused(api, inp)
    old = [AccountVars.from_flat(inp.old[u], m) for u in (0, 1)]
    empty = [is_empty(api, old[u], f"empty{u}") for u in (0, 1)]
    wiring(api, shape, inp, empty)
    prices = (
        [api.mul(g.prices[k], g.initial[k], name=f"initial_price{k}") for k in range(m)],
        [api.mul(g.prices[k], g.maintenance[k], name=f"maint_price{k}") for k in range(m)],
    )
    tr = transfer_terms(api, inp, g)
    g_after, oracle_pre = oracle_update(api, inp, g)
    st = series_terms(api, inp, g, g_after.oracle_time)
    fl = fill_terms(api, inp, g, prices[1], st)
    flags = linear_sum([(1 << j, f) for j, f in enumerate(inp.flags)])
    preimages = {
        "transfer": tr.preimage,
        "order0": fl.preimages[0],
        "order1": fl.preimages[1],
        "oracle": oracle_pre,
        "list": list_preimage(
            g.domain, fl.jslot, g.next_id, fl.market, inp.timestamp, inp.price, inp.side
        ),
        "marks": marks_preimage(g.domain, g.oracle_time, inp.marks, flags),
    }
    signatures(api, inp, old, g, preimages)
    write = writes(inp)
    held = [held_options(api, st, old[u], write[u], f"options{u}") for u in (0, 1)]
    funding = [settle(api, g, old[u], f"settle{u}") for u in (0, 1)]
    settled = [funding[u] + held[u].payoff for u in (0, 1)]
    keys = deposit_keys(api, inp, old[0], empty[0])
    lt = liquidation_terms(
        api, inp, g, fl, old[0], funding[0] + held[0].value, (held[0], prices[1])
    )
    upd, ofill = leaf_updates(
        api, shape, inp, g, old, held, settled, root, (tr, fl, lt, keys), prices
    )

    dc = collateral_deltas(inp, tr, fl, lt)
    common = {"msel": inp.msel, "quantity": inp.quantity}
    f0 = figures(api, shape, upd[0], sizes_before=old[0].sizes, sells=fl.side0,
                 option=(fl.opt, ofill[0].size_before), dc=dc[0],
                 fill_value=fl.perp_value[0] + ofill[0].value_delta,
                 unit=fl.unit_risk[0], name="figures0", **common)  # fmt: skip
    f1 = figures(api, shape, upd[1], sizes_before=old[1].sizes, sells=1 - fl.side0,
                 option=(fl.opt, ofill[1].size_before), dc=dc[1],
                 fill_value=fl.perp_value[1] + ofill[1].value_delta,
                 unit=fl.unit_risk[1], name="figures1", **common)  # fmt: skip
    margin_rules(api, inp.sel, (f0, f1), lt.neg)
    bankruptcy_checks(api, inp, g, f0, upd[0], lt)
    forced_amount_check(api, shape, inp, upd[0])
    refund_reasons(api, inp, settled[0], keys.refunded, keys.foreign, empty[0])
    fund = insurance_fund(api, inp, g, lt)
    table = apply_open_interest(
        api, st.table, inp.jsel, decrements(api, held), ofill[0].fill_delta + ofill[1].fill_delta
    )
    out = chunk(api, inp.sel, slot_fields(inp, fl.instrument, fl.market, fl.jslot), m)
    g_new = replace(g_after, fund=fund, series=table, expired=st.expired, next_id=st.next_id)
    return upd[1].root, g_new, out
