"""BabyJubJub point arithmetic in-circuit (twisted Edwards a·x² + y² = 1 + d·x²·y² over Fr).

Points are pairs of ``Variable`` (x, y); the identity is (0, 1). The formulas are the complete
twisted Edwards laws of ``protocol.babyjubjub`` (a square, d non-square), so adding
or doubling points **on the curve** never hits a zero denominator, and every output coordinate
is pinned by its row. Callers must establish that inputs are on the curve (``assert_on_curve``).

Costs (R1CS rows):

- ``assert_on_curve``: 3 (x², y², d·x²·y² = a·x² + y² − 1; circomlib BabyCheck).
- ``point_add``: 6 (circomlib BabyAdd: β = x1·y2, γ = y1·x2, δ = (−a·x1 + y1)(x2 + y2),
  τ = β·γ, x3·(1 + d·τ) = β + γ, y3·(1 − d·τ) = δ + a·β − γ); fewer when an operand is constant.
- ``point_double``: 5 (x², y², x·y; x3·(a·x² + y²) = 2·x·y, y3·(2 − a·x² − y²) = y² − a·x²,
  the doubling law rewritten with the curve equation).
- ``point_select``: 2 (one mux per coordinate).
- ``scalar_mul_fixed``: 3-bit windows over a constant base: per window 3 rows for the lookup
  (b0·b1, then b2·(…) per coordinate) and 6 for the addition — ≈ 3 rows per scalar bit.
- ``scalar_mul``: 2-bit windows over a variable base with the table [O, P, 2P, 3P] (11 rows):
  per window 2 doublings, a 6-row lookup (three 2-row point muxes) and an addition — 11 rows
  per scalar bit.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.api import API
from circuits.builder import field_division
from circuits.linear import Value, Variable, as_variable
from protocol import babyjubjub as bjj
from protocol.fields import inverse_or_zero
from prover.fields import R

__all__ = [
    "PointVar",
    "assert_on_curve",
    "point_add",
    "point_double",
    "point_select",
    "scalar_mul",
    "scalar_mul_fixed",
]

PointVar = tuple[Variable, Variable]
A, D = bjj.A, bjj.D


@field_division
def _div_hint(num: int, den: int) -> list[int]:
    return [num * inverse_or_zero(den) % R]


def _point(p: Sequence[Value]) -> PointVar:
    return as_variable(p[0]), as_variable(p[1])


def assert_on_curve(api: API, p: Sequence[Value], name: str = "on_curve") -> None:
    """a·x² + y² = 1 + d·x²·y². 3 constraints."""
    x, y = _point(p)
    with api.namespace(name):
        xx = api.mul(x, x, name="xx")
        yy = api.mul(y, y, name="yy")
        api.assert_product(xx * D, yy, xx * A + yy - 1, "equation")


def _quotient(api: API, num: Variable, den: Variable, label: str) -> Variable:
    """q with q·den = num (1 row); den must be nonzero for q to be pinned."""
    (q,) = api.hint(_div_hint, [num, den], 1, label)
    api.assert_product(q, den, num, label)
    return q


def point_add(api: API, p: Sequence[Value], q: Sequence[Value], name: str = "add") -> PointVar:
    """p + q for points on the curve. 6 constraints (fewer with a constant operand)."""
    (x1, y1), (x2, y2) = _point(p), _point(q)
    with api.namespace(name):
        beta = api.mul(x1, y2, name="beta")
        gamma = api.mul(y1, x2, name="gamma")
        delta = api.mul(y1 - x1 * A, x2 + y2, name="delta")
        tau = api.mul(beta, gamma, name="tau")
        x3 = _quotient(api, beta + gamma, 1 + tau * D, "x")
        y3 = _quotient(api, delta + beta * A - gamma, 1 - tau * D, "y")
    return x3, y3


def point_double(api: API, p: Sequence[Value], name: str = "double") -> PointVar:
    """2·p for a point on the curve. 5 constraints."""
    x, y = _point(p)
    with api.namespace(name):
        xx = api.mul(x, x, name="xx")
        yy = api.mul(y, y, name="yy")
        xy = api.mul(x, y, name="xy")
        x3 = _quotient(api, xy * 2, xx * A + yy, "x")
        y3 = _quotient(api, yy - xx * A, 2 - xx * A - yy, "y")
    return x3, y3


def point_select(
    api: API, bit: Value, p: Sequence[Value], q: Sequence[Value], name: str = "sel"
) -> PointVar:
    """bit ? p : q. 2 constraints (+1 if bit is not known boolean)."""
    (x1, y1), (x2, y2) = _point(p), _point(q)
    return api.select(bit, x1, x2, name + ":x"), api.select(bit, y1, y2, name + ":y")


def _lookup3(api: API, bits: Sequence[Variable], table: Sequence[bjj.Point], name: str) -> PointVar:
    """table[b0 + 2·b1 + 4·b2] for constant points: the multilinear interpolation
    L_lo + b2·(L_hi − L_lo) with L linear in (1, b0, b1, b0·b1). 3 rows (b0·b1, two b2 products);
    fewer for shorter windows."""
    k = len(bits)
    b = list(bits) + [Variable.constant(0)] * (3 - k)
    pts = list(table) + [table[0]] * (8 - len(table))
    b01 = api.mul(b[0], b[1], name=name + ":b01")

    def lin(c: Sequence[int]) -> Variable:
        c0, c1, c2, c3 = c
        return c0 + b[0] * (c1 - c0) + b[1] * (c2 - c0) + b01 * (c3 - c2 - c1 + c0)

    out = []
    for coord in (0, 1):
        lo = lin([pts[i][coord] for i in range(4)])
        hi = lin([pts[i][coord] for i in range(4, 8)])
        out.append(lo + api.mul(b[2], hi - lo, name=f"{name}:hi{coord}"))
    return out[0], out[1]


def scalar_mul_fixed(
    api: API, bits: Sequence[Value], base: bjj.Point, name: str = "mul_fixed"
) -> PointVar:
    """(Σ 2^i·bits_i)·base for a constant base and boolean bits (LSB first, checked by caller).

    Window j holds bits 3j..3j+2 and looks up k·8^j·base, k = 0..7; the windows are summed.
    3 rows per window lookup + 6 per addition (≈ 3 rows per bit)."""
    bits = [as_variable(b) for b in bits]
    acc: PointVar | None = None
    with api.namespace(name):
        step = base
        for j in range(0, len(bits), 3):
            table = [bjj.IDENTITY]
            for _ in range(7):
                table.append(bjj.add(table[-1], step))
            window = _lookup3(api, bits[j : j + 3], table, f"window{j // 3}")
            acc = window if acc is None else point_add(api, acc, window, f"add{j // 3}")
            step = bjj.multiply(step, 8)
    if acc is None:
        return Variable.constant(0), Variable.constant(1)
    return acc


def scalar_mul(
    api: API, bits: Sequence[Value], p: Sequence[Value], name: str = "mul_any"
) -> PointVar:
    """(Σ 2^i·bits_i)·p for a variable point p on the curve and boolean bits (LSB first).

    Table [O, p, 2p, 3p] (11 rows), then from the most significant 2-bit window down:
    acc ← 4·acc + table[window] (two doublings, a 6-row lookup, one addition: 22 rows)."""
    bits = [as_variable(b) for b in bits]
    if len(bits) % 2:
        bits.append(Variable.constant(0))
    pt = _point(p)
    identity = (Variable.constant(0), Variable.constant(1))
    with api.namespace(name):
        p2 = point_double(api, pt, "p2")
        p3 = point_add(api, p2, pt, "p3")
        acc: PointVar | None = None
        for j in range(len(bits) // 2 - 1, -1, -1):
            b0, b1 = bits[2 * j], bits[2 * j + 1]
            with api.namespace(f"window{j}"):
                low = point_select(api, b0, pt, identity, "low")
                high = point_select(api, b0, p3, p2, "high")
                entry = point_select(api, b1, high, low, "entry")
                if acc is None:
                    acc = entry
                else:
                    acc = point_double(api, point_double(api, acc, "dbl0"), "dbl1")
                    acc = point_add(api, acc, entry, "add")
    return acc if acc is not None else identity
