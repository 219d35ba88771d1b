"""``zkr liquidate`` and ``zkr deleverage`` on a rollup whose long goes under water: a liquidation
at the oracle price (penalty and fees to the insurance fund); an insolvent account the fund cannot
cover refused for liquidation and deleveraged against the profitable short at the bankruptcy
price; negative twins: a healthy account is not liquidatable, a solvent one not deleveragable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import zkr
from protocol.spec import BUY, SELL
from rollup.margin import total_value
from rollup.node import Rollup
from rollup.node.units import fee_to_value, price_to_units, size_to_base


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(zkr, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture
def leveraged(rollup_dir: Path) -> Path:
    """Account 0 long 0.3 BTC at 30,000 on 1,000 USD (10x), account 1 the short."""
    with Rollup(rollup_dir) as node:
        btc = node.params.markets[0]
        q, p = size_to_base("0.3", btc), price_to_units("30000", btc)
        node.order(0, 0, BUY, q, p, fee_to_value("1"))
        node.order(1, 0, SELL, q, p, fee_to_value("1"))
        node.seal_all()
    return rollup_dir


def oracle(d: Path, price: str) -> None:
    assert run("oracle", "--dir", d, price)[0] == 0
    assert run("batch", "--all", "--dir", d)[0] == 0


def test_liquidation_at_the_oracle_price(leveraged: Path) -> None:
    d = leveraged
    code, out = run("liquidate", "--dir", d, 1, 0, "BTC-PERP", "0.3", "30000")
    assert code == 3 and "NotLiquidatable: account 0 is not liquidatable" in out
    oracle(d, "27500")
    code, out = run("liquidate", "--dir", d, 1, 0, "BTC-PERP", "0.3", "27500")
    assert code == 0, out
    run("batch", "--all", "--dir", d)
    shown = json.loads(run("account", "show", "--dir", d, 0, "--json")[1])
    assert shown["positions"][0]["size"] == "0" and shown["total_value_usd"].startswith("166.5")
    status = json.loads(run("status", "--dir", d, "--json")[1])
    assert status["insurance_fund_usd"] == "84.5"  # 2 USD of fees + 1 % of 8,250 USD closed


def test_deleverage_when_the_fund_is_exhausted(leveraged: Path) -> None:
    d = leveraged
    code, out = run("deleverage", "--dir", d, 0, 1, "BTC-PERP", "0.3")
    assert code == 3 and "NotBankrupt" in out and "is not negative" in out
    oracle(d, "26500")
    code, out = run("liquidate", "--dir", d, 1, 0, "BTC-PERP", "0.3", "26500")
    assert code == 3 and "InsuranceExhausted" in out
    code, out = run("deleverage", "--dir", d, 0, 1, "BTC-PERP", "0.3")
    assert code == 0, out
    run("batch", "--all", "--dir", d)
    with Rollup(d, lock=False) as node:
        state = node.seq.state
        tv = total_value(state.account(0), state.global_state)
        assert 0 <= tv < size_to_base("0.3", node.params.markets[0])  # ⌈step⌉: < 1 unit a quantum
        assert state.account(0).positions[0].size == state.account(1).positions[0].size == 0
