"""Builders shared by the batch-circuit tests: a genesis state, deposits of the test keys, a
``BatchWitness`` from native slot witnesses, and solving it against the compiled circuit.

Used by tests/circuits/test_batch_soundness.py and tests/rollup/test_circuit_agreement.py (import
``tests.batch_helpers``; the keys, prices and oracle key are tests/rollup/conftest.py's). The native
state machine (rollup/) is the reference and the witness source: a batch's public signals are
(old_root, new_root, commitment) with commitment = Poseidon sponge over
[old_root, new_root, *pubdata] (``protocol.pubdata.pubdata_commitment``), which is what
verifier/settlement.py checks. Nothing here builds a ``SlotWitness`` or ``UpdateProof`` by hand:
every slot comes from ``RollupState.apply`` / ``RollupState.commit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

from circuits.batch import BatchShape
from circuits.compiled import CompiledCircuit
from circuits.errors import UnsatisfiedConstraint
from protocol.pubdata import pubdata_commitment
from protocol.spec import RollupParams
from rollup.account import GlobalState
from rollup.circuit_input import batch_assignment
from rollup.state import RollupState
from rollup.tx import Deposit
from rollup.witness import BatchWitness, SlotWitness
from tests.rollup.conftest import (
    DOMAIN,
    GENESIS_TIME,
    OPERATOR_KEY,
    ORACLE_KEY,
    PRICE,
    public_key,
    user_key,
)

__all__ = [
    "DOMAIN",
    "GENESIS_TIME",
    "OPERATOR_KEY",
    "ORACLE_KEY",
    "PRICE",
    "batch_witness",
    "deposit",
    "fails_on",
    "genesis_state",
    "one_slot",
    "public_key",
    "solve_batch",
    "user_key",
]


def genesis_state(params: RollupParams, prices: tuple[int, ...]) -> RollupState:
    """An empty tree under the genesis global state: ``prices`` per market, ORACLE_KEY's and
    OPERATOR_KEY's keys, oracle time GENESIS_TIME, the tests' DOMAIN."""
    g = GlobalState.genesis(
        params, public_key(ORACLE_KEY), prices, GENESIS_TIME, DOMAIN, public_key(OPERATOR_KEY)
    )
    return RollupState(params, g)


def deposit(account: int, amount: int, l1_address: int, key: int | None = None) -> Deposit:
    """A deposit of ``amount`` quanta into ``account`` under test key ``key`` (default: its own)."""
    pk = public_key(user_key(account if key is None else key))
    return Deposit(account, *pk, amount, l1_address)


def batch_witness(old_root: int, state: RollupState, slots: Iterable[SlotWitness]) -> BatchWitness:
    """Batch 0 from ``old_root`` to ``state``'s root over ``slots``: pubdata is the slots' chunks
    in order and the commitment is ``pubdata_commitment(old_root, new_root, pubdata)``."""
    slots = tuple(slots)
    data = tuple(e for w in slots for e in w.chunk)
    new_root = state.root
    return BatchWitness(
        0, old_root, new_root, slots, data, pubdata_commitment(old_root, new_root, data)
    )


def solve_batch(compiled: CompiledCircuit, batch: BatchWitness, shape: BatchShape) -> list[int]:
    """Solve the circuit on ``batch``, asserting its public signals are (old, new, commitment)."""
    z = compiled.solve(batch_assignment(batch, shape))
    assert compiled.public_signals(z) == [batch.old_root, batch.new_root, batch.commitment]
    return z


def one_slot(state: RollupState, apply: Callable[[RollupState], SlotWitness]) -> BatchWitness:
    """A one-slot batch from ``apply(state) -> SlotWitness`` (pubdata and commitment native)."""
    old = state.root
    return batch_witness(old, state, (apply(state),))


def fails_on(compiled: CompiledCircuit, assignment: dict, fragment: str) -> str:
    """Solving ``assignment`` fails on a constraint whose name contains ``fragment``."""
    with pytest.raises(UnsatisfiedConstraint) as err:
        compiled.solve(assignment)
    assert fragment in err.value.name, err.value.name
    return err.value.name
