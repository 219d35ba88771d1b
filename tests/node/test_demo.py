"""``zkr demo`` tells the whole story and checks its own outcomes: perpetual trades, a tampered
batch refused, a liquidation paid by the insurance fund and a deleverage once the fund is
exhausted, options listed, marked, traded, a short call liquidated, settled at the oracle's TWAP
and swept, a tampered settlement price refused, freeze and escape; deterministic (the same story
twice, line for line, but for timings and paths)."""

from __future__ import annotations

from pathlib import Path

from rollup.node.demo import run_demo


def story(keys: Path) -> tuple[bool, list[str]]:
    lines: list[str] = []
    report = run_demo(keys, echo=lines.append)
    return report.ok, [ln for ln in lines if not ln.startswith(("timings", "batch circuit"))]


def test_demo_story(tmp_path: Path) -> None:
    ok, lines = story(tmp_path / "keys")
    text = "\n".join(lines)
    assert ok, text
    for expected in (
        "tampered batch 4 (bob's withdrawal 500 → 500.000001 USD, same proof) rejected",
        "the fund covers the shortfall",
        "erin's liquidation is refused: account 4: the insurance fund",
        "deleveraged against bob's profitable short at the bankruptcy price",
        "operator lists BTC 7-day call 9,000 (series 1)",
        "frank's short call is liquidatable: True",
        "the TWAP of its index over the last 30 min: 10294.44 USD",
        "settlement price raised in its pubdata (nothing re-signed, same proof) is rejected",
        "= sequencer root: True",
        "bob escapes with",
    ):
        assert expected in text, expected
    assert "zkr risk frank" in text and "theta 1d" in text
    assert "UNEXPECTED" not in text
    again = story(tmp_path / "keys")[1]
    assert again == lines
