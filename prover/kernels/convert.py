"""Conversions between affine point arrays (the kernels' layout) and Python ints / py_ecc points.

Array layout (the contract between the kernels and protocol code):

- G1 affine: ``(n, 2, 4) uint64`` — x, y as Fq elements in Montgomery form (x·2^256 mod q),
  64-bit little-endian limbs.
- G2 affine: ``(n, 2, 2, 4) uint64`` — x = (c0, c1), y = (c0, c1) meaning c0 + c1·u in
  Fq2 = Fq[u]/(u² + 1), each coordinate in Fq Montgomery form.
- The point at infinity: all limbs zero (x = y = 0 is on neither curve).
- Scalars: ``(n, 4) uint64`` canonical (not Montgomery) Fr elements, see :func:`scalars_from_ints`.

Python-side forms: G1 ``(x, y)`` ints or ``None`` for infinity; G2 ``((x0, x1), (y0, y1))`` or
``None``. py_ecc forms: ``py_ecc.optimized_bn128`` projective points (``Z1``/``Z2`` = infinity).
Montgomery conversion goes through one ``int.to_bytes`` per limb row and ``numpy.frombuffer``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from prover.fields import Q, R

G1Int = tuple[int, int] | None
G2Int = tuple[tuple[int, int], tuple[int, int]] | None
_MONT = 1 << 256
_MONT_INV = pow(_MONT, -1, Q)


def _to_rows(values: Sequence[int]) -> np.ndarray:
    buf = b"".join(int(v).to_bytes(32, "little") for v in values)
    return np.frombuffer(buf, dtype="<u8").reshape(len(values), 4).astype(np.uint64)


def _from_rows(rows: np.ndarray) -> list[int]:
    data = np.ascontiguousarray(rows, dtype="<u8").reshape(-1, 4).tobytes()
    return [int.from_bytes(data[32 * i : 32 * i + 32], "little") for i in range(len(data) // 32)]


def _mont(v: int) -> int:
    if not 0 <= v < Q:
        raise ValueError(f"coordinate {v} is not a canonical Fq element")
    return v * _MONT % Q


def _unmont(v: int) -> int:
    return v * _MONT_INV % Q


def scalars_from_ints(scalars: Sequence[int]) -> np.ndarray:
    """Canonical Fr scalars → (n, 4) uint64; each must satisfy 0 ≤ s < r."""
    for s in scalars:
        if not 0 <= s < R:
            raise ValueError(f"scalar {s} is not a canonical Fr element")
    return _to_rows(scalars).reshape(len(scalars), 4)


def scalars_to_ints(arr: np.ndarray) -> list[int]:
    return _from_rows(arr)


def g1_from_ints(points: Sequence[G1Int]) -> np.ndarray:
    """Affine int pairs (None = infinity) → (n, 2, 4) Montgomery array. Not checked on-curve."""
    flat: list[int] = []
    for p in points:
        flat.extend((0, 0) if p is None else (_mont(p[0]), _mont(p[1])))
    return _to_rows(flat).reshape(len(points), 2, 4)


def g1_to_ints(arr: np.ndarray) -> list[G1Int]:
    vals = _from_rows(arr)
    out: list[G1Int] = []
    for i in range(0, len(vals), 2):
        x, y = vals[i], vals[i + 1]
        out.append(None if x == 0 and y == 0 else (_unmont(x), _unmont(y)))
    return out


def g2_from_ints(points: Sequence[G2Int]) -> np.ndarray:
    """((x0, x1), (y0, y1)) (None = infinity) → (n, 2, 2, 4) Montgomery array."""
    flat: list[int] = []
    for p in points:
        if p is None:
            flat.extend((0, 0, 0, 0))
        else:
            flat.extend(_mont(c) for c in (*p[0], *p[1]))
    return _to_rows(flat).reshape(len(points), 2, 2, 4)


def g2_to_ints(arr: np.ndarray) -> list[G2Int]:
    vals = _from_rows(arr)
    out: list[G2Int] = []
    for i in range(0, len(vals), 4):
        x0, x1, y0, y1 = vals[i : i + 4]
        if x0 == x1 == y0 == y1 == 0:
            out.append(None)
        else:
            out.append(((_unmont(x0), _unmont(x1)), (_unmont(y0), _unmont(y1))))
    return out


def g1_from_py_ecc(p) -> G1Int:
    from py_ecc import optimized_bn128 as bn

    if bn.is_inf(p):
        return None
    x, y = bn.normalize(p)
    return (int(x), int(y))


def g1_to_py_ecc(p: G1Int):
    from py_ecc import optimized_bn128 as bn

    if p is None:
        return bn.Z1
    return (bn.FQ(p[0]), bn.FQ(p[1]), bn.FQ.one())


def g2_from_py_ecc(p) -> G2Int:
    from py_ecc import optimized_bn128 as bn

    if bn.is_inf(p):
        return None
    x, y = bn.normalize(p)
    return ((int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1])))


def g2_to_py_ecc(p: G2Int):
    from py_ecc import optimized_bn128 as bn

    if p is None:
        return bn.Z2
    return (bn.FQ2(list(p[0])), bn.FQ2(list(p[1])), bn.FQ2.one())
