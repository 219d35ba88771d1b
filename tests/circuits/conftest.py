"""Shared fixtures for tests/circuits: the pinned cross-implementation vectors.

Vectors live in ``shared/vectors/`` beside the repository root (``/work/shared`` here; CI clones
the repository next to it the same way).  They are read, never edited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

VECTORS_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The shared vectors folder (fails loudly if it is missing)."""
    if not VECTORS_DIR.is_dir():
        pytest.fail(f"shared vectors folder not found at {VECTORS_DIR.resolve()}")
    return VECTORS_DIR


@pytest.fixture(scope="session")
def load_vectors(vectors_dir: Path) -> Callable[[str], Any]:
    """load_vectors("poseidon_circomlibjs.json") -> the parsed JSON of that vectors file."""

    def load(name: str) -> Any:
        return json.loads((vectors_dir / name).read_text())

    return load
