"""Poseidon over BN254 Fr, bit-compatible with circomlib ``poseidon.circom`` and circomlibjs.

For n = 1..16 inputs the width is t = n + 1, the S-box x^5, R_F = 8 full rounds (4 before and 4
after the partial rounds) and R_P = N_ROUNDS_P[t - 2] partial rounds.  With the round constants
c and the MDS matrix M of `poseidon_constants` (Grain LFSR, Poseidon paper eprint 2019/458):

    state = [init_state, x_1, ..., x_n]
    for round k:  state += c[k·t : k·t + t]
                  state[i] = state[i]^5  for all i (full round) or i = 0 (partial round)
                  state = M · state
    Poseidon(x_1..x_n) = state[0]

`poseidon_permutation_reference` runs that textbook loop; `poseidon_permutation` runs circomlib's
optimised form (``poseidon_constants_opt``: constants moved across the linear layers, the
partial-round matrices factored into one pre-sparse matrix P and R_P sparse ones), which
circomlibjs's ``poseidon_opt.js``/wasm use.  Tests pin both against each other and the vectors.

`poseidon_sponge` (pubdata commitment) and `merkle_path_root` (state tree) are defined below.
At import, Poseidon([1, 2]) is checked against circomlibjs's value (ValueError if it differs).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from protocol.errors import PrimitiveError
from protocol.fields import curve_order as r
from protocol.poseidon_constants import (
    N_ROUNDS_P,
    OptimizedParams,
    PoseidonParams,
    optimized_params,
    poseidon_params,
)

__all__ = [
    "MAX_INPUTS",
    "SPONGE_RATE",
    "SPONGE_TAG",
    "OptimizedParams",
    "PoseidonParams",
    "merkle_path_nodes",
    "merkle_path_root",
    "optimized_params",
    "poseidon_hash",
    "poseidon_many",
    "poseidon_many_nested",
    "poseidon_params",
    "poseidon_permutation",
    "poseidon_permutation_reference",
    "poseidon_sponge",
]

#: Largest number of inputs of one Poseidon call (t = 17).
MAX_INPUTS: int = len(N_ROUNDS_P)
#: Elements absorbed per sponge call: the chaining value takes the 16th input slot.
SPONGE_RATE: int = MAX_INPUTS - 1
#: Sponge domain tag: the chaining value starts at 2^64 + length (Poseidon paper §4.2 style).
SPONGE_TAG: int = 1 << 64


def _field_elements(values: Sequence[int], what: str) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise PrimitiveError(f"{what} must be a sequence of ints, got {type(values).__name__}")
    for i, x in enumerate(values):
        if not isinstance(x, int) or isinstance(x, bool):
            raise PrimitiveError(f"{what}[{i}] must be an int, got {type(x).__name__}")
        if not 0 <= x < r:
            raise PrimitiveError(f"{what}[{i}] is not a canonical Fr element (0 <= x < r)")
    return tuple(values)


def _check_state(state: Sequence[int]) -> tuple[int, ...]:
    values = _field_elements(state, "state")
    if not 2 <= len(values) <= MAX_INPUTS + 1:
        raise PrimitiveError(
            f"Poseidon state must have 2..{MAX_INPUTS + 1} cells, got {len(values)}"
        )
    return values


def poseidon_permutation_reference(state: Sequence[int]) -> tuple[int, ...]:
    """The textbook Poseidon permutation of a width-t state (t = 2..17), as circomlibjs
    ``poseidon_reference.js``: add round constants, S-box, multiply by the MDS matrix."""
    s = list(_check_state(state))
    p: PoseidonParams = poseidon_params(len(s))
    t, half = p.t, p.n_rounds_f // 2
    for k in range(p.n_rounds_f + p.n_rounds_p):
        s = [x + c for x, c in zip(s, p.round_constants[k * t : k * t + t], strict=True)]
        if k < half or k >= half + p.n_rounds_p:
            s = [pow(x, 5, r) for x in s]
        else:
            s[0] = pow(s[0], 5, r)
        s = [sum(m * x for m, x in zip(row, s, strict=True)) % r for row in p.mds]
    return tuple(s)


def _pow5(x: int) -> int:
    x2 = x * x % r
    return x2 * x2 % r * x % r


@cache
def _schedule(t: int) -> tuple:
    """`optimized_params(t)` cut into per-round pieces: (C_0, 3 constant rows, the 4th row,
    columns of M, columns of P, partial rounds (c, m00, ŵ, v), 3 constant rows)."""
    o = optimized_params(t)
    C, S, n_p, w = o.C, o.S, o.n_rounds_p, 2 * t - 1

    def rows(start: int, count: int) -> tuple[tuple[int, ...], ...]:
        return tuple(C[start + k * t : start + (k + 1) * t] for k in range(count))

    partial = tuple(
        (C[5 * t + k], S[w * k], S[w * k + 1 : w * k + t], S[w * k + t : w * (k + 1)])
        for k in range(n_p)
    )
    return (
        C[:t], rows(t, 3), C[4 * t : 5 * t], _transpose(o.M), _transpose(o.P),
        partial, rows(5 * t + n_p, 3),
    )  # fmt: skip


def _transpose(m: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    return tuple(zip(*m, strict=True))


def _mix(cols: tuple[tuple[int, ...], ...], s: list[int]) -> list[int]:
    """state'[i] = Σ_j m[j][i]·state[j], given the columns of m (circomlib's layout)."""
    return [sum(a * b for a, b in zip(col, s, strict=True)) % r for col in cols]


def poseidon_permutation(state: Sequence[int]) -> tuple[int, ...]:
    """The same permutation via circomlib's optimised constants (``poseidon_opt.js``)."""
    s = list(_check_state(state))
    c0, first, pre_sparse, m_cols, p_cols, partial, last = _schedule(len(s))
    s = [x + c for x, c in zip(s, c0, strict=True)]
    for consts in first:  # full rounds 1..3: S-box, next round's (moved) constants, M
        s = _mix(m_cols, [_pow5(x) + c for x, c in zip(s, consts, strict=True)])
    s = _mix(p_cols, [_pow5(x) + c for x, c in zip(s, pre_sparse, strict=True)])
    for c, m00, w_hat, v in partial:  # x0 -> x0^5 + c, then the sparse matrix
        x0 = (_pow5(s[0]) + c) % r
        rest = s[1:]
        s = [
            (m00 * x0 + sum(a * b for a, b in zip(w_hat, rest, strict=True))) % r,
            *((x + x0 * b) % r for x, b in zip(rest, v, strict=True)),
        ]
    for consts in last:  # full rounds; the last one has no constant
        s = _mix(m_cols, [_pow5(x) + c for x, c in zip(s, consts, strict=True)])
    return tuple(_mix(m_cols, [_pow5(x) for x in s]))


def poseidon_hash(inputs: Sequence[int], *, init_state: int = 0) -> int:
    """Poseidon(inputs) as circomlib/circomlibjs: 1..16 canonical Fr elements → one element.

    ``init_state`` is circomlibjs's optional initial capacity value (``poseidon(inputs, state)``,
    circomlib ``PoseidonEx``' ``initialState``); 0 gives the standard hash.
    Raises PrimitiveError (a ValueError) for a wrong count or a value outside 0..r-1.
    """
    values = _field_elements(inputs, "inputs")
    if not 1 <= len(values) <= MAX_INPUTS:
        raise PrimitiveError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {len(values)}")
    (init,) = _field_elements((init_state,), "init_state")
    return poseidon_permutation((init, *values))[0]


def _row_length(rows: Sequence[Sequence[int]]) -> int:
    """The common length of a non-empty list of hash inputs (1..16), or PrimitiveError."""
    k = len(rows[0])
    for row in rows:
        if len(row) != k:
            raise PrimitiveError(f"poseidon_many takes rows of one length, got {k} and {len(row)}")
    if not 1 <= k <= MAX_INPUTS:
        raise PrimitiveError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {k}")
    return k


def poseidon_many(rows: Sequence[Sequence[int]], *, threads: int = 1) -> list[int]:
    """[Poseidon(row) for row in rows], all rows of one length (reference twin of
    ``poseidon_fast.poseidon_many``, which hashes them in one or two njit calls; ``threads`` is
    ignored here)."""
    rows = list(rows)
    if rows:
        _row_length(rows)
    return [poseidon_hash(row) for row in rows]


def poseidon_many_nested(
    inner: Sequence[Sequence[int]], outer: Sequence[Sequence[int]], *, threads: int = 1
) -> list[int]:
    """[Poseidon([*o, Poseidon(i)]) for i, o in zip(inner, outer)]: a hash of rows that end in
    the hash of another row (an account leaf ends in its positions hash).  Rows of each list have
    one length, the outer ones 1..15.  Reference twin of ``poseidon_fast.poseidon_many_nested``
    (one njit call); ``threads`` is ignored here."""
    inner, outer = list(inner), list(outer)
    if len(inner) != len(outer):
        raise PrimitiveError(f"poseidon_many_nested takes as many inner as outer rows, got "
                             f"{len(inner)} and {len(outer)}")  # fmt: skip
    if not inner:
        return []
    _row_length(inner)
    if _row_length(outer) == MAX_INPUTS:
        raise PrimitiveError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {MAX_INPUTS + 1}")
    return [poseidon_hash([*o, h]) for o, h in zip(outer, poseidon_many(inner), strict=True)]


def poseidon_sponge(elements: Sequence[int]) -> int:
    """Commitment to a variable-length list of Fr elements (used for pubdata commitments).

    Merkle–Damgård chaining over Poseidon with a length- and domain-tagged start value:

        n = len(elements)                     (0 <= n < 2^64)
        h = 2^64 + n
        if n == 0:  return Poseidon([h])
        for each chunk of SPONGE_RATE = 15 consecutive elements (the last one 1..15 long):
            h = Poseidon([h, *chunk])
        return h

    Soundness: for equal lengths the chunking (and every call's arity) is identical, so two
    different lists with one digest give a Poseidon collision in some call.  For different
    lengths, unwinding equal digests either finds a collision (between two Poseidon widths when
    the last chunks differ in length), or equal chains down to a start
    value 2^64 + n on one side that is a Poseidon output (a preimage of a known small value)
    on the other, or two start values 2^64 + n = 2^64 + n' with n ≠ n' — impossible.  The 2^64
    offset separates this from plain Poseidon([k, ...]) calls with small k used elsewhere.
    In a circuit of fixed shape n is a constant, so the tag costs nothing.
    """
    values = _field_elements(elements, "elements")
    if len(values) >= 1 << 64:
        raise PrimitiveError("poseidon_sponge takes fewer than 2^64 elements")
    h = SPONGE_TAG + len(values)
    if not values:
        return poseidon_hash([h])
    for i in range(0, len(values), SPONGE_RATE):
        h = poseidon_hash([h, *values[i : i + SPONGE_RATE]])
    return h


def _check_path(leaf: int, index: int, siblings: Sequence[int]) -> tuple[int, tuple[int, ...]]:
    (node,) = _field_elements((leaf,), "leaf")
    path = _field_elements(siblings, "siblings")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1 << len(path):
        raise PrimitiveError(f"index must be an int in 0..2^{len(path)} - 1, got {index!r}")
    return node, path


def merkle_path_nodes(leaf: int, index: int, siblings: Sequence[int]) -> tuple[int, ...]:
    """The nodes on a leaf's path to the root of a binary Poseidon(2) Merkle tree, bottom-up.

    ``siblings[i]`` is the sibling at level i (siblings[0] is the leaf's sibling; the depth is
    len(siblings)).  Bit i of ``index`` is the position of the current node at level i:
    0 = left child, node' = Poseidon([node, siblings[i]]); 1 = right child,
    node' = Poseidon([siblings[i], node]).  ``index`` must satisfy 0 <= index < 2^depth.
    Returns the depth nodes at levels 1..depth; the last one is the root.  A node at level k
    (leaves at level 0) is the parent of the level-(k - 1) nodes 2j and 2j + 1.
    """
    node, path = _check_path(leaf, index, siblings)
    nodes = []
    for level, sibling in enumerate(path):
        pair = (sibling, node) if (index >> level) & 1 else (node, sibling)
        node = poseidon_permutation((0, *pair))[0]
        nodes.append(node)
    return tuple(nodes)


def merkle_path_root(leaf: int, index: int, siblings: Sequence[int]) -> int:
    """Root of a binary Poseidon(2) Merkle tree from a leaf, its index and its authentication
    path (conventions as `merkle_path_nodes`; with no siblings the root is the leaf itself)."""
    nodes = merkle_path_nodes(leaf, index, siblings)
    return nodes[-1] if nodes else leaf


def _check_known_hash() -> None:
    # circomlibjs 0.1.7: poseidon([1, 2]) (shared/vectors/poseidon_circomlibjs.json).
    expected = 7853200120776062878684798364095072458815029376092732009249414926327459813530
    if poseidon_hash([1, 2]) != expected:
        raise ValueError("Poseidon constants do not reproduce circomlibjs poseidon([1, 2])")


_check_known_hash()
