"""The batch circuit: B slots of the rollup's state transition, one circuit per shape (B, D, M).

Public inputs: ``old_root``, ``new_root``, ``commitment`` — the triple verifier/settlement.py
hands to its proof checker, with ``commitment = poseidon_sponge([old_root, new_root, *pubdata])``
recomputed in-circuit from the slots' pubdata chunks (so the settlement layer recomputes it from
the published pubdata and the proof binds both roots and every chunk). We keep three public
inputs rather than hashing them into one: settlement already forms the triple, and the two extra
public inputs cost two G1 scalar multiplications at verification.

Modules: ``spec`` (shape, protocol constants), ``inputs`` (per-slot inputs), ``state`` (leaf and
global-state hashes), ``account`` (one leaf update with funding settlement and margin), ``transfer``
(deposit, withdraw, transfer), ``trade`` (orders, fills), ``market`` (oracle, funding),
``liquidation`` (liquidation, forced withdrawal), ``pubdata`` (chunks, sponge), ``slot``,
``circuit``.
``rollup.circuit_input.batch_assignment`` turns a sealed ``BatchWitness`` into the assignment.
"""

from circuits.batch.circuit import BatchCircuit, compile_batch
from circuits.batch.spec import BatchShape

__all__ = ["BatchCircuit", "BatchShape", "compile_batch"]
