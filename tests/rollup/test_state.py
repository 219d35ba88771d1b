"""Every transaction of DESIGN §4 applied natively, and a negative twin for each precondition:
the named error is raised and nothing changes (root, accounts, global state)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from protocol.spec import BUY, SELL, VALUE_SCALE
from rollup import errors
from rollup.margin import is_liquidatable, total_value
from rollup.tx import (
    Deposit,
    ForcedWithdrawal,
    FundingTick,
    Liquidate,
    Noop,
    OraclePrice,
    Order,
    Trade,
    Transfer,
    Withdraw,
)
from tests.rollup.conftest import ORACLE_KEY, PRICE, World, make_world, public_key

Q = VALUE_SCALE


def rejected(world: World, tx, error: type[errors.RollupError]) -> errors.RollupError:
    s = world.state
    before = (s.root, dict(s.accounts), s.global_state, dict(s.tree.nodes))
    with pytest.raises(error) as info:
        s.apply(tx)
    assert (s.root, dict(s.accounts), s.global_state, dict(s.tree.nodes)) == before
    assert str(info.value)
    return info.value


def order(
    world: World,
    account: int,
    side: int,
    size: int = 1000,
    limit: int = PRICE,
    fee: int = 10,
    nonce: int | None = None,
    expiry: int = 10**6,
    market: int = 0,
):
    n = world.state.account(account).nonce if nonce is None else nonce
    return Order(account, market, side, size, limit, fee, n, expiry).sign(world.keys[account])


def trade(world: World, q: int = 500, price: int = PRICE, size: int = 1000) -> Trade:
    return Trade(order(world, 0, BUY, size=size), order(world, 1, SELL, size=size), q, price, 1, 1)


def test_deposit_creates_and_credits(world: World) -> None:
    a = world.state.account(0)
    assert a.collateral == 10**6 * Q and a.pubkey == public_key(world.keys[0])
    root = world.state.tree.root
    w = world.state.apply(Deposit(0, 5, 6, 7, 8))  # existing account: key ignored, credited
    assert world.state.account(0).collateral == (10**6 + 7) * Q
    assert w.effect["refunded"] == 0 and w.updates[0].proof.verify(root, world.state.tree.root)


def test_deposit_invalid_key_on_empty_account_is_refunded(world: World) -> None:
    root = world.state.root
    w = world.state.apply(Deposit(9, 5, 6, 7, 8))
    assert w.effect["refunded"] == 1 and world.state.account(9).is_empty
    assert w.new_root == root  # nothing credited


def test_deposit_negative(world: World) -> None:
    rejected(world, Deposit(0, 0, 0, 0, 8), errors.ValueOutOfRange)
    rejected(world, Deposit(1 << 4, 0, 0, 5, 8), errors.AccountOutOfRange)


def test_withdraw(world: World) -> None:
    tx = Withdraw.signed(world.keys[0], 0, 10, 77, 0)
    w = world.state.apply(tx)
    assert world.state.account(0).collateral == (10**6 - 10) * Q
    assert world.state.account(0).nonce == 1 and w.messages == (tx.message(),)


def test_withdraw_negative(world: World) -> None:
    k = world.keys[0]
    rejected(world, Withdraw.signed(k, 0, 10, 77, 1), errors.BadNonce)
    rejected(world, Withdraw.signed(world.keys[1], 0, 10, 77, 0), errors.BadSignature)
    rejected(world, Withdraw.signed(k, 0, 10**6 + 1, 77, 0), errors.InsufficientMargin)
    rejected(world, Withdraw.signed(k, 0, 0, 77, 0), errors.ValueOutOfRange)
    rejected(world, Withdraw.signed(k, 9, 1, 77, 0), errors.UnknownAccount)
    rejected(world, Withdraw.signed(k, 0, 1, 1 << 160, 0), errors.ValueOutOfRange)


def test_transfer(world: World) -> None:
    world.state.apply(Transfer.signed(world.keys[0], 0, 1, 5 * Q, 0))
    assert world.state.account(1).collateral == (10**6 + 5) * Q
    assert world.state.account(0).collateral == (10**6 - 5) * Q


def test_transfer_negative(world: World) -> None:
    k = world.keys[0]
    rejected(world, Transfer.signed(k, 0, 0, 5, 0), errors.SelfTrade)
    rejected(world, Transfer.signed(k, 0, 9, 5, 0), errors.UnknownAccount)
    rejected(world, Transfer.signed(k, 0, 1, 5, 3), errors.BadNonce)
    rejected(world, Transfer.signed(world.keys[2], 0, 1, 5, 0), errors.BadSignature)
    rejected(world, Transfer.signed(k, 0, 1, (10**6 + 1) * Q, 0), errors.InsufficientMargin)
    rejected(world, Transfer.signed(k, 0, 1, 0, 0), errors.ValueOutOfRange)


def test_trade_moves_positions_and_fees(world: World) -> None:
    root = world.state.tree.root
    w = world.state.apply(trade(world))
    a, b = world.state.account(0), world.state.account(1)
    assert (a.positions[0].size, b.positions[0].size) == (500, -500)
    assert a.collateral == 10**6 * Q - 500 * PRICE - 1
    assert b.collateral == 10**6 * Q + 500 * PRICE - 1
    assert world.state.global_state.fee_pool == 2 and (a.nonce, b.nonce) == (1, 1)
    assert w.updates[0].proof.verify(root, w.updates[1].proof.old_root)
    assert w.updates[1].proof.verify(w.updates[0].proof.new_root, world.state.tree.root)


def test_trade_negative(world: World) -> None:
    buy, sell = order(world, 0, BUY), order(world, 1, SELL)
    rejected(world, Trade(buy, order(world, 0, SELL), 5, PRICE, 0, 0), errors.SelfTrade)
    rejected(world, Trade(buy, order(world, 1, BUY), 5, PRICE, 0, 0), errors.OrderMismatch)
    rejected(
        world, Trade(buy, order(world, 1, SELL, market=1), 5, PRICE, 0, 0), errors.OrderMismatch
    )
    rejected(world, Trade(buy, order(world, 1, SELL, nonce=1), 5, PRICE, 0, 0), errors.BadNonce)
    forged = replace(sell, order=replace(sell.order, size=999))
    rejected(world, Trade(buy, forged, 5, PRICE, 0, 0), errors.BadSignature)
    rejected(world, Trade(buy, sell, 5, PRICE + 1, 0, 0), errors.LimitPriceViolated)
    rejected(
        world,
        Trade(
            order(world, 0, BUY, limit=PRICE * 2),
            order(world, 1, SELL, limit=PRICE + 1),
            5,
            PRICE,
            0,
            0,
        ),
        errors.LimitPriceViolated,
    )
    rejected(world, Trade(buy, sell, 1001, PRICE, 0, 0), errors.SizeExceeded)
    rejected(world, Trade(buy, sell, 0, PRICE, 0, 0), errors.ValueOutOfRange)
    rejected(world, Trade(buy, sell, 5, PRICE, 11, 0), errors.FeeExceeded)
    world.state.apply(OraclePrice.signed(ORACLE_KEY, (PRICE,) * 4, 50))
    rejected(
        world, Trade(order(world, 0, BUY, expiry=49), sell, 5, PRICE, 0, 0), errors.OrderExpired
    )
    big = 10**6 * Q // PRICE * 20  # 20× leverage > 10× allowed by the 10% initial margin
    rejected(
        world,
        Trade(order(world, 0, BUY, size=big), order(world, 1, SELL, size=big), big, PRICE, 0, 0),
        errors.InsufficientMargin,
    )


def test_reducing_trade_allowed_below_initial_margin() -> None:
    world = make_world()
    big = 10**6 * Q // PRICE * 9  # 9× leverage: fine at 10% initial margin
    world.state.apply(trade(world, q=big, size=big))
    # price drops 5%: account 0 is below its initial margin but may still reduce
    world.state.apply(OraclePrice.signed(ORACLE_KEY, (PRICE * 95 // 100,) * 4, 10))
    low = PRICE * 95 // 100
    increase = Trade(
        order(world, 0, BUY, limit=low), order(world, 2, SELL, limit=low), 10, low, 0, 0
    )
    rejected(world, increase, errors.InsufficientMargin)
    world.state.apply(
        Trade(order(world, 0, SELL, limit=low), order(world, 2, BUY, limit=low), 10, low, 0, 0)
    )


def test_oracle_and_funding(world: World) -> None:
    world.state.apply(trade(world))
    world.state.apply(OraclePrice.signed(ORACLE_KEY, (PRICE,) * 4, 100))
    world.state.apply(FundingTick((4000, 0, 0, 0), 100))
    f = world.state.global_state.markets[0].funding_index
    assert f == 4000 * 100 * PRICE // (1 << 32) > 0
    tv_before = [total_value(world.state.account(i), world.state.global_state) for i in (0, 1)]
    world.state.apply(Transfer.signed(world.keys[0], 0, 1, 1, 1))  # touch both: settle funding
    a, b = world.state.account(0), world.state.account(1)
    assert a.collateral == 10**6 * Q - 500 * PRICE - 1 - 1 - 500 * f
    assert b.collateral == 10**6 * Q + 500 * PRICE - 1 + 1 + 500 * f
    assert [total_value(x, world.state.global_state) for x in (a, b)] == [
        tv_before[0] - 1,
        tv_before[1] + 1,
    ]


def test_oracle_funding_negative(world: World) -> None:
    rejected(world, OraclePrice.signed(world.keys[0], (PRICE,) * 4, 100), errors.BadSignature)
    rejected(world, OraclePrice.signed(ORACLE_KEY, (PRICE,) * 4, 0), errors.StaleTimestamp)
    rejected(world, OraclePrice.signed(ORACLE_KEY, (0,) * 4, 10), errors.ValueOutOfRange)
    rejected(world, OraclePrice.signed(ORACLE_KEY, (PRICE,) * 3, 10), errors.OrderMismatch)
    world.state.apply(OraclePrice.signed(ORACLE_KEY, (PRICE,) * 4, 100))
    rejected(world, FundingTick((4296, 0, 0, 0), 50), errors.FundingRateTooHigh)
    rejected(world, FundingTick((0, 0, 0, 0), 101), errors.ValueOutOfRange)  # beyond oracle time
    rejected(world, FundingTick((0, 0, 0, 0), 0), errors.StaleTimestamp)


def liquidatable_world() -> World:
    world = make_world()
    big = 10**6 * Q // PRICE * 9
    world.state.apply(trade(world, q=big, size=big))
    drop = PRICE * 93 // 100  # 9× leverage, −7%: TV ≈ 37% of collateral < 5% of 8.37× notional
    world.state.apply(OraclePrice.signed(ORACLE_KEY, (drop,) * 4, 10))
    return world


def test_liquidation() -> None:
    world = liquidatable_world()
    g = world.state.global_state
    assert is_liquidatable(world.state.account(0), g)
    price = g.markets[0].price * 96 // 100
    big = world.state.account(0).positions[0].size
    lq = Liquidate(order(world, 2, BUY, size=big, limit=price), 0, big // 2, price, 0)
    w = world.state.apply(lq)
    assert w.updates[0].index == 0 and w.updates[1].index == 2
    assert world.state.account(0).positions[0].size == big - big // 2
    assert world.state.account(2).positions[0].size == big // 2
    assert world.state.account(2).nonce == 1


def test_liquidation_negative() -> None:
    world = liquidatable_world()
    oracle = world.state.global_state.markets[0].price
    price = oracle * 96 // 100
    big = world.state.account(0).positions[0].size
    ok = order(world, 2, BUY, size=big, limit=oracle)
    rejected(world, Liquidate(ok, 1, 5, price, 0), errors.NotLiquidatable)
    rejected(
        world,
        Liquidate(order(world, 2, SELL, size=big, limit=1), 0, 5, price, 0),
        errors.OrderMismatch,
    )
    cheap = oracle * 90 // 100  # below the 5% maintenance band
    rejected(world, Liquidate(ok, 0, 5, cheap, 0), errors.LiquidationPriceOutOfBounds)
    rejected(
        world,
        Liquidate(order(world, 2, BUY, size=2 * big, limit=oracle), 0, big + 1, price, 0),
        errors.SizeExceeded,
    )
    rejected(world, Liquidate(ok, 0, 5, oracle + 1, 0), errors.LimitPriceViolated)
    rejected(world, Liquidate(ok, 2, 5, price, 0), errors.SelfTrade)
    rejected(
        world,
        Liquidate(order(world, 2, BUY, size=big, limit=oracle, nonce=5), 0, 5, price, 0),
        errors.BadNonce,
    )
    # at the band's lower edge the account loses value faster than risk: TV/TR gets worse
    edge = -(-oracle * 95 // 100)
    rejected(world, Liquidate(ok, 0, big, edge, 0), errors.LiquidationNotImproving)


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
    w = s.apply(Deposit(0, 0, 0, 1, 5))
    assert w.effect["refunded"] == 1 and s.account(0) == rich
    # a nonce at its 32-bit limit cannot be bumped
    maxed = replace(s.account(1), nonce=(1 << 32) - 1)
    s.accounts[1] = maxed
    s.tree.update(1, maxed.leaf())
    err = rejected(
        world, Withdraw.signed(world.keys[1], 1, 1, 5, (1 << 32) - 1), errors.ValueOutOfRange
    )
    assert err.name == "nonce"
    # transfer that overflows the recipient
    err = rejected(world, Transfer.signed(world.keys[2], 2, 0, 2 * Q, 0), errors.ValueOutOfRange)
    assert err.name == "recipient collateral"
    # order terms outside their widths
    big = order(world, 2, BUY, size=1 << 48)
    rejected(world, Trade(big, order(world, 3, SELL), 1, PRICE, 0, 0), errors.ValueOutOfRange)
    rejected(world, Trade(order(world, 2, BUY, market=4), order(world, 3, SELL, market=4), 1, PRICE,
                          0, 0), errors.MarketOutOfRange)  # fmt: skip


def test_funding_index_bounded(world: World) -> None:
    s = world.state
    g = s.global_state
    near = replace(g.markets[0], funding_index=(1 << 96) - 2, max_funding_rate=(1 << 32) - 1)
    s.global_state = replace(g, markets=(near, *g.markets[1:]))
    s.apply(OraclePrice.signed(ORACLE_KEY, (PRICE,) * 4, 100))
    err = rejected(world, FundingTick(((1 << 32) - 1, 0, 0, 0), 100), errors.ValueOutOfRange)
    assert err.name == "funding index 0"
