"""The batch circuit: B slots chained from the old state root to the new one.

Public inputs (iden3 order), exactly the triple verifier/settlement.py passes to its proof
checker, ``(root, new_root, commitment)``:

    old_root, new_root, commitment = poseidon_sponge([old_root, new_root, *pubdata])

Private: the accounts root and global-state preimage before the batch, and per slot the inputs
of ``circuits.batch.inputs``. The circuit enforces

    old_root = Poseidon(accounts_root_0, global_hash(G_0))
    (accounts_root_{s+1}, G_{s+1}, chunk_s) = slot_s(accounts_root_s, G_s)      s = 0 .. B−1
    new_root = Poseidon(accounts_root_B, global_hash(G_B))
    commitment = poseidon_sponge([old_root, new_root, chunk_0, ..., chunk_{B−1}])

The global state (markets and the option series table included) is carried between slots as
circuit values (hashed only at both ends), so the intermediate state roots of
rollup.witness.SlotWitness are implied, not recomputed; with it the derived expiry flags
(``circuits.batch.state.expiry_flags``), computed once here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from circuits.api import API
from circuits.batch.inputs import declare_slot
from circuits.batch.slot import define_slot
from circuits.batch.spec import BatchShape
from circuits.batch.state import GlobalVars, expiry_flags, state_root
from circuits.compiled import CompiledCircuit, compile_circuit
from circuits.gadgets.poseidon import poseidon_sponge
from circuits.linear import Variable

__all__ = ["BatchCircuit", "compile_batch"]


@dataclass(frozen=True)
class BatchCircuit:
    """One circuit per shape; ``define(api)`` builds it (see the module docstring)."""

    shape: BatchShape

    def define(self, api: API) -> None:
        shape = self.shape
        old_root = api.public_input("old_root")
        new_root = api.public_input("new_root")
        commitment = api.public_input("commitment")
        root = api.private_input("accounts_root")
        g = GlobalVars.from_flat(api.private_input("global", shape.global_width), shape)
        g = replace(g, expired=expiry_flags(api, g))
        assert isinstance(root, Variable)
        api.assert_equal(state_root(api, root, g, "old_state_root"), old_root, "old_root")
        pubdata: list[Variable] = []
        for s in range(shape.batch_slots):
            inp = declare_slot(api, shape, s)
            with api.namespace(f"slot{s}"):
                root, g, chunk = define_slot(api, shape, inp, root, g)
            pubdata += chunk
        api.assert_equal(state_root(api, root, g, "new_state_root"), new_root, "new_root")
        api.assert_equal(
            poseidon_sponge(api, [old_root, new_root, *pubdata]), commitment, "commitment"
        )


def compile_batch(shape: BatchShape) -> CompiledCircuit:
    """The compiled batch circuit of this shape (cached per shape by compile_circuit)."""
    return compile_circuit(BatchCircuit(shape))
