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
``liquidation`` (liquidation, forced withdrawal), ``pubdata`` (chunk layouts and packing; the
commitment is ``circuits.gadgets.poseidon.poseidon_sponge``), ``slot``, ``circuit``.
``rollup.circuit_input.batch_assignment`` turns a sealed ``BatchWitness`` into the assignment.

Not enforced by this circuit (by design or not yet):

- deposit keys: on the curve and x ≠ 0 when an empty account registers one; prime-subgroup
  membership is checked by the settlement layer when it queues the deposit. A refund is accepted
  only when the credit would overflow 2^95 (the native machine also refunds invalid keys, which
  the settlement layer never queues);
- a refunded deposit / void forced withdrawal must read the request's account (update 0) to
  prove its reason; rollup.state records a read of leaf 0 instead, so such batches are
  unsatisfiable (unless the account is 0) until the native witness reads the request's account;
- values read from the state (leaves, global state) are taken to be in range by induction from
  a valid genesis: every value the circuit writes is range-checked; genesis parameters
  (fractions, max rates, oracle key) are not;
- the order of priority requests against the L1 queue is checked by the settlement layer on
  the pubdata the commitment binds.

Size at D = 16, M = 4: 35,087 constraints per slot (``python -m benchmarks.batch_constraints``),
above the 30k goal: two Merkle updates 2 × 7.7k, two EdDSA checks 2 × 4.2k, four leaf hashes
2.9k, the rest (orders, funding, margin, liquidation, forced withdrawal) ≈ 8k.
"""

from circuits.batch.circuit import BatchCircuit, compile_batch
from circuits.batch.spec import BatchShape

__all__ = ["BatchCircuit", "BatchShape", "compile_batch"]
