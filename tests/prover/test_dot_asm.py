"""The lazily reduced assembly dot product Σ a_k·b_k·2^-256 against products and additions
(the portable path) and Python integers, on Fr and Fq, edge values included; bounds refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from prover.fields import Q, R
from prover.kernels import field
from prover.kernels.dot_asm import MAX_TERMS, make_mont_dot_asm, mont_dot_asm_text
from prover.kernels.mont_asm import HAVE_ADX
from tests.prover.limbs import MASK, to_ints, to_limbs

pytestmark = pytest.mark.skipif(not HAVE_ADX, reason="this CPU lacks BMI2/ADX: portable path only")


def _kernel(dot, n: int):
    if n == 2:

        @njit
        def run(x, out):
            for i in range(out.shape[0]):
                e = [(x[4 * i + k, 0], x[4 * i + k, 1], x[4 * i + k, 2], x[4 * i + k, 3])
                     for k in range(4)]  # fmt: skip
                z = dot(e[0], e[1], e[2], e[3])
                out[i, 0], out[i, 1], out[i, 2], out[i, 3] = z[0], z[1], z[2], z[3]

    elif n == 3:

        @njit
        def run(x, out):
            for i in range(out.shape[0]):
                e = [(x[6 * i + k, 0], x[6 * i + k, 1], x[6 * i + k, 2], x[6 * i + k, 3])
                     for k in range(6)]  # fmt: skip
                z = dot(e[0], e[1], e[2], e[3], e[4], e[5])
                out[i, 0], out[i, 1], out[i, 2], out[i, 3] = z[0], z[1], z[2], z[3]

    else:

        @njit
        def run(x, out):
            for i in range(out.shape[0]):
                e = [(x[8 * i + k, 0], x[8 * i + k, 1], x[8 * i + k, 2], x[8 * i + k, 3])
                     for k in range(8)]  # fmt: skip
                z = dot(e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7])
                out[i, 0], out[i, 1], out[i, 2], out[i, 3] = z[0], z[1], z[2], z[3]

    return run


KERNELS = {(p, n): _kernel(make_mont_dot_asm(p, n), n) for p in (R, Q) for n in (2, 3, 4)}
FIELD = {2: field.fr_dot2, 3: field.fr_dot3, 4: field.fr_dot4}


@njit
def _portable(x, n, out):
    """Σ fr_mul(a_k, b_k) with fr_add: the path without the assembly dot."""
    for i in range(out.shape[0]):
        acc = field.u4(field.FR_ZERO)
        for k in range(n):
            a = (x[2 * n * i + 2 * k, 0], x[2 * n * i + 2 * k, 1], x[2 * n * i + 2 * k, 2],
                 x[2 * n * i + 2 * k, 3])  # fmt: skip
            b = (x[2 * n * i + 2 * k + 1, 0], x[2 * n * i + 2 * k + 1, 1],
                 x[2 * n * i + 2 * k + 1, 2], x[2 * n * i + 2 * k + 1, 3])  # fmt: skip
            acc = field.fr_add(acc, field.fr_mul(a, b))
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = acc[0], acc[1], acc[2], acc[3]


def _edges(p: int) -> list[int]:
    top = p - 1
    return [0, 1, top, top - 1, p >> 1, (1 << 64) - 1, (1 << 192) - 1, top & ~MASK]


def _check(p: int, n: int, values: list[int]) -> None:
    rows = len(values) // (2 * n)
    values = values[: rows * 2 * n]
    x = to_limbs(values)
    got = np.empty((rows, 4), np.uint64)
    KERNELS[(p, n)](x, got)
    rinv = pow(1 << 256, -1, p)
    expected = [
        sum(values[2 * n * i + 2 * k] * values[2 * n * i + 2 * k + 1] for k in range(n)) * rinv % p
        for i in range(rows)
    ]
    assert to_ints(got) == expected
    if p == R:
        twin = np.empty_like(got)
        _portable(x, n, twin)
        assert to_ints(twin) == expected


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("p", [R, Q], ids=["Fr", "Fq"])
def test_dot_on_edge_values(p: int, n: int) -> None:
    """Every run of 2n edge values in a long cyclic sequence (p − 1 everywhere included)."""
    edges = _edges(p)
    seq = [edges[(i * 7 + i // len(edges)) % len(edges)] for i in range(2 * n * 64)]
    _check(p, n, seq + [p - 1] * (2 * n))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([(R, 2), (R, 3), (R, 4), (Q, 3), (Q, 4)]), st.data())
def test_dot_on_random_values(pn: tuple[int, int], data) -> None:
    p, n = pn
    values = data.draw(st.lists(st.integers(0, p - 1), min_size=2 * n * 8, max_size=2 * n * 8))
    _check(p, n, values)


def test_field_dot_is_the_assembly_here() -> None:
    """prover.kernels.field's fr_dot2/3/4 give the same as Python ints (they inline the asm)."""

    @njit
    def run(a, b, c, d):
        return (
            field.fr_dot2(a, b, c, d),
            field.fr_dot3(a, b, c, d, a, b),
            field.fr_dot4(a, b, c, d, a, b, c, d),
        )

    vals = [R - 1, R - 2, (1 << 192) - 1, 12345]
    tup = [tuple(np.uint64(x) for x in row) for row in to_limbs(vals)]
    two, three, four = (to_ints(np.array([list(t)], np.uint64))[0] for t in run(*tup))
    rinv = pow(1 << 256, -1, R)
    a, b, c, d = vals
    assert two == (a * b + c * d) * rinv % R
    assert three == (2 * a * b + c * d) * rinv % R
    assert four == (2 * a * b + 2 * c * d) * rinv % R
    assert set(FIELD) == {2, 3, 4}


@pytest.mark.parametrize(
    ("p", "n", "message"),
    [
        (R, 1, "2..4"),
        (R, MAX_TERMS + 1, "2..4"),
        ((1 << 255) - 19, 2, "below 2\\^254"),
        (R + 1, 2, "odd modulus"),
    ],
)
def test_out_of_bound_dot_refused(p: int, n: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mont_dot_asm_text(p, n)


def test_a_changed_term_or_the_other_modulus_gives_another_result() -> None:
    """Negative twin of the agreement tests: one flipped bit in one term changes the dot, and
    the Fr kernel's output is not the Fq value of the same inputs."""
    values = [R - 1, 3, (1 << 192) - 1, R >> 1, 12345, R - 2]
    got = np.empty((1, 4), np.uint64)
    KERNELS[(R, 3)](to_limbs(values), got)
    flipped = np.empty_like(got)
    KERNELS[(R, 3)](to_limbs([values[0] ^ 1, *values[1:]]), flipped)
    assert to_ints(got) != to_ints(flipped)
    rinv_q = pow(1 << 256, -1, Q)
    fq_value = sum(values[2 * k] * values[2 * k + 1] for k in range(3)) * rinv_q % Q
    assert to_ints(got) != [fq_value]
