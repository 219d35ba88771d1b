"""Where the rollup reaches Poseidon: a backend of `prover.poseidon_engine`, nothing else.

The state machine, the tree, the account leaves and the sequencer take a
``PoseidonBackend`` (argument ``backend``: a backend, its name — ``"reference"``, ``"scalar"``,
``"avx2"``, ``"ifma"`` — or None for the best this machine has) and call its methods
(``hash``, ``many_nested``, ``tree_update``, ``sponge``, ``path_root``); every backend gives the
same values and refuses the same input.  Values memoised on immutable objects (a signed
message, an account's leaf, a market's or the global state's hash) are computed with the best
backend's functions below: which backend filled a memo cannot matter.

    poseidon(inputs, *, init_state=0) = Poseidon(inputs)    (circomlib, `protocol.poseidon`)
    poseidon_many(rows)               = [Poseidon(row) for row in rows]
    sponge(elements)                  = `protocol.poseidon.poseidon_sponge`
"""

from __future__ import annotations

from collections.abc import Sequence

from prover.poseidon_engine import (
    REFERENCE,
    BackendUnavailableError,
    PoseidonBackend,
    available_backends,
    get_backend,
)

__all__ = [
    "REFERENCE",
    "BackendUnavailableError",
    "PoseidonBackend",
    "available_backends",
    "get_backend",
    "poseidon",
    "poseidon_many",
    "sponge",
]


def poseidon(inputs: Sequence[int], *, init_state: int = 0) -> int:
    """Poseidon(inputs) on the best available backend."""
    return get_backend(None).hash(inputs, init_state=init_state)


def poseidon_many(rows: Sequence[Sequence[int]]) -> list[int]:
    """[Poseidon(row) for row in rows] (rows of one length) on the best available backend."""
    return get_backend(None).many(rows)


def sponge(elements: Sequence[int]) -> int:
    """The Poseidon sponge of ``elements`` on the best available backend."""
    return get_backend(None).sponge(elements)
