"""Gadgets: sub-circuits built on ``circuits.api.API`` (gnark ``std/`` style).

Each function takes the ``api`` first, opens a namespace named after itself (overridable with
``name=``), documents what it enforces and its cost in R1CS rows, and has a native twin that its
tests compare it with:

- ``comparators`` — less_than / less_or_equal / greater_* and assert_* on n-bit integers.
- ``signed`` — signed n-bit integers: assert_signed, is_negative, abs_value, min_value, max_value.
- ``fixedpoint`` — fixed_mul / fixed_div with floor rounding and range-checked remainders.
- ``poseidon`` — Poseidon(1..16) matching ``protocol.poseidon.poseidon_hash``.
- ``merkle`` — Poseidon Merkle root, inclusion and single-leaf update for a sparse tree.
- ``babyjubjub`` — point add/double/select, on-curve check, fixed- and variable-base scalar mul.
- ``montgomery`` — Montgomery-form ladders (9 rows/bit variable base, ≈2 rows/bit fixed base)
  for points of the order-l subgroup, twinned with the complete Edwards ones in ``babyjubjub``.
- ``eddsa`` — EdDSA-Poseidon verification as circomlib's EdDSAPoseidonVerifier.

Row counts beside circomlib's: ``python -m benchmarks.constraints``.
"""
