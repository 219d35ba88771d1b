"""End to end on the batch circuit (slow): a B = 1, D = 2, M = 1 trade batch proven with
``prover.setup.setup`` / ``prover.prove.prove`` verifies with ``verifier.groth16.verify`` on the
native public signals (old_root, new_root, commitment), fails on a wrong new root, and the
settlement layer accepts it and rejects it with tampered pubdata; and the
D = 16, M = 4 shape solves a native trade batch."""

from __future__ import annotations

import pytest

from circuits.batch import BatchShape, compile_batch
from protocol.eddsa import derive_public_key
from protocol.pubdata import pubdata_commitment
from protocol.spec import DEFAULT_MARKETS, VALUE_SCALE, RollupParams
from prover.artifacts import proof_to_json, vk_to_json
from prover.prove import prove
from prover.setup import SeededRandom, setup
from rollup.account import GlobalState
from rollup.circuit_input import batch_assignment, shape_of
from rollup.state import RollupState
from rollup.tx import Deposit, Order, Trade
from rollup.witness import BatchWitness
from tests.rollup.conftest import (
    CHAIN_ID,
    DOMAIN,
    GENESIS_TIME,
    OPERATOR_KEY,
    ROLLUP_ID,
    operator_signed,
)
from verifier.groth16 import parse_proof, parse_verification_key, verify
from verifier.settlement import BatchRejected, Settlement, SettlementConfig

PRICE = 100 * VALUE_SCALE
KEYS = [bytes([i + 1]) * 32 for i in range(2)]


@pytest.mark.slow
def test_batch_proof_verifies_and_settles() -> None:
    params = RollupParams(depth=2, batch_slots=1, markets=DEFAULT_MARKETS[:1])
    shape = shape_of(params)
    compiled = compile_batch(shape)
    batch = trade_batch(params)
    z = compiled.solve(batch_assignment(batch, shape))
    pk = setup(compiled.r1cs, SeededRandom(1))
    proof = prove(pk, z, SeededRandom(2).randbelow(1 << 250), 17)
    vk = parse_verification_key(vk_to_json(pk.vk))
    parsed = parse_proof(proof_to_json(proof))
    public = [batch.old_root, batch.new_root, batch.commitment]
    assert compiled.public_signals(z) == public
    assert verify(vk, public, parsed)
    assert not verify(vk, [batch.old_root, batch.old_root, batch.commitment], parsed)

    # the settlement layer with the Groth16 check: accepts the proven batch, rejects it with
    # tampered pubdata (the recomputed commitment differs) and nothing changes
    g = batch.slots[0].old_global
    config = SettlementConfig(2, 1, batch.old_root, tuple(g.to_list()), CHAIN_ID, ROLLUP_ID)
    l1 = Settlement(config, lambda pub, prf: verify(vk, list(pub), parse_proof(prf)))
    proof_json = proof_to_json(proof)  # the settlement layer stores proofs as plain data
    tampered = list(batch.pubdata)
    tampered[1] += 1
    with pytest.raises(BatchRejected, match="proof does not verify"):
        l1.submit_batch(tampered, batch.new_root, proof_json,
                        operator_signed(l1, tampered, batch.new_root))  # fmt: skip
    assert l1.root == batch.old_root
    pubdata = list(batch.pubdata)
    signature = operator_signed(l1, pubdata, batch.new_root)
    assert l1.submit_batch(pubdata, batch.new_root, proof_json, signature) == 0
    assert l1.root == batch.new_root


def trade_batch(params: RollupParams) -> BatchWitness:
    """A one-slot trade batch after two deposits applied outside the batch (the settlement
    layer starts from the root after them)."""
    prices = (PRICE,) * params.n_markets
    g = GlobalState.genesis(params, derive_public_key(b"o" * 32), prices, GENESIS_TIME, DOMAIN,
                            derive_public_key(OPERATOR_KEY))  # fmt: skip
    state = RollupState(params, g)
    for i in range(2):
        state.apply(Deposit(i, *derive_public_key(KEYS[i]), 1000, 7))
    old = state.root
    expiry = GENESIS_TIME + 99
    mo = Order(0, 0, 0, 10, PRICE, 5, 1, expiry).sign(KEYS[0], DOMAIN)
    to = Order(1, 0, 1, 10, PRICE, 5, 1, expiry).sign(KEYS[1], DOMAIN)
    w = state.apply(Trade(mo, to, 10, PRICE, 1, 2))
    return BatchWitness(
        0, old, state.root, (w,), w.chunk, pubdata_commitment(old, state.root, w.chunk)
    )


@pytest.mark.slow
def test_depth16_four_markets_solves() -> None:
    params = RollupParams(depth=16, batch_slots=1)
    shape = shape_of(params)
    assert shape == BatchShape(1, 16, 4)
    compiled = compile_batch(shape)
    batch = trade_batch(params)
    z = compiled.solve(batch_assignment(batch, shape))
    assert compiled.public_signals(z) == [batch.old_root, batch.new_root, batch.commitment]
