"""protocol — the rollup's single specification, in plain Python integers.

The bottom package: it imports only the standard library and msgpack, so every other package
(``prover``, ``circuits``, ``rollup``, ``verifier``) takes the protocol's numbers, layouts and
hashes from here and restates none of them.

Modules (import them explicitly; this package imports none of them):

- ``protocol.fields`` — the BN254 moduli q and r;
- ``protocol.poseidon`` / ``protocol.poseidon_constants`` — Poseidon with circomlib's parameters
  (the reference hash), the commitment sponge and Merkle paths;
- ``protocol.babyjubjub``, ``protocol.eddsa``, ``protocol.blake512`` — EdDSA-Poseidon on
  BabyJubJub as circomlibjs;
- ``protocol.spec`` — scales, widths, transaction codes, signed-message tags, markets, the shape
  of a rollup;
- ``protocol.messages`` — the preimages of every signed message;
- ``protocol.leaf`` — the preimages and hashes of an account leaf and of the global state;
- ``protocol.pubdata`` — the pubdata layouts, the packing rule and the commitment;
- ``protocol.codec`` — msgpack with big integers, the one codec of stored and published data.
"""
