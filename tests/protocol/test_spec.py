"""protocol/ is the one spec: every protocol constant is assigned there and nowhere else, and the
verifier loads nothing but protocol/ and py_ecc."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from protocol import pubdata, spec

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("rollup", "circuits", "verifier", "prover", "benchmarks")


def _protocol_names() -> set[str]:
    names = {n for n in vars(spec) if n.isupper() and not n.startswith("_")}
    names |= {n for n in vars(pubdata) if n.isupper() and not n.startswith("_")}
    return names


def test_protocol_constants_assigned_only_in_protocol() -> None:
    names = _protocol_names()
    assert {"VALUE_SCALE", "SIZE_BITS", "TAG_ORDER", "CHUNK_WIDTH", "DEPOSIT"} <= names
    pattern = re.compile(r"^\s*(" + "|".join(sorted(names)) + r")\s*(:[^=]*)?=[^=]", re.M)
    offenders = []
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for m in pattern.finditer(path.read_text()):
                offenders.append(f"{path.relative_to(REPO)}: {m.group(1)}")
    assert offenders == []


def test_the_detector_finds_a_restated_constant(tmp_path: Path) -> None:
    """Negative twin: the same pattern flags a module that restates a protocol constant."""
    names = _protocol_names()
    pattern = re.compile(r"^\s*(" + "|".join(sorted(names)) + r")\s*(:[^=]*)?=[^=]", re.M)
    assert pattern.search("VALUE_SCALE: int = 1 << 32\n")
    assert pattern.search("CHUNK_WIDTH = 4\n")
    assert not pattern.search("x = spec.VALUE_SCALE\n")


@pytest.mark.parametrize("n_markets", [1, 4, 8])
def test_every_layout_fits_a_chunk(n_markets: int) -> None:
    for t in range(spec.N_TX_TYPES):
        slots = pubdata.field_slots(t, n_markets)
        assert slots[0][:2] == ("type", pubdata.TYPE_BITS)
        assert max(e for _, _, e, _ in slots) < pubdata.CHUNK_WIDTH


def test_verifier_loads_only_protocol_and_py_ecc() -> None:
    code = (
        "import sys, verifier.settlement, verifier.groth16, verifier.escape;"
        "print(sorted({m.split('.')[0] for m in sys.modules"
        " if m.split('.')[0] in {'numpy','numba','prover','circuits','rollup','galois'}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_import_probe_sees_a_heavy_import() -> None:
    """Negative twin: the same probe reports a package that was imported."""
    code = (
        "import sys, verifier.settlement, numpy;"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in {'numpy'}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['numpy']"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("maintenance_fraction", 0, "maintenance_fraction"),
        ("initial_fraction", 49_999, "initial_fraction"),  # below maintenance
        ("initial_fraction", 10**6 + 1, "initial_fraction"),
        ("max_funding_rate", 1 << 32, "max_funding_rate"),
        ("price_band", 0, "price_band"),
        ("liquidation_penalty", 50_001, "liquidation_penalty"),  # beyond maintenance
        ("option_maintenance", 0, "option_maintenance"),
        ("option_floor", 10**6 + 1, "option_floor"),
        ("option_initial", 99_999, "option_initial"),  # below the floor
        ("base_decimals", True, "base_decimals"),
    ],
)
def test_market_parameters_are_range_checked(field: str, value: object, message: str) -> None:
    from dataclasses import replace

    good = spec.DEFAULT_MARKETS[0]
    with pytest.raises(ValueError, match=message):
        replace(good, **{field: value})


def test_genesis_prices_and_domain_ids_are_range_checked() -> None:
    assert spec.check_genesis_prices((1, (1 << 64) - 1), 2) == (1, (1 << 64) - 1)
    for bad in ((0, 5), (5, 1 << 64), (5,), [5, 5], (5, 2.0)):
        with pytest.raises(ValueError, match="genesis price"):
            spec.check_genesis_prices(bad, 2)  # type: ignore[arg-type]
    assert spec.check_domain_ids(1, (1 << 160) - 1) == (1, (1 << 160) - 1)
    with pytest.raises(ValueError, match="chain id"):
        spec.check_domain_ids(1 << 64, 1)
    with pytest.raises(ValueError, match="rollup id"):
        spec.check_domain_ids(1, -1)
    with pytest.raises(ValueError, match="depth"):
        spec.RollupParams(depth=33)
    with pytest.raises(ValueError, match="markets"):
        spec.RollupParams(markets=spec.DEFAULT_MARKETS * 2)
