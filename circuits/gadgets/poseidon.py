"""Poseidon over BN254 Fr in-circuit, matching ``protocol.poseidon.poseidon_hash``.

Same permutation as circomlib ``poseidon.circom`` (width t = n + 1, x^5 S-box, 8 full rounds and
R_P partial rounds, round constants and MDS matrix from ``poseidon_params(t)``):

    state = [0, x_1, ..., x_n]
    per round k:  state += c[k·t : k·t + t];  state[i] ← state[i]^5 (all i, or i = 0 when partial);
                  state ← M · state
    out = state[0]

``poseidon`` follows circomlib's optimised form (``optimized_params``: constants moved across the
linear layers, partial rounds with sparse matrices; as ``poseidon_permutation`` natively), so
the symbolic linear combinations of a partial round grow by one term per cell instead of being
re-mixed densely; ``poseidon_reference`` is the textbook twin (same rows' count, same value).

Cost: each S-box is 3 constraints (x² , x⁴, x⁵ = x⁴·x); additions of constants and the MDS mix
are linear, hence free. The capacity cell of round 0 is the constant c_0, so its S-box folds to a
constant. Total 3·(8t + R_P − 1): Poseidon(2) = 240, as circomlib (circom --O2).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.api import API
from circuits.errors import DefinitionError
from circuits.linear import Value, Variable, as_variable, linear_sum
from protocol.poseidon import (
    MAX_INPUTS,
    SPONGE_RATE,
    SPONGE_TAG,
    optimized_params,
    poseidon_params,
)

__all__ = ["poseidon", "poseidon_constraint_count", "poseidon_reference", "poseidon_sponge", "sbox"]


def sbox(api: API, x: Variable, label: str = "sbox") -> Variable:
    """x^5. 3 constraints (0 if x is constant)."""
    x2 = api.mul(x, x, name=label + ":x2")
    x4 = api.mul(x2, x2, name=label + ":x4")
    return api.mul(x4, x, name=label + ":x5")


def _mix(cols: Sequence[Sequence[int]], state: list[Variable]) -> list[Variable]:
    """state'[i] = Σ_j m[j][i]·state[j] for m given by its columns (circomlib layout). Free."""
    return [linear_sum(list(zip(col, state, strict=True))) for col in cols]


def _check_arity(n: int) -> None:
    if not 1 <= n <= MAX_INPUTS:
        raise DefinitionError(f"poseidon takes 1..{MAX_INPUTS} inputs, got {n}")


def poseidon(api: API, inputs: Sequence[Value], name: str = "poseidon") -> Variable:
    """Poseidon(inputs) for 1..16 inputs. 3·(8t + R_P − 1) constraints, t = len(inputs) + 1."""
    _check_arity(len(inputs))
    o = optimized_params(len(inputs) + 1)
    t, n_p, w = o.t, o.n_rounds_p, 2 * o.t - 1
    C, S = o.C, o.S
    m_cols, p_cols = list(zip(*o.M, strict=True)), list(zip(*o.P, strict=True))
    state: list[Variable] = [Variable.constant(0), *(as_variable(x) for x in inputs)]
    state = [s + c for s, c in zip(state, C[:t], strict=True)]
    with api.namespace(name):
        for k in range(4):  # full rounds 0..3; the 4th mixes with the pre-sparse matrix P
            with api.namespace(f"full{k}"):
                consts = C[(k + 1) * t : (k + 2) * t]
                boxed = [
                    sbox(api, s, f"sbox{i}") + c
                    for i, (s, c) in enumerate(zip(state, consts, strict=True))
                ]
            state = _mix(m_cols if k < 3 else p_cols, boxed)
        for k in range(n_p):  # x0 -> x0^5 + c, then the sparse matrix [m00 ŵ; v I]
            s_k = S[w * k : w * (k + 1)]
            with api.namespace(f"partial{k}"):
                x0 = sbox(api, state[0], "sbox0") + C[5 * t + k]
            rest = state[1:]
            state = [
                linear_sum([(s_k[0], x0), *zip(s_k[1:t], rest, strict=True)]),
                *(x + x0 * b for x, b in zip(rest, s_k[t:], strict=True)),
            ]
        for k in range(4):  # full rounds 4..7; the last adds no constant and keeps only out[0]
            with api.namespace(f"full{4 + k}"):
                consts = C[5 * t + n_p + k * t : 5 * t + n_p + (k + 1) * t] if k < 3 else [0] * t
                boxed = [
                    sbox(api, s, f"sbox{i}") + c
                    for i, (s, c) in enumerate(zip(state, consts, strict=True))
                ]
            state = _mix(m_cols if k < 3 else m_cols[:1], boxed)
    return state[0]


def poseidon_reference(api: API, inputs: Sequence[Value], name: str = "poseidon") -> Variable:
    """Textbook twin of ``poseidon`` (dense MDS every round): same value, same constraint count."""
    _check_arity(len(inputs))
    n = len(inputs)
    p = poseidon_params(n + 1)
    t, half_f = p.t, p.n_rounds_f // 2
    c, m = p.round_constants, p.mds
    state: list[Variable] = [Variable.constant(0), *(as_variable(x) for x in inputs)]
    with api.namespace(name):
        for k in range(p.n_rounds_f + p.n_rounds_p):
            full = k < half_f or k >= half_f + p.n_rounds_p
            state = [s + c[k * t + i] for i, s in enumerate(state)]
            with api.namespace(f"round{k}"):
                if full:
                    state = [sbox(api, s, f"sbox{i}") for i, s in enumerate(state)]
                else:
                    state[0] = sbox(api, state[0], "sbox0")
            rows = m if k < p.n_rounds_f + p.n_rounds_p - 1 else m[:1]
            state = [linear_sum(list(zip(row, state, strict=True))) for row in rows]
    return state[0]


def poseidon_constraint_count(n_inputs: int) -> int:
    """3·(8t + R_P − 1), t = n_inputs + 1: the cost of ``poseidon`` on non-constant inputs."""
    p = poseidon_params(n_inputs + 1)
    return 3 * (p.n_rounds_f * p.t + p.n_rounds_p - 1)


def poseidon_sponge(api: API, elements: Sequence[Value], name: str = "sponge") -> Variable:
    """``protocol.poseidon.poseidon_sponge`` in-circuit (the pubdata commitment):
    h = 2^64 + n, then h = Poseidon(h, chunk) over chunks of 15 (Poseidon(h) when n = 0).
    The length tag is a constant (fixed shape), so the first call's tag S-box folds away.
    Cost: the Poseidon calls, ⌈n/15⌉ of them."""
    h: Variable = Variable.constant(SPONGE_TAG + len(elements))
    with api.namespace(name):
        if not elements:
            return poseidon(api, [h], "empty")
        for i in range(0, len(elements), SPONGE_RATE):
            h = poseidon(api, [h, *elements[i : i + SPONGE_RATE]], f"chunk{i // SPONGE_RATE}")
    return h
