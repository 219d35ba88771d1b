"""Test helpers: integers as (n, 4) uint64 little-endian limb arrays and back."""

from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1


def to_limbs(values: list[int]) -> np.ndarray:
    return np.array([[(v >> (64 * j)) & MASK for j in range(4)] for v in values], np.uint64)


def to_ints(arr: np.ndarray) -> list[int]:
    return [sum(int(row[j]) << (64 * j) for j in range(4)) for row in arr]
