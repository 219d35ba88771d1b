"""The application layer sits above the state machine: no module of ``rollup/``
outside ``rollup/node/``, nor ``protocol/``, ``prover/``, ``circuits/`` or ``verifier/``, imports
``rollup.node``; the CLI reaches the rollup only through ``rollup.node``'s public names (no
attribute chains into the sequencer's store); the one proof checker imports only the verifier."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.node.conftest import REPO

BELOW = ["protocol", "prover", "circuits", "verifier", "rollup"]


def imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_nothing_below_imports_the_application_layer() -> None:
    offenders = []
    for package in BELOW:
        for path in (REPO / package).rglob("*.py"):
            if path.is_relative_to(REPO / "rollup" / "node"):
                continue
            if any(m == "rollup.node" or m.startswith("rollup.node.") for m in imports(path)):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_a_module_below_that_did_would_be_found(tmp_path: Path) -> None:
    """Negative twin: the scan sees such an import."""
    bad = tmp_path / "bad.py"
    bad.write_text("from rollup.node.facade import Rollup\n")
    assert "rollup.node.facade" in imports(bad)


def test_the_cli_calls_the_public_api_only() -> None:
    commands = REPO / "rollup" / "node" / "commands"
    for path in (REPO / "cli.py", *sorted(commands.glob("*.py"))):
        name = path.name
        text = path.read_text()
        chain = re.search(r"\.(seq|store|l1|book|keystore|oracle_log)\.|pending_state\(\)\.", text)
        assert not chain, f"attribute chains in {name}"


def test_the_checker_imports_only_the_verifier() -> None:
    mods = imports(REPO / "verifier" / "checker.py")
    assert {
        m for m in mods if not m.startswith(("verifier.", "__future__", "collections", "typing"))
    } == set()
