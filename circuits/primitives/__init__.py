"""Native reference primitives, plain Python integers: Poseidon, BLAKE-512, BabyJubJub, EdDSA.

Modules (import them explicitly; this package imports none of them and never numba):

- `circuits.primitives.poseidon` — Poseidon over BN254 Fr as circomlib/circomlibjs, a sponge for
  commitments, Merkle path roots;
- `circuits.primitives.poseidon_constants` — its constants from the Grain LFSR, and circomlib's
  optimised form;
- `circuits.primitives.blake512` — the original BLAKE-512 (SHA-3 finalist, not BLAKE2b);
- `circuits.primitives.babyjubjub` — the BabyJubJub twisted Edwards curve, circomlibjs packing;
- `circuits.primitives.eddsa` — EdDSA-Poseidon as circomlibjs (``signPoseidon``/``verifyPoseidon``);
- `circuits.primitives.poseidon_fast` — the numba twin of Poseidon (imports numba; opt in).
"""

from __future__ import annotations


class PrimitiveError(ValueError):
    """Malformed input to a native primitive (wrong type, size or a value outside its field)."""
