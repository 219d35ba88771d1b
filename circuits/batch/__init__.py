"""The batch circuit: B slots of the rollup's state transition, one circuit per shape (B, D, M).

Public inputs: ``old_root``, ``new_root``, ``commitment`` — the triple verifier/settlement.py
hands to its proof checker, with ``commitment = poseidon_sponge([old_root, new_root, *pubdata])``
recomputed in-circuit from the slots' pubdata chunks (so the settlement layer recomputes it from
the published pubdata and the proof binds both roots and every chunk). We keep three public
inputs rather than hashing them into one: settlement already forms the triple, and the two extra
public inputs cost two G1 scalar multiplications at verification.

Modules: ``spec`` (shape and the bounds every comparison relies on), ``inputs`` (per-slot inputs
and their pinning), ``state`` (leaf and global-state hashes), ``account`` (one leaf update),
``margin`` (figures before / after an update and the margin rules), ``trade`` (instruments, fill
deltas, bands, order terms), ``orders`` (fill records), ``series`` (the option series table:
per-series value and requirements, listings, marks, open interest), ``options`` (an account's
option positions: lazy settlement, the position a fill uses), ``transfer`` (deposit, withdraw,
transfer, deposit keys), ``market`` (oracle updates and funding), ``liquidation`` (penalty,
shortfall, deleverage, insurance fund), ``refunds`` (forced withdrawal, refund and void
reasons), ``signers`` (nonce, messages, EdDSA checks), ``pubdata`` (chunk layouts and packing;
the commitment is ``circuits.gadgets.poseidon.poseidon_sponge``), ``slot``, ``circuit``.
``rollup.circuit_input.batch_assignment`` turns a sealed ``BatchWitness`` into the assignment.

Not enforced by this circuit (by design):

- deposit keys: on the curve and x ≠ 0 when an empty account registers one; prime-subgroup
  membership is checked by the settlement layer when it queues the deposit. A refund is
  accepted only for a foreign key or an overflowing credit (the native machine also refunds a
  non-subgroup key into an empty account, which the settlement layer never queues);
- values read from the state (leaves, global state) are taken to be in range by induction from
  a valid genesis: every value the circuit writes is range-checked; genesis parameters
  (fractions, max rates, bands, penalties, oracle key, domain) are the settlement layer's;
- the order of priority requests against the L1 queue is checked by the settlement layer on
  the pubdata the commitment binds.

Size at D = 16, M = 4: 45,637 constraints per slot (``python -m benchmarks.batch_constraints``):
two Merkle updates with their leaf hashes and option fills 2 × 11.4k, two EdDSA checks 2 × 4.2k,
the series table (S = 8 series' marks' max(mark, intrinsic) and short requirements,
listing and marks rules) 3.7k, the signed messages 2.2k (equal-arity messages of exclusive types
share one Poseidon), option positions 2 × 0.41k, fills and order terms 1.6k, the oracle update
1.1k, the rest (records, margin figures, liquidation and its closing draw, the Settle's
write-off, forced withdrawal, transfers, open interest) ≈ 5.3k; per batch once, the global hash
of the markets and series (2 × 6.5k) and the expiry flags (0.3k).
"""

from circuits.batch.circuit import BatchCircuit, compile_batch
from circuits.batch.spec import BatchShape

__all__ = ["BatchCircuit", "BatchShape", "compile_batch"]
