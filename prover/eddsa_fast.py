"""EdDSA-Poseidon verification on the numba kernels: the twin of `protocol.eddsa.verify`.

Same signature, same answers and the same ``PrimitiveError`` messages as the reference (it runs
the reference's own input checks), with the two costly steps on compiled code:

- hm = Poseidon([R8.x, R8.y, A.x, A.y, message]) on the best Poseidon backend
  (`prover.poseidon_engine`);
- S·B8 == R8 + 8·hm·A as  S·B8 + k·A == R8  with k = −8·hm mod l, one joint double-scalar
  multiplication (`prover.kernels.babyjubjub.verify_rows`).  The rewrite holds because A is
  checked to lie in the order-l subgroup first, so (8·hm)·A = (8·hm mod l)·A; the subgroup check
  l·A = O runs on the kernels too and is memoised per key (``_key_ok``).

About 40× faster than the pure-Python reference here (benchmarks/native.py reports the
admission rate).  `rollup.checks.SignatureCache` verifies with this by default.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from protocol import babyjubjub as bj
from protocol.eddsa import Signature, precheck
from prover.kernels import babyjubjub as kernels
from prover.poseidon_engine import get_backend
from prover.r1cs import ints_to_limbs

__all__ = ["in_subgroup", "verify"]

_L = bj.SUBGROUP_ORDER
_TABLE_B8 = kernels.base8_table()


def _limbs(values: tuple[int, ...]) -> np.ndarray:
    """Canonical 256-bit integers as one (1, n, 4) row of limbs (the kernels' row shape)."""
    return ints_to_limbs(values).reshape(1, len(values), 4)


def in_subgroup(p: bj.Point) -> bool:
    """Twin of `protocol.babyjubjub.in_subgroup`: p on the curve and l·p = O."""
    if not bj.is_on_curve(p):
        return False
    out = np.zeros(1, dtype=np.uint8)
    kernels.subgroup_rows(_limbs(p), out)
    return bool(out[0])


@lru_cache(maxsize=1 << 16)
def _key_ok(public_key: bj.Point) -> bool:
    return public_key != bj.IDENTITY and in_subgroup(public_key)


def verify(public_key: tuple[int, int], message: int, signature: Signature) -> bool:
    """Twin of `protocol.eddsa.verify` (its docstring lists what is checked): False for every
    invalid signature or key, PrimitiveError only for malformed types or a message outside Fr."""
    if not precheck(public_key, message, signature, _key_ok):  # the reference's own checks
        return False
    r8 = signature.r8
    hm = get_backend(None).hash([r8[0], r8[1], public_key[0], public_key[1], message])
    row = _limbs((public_key[0], public_key[1], r8[0], r8[1], signature.s, -8 * hm % _L))
    out = np.zeros(1, dtype=np.uint8)
    kernels.verify_rows(row, _TABLE_B8, out)
    return bool(out[0])
