"""Run a test on each Poseidon many-row path this machine has: the scalar kernels and, where
the CPU has AVX-512 IFMA, the eight-lane kernels (`prover.kernels.poseidon_ifma`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from prover.kernels import poseidon_scalar as poseidon_fast
from prover.kernels.ifma import HAVE_IFMA

PATHS = [
    pytest.param(False, id="scalar"),
    pytest.param(True, id="ifma", marks=pytest.mark.skipif(not HAVE_IFMA, reason="no IFMA")),
]


@contextmanager
def hash_path(ifma: bool) -> Iterator[None]:
    """``poseidon_fast.USE_IFMA = ifma`` for the block (read at each call, also by
    ``rollup.tree_batch``)."""
    old = poseidon_fast.USE_IFMA
    poseidon_fast.USE_IFMA = ifma
    try:
        yield
    finally:
        poseidon_fast.USE_IFMA = old
