"""The order book's rules on protocol v2, each with the failure it fixes reproduced first.

- order ids: monotone per account, handed out by the book; a used id is refused;
- complete validation before an order rests: instrument (market, listed and live series), size,
  price, wall-clock expiry, the margin its whole size needs — nothing rests or trades otherwise;
- resting orders take no nonce: withdrawals and transfers go through while orders rest;
- partial fills: the remainder rests and the same signed order executes again (fill records of
  the state), across batches, never beyond its size; filled orders leave the book;
- cancellation signed by the account key over the rollup's domain, with a non-protocol tag;
- the maximum fee in USD, charged pro rata.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol import messages
from protocol.eddsa import sign
from protocol.spec import BUY, OPTION_BASE, SELL, TAG_DOMAIN, TAG_ORDER
from rollup import errors
from rollup.node import NodeError, Rollup
from rollup.node.orders import PROTOCOL_TAGS, TAG_CANCEL, cancel_message
from rollup.node.units import amount_to_quanta, fee_to_value, price_to_units, size_to_base
from rollup.tx import Order


@pytest.fixture
def node(rollup_dir: Path):
    n = Rollup(rollup_dir)
    yield n
    n.close()


def btc(node: Rollup, size: str, price: str = "30000") -> tuple[int, int]:
    m = node.params.markets[0]
    return size_to_base(size, m), price_to_units(price, m)


def snapshot(node: Rollup) -> tuple:
    return (node.book.read(), len(node.seq.pending), node.seq.state.root)


# -- order ids ------------------------------------------------------------------------------------
def test_order_ids_are_monotone_per_account(node: Rollup) -> None:
    q, p = btc(node, "0.001", "29000")
    assert [node.order(0, 0, BUY, q, p)["order_id"] for _ in range(3)] == [1, 2, 3]
    assert node.order(1, 0, BUY, q, p)["order_id"] == 1
    assert node.next_order_id(0) == 4


def test_a_used_order_id_is_refused(node: Rollup) -> None:
    q, p = btc(node, "0.001", "29000")
    node.order(0, 0, BUY, q, p)
    replay = Order(0, 0, BUY, q, p, 0, 1, node.now() + 3600).sign(node.key(0), node.domain)
    before = snapshot(node)
    with pytest.raises(NodeError, match="order id 1 of account 0 is used"):
        node.place(replay)
    assert snapshot(node) == before
    fresh = Order(0, 0, BUY, q, p, 0, 2, node.now() + 3600).sign(node.key(0), node.domain)
    assert node.place(fresh)["order_id"] == 2  # positive twin


# -- validation before resting --------------------------------------------------------------------
@pytest.mark.parametrize(
    "change, error",
    [
        ({"instrument": 5}, errors.MarketOutOfRange),
        ({"instrument": OPTION_BASE + 9}, errors.SeriesUnavailable),
        ({"size": 0}, errors.ValueOutOfRange),
        ({"size": 1 << 48}, errors.ValueOutOfRange),
        ({"limit_price": 0}, errors.ValueOutOfRange),
        ({"expiry": 1}, NodeError),
        ({"size": 10**8}, errors.InsufficientMargin),  # 1 BTC on 1,000 USD: could never fill
    ],
)
def test_orders_that_could_never_execute_never_rest(node: Rollup, change: dict, error) -> None:
    q, p = btc(node, "0.01")
    terms = {"instrument": 0, "size": q, "limit_price": p, "expiry": node.now() + 3600} | change
    o = Order(0, terms["instrument"], BUY, terms["size"], terms["limit_price"], 0, 1,
              terms["expiry"])  # fmt: skip
    before = snapshot(node)
    with pytest.raises(error):
        node.place(o.sign(node.key(0), node.domain))
    assert snapshot(node) == before
    good = Order(0, 0, BUY, q, p, 0, 1, node.now() + 3600)  # positive twin
    assert node.place(good.sign(node.key(0), node.domain))["resting"]


def test_an_order_in_an_expired_series_is_refused(node: Rollup, rollup_dir: Path) -> None:
    m = node.params.markets[0]
    sid = node.list_series(0, node.now() + 100, price_to_units("30000", m), 0)["series_id"]
    node.oracle((price_to_units("30000", m),))
    q, p = btc(node, "0.01", "1000")
    assert node.order(0, OPTION_BASE + sid, BUY, q, p)["resting"]  # live: it rests
    later = node.now() + 101.0
    node.clock = lambda: later  # the wall clock passes the series' expiry
    with pytest.raises(NodeError, match=f"option series {sid} expired"):
        node.order(1, OPTION_BASE + sid, SELL, q, p)


def test_a_signature_under_another_domain_is_refused(node: Rollup) -> None:
    q, p = btc(node, "0.01")
    o = Order(0, 0, BUY, q, p, 0, 1, node.now() + 3600)
    other = messages.domain(1, 2)
    with pytest.raises(NodeError, match="signature does not verify"):
        node.place(o.sign(node.key(0), other))
    assert node.place(o.sign(node.key(0), node.domain))["resting"]


# -- nonces ---------------------------------------------------------------------------------------
def test_resting_orders_take_no_nonce(node: Rollup) -> None:
    q, p = btc(node, "0.001", "29000")
    for _ in range(3):
        node.order(0, 0, BUY, q, p)
    assert node.next_nonce(0) == 0
    node.withdraw(0, amount_to_quanta("10"))
    node.transfer(0, 1, fee_to_value("5"))
    batch = node.seal()
    assert node.rejected(batch.number) == []
    assert node.seq.state.account(0).nonce == 2 and len(node.book.load()) == 3


# -- partial fills --------------------------------------------------------------------------------
def test_partial_fills_across_batches(node: Rollup) -> None:
    q5, p = btc(node, "0.005")
    q2, _ = btc(node, "0.002")
    q3, _ = btc(node, "0.003")
    maker = node.order(0, 0, BUY, q5, p)
    assert maker["resting"] and maker["filled"] == 0
    first = node.order(1, 0, SELL, q2, p)
    assert first["filled"] == q2 and not first["resting"]
    node.seal()
    [resting] = node.orders()
    assert (resting["order_id"], resting["filled"], resting["remaining"]) == (1, q2, q3)
    second = node.order(1, 0, SELL, q5, p)  # fills the maker's rest, rests its own remainder
    assert second["trades"][0]["maker_order_id"] == 1 and second["filled"] == q3
    assert second["resting"]
    node.seal()
    a0 = node.seq.state.account(0)
    assert a0.positions[0].size == q5
    assert [(r.order_id, r.filled) for r in a0.orders if r.order_id] == [(1, q5)]
    assert [(o["account"], o["remaining"]) for o in node.orders()] == [(1, q2)]


def test_the_max_fee_is_charged_pro_rata(node: Rollup) -> None:
    q5, p = btc(node, "0.005")
    q2, _ = btc(node, "0.002")
    node.order(0, 0, BUY, q5, p, fee_to_value("5"))
    node.order(1, 0, SELL, q2, p, fee_to_value("1"))
    node.seal()
    assert node.seq.state.global_state.insurance_fund == fee_to_value("2") + fee_to_value("1")


# -- cancellation ---------------------------------------------------------------------------------
def test_cancel_is_signed_by_the_account_over_the_domain(node: Rollup) -> None:
    q, p = btc(node, "0.001", "29000")
    oid = node.order(0, 0, BUY, q, p)["order_id"]
    wrong_key = sign(node.key(1), cancel_message(node.domain, 0, oid))
    wrong_domain = sign(node.key(0), cancel_message(messages.domain(1, 2), 0, oid))
    for sig in (wrong_key, wrong_domain):
        with pytest.raises(NodeError, match="signature does not verify"):
            node.cancel(0, oid, sig)
    assert len(node.book.load()) == 1
    node.cancel(0, oid, sign(node.key(0), cancel_message(node.domain, 0, oid)))
    assert node.book.load() == []
    with pytest.raises(NodeError, match="no resting order"):
        node.cancel(0, oid)


def test_the_cancel_tag_is_not_a_protocol_tag() -> None:
    assert TAG_CANCEL not in PROTOCOL_TAGS
    assert set(range(TAG_ORDER, TAG_DOMAIN + 3)) <= PROTOCOL_TAGS


def test_expired_resting_orders_leave_the_book(node: Rollup) -> None:
    q, p = btc(node, "0.001")
    node.order(0, 0, BUY, q, p, expiry=node.now() + 100)
    later = node.now() + 101.0
    node.clock = lambda: later
    out = node.order(1, 0, SELL, q, p)
    assert out["trades"] == [] and out["resting"]  # the expired bid neither matched nor stayed
    assert [(o["account"], o["order_id"]) for o in node.orders()] == [(1, 1)]
