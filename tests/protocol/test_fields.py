"""Field helpers of ``protocol.fields`` against their definitions in Python ints."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.fields import R, inverse_or_zero

_edge = st.sampled_from([0, 1, R - 1, R, 2 * R, -1, -R])


@settings(max_examples=60, deadline=None)
@given(x=st.one_of(_edge, st.integers(-(2**300), 2**300)))
def test_inverse_or_zero_is_fermat(x: int) -> None:
    """Twin: x^(r−2) mod r, what the witness hints computed before (0 for x ≡ 0); a non-zero x
    times it is 1, and a neighbouring value is not its inverse."""
    inv = inverse_or_zero(x)
    assert inv == pow(x % R, R - 2, R)
    assert 0 <= inv < R
    assert (x * inv) % R == (0 if x % R == 0 else 1)
    if x % R not in (0, 1, R - 1):
        assert (x * (inv + 1)) % R != 1
