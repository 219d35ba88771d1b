"""Groth16 verification over BN254 — the settlement layer's proof check, a stable public API.

Groth16 (Groth, "On the size of pairing-based non-interactive arguments", EUROCRYPT 2016, §3.2):
a proof (A, B, C) in G1 × G2 × G1 for public inputs x_1..x_l is accepted iff

    e(A, B) = e(α, β) · e(L, γ) · e(C, δ),    L = IC_0 + Σ_i x_i · IC_i

with the verifying key (α in G1; β, γ, δ in G2; IC = γ_abc_g1 in G1). Artifacts are snarkjs's
JSON (``verification_key.json``, ``proof.json``, ``public.json``; snarkjs
``src/groth16_verify.js``): curve "bn128" = BN254 of EIP-196/197, points as decimal strings in
affine form with z = 1 ([0, 1, 0] is the point at infinity), G2 coordinates as [c0, c1] = c0 + c1·i.

``verify`` runs on a prepared key (:mod:`verifier.prepared`, as arkworks' ``PreparedVerifyingKey``:
e(α, β) cached, the Miller-loop lines of γ and δ precomputed, fixed-base tables for IC), made once
per ``VerifyingKey`` object (``vk.prepared``, or ``prepare_verifying_key``), so only the proof's B
needs a live Miller loop; ``verify_reference`` is the plain py_ecc check, its twin in the tests.

Only py_ecc (``optimized_bn128``) and the standard library are used — never ``prover`` or numba —
so ``import verifier.groth16`` stays light for other projects' tests. ``verify`` returns False for
a well-formed proof that does not verify and raises ``MalformedInputError`` (one precise line)
otherwise: coordinates must be canonical (< q), points on the curve, G2 points in the order-r
subgroup (G1 has cofactor 1), public inputs < r and exactly ``n_public`` of them. The dataclasses
check their points when constructed, so a ``VerifyingKey`` or ``Proof`` that exists is well-formed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from py_ecc.optimized_bn128 import (
    FQ,
    FQ2,
    FQ12,
    Z1,
    Z2,
    add,
    b,
    b2,
    curve_order,
    field_modulus,
    final_exponentiate,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    normalize,
    pairing,
)

from protocol import jsonio
from verifier import prepared as _prepared
from verifier.errors import MalformedInputError
from verifier.g2_subgroup import g2_times_order_is_zero

#: An optimized_bn128 point: projective (x, y, z) over FQ (G1) or FQ2 (G2).
G1Point = tuple[FQ, FQ, FQ]
G2Point = tuple[FQ2, FQ2, FQ2]


def _check_g1(point: Any, name: str) -> None:
    if not (isinstance(point, tuple) and len(point) == 3 and all(type(c) is FQ for c in point)):
        raise MalformedInputError(f"{name} is not a G1 point (a tuple of three optimized_bn128 FQ)")
    if not is_on_curve(point, b):
        raise MalformedInputError(f"{name} is not on the curve y^2 = x^3 + 3 (G1)")


def _check_g2(point: Any, name: str) -> None:
    if not (isinstance(point, tuple) and len(point) == 3 and all(type(c) is FQ2 for c in point)):
        raise MalformedInputError(
            f"{name} is not a G2 point (a tuple of three optimized_bn128 FQ2)"
        )
    if not is_on_curve(point, b2):
        raise MalformedInputError(f"{name} is not on the twist y^2 = x^3 + 3/(9+i) (G2)")
    # r·P = O exactly for P in the order-r subgroup (the twist's cofactor 2q - r has the factor
    # 10069, so small-order points exist); double-and-add on plain ints, py_ecc's twin in tests.
    if not is_inf(point) and not g2_times_order_is_zero(_affine_g2(point)):
        raise MalformedInputError(f"{name} is not in the order-r subgroup of G2")


def _affine_g2(point: G2Point) -> tuple[tuple[int, int], tuple[int, int]]:
    x, y = normalize(point)
    return (x.coeffs[0], x.coeffs[1]), (y.coeffs[0], y.coeffs[1])


def _ints_g1(point: G1Point) -> tuple[int, int] | None:
    """Affine ints of a py_ecc G1 point (None at infinity); no inversion when z = 1."""
    if is_inf(point):
        return None
    x, y = (point[0], point[1]) if point[2] == FQ.one() else normalize(point)
    return x.n, y.n


def _ints_g2(point: G2Point) -> tuple[tuple[int, int], tuple[int, int]] | None:
    if is_inf(point):
        return None
    x, y = (point[0], point[1]) if point[2] == FQ2.one() else normalize(point)
    return (x.coeffs[0], x.coeffs[1]), (y.coeffs[0], y.coeffs[1])


@dataclass(frozen=True)
class VerifyingKey:
    """Groth16 verifying key; ``gamma_abc_g1`` is snarkjs's ``IC`` (public inputs + 1 points)."""

    alpha_g1: G1Point
    beta_g2: G2Point
    gamma_g2: G2Point
    delta_g2: G2Point
    gamma_abc_g1: tuple[G1Point, ...]

    def __post_init__(self) -> None:
        _check_g1(self.alpha_g1, "verifying key: alpha_g1 (vk_alpha_1)")
        _check_g2(self.beta_g2, "verifying key: beta_g2 (vk_beta_2)")
        _check_g2(self.gamma_g2, "verifying key: gamma_g2 (vk_gamma_2)")
        _check_g2(self.delta_g2, "verifying key: delta_g2 (vk_delta_2)")
        # γ = O would make e(L, γ) = 1 for every L: (α, β, O) then verifies for any inputs
        for name, point in (("alpha_g1", self.alpha_g1), ("beta_g2", self.beta_g2),
                            ("gamma_g2", self.gamma_g2), ("delta_g2", self.delta_g2)):  # fmt: skip
            if is_inf(point):
                raise MalformedInputError(f"verifying key: {name} is the point at infinity")
        if not isinstance(self.gamma_abc_g1, tuple) or not self.gamma_abc_g1:
            raise MalformedInputError("verifying key: gamma_abc_g1 (IC) must be a non-empty tuple")
        for i, point in enumerate(self.gamma_abc_g1):
            _check_g1(point, f"verifying key: gamma_abc_g1[{i}] (IC[{i}])")

    @property
    def n_public(self) -> int:
        """Number of public inputs the key expects (snarkjs's ``nPublic``)."""
        return len(self.gamma_abc_g1) - 1

    @cached_property
    def prepared(self) -> _prepared.PreparedVerifyingKey:
        """This key prepared for ``verify`` (computed on first use, ~50 ms, then kept)."""
        return _prepared.prepare(
            _ints_g1(self.alpha_g1),
            _ints_g2(self.beta_g2),
            _ints_g2(self.gamma_g2),
            _ints_g2(self.delta_g2),
            [_ints_g1(p) for p in self.gamma_abc_g1],
        )


def prepare_verifying_key(vk: VerifyingKey) -> _prepared.PreparedVerifyingKey:
    """The prepared form of ``vk`` (the same object ``vk.prepared`` caches)."""
    if not isinstance(vk, VerifyingKey):
        raise MalformedInputError("prepare_verifying_key takes a VerifyingKey")
    return vk.prepared


@dataclass(frozen=True)
class Proof:
    """Groth16 proof (A, B, C) = snarkjs's (pi_a, pi_b, pi_c)."""

    a: G1Point
    b: G2Point
    c: G1Point

    def __post_init__(self) -> None:
        _check_g1(self.a, "proof: a (pi_a)")
        _check_g2(self.b, "proof: b (pi_b)")
        _check_g1(self.c, "proof: c (pi_c)")


def _check_public_inputs(vk: Any, public_inputs: Any) -> tuple[int, ...]:
    if not isinstance(public_inputs, (list, tuple)):
        raise MalformedInputError(
            f"public inputs must be a list or tuple of integers, not {type(public_inputs).__name__}"
        )
    if len(public_inputs) != vk.n_public:
        raise MalformedInputError(
            f"{len(public_inputs)} public inputs given, the verifying key expects {vk.n_public}"
        )
    for i, x in enumerate(public_inputs):
        if type(x) is not int or not 0 <= x < curve_order:
            raise MalformedInputError(f"public input [{i}] is not an integer in [0, r)")
    return tuple(public_inputs)


def _pairs(vk: VerifyingKey, public_inputs: tuple[int, ...], proof: Proof) -> list[tuple]:
    """The four (G1, G2) pairs whose pairing product is 1 iff the proof verifies."""
    l_g1 = vk.gamma_abc_g1[0]
    for x, ic in zip(public_inputs, vk.gamma_abc_g1[1:], strict=True):
        l_g1 = add(l_g1, multiply(ic, x))
    return [
        (neg(proof.a), proof.b),
        (vk.alpha_g1, vk.beta_g2),
        (l_g1, vk.gamma_g2),
        (proof.c, vk.delta_g2),
    ]


def verify(
    vk: VerifyingKey | _prepared.PreparedVerifyingKey,
    public_inputs: list[int] | tuple[int, ...],
    proof: Proof,
) -> bool:
    """True iff ``proof`` is a valid Groth16 proof of ``public_inputs`` for ``vk``.

    ``vk`` is a VerifyingKey (prepared on first use and kept on it) or a PreparedVerifyingKey.
    Raises MalformedInputError if an argument is not well-formed (wrong type, a public input not
    in [0, r), or a count other than ``vk.n_public``); returns False for a well-formed proof that
    does not verify.
    """
    if isinstance(vk, VerifyingKey):
        vk = vk.prepared
    elif not isinstance(vk, _prepared.PreparedVerifyingKey):
        raise MalformedInputError("vk must be a VerifyingKey (see load_verification_key)")
    if not isinstance(proof, Proof):
        raise MalformedInputError("proof must be a Proof (see load_proof)")
    inputs = _check_public_inputs(vk, public_inputs)
    # e(A,B) = e(α,β)·e(L,γ)·e(C,δ)  ⇔  FE(f_{−A,B}·f_{L,γ}·f_{C,δ}) = e(α,β)^(−1),
    # L = IC_0 + Σ x_i·IC_i: one multi-Miller loop (γ, δ lines prepared), one final exponentiation.
    return _prepared.check(vk, inputs, _ints_g1(proof.a), _ints_g2(proof.b), _ints_g1(proof.c))


def verify_reference(
    vk: VerifyingKey, public_inputs: list[int] | tuple[int, ...], proof: Proof
) -> bool:
    """The reference twin of ``verify``: py_ecc's Miller loops multiplied, one final exponentiation.

    Same contract as ``verify``, about ten times slower; the tests cross-check ``verify`` with it.
    """
    if not isinstance(vk, VerifyingKey) or not isinstance(proof, Proof):
        raise MalformedInputError("verify_reference takes a VerifyingKey and a Proof")
    inputs = _check_public_inputs(vk, public_inputs)
    f = FQ12.one()
    for p_g1, q_g2 in _pairs(vk, inputs, proof):
        f = f * pairing(q_g2, p_g1, final_exponentiate=False)
    return final_exponentiate(f) == FQ12.one()


# --- snarkjs JSON -------------------------------------------------------------------------------


_MODULI = {"q": field_modulus, "r": curve_order}
#: A canonical element of F_q or F_r has at most 77 decimal digits.
MAX_DIGITS = 80


def _element(value: Any, where: str, modulus: str) -> int:
    """A canonical element of F_q or F_r from a snarkjs decimal string (or an int): 0 <= x < q|r."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > MAX_DIGITS:
            raise MalformedInputError(f"{where}: a number of {len(value)} digits is not an element")
        x = int(value)
    elif type(value) is int:
        x = value
    else:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        raise MalformedInputError(f"{where}: {shown} is not a decimal integer string")
    if not 0 <= x < _MODULI[modulus]:
        raise MalformedInputError(
            f"{where}: {x} is not a canonical F{modulus} element (it must be < {modulus})"
        )
    return x


def _list(value: Any, length: int, where: str) -> list:
    if not isinstance(value, list) or len(value) != length:
        raise MalformedInputError(f"{where}: expected a list of {length}, got {_describe(value)}")
    return value


def _describe(value: Any) -> str:
    return f"a list of {len(value)}" if isinstance(value, list) else type(value).__name__


def _g1_from_json(value: Any, where: str) -> G1Point:
    x, y, z = (_element(c, f"{where}[{i}]", "q") for i, c in enumerate(_list(value, 3, where)))
    if z == 1:
        return (FQ(x), FQ(y), FQ(1))
    if (x, y, z) == (0, 1, 0):
        return Z1
    raise MalformedInputError(
        f"{where}: z must be 1 (affine) or the point at infinity be [0, 1, 0]"
    )


def _g2_from_json(value: Any, where: str) -> G2Point:
    coords = []
    for i, pair in enumerate(_list(value, 3, where)):
        c = _list(pair, 2, f"{where}[{i}]")
        coords.append(tuple(_element(e, f"{where}[{i}][{j}]", "q") for j, e in enumerate(c)))
    x, y, z = coords
    if z == (1, 0):
        return (FQ2(list(x)), FQ2(list(y)), FQ2.one())
    if (x, y, z) == ((0, 0), (1, 0), (0, 0)):
        return Z2
    raise MalformedInputError(
        f"{where}: z must be [1, 0] (affine) or the point at infinity be [[0,0],[1,0],[0,0]]"
    )


def _header(d: Any, what: str, required: bool) -> dict:
    if not isinstance(d, dict):
        raise MalformedInputError(f"{what}: expected a JSON object, got {type(d).__name__}")
    for key, expected in (("protocol", "groth16"), ("curve", "bn128")):
        if key not in d and not required:
            continue
        if d.get(key) != expected:
            raise MalformedInputError(f"{what}: {key} is {d.get(key)!r}, expected {expected!r}")
    return d


def _field(d: dict, key: str, what: str) -> Any:
    if key not in d:
        raise MalformedInputError(f"{what}: missing {key!r}")
    return d[key]


def parse_verification_key(d: Any) -> VerifyingKey:
    """A VerifyingKey from snarkjs's parsed ``verification_key.json`` (ignores vk_alphabeta_12)."""
    what = "verification key"
    _header(d, what, required=True)
    ic = _field(d, "IC", what)
    if not isinstance(ic, list) or not ic:
        raise MalformedInputError(f"{what}: IC must be a non-empty list")
    n_public = _field(d, "nPublic", what)
    if type(n_public) is not int or n_public != len(ic) - 1:
        raise MalformedInputError(f"{what}: nPublic is {n_public!r} but IC has {len(ic)} points")
    return VerifyingKey(
        alpha_g1=_g1_from_json(_field(d, "vk_alpha_1", what), "vk_alpha_1"),
        beta_g2=_g2_from_json(_field(d, "vk_beta_2", what), "vk_beta_2"),
        gamma_g2=_g2_from_json(_field(d, "vk_gamma_2", what), "vk_gamma_2"),
        delta_g2=_g2_from_json(_field(d, "vk_delta_2", what), "vk_delta_2"),
        gamma_abc_g1=tuple(_g1_from_json(p, f"IC[{i}]") for i, p in enumerate(ic)),
    )


def parse_proof(d: Any) -> Proof:
    """A Proof from snarkjs's parsed ``proof.json`` (protocol/curve checked when present)."""
    what = "proof"
    _header(d, what, required=False)
    return Proof(
        a=_g1_from_json(_field(d, "pi_a", what), "pi_a"),
        b=_g2_from_json(_field(d, "pi_b", what), "pi_b"),
        c=_g1_from_json(_field(d, "pi_c", what), "pi_c"),
    )


def parse_public_inputs(values: Any) -> tuple[int, ...]:
    """Public inputs from snarkjs's parsed ``public.json``: a list of decimal strings, each < r."""
    if not isinstance(values, list):
        raise MalformedInputError(
            f"public inputs: expected a JSON list, got {type(values).__name__}"
        )
    return tuple(_element(v, f"public[{i}]", "r") for i, v in enumerate(values))


def _read_json(path: str | Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise MalformedInputError(
            f"{path}: cannot read ({getattr(e, 'strerror', None) or e})"
        ) from e
    try:
        return jsonio.loads(text)
    except json.JSONDecodeError as e:
        raise MalformedInputError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from e
    except ValueError as e:  # nested too deep, or e.g. an integer literal over 4,300 digits
        message = str(e).splitlines()[0]
        if message.startswith("JSON nested"):
            raise MalformedInputError(f"{path}: {message}") from None
        raise MalformedInputError(f"{path}: not valid JSON ({message})") from None


def _with_path(path: str | Path, parse: Any, d: Any) -> Any:
    try:
        return parse(d)
    except MalformedInputError as e:
        raise MalformedInputError(f"{path}: {e}") from None


def load_verification_key(path: str | Path) -> VerifyingKey:
    """Read snarkjs's ``verification_key.json``."""
    return _with_path(path, parse_verification_key, _read_json(path))


def load_proof(path: str | Path) -> Proof:
    """Read snarkjs's ``proof.json``."""
    return _with_path(path, parse_proof, _read_json(path))


def load_public_inputs(path: str | Path) -> tuple[int, ...]:
    """Read snarkjs's ``public.json``."""
    return _with_path(path, parse_public_inputs, _read_json(path))
