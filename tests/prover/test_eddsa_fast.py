"""The numba EdDSA-Poseidon verification against its twin `protocol.eddsa.verify`: the same
answer on valid signatures, on every family of forgery, and the same errors on malformed input;
the kernels' point arithmetic against `protocol.babyjubjub`."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import babyjubjub as bj
from protocol import eddsa
from protocol.errors import PrimitiveError
from prover import eddsa_fast
from prover.fields import curve_order as r
from prover.kernels import babyjubjub as kernels
from prover.kernels.field import limbs

l = bj.SUBGROUP_ORDER
T2 = (0, r - 1)  # the point of order 2
T4 = bj.multiply(bj.GENERATOR, l * 2)  # a point of order 4
KEY = bytes(range(32))


def _both(public_key, message, signature) -> bool:
    """The twins' common answer (they must agree)."""
    fast = eddsa_fast.verify(public_key, message, signature)
    assert fast == eddsa.verify(public_key, message, signature)
    return fast


def _sign_for(public_key: bj.Point, s: int, nonce: int, msg: int) -> eddsa.Signature:
    """S = nonce + H(R8, A, m)·s for an arbitrary claimed key A."""
    r8 = bj.multiply_base8(nonce)
    hm = eddsa.message_hash(r8, public_key, msg)
    return eddsa.Signature(r8[0], r8[1], (nonce + hm * s) % l)


def test_circomlibjs_vectors(load_vectors) -> None:
    vectors = load_vectors("eddsa_poseidon_circomlibjs.json")["vectors"]
    for v in vectors:
        pk = (int(v["Ax"]), int(v["Ay"]))
        sig = eddsa.Signature(int(v["R8x"]), int(v["R8y"]), int(v["S"]))
        msg = int(v["message"])
        assert _both(pk, msg, sig)
        assert not _both(pk, (msg + 1) % r, sig)
        assert not _both(pk, msg, eddsa.Signature(sig.r8_x, sig.r8_y, (sig.s + 1) % l))
    other = vectors[1]
    assert not _both((int(other["Ax"]), int(other["Ay"])), int(v["message"]), sig)


@settings(max_examples=12, deadline=None)
@given(
    st.binary(min_size=32, max_size=32),
    st.integers(min_value=0, max_value=r - 1),
    st.integers(min_value=1, max_value=l - 1),
)
def test_random_signatures_and_tampering(prv: bytes, msg: int, delta: int) -> None:
    pk, sig = eddsa.derive_public_key(prv), eddsa.sign(prv, msg)
    assert _both(pk, msg, sig)
    assert not _both(pk, (msg + delta) % r, sig)
    assert not _both(pk, msg, eddsa.Signature(sig.r8_x, sig.r8_y, (sig.s + delta) % l))
    moved = bj.add(sig.r8, bj.multiply_base8(delta))
    assert not _both(pk, msg, eddsa.Signature(moved[0], moved[1], sig.s))
    other = bj.add(pk, bj.multiply_base8(delta))
    assert not _both(other, msg, sig)


def test_forgery_families_agree() -> None:
    s = eddsa.private_scalar(KEY)
    pk, sig = eddsa.derive_public_key(KEY), eddsa.sign(KEY, 42)
    assert _both(pk, 42, sig)
    # S not reduced (same point S·B8), negative S
    assert not _both(pk, 42, eddsa.Signature(sig.r8_x, sig.r8_y, sig.s + l))
    assert not _both(pk, 42, eddsa.Signature(sig.r8_x, sig.r8_y, -1))
    # R8 with a small-order component: the exact equation refuses it
    for t in (T2, T4):
        bent = bj.add(sig.r8, t)
        assert not _both(pk, 42, eddsa.Signature(bent[0], bent[1], sig.s))
    # R8 off the curve, or with a non-canonical coordinate
    assert not _both(pk, 42, eddsa.Signature(sig.r8_x, (sig.r8_y + 1) % r, sig.s))
    assert not _both(pk, 42, eddsa.Signature(sig.r8_x + r, sig.r8_y, sig.s))
    # a key outside the subgroup that passes the cofactored equation, the identity, order 2
    pk_torsion = bj.add(pk, T2)
    assert not _both(pk_torsion, 7, _sign_for(pk_torsion, s, 1234, 7))
    assert _both(pk, 7, _sign_for(pk, s, 1234, 7))
    r8 = bj.multiply_base8(99)
    forged = eddsa.Signature(r8[0], r8[1], 99)
    assert not _both(bj.IDENTITY, 5, forged)
    assert not _both(T2, 5, forged)
    # a key off the curve or non-canonical
    assert not _both((pk[0], (pk[1] + 1) % r), 42, sig)
    assert not _both((pk[0] + r, pk[1]), 42, sig)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (lambda pk, sig: (pk, -1, sig), "canonical Fr"),
        (lambda pk, sig: (pk, r, sig), "canonical Fr"),
        (lambda pk, sig: (pk, True, sig), "must be an int"),
        (lambda pk, sig: (pk, 42, (sig.r8_x, sig.r8_y, sig.s)), "must be a Signature"),
        (lambda pk, sig: ([pk[0], pk[1]], 42, sig), "tuple of two ints"),
        (lambda pk, sig: ((pk[0], True), 42, sig), "tuple of two ints"),
    ],
)
def test_malformed_inputs_raise_the_same_error(args, match) -> None:
    pk, sig = eddsa.derive_public_key(KEY), eddsa.sign(KEY, 42)
    call = args(pk, sig)
    with pytest.raises(PrimitiveError, match=match) as fast:
        eddsa_fast.verify(*call)
    with pytest.raises(PrimitiveError, match=match) as reference:
        eddsa.verify(*call)
    assert str(fast.value) == str(reference.value)


@settings(max_examples=12, deadline=None)
@given(st.integers(min_value=0, max_value=8 * l - 1))
def test_subgroup_check_matches_reference(k: int) -> None:
    p = bj.multiply(bj.GENERATOR, k)  # any point of the curve: cofactor components included
    assert eddsa_fast.in_subgroup(p) == bj.in_subgroup(p) == (k % 8 == 0)
    off = (p[0], (p[1] + 1) % r)
    assert eddsa_fast.in_subgroup(off) is bj.in_subgroup(off) is False


@settings(max_examples=12, deadline=None)
@given(
    st.integers(min_value=0, max_value=(1 << 256) - 1), st.integers(min_value=0, max_value=8 * l)
)
def test_joint_multiplication_matches_reference(s: int, k: int) -> None:
    """verify_rows decides S·B8 + k·A == R8 for any scalars below 2^256 and any A on the curve."""
    a = bj.multiply(bj.GENERATOR, k + 1)
    target = bj.add(bj.multiply_base8(s), bj.multiply(a, k))
    out = np.zeros(2, dtype=np.uint8)
    near = bj.add(target, bj.BASE8)
    rows = np.array(
        [[limbs(v) for v in (a[0], a[1], t[0], t[1], s, k)] for t in (target, near)],
        dtype=np.uint64,
    )
    kernels.verify_rows(rows, kernels.base8_table(), out)
    assert out.tolist() == [1, 0]


def test_signature_cache_verifies_with_the_kernels() -> None:
    from rollup.checks import SignatureCache

    assert SignatureCache().check is eddsa_fast.verify
