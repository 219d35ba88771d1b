"""What the batch circuit consumes: per slot, the transaction, every leaf write with its Merkle
path and roots, the global state before and after, the signed messages and the pubdata chunk.

Per slot exactly ``MAX_UPDATES = 2`` leaf updates are recorded, in the order they were applied
(trade: maker then taker; transfer: sender then recipient; liquidate: liquidated then liquidator;
single-account transactions: that account).  Unused updates are *reads*: an identity update of
leaf 0 against the accounts root at that point (old = new), so every slot has the same shape.
The siblings of update k are taken after update k-1 was written.  The roots along the way (per
update, per slot) are not stored: they follow from the paths and are computed when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rollup.account import Account, GlobalState, state_root
from rollup.tree import UpdateProof
from rollup.tx import Tx

MAX_UPDATES: int = 2


@dataclass(frozen=True)
class LeafUpdate:
    """One leaf write: the accounts before/after (preimages) and the Merkle update proof."""

    old_account: Account
    new_account: Account
    proof: UpdateProof  #: index, old_leaf, new_leaf, siblings (bottom-up), old_root, new_root

    @property
    def index(self) -> int:
        return self.proof.index


@dataclass(frozen=True)
class SlotWitness:
    """One applied transaction, everything a circuit slot needs."""

    slot: int
    tx_type: int
    tx: Tx  #: the transaction as submitted (orders and signatures included)
    messages: tuple[int, ...]  #: the signed message hashes, in signer order
    old_global: GlobalState
    new_global: GlobalState
    updates: tuple[LeafUpdate, ...]  #: exactly MAX_UPDATES
    chunk: tuple[int, ...]  #: the slot's pubdata (CHUNK_WIDTH field elements)
    effect: dict  #: the decoded chunk fields (amounts, flags), for convenience

    @cached_property
    def old_root(self) -> int:
        """State root before the slot: Poseidon(updates[0].proof.old_root, old_global.hash())."""
        return state_root(self.updates[0].proof.old_root, self.old_global.hash())

    @cached_property
    def new_root(self) -> int:
        """State root after the slot: Poseidon(updates[-1].proof.new_root, new_global.hash())."""
        return state_root(self.updates[-1].proof.new_root, self.new_global.hash())


@dataclass(frozen=True)
class BatchWitness:
    """A sealed batch: B slot witnesses, roots, pubdata and its commitment."""

    number: int
    old_root: int
    new_root: int
    slots: tuple[SlotWitness, ...]
    pubdata: tuple[int, ...]
    commitment: int
