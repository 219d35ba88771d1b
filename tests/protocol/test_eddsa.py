"""EdDSA-Poseidon: circomlibjs vectors bit for bit (with intermediates), forgeries rejected."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import babyjubjub as bj
from protocol import eddsa
from protocol.blake512 import blake512
from protocol.errors import PrimitiveError
from prover.fields import curve_order as r

l = bj.SUBGROUP_ORDER
T2 = (0, r - 1)
KEY = bytes(range(32))


def _vectors(load_vectors) -> list[dict]:
    return load_vectors("eddsa_poseidon_circomlibjs.json")["vectors"]


def test_curve_parameters_match_vectors(load_vectors) -> None:
    curve = load_vectors("eddsa_poseidon_circomlibjs.json")["curve"]
    assert (int(curve["a"]), int(curve["d"])) == (bj.A, bj.D)
    assert int(curve["subOrder"]) == l and int(curve["order"]) == bj.ORDER
    assert tuple(int(c) for c in curve["Base8"]) == bj.BASE8


def test_circomlibjs_vectors(load_vectors) -> None:
    for v in _vectors(load_vectors):
        prv, msg, it = bytes.fromhex(v["private_key_hex"]), int(v["message"]), v["intermediates"]
        assert blake512(prv).hex() == it["blake512_prv_hex"]
        assert eddsa.prune_buffer(blake512(prv)).hex() == it["pruned_sBuff_hex"]
        s = eddsa.private_scalar(prv)
        assert s == int(it["s_scalar_LE_of_pruned_first32"])
        assert s >> 3 == int(it["s_shr3"])
        assert eddsa.signing_nonce(prv, msg) == int(it["r_nonce"])
        public_key = eddsa.derive_public_key(prv)
        assert public_key == (int(v["Ax"]), int(v["Ay"]))
        sig = eddsa.sign(prv, msg)
        assert sig == eddsa.Signature(int(v["R8x"]), int(v["R8y"]), int(v["S"]))
        hm = eddsa.message_hash(sig.r8, public_key, msg)
        assert hm == int(it["hm_poseidon5_R8x_R8y_Ax_Ay_msg"])
        assert eddsa.verify(public_key, msg, sig)
        assert eddsa.pack_signature(sig).hex() == v["packed_signature_hex"]
        assert eddsa.unpack_signature(bytes.fromhex(v["packed_signature_hex"])) == sig


def test_vectors_negative_twins(load_vectors) -> None:
    v = _vectors(load_vectors)[0]
    public_key = (int(v["Ax"]), int(v["Ay"]))
    sig = eddsa.Signature(int(v["R8x"]), int(v["R8y"]), int(v["S"]))
    msg = int(v["message"])
    assert not eddsa.verify(public_key, msg + 1, sig)
    assert not eddsa.verify(public_key, msg, eddsa.Signature(sig.r8_x, sig.r8_y, sig.s + 1))
    other = _vectors(load_vectors)[2]
    assert not eddsa.verify((int(other["Ax"]), int(other["Ay"])), msg, sig)


@settings(max_examples=10, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.integers(min_value=0, max_value=r - 1))
def test_sign_verify_random(prv: bytes, msg: int) -> None:
    public_key = eddsa.derive_public_key(prv)
    sig = eddsa.sign(prv, msg)
    assert bj.in_subgroup(public_key) and 0 <= sig.s < l
    assert eddsa.verify(public_key, msg, sig)
    assert not eddsa.verify(public_key, (msg + 1) % r, sig)
    assert eddsa.sign(prv, msg) == sig  # deterministic


def test_s_not_reduced_is_rejected() -> None:
    pk, sig = eddsa.derive_public_key(KEY), eddsa.sign(KEY, 42)
    wrapped = eddsa.Signature(sig.r8_x, sig.r8_y, sig.s + l)  # same point S·B8, but S >= l
    assert bj.multiply_base8(wrapped.s) == bj.multiply_base8(sig.s)
    assert not eddsa.verify(pk, 42, wrapped)
    assert not eddsa.verify(pk, 42, eddsa.Signature(sig.r8_x, sig.r8_y, -1))


def test_forged_r_is_rejected() -> None:
    pk, sig = eddsa.derive_public_key(KEY), eddsa.sign(KEY, 42)
    moved = bj.add(sig.r8, bj.BASE8)
    assert not eddsa.verify(pk, 42, eddsa.Signature(moved[0], moved[1], sig.s))
    off = eddsa.Signature(sig.r8_x, (sig.r8_y + 1) % r, sig.s)
    assert not eddsa.verify(pk, 42, off)
    torsion = bj.add(sig.r8, T2)
    assert not eddsa.verify(pk, 42, eddsa.Signature(torsion[0], torsion[1], sig.s))


def _sign_for(public_key: bj.Point, s: int, nonce: int, msg: int) -> eddsa.Signature:
    """Sign with an arbitrary claimed key: S = r + H(R8, A, m)·s (the equation's 8·hm·A side)."""
    r8 = bj.multiply_base8(nonce)
    hm = eddsa.message_hash(r8, public_key, msg)
    return eddsa.Signature(r8[0], r8[1], (nonce + hm * s) % l)


def test_key_outside_subgroup_is_rejected() -> None:
    s = eddsa.private_scalar(KEY)
    pk = eddsa.derive_public_key(KEY)
    assert eddsa.verify(pk, 7, _sign_for(pk, s, 1234, 7))
    # A' = A + T2 passes the cofactored equation (8·T2 = O), as circomlibjs would accept it.
    pk_torsion = bj.add(pk, T2)
    sig = _sign_for(pk_torsion, s, 1234, 7)
    right = bj.add(sig.r8, bj.multiply(pk_torsion, 8 * eddsa.message_hash(sig.r8, pk_torsion, 7)))
    assert bj.multiply_base8(sig.s) == right
    assert not eddsa.verify(pk_torsion, 7, sig)


def test_identity_and_small_order_keys_are_rejected() -> None:
    # With A = O any (R8 = S·B8, S) satisfies the equation for every message.
    s_any = 99
    r8 = bj.multiply_base8(s_any)
    forged = eddsa.Signature(r8[0], r8[1], s_any)
    assert bj.multiply_base8(s_any) == bj.add(r8, bj.multiply(bj.IDENTITY, 8 * 5))
    assert not eddsa.verify(bj.IDENTITY, 5, forged)
    assert not eddsa.verify(T2, 5, forged)


def test_off_curve_key_is_rejected() -> None:
    pk, sig = eddsa.derive_public_key(KEY), eddsa.sign(KEY, 42)
    assert not eddsa.verify((pk[0], (pk[1] + 1) % r), 42, sig)
    assert not eddsa.verify((pk[0] + r, pk[1]), 42, sig)


def test_malformed_inputs_raise() -> None:
    pk, sig = eddsa.derive_public_key(KEY), eddsa.sign(KEY, 42)
    with pytest.raises(PrimitiveError, match="32 bytes"):
        eddsa.derive_public_key(KEY[:31])
    with pytest.raises(PrimitiveError, match="must be bytes"):
        eddsa.sign(KEY.hex(), 1)
    with pytest.raises(PrimitiveError, match="canonical Fr"):
        eddsa.sign(KEY, r)
    with pytest.raises(PrimitiveError, match="canonical Fr"):
        eddsa.verify(pk, -1, sig)
    with pytest.raises(PrimitiveError, match="must be an int"):
        eddsa.verify(pk, True, sig)
    with pytest.raises(PrimitiveError, match="must be a Signature"):
        eddsa.verify(pk, 42, (sig.r8_x, sig.r8_y, sig.s))
    with pytest.raises(PrimitiveError, match="tuple of two ints"):
        eddsa.verify([pk[0], pk[1]], 42, sig)
    with pytest.raises(PrimitiveError, match="must be an int"):
        eddsa.Signature(1, 2, "3")
    with pytest.raises(PrimitiveError, match="64 bytes"):
        eddsa.unpack_signature(b"\x00" * 63)


def test_signature_is_frozen() -> None:
    sig = eddsa.sign(KEY, 1)
    with pytest.raises(AttributeError):
        sig.s = 0  # type: ignore[misc]


def test_blake512_spec_vectors() -> None:
    # SHA-3 proposal BLAKE, Appendix A: the 1-byte and 144-byte zero messages.
    assert blake512(b"\x00").hex() == (
        "97961587f6d970faba6d2478045de6d1fabd09b61ae50932054d52bc29d31be4"
        "ff9102b9f69e2bbdb83be13d4b9c06091e5fa0b48bd081b634058be0ec49beb3"
    )
    assert blake512(b"\x00" * 144).hex() == (
        "313717d608e9cf758dcb1eb0f0c3cf9fc150b2d500fb33f51c52afc99d358a2f"
        "1374b8a38bba7974e7f6ef79cab16f22ce1e649d6e01ad9589c213045d545dde"
    )


@pytest.mark.parametrize(
    ("message", "digest_prefix"),
    [
        (b"", "a8cfbbd73726062df0c6864dda65defe"),
        (b"BLAKE", "7bf805d0d8de36802b882e65d0515aa7"),
        (b"The quick brown fox jumps over the lazy dog", "1f7e26f63b6ad25a0896fd978fd050a1"),
        (b"\x00" * 111, "125695c5cc01de48d8b107c101778fc4"),  # one padding byte (0x81)
        (b"\x00" * 112, "aa42836448c9db34e0e45a49f916b54c"),  # padding spills into a new block
    ],
)
def test_blake512_padding_branches(message: bytes, digest_prefix: str) -> None:
    # Published BLAKE-512 values (Wikipedia; dchest/blake512 and the bugbee blake.py tests).
    assert blake512(message).hex().startswith(digest_prefix)


def test_blake512_is_not_blake2b() -> None:
    import hashlib

    assert blake512(b"abc") != hashlib.blake2b(b"abc").digest()
    assert blake512(b"abc") != blake512(b"abd")
    with pytest.raises(PrimitiveError, match="takes bytes"):
        blake512("abc")  # type: ignore[arg-type]


def test_blake512_block_boundaries_are_distinct() -> None:
    rng = random.Random(7)
    digests = {blake512(bytes(rng.randrange(256) for _ in range(n))) for n in range(100, 260)}
    assert len(digests) == 160
