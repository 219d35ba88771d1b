"""Our circuits in snarkjs's tools: ``.r1cs`` / ``.wtns`` written by ``circuits.export`` are read by
snarkjs 0.7.6 (``snarkjs r1cs info`` reports our constraint and wire counts; ``snarkjs wtns check``
accepts our witness). Negative twin: a witness with one internal wire changed is rejected by
``wtns check``. Skipped like the rest of tests/interop when Node or snarkjs is absent.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from circuits import API, compile_circuit
from circuits.export import export_circuit
from circuits.gadgets.poseidon import poseidon
from protocol.poseidon import poseidon_hash
from prover.fields import R
from prover.iden3 import write_wtns

pytestmark = pytest.mark.interop


@dataclass(frozen=True)
class HashAndRange:
    """out = Poseidon(a, b) as a public input, and a < 2^64 (Poseidon gadget + range check)."""

    def define(self, api: API) -> None:
        a, b = api.private_input("a"), api.private_input("b")
        out = api.public_input("out")
        api.range_check(a, 64, "a_u64")
        api.assert_equal(poseidon(api, [a, b]), out, "hash")


def run(snarkjs: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*snarkjs, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    compiled = compile_circuit(HashAndRange())
    a, b = 123456789, 987654321
    z = compiled.solve({"a": a, "b": b, "out": poseidon_hash([a, b])})
    paths = export_circuit(compiled, z, tmp_path_factory.mktemp("export"), "hash_range")
    return compiled, z, paths


def test_r1cs_info_reads_our_counts(snarkjs: list[str], exported) -> None:
    compiled, _, paths = exported
    out = run(snarkjs, "r1cs", "info", str(paths["r1cs"]))
    assert out.returncode == 0, out.stdout + out.stderr
    constraints = re.search(r"# of Constraints:\s*(\d+)", out.stdout)
    wires = re.search(r"# of Wires:\s*(\d+)", out.stdout)
    assert constraints and int(constraints.group(1)) == compiled.r1cs.n_constraints
    assert wires and int(wires.group(1)) == compiled.r1cs.n_wires


def test_wtns_check_accepts_ours_and_rejects_a_changed_wire(
    snarkjs: list[str], exported, tmp_path: Path
) -> None:
    _, z, paths = exported
    good = run(snarkjs, "wtns", "check", str(paths["r1cs"]), str(paths["wtns"]))
    assert "WITNESS IS CORRECT" in good.stdout, good.stdout + good.stderr
    bad = list(z)
    bad[-1] = (bad[-1] + 1) % R  # an internal wire (the last S-box product)
    write_wtns(bad, tmp_path / "bad.wtns")
    out = run(snarkjs, "wtns", "check", str(paths["r1cs"]), str(tmp_path / "bad.wtns"))
    assert "WITNESS IS CORRECT" not in out.stdout
    assert "WITNESS IS NOT CORRECT" in out.stdout + out.stderr, out.stdout + out.stderr
