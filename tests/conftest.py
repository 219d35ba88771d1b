"""Fixtures shared by every test folder: the shared vectors and the pinned snarkjs (Node) toolchain.

The vectors live in ``shared/vectors`` beside the repository root (``/work/shared`` here; CI
clones the repository next to it the same way). snarkjs 0.7.6 is pinned in
``tests/interop/package.json`` and installed with ``npm ci --prefix tests/interop``; tests that need
it skip with that instruction when Node or the local snarkjs is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

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
VECTORS = REPO / ".." / "shared" / "vectors"
INTEROP = REPO / "tests" / "interop"
SNARKJS_CLI = INTEROP / "node_modules" / "snarkjs" / "build" / "cli.cjs"
INSTALL_HINT = "install Node.js and then snarkjs 0.7.6 with `npm ci --prefix tests/interop`"


def snarkjs_command() -> list[str] | None:
    """``[node, .../snarkjs/build/cli.cjs]`` for the pinned local snarkjs, or None if absent."""
    node = shutil.which("node")
    if node is None or not SNARKJS_CLI.is_file():
        return None
    return [node, str(SNARKJS_CLI)]


@pytest.fixture(scope="session")
def vectors() -> Path:
    """``shared/vectors`` beside the repository root (fails loudly if the checkout is misplaced)."""
    if not VECTORS.is_dir():
        pytest.fail(
            f"test vectors not found at {VECTORS.resolve()}: clone the repo next to shared/"
        )
    return VECTORS.resolve()


@pytest.fixture(scope="session")
def groth16_vectors(vectors: Path) -> Path:
    """``shared/vectors/groth16``: one folder per circom circuit, made by snarkjs 0.7.6."""
    return vectors / "groth16"


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
