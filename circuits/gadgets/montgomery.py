"""Variable-base scalar multiplication in Montgomery form for points of the order-l subgroup.

BabyJubJub is birationally equivalent to the Montgomery curve  B·v² = u³ + A·u² + u  with
A = 2(a + d)/(a − d) = 168698 and B = 4/(a − d) = 1 (circomlib ``montgomery.circom``):

    (x, y) ↦ (u, v) = ((1 + y)/(1 − y), u/x)         (u, v) ↦ (x, y) = (u/v, (u − 1)/(u + 1))

Affine Montgomery addition costs 3 rows (λ·(u2 − u1) = v2 − v1, λ², λ·(u1 − u3)) and doubling 4
(u², λ·2B·v = 3u² + 2A·u + 1, λ², λ·(u − u3)) — against 6 and 5 for the complete Edwards laws —
but the laws are incomplete: u1 = u2 leaves λ free (or the row unsatisfiable). As in circomlib
``escalarmulany.circom``, the ladder below never meets that case for a point P of prime order l:

    acc ← P;  dbl ← P;  for i = 1..n−1:  dbl ← 2·dbl;  acc ← e_i ? acc + dbl : acc
    (then subtract P with the complete Edwards law when e_0 = 0)

Before step i, acc = k·P with 1 ≤ k ≤ 2^i − 1 and dbl = 2^i·P, so acc = ±dbl would need
k ± 2^i ≡ 0 (mod l), impossible while 2^(i+1) < l; segments of 148 bits keep i ≤ 147 and every
value is pinned by its row. Each segment is therefore sound for P of order l; the caller must
guarantee that (the EdDSA gadget proves A in the subgroup and A ≠ O, so 8·A has order l).
9 rows per bit (double 4 + add 3 + mux 2); 254 bits cost 2,304 (+6 when P may be the identity,
which is then replaced by BASE8 and the result by O, as circomlib does).

``scalar_mul_fixed_subgroup`` does the same for a constant base G of order l with 3-bit windows:
window j looks up the constant (w_j + 2)·8^j·G (3 rows) and adds it to the accumulator (3 rows).
Before window j the accumulator is a·G with 2(8^j − 1)/7 ≤ a ≤ 9(8^j − 1)/7 < 2·8^j ≤ e, the
entry's multiple, and a + e < 2^127 < l inside a segment of 42 windows, so again u1 ≠ u2. The
offset 2·Σ 8^j·G is removed at the end of each segment with the complete Edwards law.
≈ 2 rows per bit (251 bits: 512 rows, against 760 for ``babyjubjub.scalar_mul_fixed``).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.api import API
from circuits.builder import field_division
from circuits.gadgets.babyjubjub import PointVar, _lookup3, point_add
from circuits.linear import Value, Variable, as_variable
from protocol import babyjubjub as bjj
from protocol.fields import inverse_or_zero
from prover.fields import R

__all__ = [
    "MONT_A",
    "MONT_B",
    "SEGMENT_BITS",
    "SEGMENT_WINDOWS",
    "scalar_mul_fixed_subgroup",
    "scalar_mul_subgroup",
    "to_montgomery_native",
]

MONT_A = 2 * (bjj.A + bjj.D) * pow(bjj.A - bjj.D, -1, R) % R
MONT_B = 4 * pow(bjj.A - bjj.D, -1, R) % R
#: Bits per segment: 2^(SEGMENT_BITS + 1) < l keeps the ladder away from u1 = u2.
SEGMENT_BITS = 148
#: 3-bit windows per fixed-base segment: 10·8^42 < l.
SEGMENT_WINDOWS = 42


def to_montgomery_native(p: bjj.Point) -> bjj.Point:
    """(x, y) ↦ ((1 + y)/(1 − y), u/x) for a point other than O and the 2-torsion."""
    x, y = p
    u = (1 + y) * pow(1 - y, -1, R) % R
    return u, u * pow(x, -1, R) % R


@field_division
def _div(num: int, den: int) -> list[int]:
    return [num * inverse_or_zero(den) % R]


def _quotient(api: API, num: Variable, den: Variable, label: str) -> Variable:
    (q,) = api.hint(_div, [num, den], 1, label)
    api.assert_product(q, den, num, label)
    return q


def _to_montgomery(api: API, p: PointVar) -> PointVar:
    """(x, y) ↦ ((1 + y)/(1 − y), u/x). 2 rows."""
    x, y = p
    u = _quotient(api, 1 + y, 1 - y, "e2m_u")
    return u, _quotient(api, u, x, "e2m_v")


def _to_edwards(api: API, m: PointVar) -> PointVar:
    """(u, v) ↦ (u/v, (u − 1)/(u + 1)). 2 rows."""
    u, v = m
    return _quotient(api, u, v, "m2e_x"), _quotient(api, u - 1, u + 1, "m2e_y")


def _mont_add(api: API, p: PointVar, q: PointVar, label: str) -> PointVar:
    """p + q for u_p ≠ u_q. 3 rows."""
    (u1, v1), (u2, v2) = p, q
    lam = _quotient(api, v2 - v1, u2 - u1, label + ":lambda")
    u3 = api.mul(lam, lam, name=label + ":lambda2") * MONT_B - MONT_A - u1 - u2
    return u3, api.mul(lam, u1 - u3, name=label + ":v") - v1


def _mont_double(api: API, p: PointVar, label: str) -> PointVar:
    """2·p for v_p ≠ 0. 4 rows."""
    u, v = p
    uu = api.mul(u, u, name=label + ":uu")
    lam = _quotient(api, uu * 3 + u * (2 * MONT_A) + 1, v * (2 * MONT_B), label + ":lambda")
    u3 = api.mul(lam, lam, name=label + ":lambda2") * MONT_B - MONT_A - u * 2
    return u3, api.mul(lam, u - u3, name=label + ":v") - v


def _segment(api: API, bits: list[Variable], p: PointVar, name: str) -> tuple[PointVar, PointVar]:
    """(Σ 2^i·bits_i)·p and 2^(n−1)·p (Montgomery) for p of order l, n = len(bits) ≥ 2."""
    with api.namespace(name):
        m = _to_montgomery(api, p)
        acc, dbl = m, m
        for i in range(1, len(bits)):
            dbl = _mont_double(api, dbl, f"dbl{i}")
            added = _mont_add(api, dbl, acc, f"add{i}")
            acc = (
                api.select(bits[i], added[0], acc[0], f"sel{i}:u"),
                api.select(bits[i], added[1], acc[1], f"sel{i}:v"),
            )
        acc_e = _to_edwards(api, acc)
        minus_p = point_add(api, acc_e, (-p[0], p[1]), "minus_p")
        out = (
            api.select(bits[0], acc_e[0], minus_p[0], "sel0:x"),
            api.select(bits[0], acc_e[1], minus_p[1], "sel0:y"),
        )
    return out, dbl


def scalar_mul_subgroup(
    api: API,
    bits: Sequence[Value],
    p: Sequence[Value],
    *,
    may_be_identity: bool = True,
    name: str = "mul_subgroup",
) -> PointVar:
    """(Σ 2^i·bits_i)·p for p in the order-l subgroup (caller-enforced), bits boolean (checked
    unless known), LSB first. 9 rows per bit (see module doc), +6 if p may be the identity."""
    bits = [as_variable(b) for b in bits]
    if len(bits) % SEGMENT_BITS == 1:
        bits.append(Variable.constant(0))  # a segment needs two bits
    for b in bits:
        api.assert_boolean(b, name + ":bit")
    x, y = as_variable(p[0]), as_variable(p[1])
    with api.namespace(name):
        zero = None
        if may_be_identity:
            zero = api.is_zero(x, "p_is_identity")
            x, y = (
                api.select(zero, bjj.BASE8[0], x, "p:x"),
                api.select(zero, bjj.BASE8[1], y, "p:y"),
            )
        base: PointVar = (x, y)
        total: PointVar | None = None
        for s in range(0, len(bits), SEGMENT_BITS):
            out, dbl = _segment(
                api, bits[s : s + SEGMENT_BITS], base, f"segment{s // SEGMENT_BITS}"
            )
            total = out if total is None else point_add(api, total, out, f"sum{s // SEGMENT_BITS}")
            if s + SEGMENT_BITS < len(bits):
                base = _to_edwards(api, _mont_double(api, dbl, f"next_base{s // SEGMENT_BITS}"))
        assert total is not None
        if zero is not None:
            total = (api.select(zero, 0, total[0], "out:x"), api.select(zero, 1, total[1], "out:y"))
    return total


def scalar_mul_fixed_subgroup(
    api: API, bits: Sequence[Value], base: bjj.Point, name: str = "mul_fixed_subgroup"
) -> PointVar:
    """(Σ 2^i·bits_i)·base for a constant base of order l and boolean bits (checked by the
    caller), LSB first. ≈ 2 rows per bit (see module doc)."""
    bits = [as_variable(b) for b in bits]
    windows = [bits[j : j + 3] for j in range(0, len(bits), 3)]
    total: PointVar | None = None
    with api.namespace(name):
        seg_base = base
        for s in range(0, len(windows), SEGMENT_WINDOWS):
            seg = windows[s : s + SEGMENT_WINDOWS]
            with api.namespace(f"segment{s // SEGMENT_WINDOWS}"):
                acc: PointVar | None = None
                step = seg_base
                for j, window in enumerate(seg):
                    table = [to_montgomery_native(bjj.multiply(step, w + 2)) for w in range(8)]
                    entry = _lookup3(api, window, table, f"window{j}")
                    acc = entry if acc is None else _mont_add(api, acc, entry, f"add{j}")
                    step = bjj.multiply(step, 8)
                assert acc is not None
                offset = bjj.multiply(seg_base, 2 * sum(8**j for j in range(len(seg))))
                out = point_add(api, _to_edwards(api, acc), bjj.negate(offset), "offset")
            total = out if total is None else point_add(api, total, out, f"sum{s}")
            seg_base = step
    if total is None:
        return Variable.constant(0), Variable.constant(1)
    return total
