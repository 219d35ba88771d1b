"""snarkjs JSON artifacts: ``verification_key.json``, ``proof.json``, ``public.json``.

The forms are snarkjs 0.7's (``zkey export verificationkey``, ``groth16 prove``), written the way
snarkjs writes them (``JSON.stringify(obj, null, 1)``, no trailing newline):

- points are projective with decimal strings: G1 ``[x, y, "1"]``, G2 ``[[x0, x1], [y0, y1],
  ["1", "0"]]`` where x = x0 + x1·u in Fq2 = Fq[u]/(u² + 1) (c0 first); the point at infinity is
  G1 ``["0", "1", "0"]``, G2 ``[["0","0"], ["1","0"], ["0","0"]]``;
- ``vk_alphabeta_12`` = e(α, β) in ffjavascript's tower Fq12 = Fq6[w]/(w² − v),
  Fq6 = Fq2[v]/(v³ − (9 + u)), as ``[[c00, c01, c02], [c10, c11, c12]]`` of Fq2 pairs. py_ecc's
  Fq12 is Fq[w]/(w¹² − 18w⁶ + 82) with u = w⁶ − 9, v = w²; and ffjavascript's final exponentiation
  yields py_ecc's pairing raised to m = 2x(6x² + 3x + 1) (x = 4965661367192848881, the BN
  parameter) — checked against snarkjs's own verification keys in the tests.

Readers turn the JSON back into ``VerifyingKey`` / ``Proof`` / signals for the prover's own use,
rejecting malformed values with ``FormatError`` (curve membership is the verifier's job).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from protocol import jsonio
from prover.engine import G1Int, G2Int, g1_to_py_ecc, g2_to_py_ecc
from prover.errors import FormatError
from prover.fields import Q, R
from prover.keys import VerifyingKey
from prover.prove import Proof

BN_X = 4965661367192848881
#: ffjavascript's pairing = py_ecc's pairing ^ FINAL_EXP_FACTOR.
FINAL_EXP_FACTOR = 2 * BN_X * (6 * BN_X * BN_X + 3 * BN_X + 1) % R


def g1_to_json(p: G1Int) -> list[str]:
    return ["0", "1", "0"] if p is None else [str(p[0]), str(p[1]), "1"]


def g2_to_json(p: G2Int) -> list[list[str]]:
    if p is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    return [[str(p[0][0]), str(p[0][1])], [str(p[1][0]), str(p[1][1])], ["1", "0"]]


def alphabeta_to_json(alpha_g1: G1Int, beta_g2: G2Int) -> list[list[list[str]]]:
    """e(α, β) in snarkjs's ``vk_alphabeta_12`` form (see the module docstring)."""
    from py_ecc import optimized_bn128 as bn  # only here: the prove path never pays for it

    e = bn.pairing(g2_to_py_ecc(beta_g2), g1_to_py_ecc(alpha_g1)) ** FINAL_EXP_FACTOR
    f = [int(c) for c in e.coeffs]
    # f = Σ_k f_k w^k;  (x + y·u)·w^(i+2j) = x·w^k + y·(w^(k+6) − 9 w^k),  k = i + 2j
    return [
        [[str((f[i + 2 * j] + 9 * f[i + 2 * j + 6]) % Q), str(f[i + 2 * j + 6])] for j in range(3)]
        for i in range(2)
    ]


def vk_to_json(vk: VerifyingKey) -> dict[str, Any]:
    """``verification_key.json`` as snarkjs writes it."""
    return {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.n_public,
        "vk_alpha_1": g1_to_json(vk.alpha_g1),
        "vk_beta_2": g2_to_json(vk.beta_g2),
        "vk_gamma_2": g2_to_json(vk.gamma_g2),
        "vk_delta_2": g2_to_json(vk.delta_g2),
        "vk_alphabeta_12": alphabeta_to_json(vk.alpha_g1, vk.beta_g2),
        "IC": [g1_to_json(p) for p in vk.gamma_abc_g1],
    }


def proof_to_json(proof: Proof) -> dict[str, Any]:
    """``proof.json`` as snarkjs writes it."""
    return {
        "pi_a": g1_to_json(proof.a),
        "pi_b": g2_to_json(proof.b),
        "pi_c": g1_to_json(proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    }


def public_to_json(signals: Sequence[int]) -> list[str]:
    """``public.json``: the public signals as decimal strings."""
    return [str(int(v)) for v in signals]


def write_json(obj: Any, path: str | Path) -> None:
    """Write ``obj`` exactly as snarkjs does (one-space indent, no trailing newline)."""
    Path(path).write_text(json.dumps(obj, indent=1))


# ------------------------------------------------------------------ readers


def read_json(path: str | Path) -> Any:
    """A JSON file nested at most ``protocol.jsonio.MAX_JSON_DEPTH`` deep; FormatError else."""
    try:
        return jsonio.loads(Path(path).read_text())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: not readable JSON ({exc})") from None


#: a canonical element of F_q or F_r has at most 77 decimal digits
_MAX_DIGITS = 80


def _int(v: Any, modulus: int, what: str) -> int:
    """A canonical field element from an ASCII decimal string (snarkjs JSON)."""
    if (
        not isinstance(v, str) or not v.isascii() or not v.isdigit() or len(v) > _MAX_DIGITS
        or int(v) >= modulus
    ):  # fmt: skip
        shown = repr(v) if len(repr(v)) <= 40 else repr(v)[:37] + "..."
        raise FormatError(f"{what}: {shown} is not a canonical field element in decimal")
    return int(v)


def g1_from_json(v: Any, what: str) -> G1Int:
    if not isinstance(v, list) or len(v) != 3:
        raise FormatError(f"{what}: expected a G1 point [x, y, z]")
    x, y, z = (_int(c, Q, what) for c in v)
    if z == 0:
        return None
    if z != 1:
        raise FormatError(f'{what}: projective z must be "1" or "0", got {z}')
    return (x, y)


def g2_from_json(v: Any, what: str) -> G2Int:
    if (
        not isinstance(v, list)
        or len(v) != 3
        or any(not isinstance(c, list) or len(c) != 2 for c in v)
    ):
        raise FormatError(f"{what}: expected a G2 point [[x0, x1], [y0, y1], [z0, z1]]")
    (x0, x1), (y0, y1), (z0, z1) = ((_int(a, Q, what), _int(b, Q, what)) for a, b in v)
    if (z0, z1) == (0, 0):
        return None
    if (z0, z1) != (1, 0):
        raise FormatError(f'{what}: projective z must be ["1", "0"] or ["0", "0"]')
    return ((x0, x1), (y0, y1))


def _require(obj: Any, keys: Sequence[str], what: str) -> dict:
    if not isinstance(obj, dict):
        raise FormatError(f"{what}: expected a JSON object")
    for k in keys:
        if k not in obj:
            raise FormatError(f"{what}: missing {k!r}")
    if obj.get("protocol") != "groth16" or obj.get("curve") != "bn128":
        raise FormatError(f"{what}: protocol/curve must be groth16/bn128")
    return obj


def vk_from_json(obj: Any) -> VerifyingKey:
    d = _require(
        obj,
        ("vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC", "nPublic"),
        "verification key",
    )
    ic, n_public = d["IC"], d["nPublic"]
    if type(n_public) is not int or not 0 <= n_public < 1 << 32:
        raise FormatError(f"verification key: nPublic {n_public!r} is not a count")
    if not isinstance(ic, list) or len(ic) != n_public + 1:
        raise FormatError(
            f"verification key: IC does not hold nPublic + 1 = {d['nPublic']} + 1 points"
        )
    return VerifyingKey(
        g1_from_json(d["vk_alpha_1"], "vk_alpha_1"),
        g2_from_json(d["vk_beta_2"], "vk_beta_2"),
        g2_from_json(d["vk_gamma_2"], "vk_gamma_2"),
        g2_from_json(d["vk_delta_2"], "vk_delta_2"),
        tuple(g1_from_json(p, f"IC[{i}]") for i, p in enumerate(ic)),
    )


def proof_from_json(obj: Any) -> Proof:
    d = _require(obj, ("pi_a", "pi_b", "pi_c"), "proof")
    return Proof(
        g1_from_json(d["pi_a"], "pi_a"),
        g2_from_json(d["pi_b"], "pi_b"),
        g1_from_json(d["pi_c"], "pi_c"),
    )


def public_from_json(obj: Any) -> list[int]:
    if not isinstance(obj, list):
        raise FormatError("public signals: expected a JSON list of decimal strings")
    return [_int(v, R, f"public signal {i}") for i, v in enumerate(obj)]
