"""The acts of ``zkr demo`` (``rollup.node.demo``): perpetuals, bankruptcy, options, a tampered
settlement price, the exit game. Each act drives the ``Rollup`` API in protocol units, converts
from and to USD and whole coins with ``rollup.node.units``, prints what happens and records the
outcomes it expects in the report."""

from __future__ import annotations

import random

from protocol.pubdata import decode_chunk, encode_chunk
from protocol.spec import BUY, DELEVERAGE, MARKS, OPTION_BASE, SELL, VALUE_SCALE, WITHDRAW
from rollup.errors import InsuranceExhausted
from rollup.margin import is_liquidatable, total_value
from rollup.node.demo import DEADLINE, Demo, short
from rollup.node.units import (
    amount_to_quanta,
    describe_error,
    exact,
    fee_to_value,
    price_to_units,
    quanta_to_usd,
    show,
    size_to_base,
    units_to_price,
    usd_to_value,
    value_to_usd,
)
from rollup.node.views import risk_view
from rollup.witness import BatchWitness
from verifier.settlement import BatchRejected

__all__ = ["bankruptcy", "exit_game", "options", "perpetuals", "tampered_settlement"]

ACCOUNTS = (("alice", "1000"), ("bob", "10000"), ("carol", "10000"), ("dave", "5000"),
            ("erin", "1000"), ("frank", "800"))  # fmt: skip
OPTION_DAYS = 7


def usd(value: int) -> str:
    return show(value_to_usd(value))


def btc_price(d: Demo, text: str) -> int:
    return price_to_units(text, d.node.params.markets[0])


def btc(d: Demo, text: str) -> int:
    return size_to_base(text, d.node.params.markets[0])


def prices(d: Demo, btc_usd: str, eth_usd: str = "5000") -> tuple[int, int]:
    m = d.node.params.markets
    return price_to_units(btc_usd, m[0]), price_to_units(eth_usd, m[1])


def tampered(d: Demo, batch: BatchWitness, tx_type: int, change: dict[str, int]) -> list[int]:
    """The batch's pubdata with the first slot of ``tx_type`` whose fields include ``change``'s
    unchanged ones re-encoded with ``change``."""
    n, width = d.node.params.n_markets, len(batch.pubdata) // len(batch.slots)
    for k, w in enumerate(batch.slots):
        same = all(w.effect.get(f) == v for f, v in change.items() if f.startswith("settle"))
        if w.tx_type == tx_type and same:
            _, fields = decode_chunk(w.chunk, n)
            chunk = encode_chunk(tx_type, fields | change, n)
            out = list(batch.pubdata)
            out[k * width : (k + 1) * width] = chunk
            return out
    raise ValueError(f"batch {batch.number} has no slot of type {tx_type}")


def perpetuals(d: Demo) -> None:
    node, names, echo = d.node, d.names, d.echo
    rng = random.Random(node.l1.config.rollup_id)
    echo("— act 1: perpetuals")
    for name, amount in ACCOUNTS:
        names[name] = node.new_account(rng)[0]
        node.deposit(names[name], amount_to_quanta(amount))
    deposits = [b.number for b in node.seal_all()]
    echo("L1 deposits: " + ", ".join(f"{n} {a} USD" for n, a in ACCOUNTS) + f" (batches "
         f"{deposits})")  # fmt: skip
    d.clock.advance(60)
    node.oracle(prices(d, "10000"), (100, -100))
    fee = fee_to_value("10")
    for buyer, seller, market, size, price in (
        ("alice", "bob", 0, "0.9", "10000"), ("erin", "carol", 0, "0.9", "10000"),
        ("dave", "carol", 1, "2", "5000"),
    ):  # fmt: skip
        spec = node.params.markets[market]
        q, p = size_to_base(size, spec), price_to_units(price, spec)
        node.order(names[buyer], market, BUY, q, p, fee)
        node.order(names[seller], market, SELL, q, p, fee)
    node.transfer(names["bob"], names["dave"], usd_to_value("100"))
    node.withdraw(names["dave"], amount_to_quanta("50"))
    sealed = [b.number for b in node.seal_all()]
    echo(f"batches {sealed}: oracle BTC 10,000 / ETH 5,000 USD with funding rates; alice and "
         "erin each buy 0.9 BTC at 10,000 on 1,000 USD (9x), from bob and carol; dave buys 2 "
         "ETH from carol; max fee 10 USD an order, to the insurance fund; bob sends dave 100 "
         "USD, dave withdraws 50 USD")  # fmt: skip
    d.prove_and_settle("perpetuals")
    node.withdraw(names["bob"], amount_to_quanta("500"))
    batch = node.seal()
    run = node.prove(workers=d.workers, progress=d.progress)
    d.report.check(not run.failures, "the withdrawal batch is proven")
    bad = tampered(d, batch, WITHDRAW, {"amount": amount_to_quanta("500.000001")})
    try:
        node.submit_batch(bad, batch.new_root, node.proof(batch.number))
        d.report.check(False, "a tampered withdrawal amount is refused")
    except BatchRejected as e:
        echo(f"tampered batch {batch.number} (bob's withdrawal 500 → 500.000001 USD, same proof) "
             f"rejected: {e}")  # fmt: skip
    d.report.check(node.settle() == [batch.number], "the genuine batch settles")
    paid = node.claim(names["bob"])
    echo(f"genuine batch {batch.number} settled; bob claims {exact(quanta_to_usd(paid))} USD on L1")
    d.report.check(paid == amount_to_quanta("500"), "bob is paid 500 USD")


def bankruptcy(d: Demo) -> None:
    node, names, echo = d.node, d.names, d.echo
    echo("— act 2: bankruptcy — liquidation with the insurance fund, then deleverage")
    d.clock.advance(60)
    node.oracle(prices(d, "8850"), (0, 0))
    node.seal_all()
    g = node.seq.state.global_state
    for name in ("alice", "erin"):
        tv = total_value(node.seq.state.account(names[name]), g)
        echo(f"oracle BTC 8,850 USD: {name}'s total value is {usd(tv)} USD (under water)")
    fund = g.insurance_fund
    echo(f"insurance fund {usd(fund)} USD")
    q = btc(d, "0.9")
    node.liquidate(names["carol"], names["alice"], 0, q, btc_price(d, "8850"))
    node.seal_all()
    after = node.seq.state.global_state.insurance_fund
    echo(f"carol liquidates alice's 0.9 BTC at the oracle price: the fund covers the shortfall "
         f"{usd(fund - after)} USD (fund now {usd(after)} USD); alice's total value "
         f"{usd(total_value(node.seq.state.account(names['alice']), node.seq.state.global_state))}"
         " USD")  # fmt: skip
    d.report.check(after < fund, "the fund covered alice's shortfall")
    try:
        node.liquidate(names["carol"], names["erin"], 0, q, btc_price(d, "8850"))
        d.report.check(False, "erin's liquidation is refused: the fund is exhausted")
    except InsuranceExhausted as e:
        echo(f"erin's liquidation is refused: {describe_error(e, node.params.markets)}")
    node.deleverage(names["erin"], names["bob"], 0, q)
    [batch] = node.seal_all()
    price = next(w.effect["price"] for w in batch.slots if w.tx_type == DELEVERAGE)
    echo(f"erin is deleveraged against bob's profitable short at the bankruptcy price "
         f"{show(units_to_price(price, node.params.markets[0]))} USD")  # fmt: skip
    erin = total_value(node.seq.state.account(names["erin"]), node.seq.state.global_state)
    d.report.check(erin == 0, "erin's total value is 0 after the deleverage")
    d.account("bob", "bob after the deleverage:")
    d.prove_and_settle("bankruptcy")


def options(d: Demo) -> None:
    node, names, echo = d.node, d.names, d.echo
    echo("— act 3: options")
    d.clock.advance(60)
    expiry = int(d.clock()) + OPTION_DAYS * 86_400
    call = node.list_series(0, expiry, btc_price(d, "9000"), 0, 0.8)["series_id"]
    put = node.list_series(0, expiry, btc_price(d, "8500"), 1, 0.8)["series_id"]
    d.clock.advance(60)
    marks = node.oracle(prices(d, "8850"), (0, 0))["marks"]
    m = node.params.markets[0]
    echo(f"operator lists BTC {OPTION_DAYS}-day call 9,000 (series {call}) and put 8,500 (series "
         f"{put}); oracle marks at iv 80 %: call {show(units_to_price(marks[call], m))}, put "
         f"{show(units_to_price(marks[put], m))} USD per BTC")  # fmt: skip
    fee = fee_to_value("1")
    for buyer, seller, sid, size in (("carol", "frank", call, "0.3"), ("dave", "bob", put, "0.5")):
        inst, q = OPTION_BASE + sid, btc(d, size)
        node.order(names[buyer], inst, BUY, q, marks[sid], fee)
        node.order(names[seller], inst, SELL, q, marks[sid], fee)
    node.seal_all()
    echo(
        "carol buys 0.3 BTC of the call from frank, dave 0.5 BTC of the put from bob, at the marks"
    )
    d.account("frank", "frank, short the call:")
    echo("  zkr risk frank:")
    for line in risk_view(node, names["frank"])["table"].splitlines():
        echo("    " + line)
    d.clock.advance(3600)
    node.oracle(prices(d, "10200"), (0, 0))
    node.seal_all()
    state = node.seq.state
    frank = state.account(names["frank"])
    echo(f"BTC rises to 10,200 USD: frank's short call is liquidatable: "
         f"{is_liquidatable(frank, state.global_state)}")  # fmt: skip
    d.report.check(is_liquidatable(frank, state.global_state), "frank is liquidatable")
    g = state.global_state
    series = g.series[g.series_by_id(call)]
    mark = series.marked_value(g.markets[series.market].price)  # max(mark, intrinsic): the
    node.liquidate(names["bob"], names["frank"], OPTION_BASE + call, btc(d, "0.3"), mark)
    node.seal_all()
    echo(f"bob takes over frank's 0.3 short call at its value max(mark, intrinsic) "
         f"{show(units_to_price(mark, m))} USD")  # fmt: skip
    d.prove_and_settle("options")
    d.clock.now = expiry - 1700
    node.oracle(prices(d, "10300"), (0, 0))
    d.clock.now = expiry + 60
    settled = node.oracle(prices(d, "10300"), (0, 0))["settled"]
    d.report.check(set(settled) == {call, put}, "both series settle at expiry")
    echo(f"at expiry the oracle signs the settlement price, the TWAP of its index over the last "
         f"30 min: {show(units_to_price(settled[call], m))} USD")  # fmt: skip
    swept = node.settle_options()
    echo(f"settled positions swept into collateral: accounts {[a for a, _ in swept]}")
    node.seal_all()
    for name in ("carol", "dave"):
        d.account(name, f"{name} after settlement:")


def tampered_settlement(d: Demo) -> None:
    node, echo = d.node, d.echo
    echo("— a tampered settlement price")
    run = node.prove(workers=d.workers, progress=d.progress)
    d.report.check(not run.failures, "the settlement batches are proven")
    head = node.head()
    target = next(
        node.batch(n) for n in range(node.l1.batch_count, head)
        if any(w.tx_type == MARKS and w.effect["settle_flags"] for w in node.batch(n).slots)
    )  # fmt: skip
    while node.l1.batch_count < target.number:
        n = node.l1.batch_count
        b = node.batch(n)
        node.submit_batch(list(b.pubdata), b.new_root, node.proof(n))
    marks = next(w.effect for w in target.slots if w.tx_type == MARKS and w.effect["settle_flags"])
    j = next(k for k in range(8) if marks["settle_flags"] >> k & 1)
    bad = tampered(d, target, MARKS, marks | {f"mark_{j}": marks[f"mark_{j}"] + VALUE_SCALE})
    try:
        node.submit_batch(bad, target.new_root, node.proof(target.number))
        d.report.check(False, "a tampered settlement price is refused")
    except BatchRejected as e:
        echo(f"batch {target.number} with series slot {j}'s settlement price raised in its "
             f"pubdata (nothing re-signed, same proof) is rejected: {e}")  # fmt: skip
    d.prove_and_settle("settlement")


def exit_game(d: Demo) -> None:
    node, names, echo = d.node, d.names, d.echo
    echo("— the operator stops serving")
    rid = node.force_withdrawal(names["dave"])
    echo(f"dave requests a forced withdrawal on L1 (request #{rid}); it is never served")
    d.clock.advance(DEADLINE)
    late = node.freeze()
    echo(f"{DEADLINE} s later anyone may freeze: frozen because request #{late['id']} is overdue")
    state = node.rebuild()
    echo(f"bob rebuilds the state from L1 pubdata alone: root {short(state.root)} = L1 root: "
         f"{state.root == node.l1.root}")  # fmt: skip
    d.report.check(state.root == node.l1.root, "the rebuilt root is the L1 root")
    for name in ("bob", "dave"):
        value = total_value(state.account(names[name]), state.global_state) // VALUE_SCALE
        paid = node.escape(names[name])
        echo(f"{name} escapes with {exact(quanta_to_usd(paid))} USD (total value "
             f"{exact(quanta_to_usd(value))} USD)")  # fmt: skip
        d.report.check(paid == value, f"{name} escapes with the total value")
    vault, claimable = node.l1.vault, node.l1.total_claimable()
    echo(f"L1 vault {exact(quanta_to_usd(vault))} USD, claimable "
         f"{exact(quanta_to_usd(claimable))} USD")  # fmt: skip
