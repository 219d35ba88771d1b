"""A prepared Groth16 verifying key: the work that depends only on the key, done once.

As arkworks' ``PreparedVerifyingKey`` (``ark-groth16/src/data_structures.rs``, ``verifier.rs``):
the check e(A, B) = e(α, β) · e(L, γ) · e(C, δ) with L = IC_0 + Σ x_i·IC_i is rearranged as

    FE( f_{−A,B} · f_{L,γ} · f_{C,δ} ) = e(α, β)^(−1)

where f_{P,Q} is the optimal-ate Miller loop (:mod:`verifier.pairing`) and FE the final
exponentiation. Preparing the key computes

- ``alpha_beta_inv`` = e(α, β)^(−1), the conjugate of e(α, β) (it lies in the cyclotomic subgroup),
  so no Miller loop is spent on (α, β);
- the Miller-loop lines of the fixed G2 points γ and δ: for every step, the line through the
  running point T as the two Fq2 values it contributes (slope-derived and constant terms), so the
  loops for (L, γ) and (C, δ) only evaluate lines at L and C — no G2 arithmetic, no inversions;
  only the proof's B needs a live loop;
- fixed-base tables of IC_1 … IC_ℓ: table[k][d] = d·16^k·IC_i (d = 1..15) in affine coordinates,
  so x·IC_i is at most 64 mixed additions (a 4-bit fixed-window comb, Yao 1976; the windowed
  fixed-base method of Brickell–Gordon–McCurley–Wilson 1992).

Plain Python ints throughout, as :mod:`verifier.pairing`. Each fast piece has its reference twin
in the tests: py_ecc's ``multiply``/``add`` for the public-input combination, the live Miller loop
of :func:`verifier.pairing.miller_loop` for the prepared lines, py_ecc's pairing for e(α, β).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from py_ecc.optimized_bn128.optimized_pairing import pseudo_binary_encoding

from verifier.pairing import (
    ONE,
    Fq12,
    G1Affine,
    G2Affine,
    Q,
    R,
    add_step,
    double_step,
    final_exponentiation,
    fq12_conj,
    fq12_sqr,
    line_times,
    miller_loop,
    times_sparse,
    twist_frobenius,
)

#: A prepared line (l1, l7, l3, l9): line(P) = −y_P + x_P·l1·w + l3·w³ + x_P·l7·w⁷ + l9·w⁹.
Line = tuple[int, int, int, int]
Jacobian = tuple[int, int, int]
WINDOW = 4
WINDOWS = (R.bit_length() + WINDOW - 1) // WINDOW  # 64 windows cover a scalar < r


# --- G1 on plain ints: Jacobian with mixed additions (y^2 = x^3 + 3) ---------------------------


def jac_double(p: Jacobian) -> Jacobian:
    """2P (dbl-2009-l, a = 0); Z = 0 is the point at infinity."""
    x, y, z = p
    if z == 0:
        return p
    a, b = x * x % Q, y * y % Q
    c = b * b % Q
    d = 2 * ((x + b) ** 2 - a - c) % Q
    e = 3 * a % Q
    x3 = (e * e - 2 * d) % Q
    return x3, (e * (d - x3) - 8 * c) % Q, 2 * y * z % Q


def jac_add_affine(p: Jacobian, q: G1Affine | None) -> Jacobian:
    """P + Q with Q affine or None (madd-2007-bl), the P = ±Q and P = O cases included."""
    if q is None:
        return p
    x1, y1, z1 = p
    if z1 == 0:
        return q[0], q[1], 1
    zz = z1 * z1 % Q
    h = (q[0] * zz - x1) % Q
    rr = (q[1] * z1 * zz - y1) % Q
    if h == 0:
        return jac_double(p) if rr == 0 else (1, 1, 0)
    hh = h * h % Q
    i = 4 * hh % Q
    j, v = h * i % Q, x1 * i % Q
    rr = 2 * rr % Q
    x3 = (rr * rr - j - 2 * v) % Q
    return x3, (rr * (v - x3) - 2 * y1 * j) % Q, ((z1 + h) ** 2 - zz - hh) % Q


def to_affine(p: Jacobian) -> G1Affine | None:
    x, y, z = p
    if z == 0:
        return None
    zi = pow(z, -1, Q)
    zi2 = zi * zi % Q
    return x * zi2 % Q, y * zi2 * zi % Q


def fixed_base_table(point: G1Affine | None) -> list[list[G1Affine | None]]:
    """table[k][d] = d·16^k·P for d = 0..15 (entry 0 is None), k < 64, affine."""
    table, base = [], point
    for _ in range(WINDOWS):
        row: list[G1Affine | None] = [None, base]
        acc: Jacobian = (base[0], base[1], 1) if base is not None else (1, 1, 0)
        for _ in range(2, 1 << WINDOW):
            acc = jac_add_affine(acc, base)
            row.append(to_affine(acc))
        table.append(row)
        base = to_affine(jac_add_affine(acc, base))  # 16^(k+1)·P = 15·16^k·P + 16^k·P
    return table


def fixed_base_msm(
    start: G1Affine | None, tables: Sequence, scalars: Sequence[int]
) -> G1Affine | None:
    """start + Σ_i scalars[i]·P_i with the tables of the P_i: one mixed addition per non-zero
    4-bit digit."""
    acc: Jacobian = (start[0], start[1], 1) if start is not None else (1, 1, 0)
    for table, x in zip(tables, scalars, strict=True):
        k = 0
        while x:
            d = x & 15
            if d:
                acc = jac_add_affine(acc, table[k][d])
            x >>= WINDOW
            k += 1
    return to_affine(acc)


# --- Miller-loop lines of a fixed G2 point ------------------------------------------------------


def _line(lam: tuple[int, int], t: G2Affine) -> Line:
    """The line of slope λ through T, as the four values ``line_times`` would compute from them."""
    (xt, yt), (l0, l1) = t, lam
    c0 = (yt[0] - (l0 * xt[0] - l1 * xt[1])) % Q
    c1 = (yt[1] - (l0 * xt[1] + l1 * xt[0])) % Q
    return (l0 - 9 * l1) % Q, l1, (c0 - 9 * c1) % Q, c1


def prepare_g2(q: G2Affine) -> tuple[Line, ...]:
    """Every line of the optimal-ate Miller loop of Q, in the order ``miller_loop`` meets them:
    per digit of 6u + 2 (top first, the leading 1 skipped) the tangent, then the chord to ±Q for
    a non-zero digit; then the chords to π(Q) and −π²(Q)."""
    lines, t = [], q
    neg = (q[0], ((-q[1][0]) % Q, (-q[1][1]) % Q))
    for digit in pseudo_binary_encoding[63::-1]:
        t2, lam = double_step(t)
        lines.append(_line(lam, t))
        t = t2
        if digit:
            t3, lam = add_step(t, q if digit == 1 else neg)
            lines.append(_line(lam, t))
            t = t3
    q1 = twist_frobenius(q)
    x2, y2 = twist_frobenius(q1)
    t1, lam = add_step(t, q1)
    lines.append(_line(lam, t))
    _, lam = add_step(t1, (x2, ((-y2[0]) % Q, (-y2[1]) % Q)))
    lines.append(_line(lam, t1))
    return tuple(lines)


def _times_line(f: Fq12, line: Line, p: G1Affine) -> Fq12:
    """f · line(P): the sparse product of ``verifier.pairing.line_times`` from prepared values."""
    xp, yp = p
    return times_sparse(
        f, ((0, -yp % Q), (1, xp * line[0] % Q), (7, xp * line[1] % Q), (3, line[2]), (9, line[3]))
    )


def miller_loop_prepared(
    live: Sequence[tuple[G1Affine, G2Affine]],
    fixed: Sequence[tuple[G1Affine, tuple[Line, ...]]],
) -> Fq12:
    """Π f_{P,Q}(P) over ``live`` pairs (G2 arithmetic as ``miller_loop``) and ``fixed`` pairs
    (P with the prepared lines of its Q), with one shared accumulator. Pairs with P = O are the
    caller's to drop (their factor is 1)."""
    if not fixed:
        return miller_loop(live)
    f = ONE
    ts = [q for _, q in live]
    negs = [(q[0], ((-q[1][0]) % Q, (-q[1][1]) % Q)) for _, q in live]
    at = 0
    for digit in pseudo_binary_encoding[63::-1]:
        f = fq12_sqr(f)
        for k, (p, _) in enumerate(live):
            t2, lam = double_step(ts[k])
            f = line_times(f, lam, ts[k], p)
            ts[k] = t2
        for p, lines in fixed:
            f = _times_line(f, lines[at], p)
        at += 1
        if digit:
            for k, (p, q) in enumerate(live):
                t3, lam = add_step(ts[k], q if digit == 1 else negs[k])
                f = line_times(f, lam, ts[k], p)
                ts[k] = t3
            for p, lines in fixed:
                f = _times_line(f, lines[at], p)
            at += 1
    for k, (p, q) in enumerate(live):
        q1 = twist_frobenius(q)
        x2, y2 = twist_frobenius(q1)
        t1, lam = add_step(ts[k], q1)
        f = line_times(f, lam, ts[k], p)
        _, lam = add_step(t1, (x2, ((-y2[0]) % Q, (-y2[1]) % Q)))
        f = line_times(f, lam, t1, p)
    for p, lines in fixed:
        f = _times_line(_times_line(f, lines[at], p), lines[at + 1], p)
    return f


# --- the prepared key ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PreparedVerifyingKey:
    """What ``verify`` needs of a key, computed once by :func:`prepare`."""

    alpha_beta_inv: Fq12
    gamma_lines: tuple[Line, ...]
    delta_lines: tuple[Line, ...]
    gamma_abc_0: G1Affine | None
    gamma_abc_tables: tuple[list[list[G1Affine | None]], ...]

    @property
    def n_public(self) -> int:
        return len(self.gamma_abc_tables)


def prepare(
    alpha_g1: G1Affine | None,
    beta_g2: G2Affine | None,
    gamma_g2: G2Affine | None,
    delta_g2: G2Affine | None,
    gamma_abc_g1: Sequence[G1Affine | None],
) -> PreparedVerifyingKey:
    """Prepare a key given as affine ints (None = infinity). γ and δ at infinity give no lines
    (their pairings are 1): an empty tuple."""
    if alpha_g1 is None or beta_g2 is None:
        eab = ONE
    else:
        eab = final_exponentiation(miller_loop([(alpha_g1, beta_g2)]))
    return PreparedVerifyingKey(
        alpha_beta_inv=fq12_conj(eab),
        gamma_lines=prepare_g2(gamma_g2) if gamma_g2 is not None else (),
        delta_lines=prepare_g2(delta_g2) if delta_g2 is not None else (),
        gamma_abc_0=gamma_abc_g1[0],
        gamma_abc_tables=tuple(fixed_base_table(p) for p in gamma_abc_g1[1:]),
    )


def check(
    pvk: PreparedVerifyingKey,
    public_inputs: Sequence[int],
    a: G1Affine | None,
    b: G2Affine | None,
    c: G1Affine | None,
) -> bool:
    """FE(f_{−A,B} · f_{L,γ} · f_{C,δ}) == e(α, β)^(−1), L = IC_0 + Σ x_i·IC_i (see module)."""
    l_g1 = fixed_base_msm(pvk.gamma_abc_0, pvk.gamma_abc_tables, public_inputs)
    live = [] if a is None or b is None else [((a[0], (-a[1]) % Q), b)]
    fixed = [(p, lines) for p, lines in ((l_g1, pvk.gamma_lines), (c, pvk.delta_lines))
             if p is not None and lines]  # fmt: skip
    if not live and not fixed:
        return pvk.alpha_beta_inv == ONE
    return final_exponentiation(miller_loop_prepared(live, fixed)) == pvk.alpha_beta_inv
