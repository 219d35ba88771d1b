"""The settlement layer: Groth16 verification with py_ecc (never ``prover``, never numba).

``verifier.groth16`` — ``verify(vk, public_inputs, proof) -> bool`` and the snarkjs JSON loaders
(``load_verification_key``, ``load_proof``, ``load_public_inputs``); ``verifier.pairing`` — the
plain-int BN254 multi-pairing it uses; ``verifier.errors`` — ``VerifierError`` and its subclasses.
Importing this package imports nothing else, so embedding projects pay only for what they use.
"""
