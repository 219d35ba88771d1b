"""Fixtures shared by every test folder: the reference vectors and the pinned snarkjs toolchain.

The small vectors ship inside the repository (``protocol/vectors``: circomlibjs Poseidon and
EdDSA; ``prover/vectors/groth16``: the circom/snarkjs circuits ``poseidon2_tiny`` and
``merkle_n1_d16``). The 64 MB ``merkle_n16_d16`` is read from ``shared/vectors/groth16`` beside the
repository when present; tests that need it are ``slow`` or ``interop`` and skip with a one-line
reason otherwise. snarkjs 0.7.6 is pinned in ``tests/interop/package.json`` and installed with
``npm ci --prefix tests/interop``; tests that need it skip with that instruction when Node or the
local snarkjs is missing.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from py_ecc.optimized_bn128 import (
    FQ2,
    b2,
    curve_order,
    field_modulus,
    is_inf,
    is_on_curve,
    multiply,
)

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_VECTORS = REPO / "protocol" / "vectors"
GROTH16_VECTORS = REPO / "prover" / "vectors" / "groth16"
SHARED_GROTH16 = REPO.parent / "shared" / "vectors" / "groth16"
INTEROP = REPO / "tests" / "interop"
SNARKJS_CLI = INTEROP / "node_modules" / "snarkjs" / "build" / "cli.cjs"
INSTALL_HINT = "install Node.js and then snarkjs 0.7.6 with `npm ci --prefix tests/interop`"


def snarkjs_command() -> list[str] | None:
    """``[node, .../snarkjs/build/cli.cjs]`` for the pinned local snarkjs, or None if absent."""
    node = shutil.which("node")
    if node is None or not SNARKJS_CLI.is_file():
        return None
    return [node, str(SNARKJS_CLI)]


class Groth16Vectors:
    """``groth16_vectors / name``: the folder of a circom circuit made by snarkjs 0.7.6 — in the
    repository for the small ones, else ``shared/vectors/groth16`` beside it; a test asking for
    one that is in neither place is skipped with the reason."""

    def __truediv__(self, name: str) -> Path:
        for base in (GROTH16_VECTORS, SHARED_GROTH16):
            if (base / name).is_dir():
                return base / name
        pytest.skip(f"vector {name} not found: put snarkjs's {name} folder in {SHARED_GROTH16}")


@pytest.fixture(scope="session")
def groth16_vectors() -> Groth16Vectors:
    return Groth16Vectors()


@pytest.fixture(scope="session")
def load_vectors() -> Callable[[str], Any]:
    """load_vectors("poseidon_circomlibjs.json") -> the parsed JSON of that vectors file."""

    def load(name: str) -> Any:
        return json.loads((PROTOCOL_VECTORS / name).read_text())

    return load


@pytest.fixture(scope="session")
def snarkjs() -> list[str]:
    """The command prefix running the pinned snarkjs; skips the test when Node/snarkjs is absent."""
    command = snarkjs_command()
    if command is None:
        missing = "Node.js (node)" if shutil.which("node") is None else f"snarkjs ({SNARKJS_CLI})"
        pytest.skip(f"{missing} not found: {INSTALL_HINT}")
    return command


def fq2_sqrt(a: FQ2) -> FQ2 | None:
    """A square root in F_q^2 (q ≡ 3 mod 4; Adj–Rodríguez-Henríquez Alg. 9), or None."""
    a1 = a ** ((field_modulus - 3) // 4)
    alpha = a1 * a1 * a
    x0 = a1 * a
    if alpha == FQ2([field_modulus - 1, 0]):
        root = FQ2([0, 1]) * x0
    else:
        root = (FQ2.one() + alpha) ** ((field_modulus - 1) // 2) * x0
    return root if root * root == a else None


@pytest.fixture(scope="session")
def twist_point_outside_subgroup() -> tuple:
    """A point of E'(F_q^2) that is not in the order-r subgroup (the cofactor is ~2^254)."""
    for k in range(1, 100):
        x = FQ2([k, 1])
        y = fq2_sqrt(x**3 + b2)
        if y is not None:
            point = (x, y, FQ2.one())
            assert is_on_curve(point, b2) and not is_inf(multiply(point, curve_order))
            return point
    raise AssertionError("no twist point found")
