"""The BMI2/ADX assembly Montgomery product against the portable i128 intrinsic and Python ints.

Both intrinsics are compiled side by side (uncached) into the same tiny kernel; the inputs cover
random elements and the edges where the carry chains are longest (p − 1, limbs of all ones
below p, 0 and 1).  Skipped, with the reason, on a CPU without BMI2 + ADX — there the field
kernels use the i128 intrinsic, which ``test_field.py`` covers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from prover.fields import Q, R
from prover.kernels import field
from prover.kernels.intrinsics import make_mont_mul
from prover.kernels.mont_asm import HAVE_ADX, make_mont_mul_asm, mont_mul_asm_text
from tests.prover.limbs import MASK, to_ints, to_limbs

pytestmark = pytest.mark.skipif(not HAVE_ADX, reason="this CPU lacks BMI2/ADX: i128 path only")


def _kernel(mul):
    @njit
    def run(a, b, out):
        for i in range(a.shape[0]):
            x = (a[i, 0], a[i, 1], a[i, 2], a[i, 3])
            y = (b[i, 0], b[i, 1], b[i, 2], b[i, 3])
            z = mul(x, y)
            out[i, 0], out[i, 1], out[i, 2], out[i, 3] = z[0], z[1], z[2], z[3]

    return run


KERNELS = {p: (_kernel(make_mont_mul_asm(p)), _kernel(make_mont_mul(p))) for p in (R, Q)}


def _edges(p: int) -> list[int]:
    top = p - 1
    ones = [(1 << (64 * k)) - 1 for k in range(1, 4)]  # all-ones low limbs
    return [0, 1, 2, top, top - 1, p >> 1, *ones, top & ~MASK, top ^ 1]


def _check(p: int, xs: list[int], ys: list[int]) -> None:
    asm, portable = KERNELS[p]
    a, b = to_limbs(xs), to_limbs(ys)
    got, twin = np.empty_like(a), np.empty_like(a)
    asm(a, b, got)
    portable(a, b, twin)
    r_inv = pow(1 << 256, -1, p)
    want = [x * y * r_inv % p for x, y in zip(xs, ys, strict=True)]
    assert to_ints(got) == want
    assert to_ints(twin) == want


@pytest.mark.parametrize("p", [R, Q], ids=["fr", "fq"])
def test_edges_all_pairs(p):
    edges = _edges(p)
    _check(p, [x for x in edges for _ in edges], [y for _ in edges for y in edges])


@pytest.mark.parametrize("p", [R, Q], ids=["fr", "fq"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_random_batches(p, data):
    pairs = data.draw(st.lists(st.tuples(st.integers(0, p - 1), st.integers(0, p - 1)),
                               min_size=1, max_size=64))  # fmt: skip
    _check(p, [x for x, _ in pairs], [y for _, y in pairs])


def test_field_kernels_use_the_assembly():
    """On this CPU the field module's products are the assembly ones (not silently the twin)."""
    assert field._mont_mul is make_mont_mul_asm
    assert field.fr_mul(*(tuple(np.uint64(v) for v in field.FR_ONE),) * 2) == tuple(
        int(v) for v in field.FR_ONE
    )


def test_rejects_moduli_without_the_no_carry_bound():
    with pytest.raises(ValueError, match="odd modulus below 2\\^254"):
        mont_mul_asm_text((1 << 255) - 19)
    with pytest.raises(ValueError, match="odd modulus"):
        mont_mul_asm_text(R + 1)
