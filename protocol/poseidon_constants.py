"""Poseidon parameters for BN254 Fr, generated from the published algorithm (no data blob).

Round constants and MDS matrices come from the Grain LFSR of the Poseidon paper's reference
script ``generate_parameters_grain.sage`` (Grassi, Khovratovich, Rechberger, Roy, Schofnegger,
"Poseidon: A New Hash Function for Zero-Knowledge Proof Systems", USENIX Security 2021,
eprint 2019/458, Appendix E), called as circomlib did:
``sage generate_parameters_grain.sage 1 0 254 t 8 R_P 0x30644e72…f0000001`` (field = 1 = GF(p),
S-box = 0 = x^alpha, n = 254 bits, R_F = 8, R_P = N_ROUNDS_P[t - 2]).

Grain LFSR (80 bits, seeded with field:2 ‖ sbox:4 ‖ n:12 ‖ t:12 ‖ R_F:10 ‖ R_P:10 ‖ 1^30, MSB
first):  s[k+80] = s[k+62] ⊕ s[k+51] ⊕ s[k+38] ⊕ s[k+23] ⊕ s[k+13] ⊕ s[k].  The first 160 bits
are discarded; then bits are read in pairs (a, b) and b is output iff a = 1 (self-shrinking).
A field element is 254 output bits, most significant first.

- round constants: (R_F + R_P)·t elements, each re-drawn while ≥ r (rejection sampling);
- MDS: the Cauchy matrix M[i][j] = 1 / (x_i + y_j) with x_0..x_{t-1}, y_0..y_{t-1} the next 2t
  draws reduced mod r (re-drawn if not distinct or if some x_i + y_j = 0).  The script's later
  invariant-subspace checks (algorithms 1–3) are not re-run: circomlib's matrices are the first
  draws, and every generated table (C, S, M, P for t = 2..17) equals circomlib's
  ``poseidon_constants.circom`` (tests pin their digest; `poseidon` checks a hash at import).

`optimized_params(t)` derives circomlib's ``poseidon_constants_opt`` form (``C, S, M, P``,
after filecoin's neptune, Poseidon paper Appendix B) in circomlibjs's layout: ``M`` and ``P``
are stored transposed (state'[i] = Σ_j M[j][i]·state[j]), ``C`` are the compressed constants
(t, 3·t, t, R_P, 3·t of them), ``S`` the R_P sparse matrices of 2t − 1 entries each.
Everything is generated on first use per t and cached (functools.cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from protocol.fields import curve_order as r

#: Full rounds (all t S-boxes); half before and half after the partial rounds.
N_ROUNDS_F: int = 8
#: Partial rounds for t = 2..17 (index t - 2), as circomlib (rounded up from the paper's table).
N_ROUNDS_P: tuple[int, ...] = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
#: Field size in bits (n in the paper) and the S-box exponent alpha.
FIELD_BITS: int = 254
ALPHA: int = 5

Matrix = tuple[tuple[int, ...], ...]


def _pair_table() -> tuple[tuple[int, int], ...]:
    """For each byte (4 stream-ordered bit pairs, LSB first): (output bits MSB-first, count)."""
    table = []
    for byte in range(256):
        value, count = 0, 0
        for i in range(4):
            if (byte >> (2 * i)) & 1:
                value = (value << 1) | ((byte >> (2 * i + 1)) & 1)
                count += 1
        table.append((value, count))
    return tuple(table)


_PAIRS = _pair_table()


class GrainLFSR:
    """The self-shrinking Grain LFSR of the Poseidon reference script, 16 stream bits per step.

    Bit p of ``_window`` holds stream bit s[base + p] (p = 0..79).  The recurrence's shortest
    lag is 80 - 62 = 18, so 16 new bits are computed at once from the window with word-wide XOR.
    """

    def __init__(self, field: int, sbox: int, n: int, t: int, r_f: int, r_p: int) -> None:
        seed_bits = f"{field:02b}{sbox:04b}{n:012b}{t:012b}{r_f:010b}{r_p:010b}" + "1" * 30
        if len(seed_bits) != 80:
            raise ValueError(f"Grain seed must be 80 bits, got {len(seed_bits)}")
        # seed_bits[0] is s[0], the oldest bit: it goes to bit position 0.
        self._window = int(seed_bits[::-1], 2)
        for _ in range(160 // 16):
            self._step()
        self._acc = 0
        self._acc_len = 0

    def _step(self) -> int:
        w = self._window
        block = ((w >> 62) ^ (w >> 51) ^ (w >> 38) ^ (w >> 23) ^ (w >> 13) ^ w) & 0xFFFF
        self._window = (w >> 16) | (block << 64)
        return block

    def random_bits(self, num_bits: int) -> int:
        """The next num_bits output bits as an integer, first bit most significant."""
        acc, acc_len = self._acc, self._acc_len
        while acc_len < num_bits:
            block = self._step()
            lo_val, lo_cnt = _PAIRS[block & 0xFF]
            hi_val, hi_cnt = _PAIRS[block >> 8]
            acc = (((acc << lo_cnt) | lo_val) << hi_cnt) | hi_val
            acc_len += lo_cnt + hi_cnt
        acc_len -= num_bits
        value = acc >> acc_len
        self._acc, self._acc_len = acc & ((1 << acc_len) - 1), acc_len
        return value

    def field_element(self, num_bits: int, modulus: int) -> int:
        """Rejection sampling: draw num_bits until the value is below the modulus."""
        value = self.random_bits(num_bits)
        while value >= modulus:
            value = self.random_bits(num_bits)
        return value


@dataclass(frozen=True)
class PoseidonParams:
    """Textbook Poseidon parameters for width t: round r adds round_constants[r*t : r*t + t],
    applies the S-box (all cells in full rounds, cell 0 in partial rounds) and then
    state'[i] = Σ_j mds[i][j]·state[j]."""

    t: int
    n_rounds_f: int
    n_rounds_p: int
    round_constants: tuple[int, ...]
    mds: Matrix


@dataclass(frozen=True)
class OptimizedParams:
    """circomlib's optimised form (``poseidon_constants_opt``), circomlibjs layout (see module doc).

    C: t + 3t + t + R_P + 3t compressed constants; S: R_P sparse matrices of 2t - 1 entries
    [m00, ŵ_1..ŵ_{t-1}, v_1..v_{t-1}]; M = mdsᵀ; P: the pre-sparse matrix (same layout as M).
    """

    t: int
    n_rounds_f: int
    n_rounds_p: int
    C: tuple[int, ...]
    S: tuple[int, ...]
    M: Matrix
    P: Matrix


def _check_width(t: int) -> None:
    if not isinstance(t, int) or not 2 <= t <= 1 + len(N_ROUNDS_P):
        raise ValueError(f"Poseidon width t must be an int in 2..{1 + len(N_ROUNDS_P)}, got {t!r}")


def _cauchy_mds(lfsr: GrainLFSR, t: int) -> Matrix:
    while True:
        draws = [lfsr.random_bits(FIELD_BITS) % r for _ in range(2 * t)]
        while len(set(draws)) != 2 * t:
            draws = [lfsr.random_bits(FIELD_BITS) % r for _ in range(2 * t)]
        xs, ys = draws[:t], draws[t:]
        if all((x + y) % r for x in xs for y in ys):
            return tuple(tuple(pow(x + y, -1, r) for y in ys) for x in xs)


@cache
def poseidon_params(t: int) -> PoseidonParams:
    """Round constants and MDS matrix for width t (2..17), from the Grain LFSR (cached)."""
    _check_width(t)
    n_rounds_p = N_ROUNDS_P[t - 2]
    lfsr = GrainLFSR(1, 0, FIELD_BITS, t, N_ROUNDS_F, n_rounds_p)
    constants = tuple(
        lfsr.field_element(FIELD_BITS, r) for _ in range((N_ROUNDS_F + n_rounds_p) * t)
    )
    return PoseidonParams(t, N_ROUNDS_F, n_rounds_p, constants, _cauchy_mds(lfsr, t))


# --- small matrix algebra over Fr (lists of rows) -------------------------------------------


def _transpose(a: Matrix) -> Matrix:
    return tuple(zip(*a, strict=True))


def _mat_mul(a: Matrix, b: Matrix) -> Matrix:
    cols = _transpose(b)
    return tuple(
        tuple(sum(x * y for x, y in zip(row, col, strict=True)) % r for col in cols) for row in a
    )


def _mat_vec(a: Matrix, v: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(x * y for x, y in zip(row, v, strict=True)) % r for row in a)


def _mat_inv(a: Matrix) -> Matrix:
    """Gauss–Jordan inverse mod r; ValueError if singular."""
    m = len(a)
    rows = [[*row, *(int(i == j) for j in range(m))] for i, row in enumerate(a)]
    for col in range(m):
        pivot = next((i for i in range(col, m) if rows[i][col] % r), None)
        if pivot is None:
            raise ValueError("matrix is singular over Fr")
        rows[col], rows[pivot] = rows[pivot], rows[col]
        inv = pow(rows[col][col], -1, r)
        rows[col] = [x * inv % r for x in rows[col]]
        for i in range(m):
            f = rows[i][col]
            if i != col and f:
                rows[i] = [(x - f * y) % r for x, y in zip(rows[i], rows[col], strict=True)]
    return tuple(tuple(row[m:]) for row in rows)


# --- circomlib's optimised form -------------------------------------------------------------


def _compress_constants(p: PoseidonParams) -> tuple[int, ...]:
    """Move each round's constants before the preceding mix (c ↦ mds⁻¹·c); in the partial rounds
    push everything but cell 0 back to the last full round of the first half."""
    t, half, n_p = p.t, p.n_rounds_f // 2, p.n_rounds_p
    mds_inv = _mat_inv(p.mds)

    def rc(rnd: int) -> tuple[int, ...]:
        return p.round_constants[rnd * t : rnd * t + t]

    out = list(rc(0))
    for rnd in range(1, half):
        out += _mat_vec(mds_inv, rc(rnd))
    partial: list[int] = []
    acc = rc(half + n_p)
    for rnd in range(half + n_p - 1, half - 1, -1):
        pushed = _mat_vec(mds_inv, acc)
        partial.append(pushed[0])
        acc = tuple((x + c) % r for x, c in zip((0, *pushed[1:]), rc(rnd), strict=True))
    out += _mat_vec(mds_inv, acc)
    out += reversed(partial)
    for rnd in range(half + n_p + 1, p.n_rounds_f + n_p):
        out += _mat_vec(mds_inv, rc(rnd))
    return tuple(out)


def _sparse_factor(m: Matrix) -> tuple[Matrix, tuple[int, ...]]:
    """m (circomlib layout) = m' · s with m' = diag(1, m̂) and s sparse: returns (m', s entries)."""
    m_hat = tuple(row[1:] for row in m[1:])
    w = tuple(row[0] for row in m[1:])
    w_hat = _mat_vec(_mat_inv(m_hat), w)
    m_prime = ((1,) + (0,) * len(m_hat), *((0, *row) for row in m_hat))
    return m_prime, (m[0][0], *w_hat, *m[0][1:])


@cache
def optimized_params(t: int) -> OptimizedParams:
    """circomlib's ``C, S, M, P`` for width t (cached); see `OptimizedParams`."""
    p = poseidon_params(t)
    m = _transpose(p.mds)
    acc = m
    sparse: list[tuple[int, ...]] = []
    for _ in range(p.n_rounds_p):
        m_prime, s = _sparse_factor(acc)
        sparse.append(s)
        acc = _mat_mul(m, m_prime)
    flat_s = tuple(x for s in reversed(sparse) for x in s)
    return OptimizedParams(t, p.n_rounds_f, p.n_rounds_p, _compress_constants(p), flat_s, m, acc)
