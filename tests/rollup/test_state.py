"""Every transaction applied natively, and a negative twin for each precondition: the named error
is raised and nothing changes (root, accounts, global state)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from protocol.messages import domain
from protocol.spec import BUY, SELL, VALUE_SCALE
from rollup import errors
from rollup.margin import total_value
from rollup.tx import (
    Deposit,
    ForcedWithdrawal,
    Noop,
    OraclePrice,
    Order,
    Trade,
    Transfer,
    Withdraw,
)
from tests.rollup.conftest import (
    DOMAIN,
    GENESIS_TIME,
    ORACLE_KEY,
    PRICE,
    World,
    make_world,
    public_key,
)

Q = VALUE_SCALE
EXPIRY = GENESIS_TIME + 10**6
OTHER_DOMAIN = domain(1, 2)
_ids = itertools.count(1)


def rejected(world: World, tx, error: type[errors.RollupError]) -> errors.RollupError:
    s = world.state
    before = (s.root, dict(s.accounts), s.global_state, dict(s.tree.nodes))
    with pytest.raises(error) as info:
        s.apply(tx)
    assert (s.root, dict(s.accounts), s.global_state, dict(s.tree.nodes)) == before
    assert str(info.value)
    return info.value


def order(
    world: World, account: int, side: int, size: int = 1000, limit: int = PRICE,
    max_fee: int = 10, order_id: int | None = None, expiry: int = EXPIRY, market: int = 0,
    dom: int = DOMAIN,
):  # fmt: skip
    oid = next(_ids) + 10 if order_id is None else order_id
    o = Order(account, market, side, size, limit, max_fee, oid, expiry)
    return o.sign(world.keys[account], dom)


def trade(world: World, q: int = 500, price: int = PRICE, size: int = 1000) -> Trade:
    return Trade(order(world, 0, BUY, size=size), order(world, 1, SELL, size=size), q, price, 1, 1)


def oracle(
    world: World, prices=None, rates=None, dt: int = 60, key=ORACLE_KEY, dom=DOMAIN,
    previous: int | None = None,
):  # fmt: skip
    m = world.params.n_markets
    g = world.state.global_state
    return OraclePrice.signed(
        key, dom, tuple(prices or (PRICE,) * m), tuple(rates or (0,) * m), g.oracle_time + dt,
        g.oracle_time if previous is None else previous,
    )  # fmt: skip


# -- deposits ------------------------------------------------------------------------------------
def test_deposit_creates_and_credits(world: World) -> None:
    a = world.state.account(0)
    assert a.collateral == 10**6 * Q and a.pubkey == public_key(world.keys[0])
    root = world.state.tree.root
    w = world.state.apply(Deposit(0, *a.pubkey, 7, 8))  # the account's own key: credited
    assert world.state.account(0).collateral == (10**6 + 7) * Q
    assert w.effect["refunded"] == 0 and w.updates[0].proof.verify(root, world.state.tree.root)


def test_deposit_to_another_keys_account_is_refunded(world: World) -> None:
    """Front-running: a deposit under key K to an index that another key owns is never credited
    to the owner (it is refunded to the depositor on L1)."""
    root = world.state.root
    w = world.state.apply(Deposit(0, *public_key(world.keys[1]), 10**6, 8))
    assert w.effect["refunded"] == 1 and w.new_root == root
    assert world.state.account(0).collateral == 10**6 * Q


def test_deposit_invalid_key_on_empty_account_is_refunded(world: World) -> None:
    root = world.state.root
    w = world.state.apply(Deposit(9, 5, 6, 7, 8))
    assert w.effect["refunded"] == 1 and world.state.account(9).is_empty
    assert w.new_root == root  # nothing credited


def test_deposit_negative(world: World) -> None:
    rejected(world, Deposit(0, 0, 0, 0, 8), errors.ValueOutOfRange)
    rejected(world, Deposit(1 << 4, 0, 0, 5, 8), errors.AccountOutOfRange)


# -- withdraw and transfer -----------------------------------------------------------------------
def test_withdraw(world: World) -> None:
    tx = Withdraw.signed(world.keys[0], DOMAIN, 0, 10, 77, 0)
    w = world.state.apply(tx)
    assert world.state.account(0).collateral == (10**6 - 10) * Q
    assert world.state.account(0).nonce == 1 and w.messages == (tx.message(DOMAIN),)


def test_withdraw_negative(world: World) -> None:
    k = world.keys[0]
    rejected(world, Withdraw.signed(k, DOMAIN, 0, 10, 77, 1), errors.BadNonce)
    rejected(world, Withdraw.signed(world.keys[1], DOMAIN, 0, 10, 77, 0), errors.BadSignature)
    rejected(world, Withdraw.signed(k, OTHER_DOMAIN, 0, 10, 77, 0), errors.BadSignature)
    rejected(world, Withdraw.signed(k, DOMAIN, 0, 10**6 + 1, 77, 0), errors.InsufficientMargin)
    rejected(world, Withdraw.signed(k, DOMAIN, 0, 0, 77, 0), errors.ValueOutOfRange)
    rejected(world, Withdraw.signed(k, DOMAIN, 9, 1, 77, 0), errors.UnknownAccount)
    rejected(world, Withdraw.signed(k, DOMAIN, 0, 1, 1 << 160, 0), errors.ValueOutOfRange)


def test_transfer(world: World) -> None:
    world.state.apply(Transfer.signed(world.keys[0], DOMAIN, 0, 1, 5 * Q, 0))
    assert world.state.account(1).collateral == (10**6 + 5) * Q
    assert world.state.account(0).collateral == (10**6 - 5) * Q


def test_transfer_negative(world: World) -> None:
    k = world.keys[0]
    rejected(world, Transfer.signed(k, DOMAIN, 0, 0, 5, 0), errors.SelfTrade)
    rejected(world, Transfer.signed(k, DOMAIN, 0, 9, 5, 0), errors.UnknownAccount)
    rejected(world, Transfer.signed(k, DOMAIN, 0, 1, 5, 3), errors.BadNonce)
    rejected(world, Transfer.signed(world.keys[2], DOMAIN, 0, 1, 5, 0), errors.BadSignature)
    rejected(world, Transfer.signed(k, OTHER_DOMAIN, 0, 1, 5, 0), errors.BadSignature)
    big = (10**6 + 1) * Q
    rejected(world, Transfer.signed(k, DOMAIN, 0, 1, big, 0), errors.InsufficientMargin)
    rejected(world, Transfer.signed(k, DOMAIN, 0, 1, 0, 0), errors.ValueOutOfRange)


# -- trades --------------------------------------------------------------------------------------
def test_trade_moves_positions_fees_and_records(world: World) -> None:
    root = world.state.tree.root
    tx = trade(world)
    w = world.state.apply(tx)
    a, b = world.state.account(0), world.state.account(1)
    assert (a.positions[0].size, b.positions[0].size) == (500, -500)
    assert a.collateral == 10**6 * Q - 500 * PRICE - 1
    assert b.collateral == 10**6 * Q + 500 * PRICE - 1
    assert world.state.global_state.insurance_fund == 2 and (a.nonce, b.nonce) == (0, 0)
    assert a.orders[0].order_id == tx.maker.order.order_id and a.orders[0].filled == 500
    assert w.effect["maker_order_id"] == tx.maker.order.order_id
    assert w.updates[0].proof.verify(root, w.updates[1].proof.old_root)
    assert w.updates[1].proof.verify(w.updates[0].proof.new_root, world.state.tree.root)


def test_trade_negative(world: World) -> None:
    buy, sell = order(world, 0, BUY), order(world, 1, SELL)
    rejected(world, Trade(buy, order(world, 0, SELL), 5, PRICE, 0, 0), errors.SelfTrade)
    rejected(world, Trade(buy, order(world, 1, BUY), 5, PRICE, 0, 0), errors.OrderMismatch)
    other_market = order(world, 1, SELL, market=1)
    rejected(world, Trade(buy, other_market, 5, PRICE, 0, 0), errors.OrderMismatch)
    forged = replace(sell, order=replace(sell.order, size=999))
    rejected(world, Trade(buy, forged, 5, PRICE, 0, 0), errors.BadSignature)
    foreign = order(world, 1, SELL, dom=OTHER_DOMAIN)
    rejected(world, Trade(buy, foreign, 5, PRICE, 0, 0), errors.BadSignature)
    rejected(world, Trade(buy, sell, 5, PRICE + 1, 0, 0), errors.LimitPriceViolated)
    rejected(world, Trade(buy, sell, 1001, PRICE, 0, 0), errors.SizeExceeded)
    # max fee 10 for size 1000: a fill of 500 may pay 5, not 6
    rejected(world, Trade(buy, sell, 500, PRICE, 6, 0), errors.FeeExceeded)
    world.state.apply(Trade(buy, sell, 500, PRICE, 5, 5))
    stale = order(world, 1, SELL, expiry=GENESIS_TIME - 1)
    rejected(world, Trade(order(world, 0, BUY), stale, 5, PRICE, 0, 0), errors.OrderExpired)


def test_trade_price_band() -> None:
    world = make_world()
    high = PRICE * 106 // 100  # BTC band is 5%
    buy = order(world, 0, BUY, limit=high)
    sell = order(world, 1, SELL, limit=PRICE)
    rejected(world, Trade(buy, sell, 5, high, 0, 0), errors.PriceOutsideBand)
    world.state.apply(Trade(buy, sell, 5, PRICE * 105 // 100, 0, 0))


def test_partial_fills_resting_order_and_withdrawals_do_not_conflict(world: World) -> None:
    """One signed maker order fills in parts across transactions, a withdrawal of the maker in
    between does not invalidate it, and it never fills beyond its size."""
    maker = order(world, 0, SELL, size=300)
    world.state.apply(Trade(maker, order(world, 1, BUY), 100, PRICE, 0, 0))
    world.state.apply(Withdraw.signed(world.keys[0], DOMAIN, 0, 5, 77, 0))
    world.state.apply(Trade(maker, order(world, 2, BUY), 150, PRICE, 0, 0))
    assert world.state.account(0).positions[0].size == -250
    rejected(world, Trade(maker, order(world, 3, BUY), 51, PRICE, 0, 0), errors.SizeExceeded)
    world.state.apply(Trade(maker, order(world, 3, BUY), 50, PRICE, 0, 0))
    rejected(world, Trade(maker, order(world, 3, BUY), 1, PRICE, 0, 0), errors.SizeExceeded)


def test_order_records_window_and_floor(world: World) -> None:
    """With R records, a fifth newer order evicts the oldest; the evicted order and any order
    below the floor can never fill again."""
    makers = [order(world, 0, SELL, size=100, order_id=i) for i in (5, 6, 7, 8)]
    for m in makers:
        world.state.apply(Trade(m, order(world, 1, BUY), 10, PRICE, 0, 0))
    newer = order(world, 0, SELL, size=100, order_id=9)
    world.state.apply(Trade(newer, order(world, 1, BUY), 10, PRICE, 0, 0))
    a = world.state.account(0)
    assert a.order_floor == 6 and sorted(r.order_id for r in a.orders) == [6, 7, 8, 9]
    rejected(world, Trade(makers[0], order(world, 1, BUY), 10, PRICE, 0, 0), errors.OrderDead)
    old = order(world, 0, SELL, size=100, order_id=3)
    rejected(world, Trade(old, order(world, 1, BUY), 10, PRICE, 0, 0), errors.OrderDead)
    # an id above the floor but below every record: every record holds a newer order
    mid = order(world, 0, SELL, size=100, order_id=6)
    world.state.apply(Trade(mid, order(world, 1, BUY), 5, PRICE, 0, 0))  # matches record 6
    for oid in (10, 11, 12, 13):
        world.state.apply(Trade(order(world, 0, SELL, size=100, order_id=oid),
                                order(world, 1, BUY), 1, PRICE, 0, 0))  # fmt: skip
    assert world.state.account(0).order_floor == 10


def test_reduce_only_trade_at_a_ruinous_price_is_refused() -> None:
    """Attack: A buys 45 BTC-units at the oracle price from C, then sells them back to C at a
    price far below the oracle. A would end flat with TV < 0 and C would hold the difference."""
    world = make_world(amount=1000)
    q = 1000 * Q // PRICE * 9  # 9× leverage
    world.state.apply(Trade(order(world, 0, BUY, size=q), order(world, 1, SELL, size=q), q,
                            PRICE, 0, 0))  # fmt: skip
    dump = Trade(order(world, 0, SELL, size=q, limit=1), order(world, 1, BUY, size=q), q, 1, 0, 0)
    rejected(world, dump, errors.PriceOutsideBand)
    # the worst the band allows costs A 5% of notional: at 9× leverage A stays solvent
    edge = PRICE * 95 // 100
    at_edge = Trade(order(world, 0, SELL, size=q, limit=edge),
                    order(world, 1, BUY, size=q, limit=edge), q, edge, 0, 0)  # fmt: skip
    world.state.apply(at_edge)
    assert total_value(world.state.account(0), world.state.global_state) > 0


def test_reducing_trade_below_initial_margin_needs_a_ratio_no_worse() -> None:
    world = make_world()
    big = 10**6 * Q // PRICE * 9  # 9× leverage: fine at 10% initial margin
    world.state.apply(trade(world, q=big, size=big))
    low = PRICE * 93 // 100
    world.state.apply(oracle(world, (low,) * 4))
    # below maintenance now (TV/MR ≈ 0.88): increasing is refused; reducing is allowed only at a
    # price whose discount d keeps TV/TR: d ≤ mf·TV/MR ≈ 4.4% < the 5% band
    increase = Trade(order(world, 0, BUY, limit=low), order(world, 2, SELL, limit=low), 10, low,
                     0, 0)  # fmt: skip
    rejected(world, increase, errors.InsufficientMargin)
    edge = -(-low * 95 // 100)  # reducing at the band's worst price: TV/TR gets worse
    worse = Trade(order(world, 0, SELL, limit=edge), order(world, 2, BUY, limit=edge), 10, edge,
                  0, 0)  # fmt: skip
    rejected(world, worse, errors.InsufficientMargin)
    world.state.apply(
        Trade(order(world, 0, SELL, limit=low), order(world, 2, BUY, limit=low), 10, low, 0, 0)
    )
    # flipping the position is not a reduction
    flip = Trade(order(world, 0, SELL, size=2 * big, limit=low),
                 order(world, 2, BUY, size=2 * big, limit=low), 2 * big - 5, low, 0, 0)  # fmt: skip
    rejected(world, flip, errors.InsufficientMargin)


# -- oracle and funding ----------------------------------------------------------------------------
def test_oracle_accrues_funding_at_the_rates_in_force(world: World) -> None:
    world.state.apply(trade(world))
    world.state.apply(oracle(world, rates=(4000, 0, 0, 0), dt=100))  # no rate before: F = 0
    assert world.state.global_state.markets[0].funding_index == 0
    world.state.apply(oracle(world, prices=(2 * PRICE,) * 4, dt=100))  # 4000 in force for 100 s
    f = world.state.global_state.markets[0].funding_index
    assert f == 4000 * 100 * PRICE // (1 << 32) > 0  # at the price in force, not the new one
    assert world.state.global_state.markets[0].funding_rate == 0
    tv_before = [total_value(world.state.account(i), world.state.global_state) for i in (0, 1)]
    world.state.apply(Transfer.signed(world.keys[0], DOMAIN, 0, 1, 1, 0))  # settle both
    a, b = world.state.account(0), world.state.account(1)
    assert a.collateral == 10**6 * Q - 500 * PRICE - 1 - 1 - 500 * f
    assert b.collateral == 10**6 * Q + 500 * PRICE - 1 + 1 + 500 * f
    after = [total_value(x, world.state.global_state) for x in (a, b)]
    assert after == [tv_before[0] - 1, tv_before[1] + 1]


def test_first_oracle_update_charges_only_since_genesis(world: World) -> None:
    """Genesis funding time is the genesis oracle time, so the first update accrues over Δt
    only (not since the epoch)."""
    world.state.apply(trade(world))
    world.state.apply(oracle(world, rates=(4295, 0, 0, 0), dt=1))
    world.state.apply(oracle(world, dt=60))
    f = world.state.global_state.markets[0].funding_index
    assert f == 4295 * 60 * PRICE // (1 << 32)
    assert total_value(world.state.account(0), world.state.global_state) > 0


def test_oracle_negative(world: World) -> None:
    rejected(world, oracle(world, key=world.keys[0]), errors.BadSignature)
    rejected(world, oracle(world, dom=OTHER_DOMAIN), errors.BadSignature)
    rejected(world, oracle(world, dt=0), errors.StaleTimestamp)
    rejected(world, oracle(world, prices=(0,) * 4), errors.ValueOutOfRange)
    g = world.state.global_state
    short = OraclePrice.signed(ORACLE_KEY, DOMAIN, (PRICE,) * 3, (0,) * 3, g.oracle_time + 5,
                               g.oracle_time)  # fmt: skip
    rejected(world, short, errors.OrderMismatch)
    rejected(world, oracle(world, rates=(4296, 0, 0, 0)), errors.FundingRateTooHigh)
    rejected(world, oracle(world, rates=(-4296, 0, 0, 0)), errors.FundingRateTooHigh)


def test_oracle_updates_apply_in_order_none_skipped(world: World) -> None:
    """The oracle's updates form a chain (each signs the time of the one before): an operator
    that skips one — say a run of negative funding rates that would charge its own longs — or
    replays one, or applies them out of order, is refused; in order they all apply."""
    world.state.apply(trade(world))  # account 0 long, account 1 short
    t0 = world.state.global_state.oracle_time
    m = world.params.n_markets
    chain = []
    for k, rate in enumerate((-4000, -4000, 4000)):
        previous = t0 + 100 * k
        chain.append(OraclePrice.signed(ORACLE_KEY, DOMAIN, (PRICE,) * m, (rate,) + (0,) * (m - 1),
                                        previous + 100, previous))  # fmt: skip
    e = rejected(world, chain[1], errors.OracleGap)  # the first one skipped
    assert str(e) == (
        f"oracle update follows the one at time {t0 + 100}, but the rollup's oracle time is "
        f"{t0}: the oracle's updates apply in order, none skipped"
    )
    rejected(world, chain[2], errors.OracleGap)
    world.state.apply(chain[0])
    rejected(world, chain[0], errors.OracleGap)  # replayed
    f1 = world.state.global_state.markets[0].funding_index
    world.state.apply(chain[1])
    world.state.apply(chain[2])
    g = world.state.global_state
    assert g.oracle_time == t0 + 300 and g.markets[0].funding_rate == 4000
    # every interval charged at the rate the oracle set for it: −4000 twice, for 100 s each
    assert g.markets[0].funding_index == f1 + 2 * (-4000 * 100 * PRICE // (1 << 32))


def test_funding_index_bounded(world: World) -> None:
    s = world.state
    g = s.global_state
    near = replace(
        g.markets[0], funding_index=(1 << 96) - 2, funding_rate=(1 << 32) - 1,
        max_funding_rate=(1 << 32) - 1,
    )  # fmt: skip
    s.global_state = replace(g, markets=(near, *g.markets[1:]))
    err = rejected(world, oracle(world), errors.ValueOutOfRange)
    assert err.name == "funding index 0"


# -- forced withdrawals, no-ops, widths ----------------------------------------------------------
def test_forced_withdrawal(world: World) -> None:
    w = world.state.apply(ForcedWithdrawal(0, 99))
    assert w.effect == {"account": 0, "amount": 10**6, "void": 0, "l1_address": 99}
    assert world.state.account(0).collateral == 0
    w = world.state.apply(ForcedWithdrawal(9, 99))
    assert w.effect["void"] == 1 and w.new_root == w.old_root


def test_forced_withdrawal_keeps_initial_margin() -> None:
    world = make_world()
    world.state.apply(trade(world, q=5000, size=5000))
    w = world.state.apply(ForcedWithdrawal(0, 99))
    a = world.state.account(0)
    assert total_value(a, world.state.global_state) * 10**6 >= 5000 * PRICE * 100_000
    assert 0 < w.effect["amount"] < 10**6


def test_noop_changes_nothing(world: World) -> None:
    root = world.state.root
    w = world.state.apply(Noop())
    assert w.old_root == w.new_root == root and len(w.updates) == 2
    assert all(u.old_account == u.new_account for u in w.updates)


def test_bounds_enforced_with_named_errors(world: World) -> None:
    s = world.state
    # a deposit that would push collateral past 2^95 value units is refunded, not credited
    rich = replace(s.account(0), collateral=(1 << 95) - Q)
    s.accounts[0] = rich
    s.tree.update(0, rich.leaf())
    w = s.apply(Deposit(0, *rich.pubkey, 1, 5))
    assert w.effect["refunded"] == 1 and s.account(0) == rich
    # a nonce at its 32-bit limit cannot be bumped
    maxed = replace(s.account(1), nonce=(1 << 32) - 1)
    s.accounts[1] = maxed
    s.tree.update(1, maxed.leaf())
    err = rejected(
        world, Withdraw.signed(world.keys[1], DOMAIN, 1, 1, 5, (1 << 32) - 1),
        errors.ValueOutOfRange,
    )  # fmt: skip
    assert err.name == "nonce"
    # transfer that overflows the recipient
    overflow = Transfer.signed(world.keys[2], DOMAIN, 2, 0, 2 * Q, 0)
    assert rejected(world, overflow, errors.ValueOutOfRange).name == "recipient collateral"
    # order terms outside their widths
    big = order(world, 2, BUY, size=1 << 48)
    rejected(world, Trade(big, order(world, 3, SELL), 1, PRICE, 0, 0), errors.ValueOutOfRange)
    m4 = Trade(order(world, 2, BUY, market=4), order(world, 3, SELL, market=4), 1, PRICE, 0, 0)
    rejected(world, m4, errors.MarketOutOfRange)
    no_id = order(world, 2, BUY, order_id=0)
    rejected(world, Trade(no_id, order(world, 3, SELL), 1, PRICE, 0, 0), errors.ValueOutOfRange)
