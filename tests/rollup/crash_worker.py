"""Child process of the crash-safety test: submits signed transfers and seals batches forever,
printing ``A <seq>`` once a transaction is accepted (committed) and ``S <n>`` once a batch is
(``seal_batches`` groups: once the group's one transaction has committed)."""

from __future__ import annotations

import sys

import rollup.store
from protocol.spec import RollupParams
from rollup.sequencer import Sequencer
from rollup.tx import Transfer
from tests.rollup.conftest import DOMAIN, genesis, public_key, user_key

N = 4


def main(path: str) -> None:
    rollup.store.COMPACT_EVERY = 3  # kills land before, during and after compactions
    params = RollupParams(depth=4, batch_slots=2)
    seq = Sequencer.open(path, params, genesis(params))
    keys = [user_key(i) for i in range(N)]
    queue = [
        {"id": i, "kind": 1, "fields": [i, *public_key(keys[i]), 10**6, 500 + i]} for i in range(N)
    ]
    while seq.store.head() < 2:  # the deposits first (the mempool needs the keys registered)
        seq.seal_batch(queue)
    nonces = [seq.state.account(i).nonce for i in range(N)]
    for _, tx in seq.store.mempool():
        nonces[tx.sender] = max(nonces[tx.sender], tx.nonce + 1)
    print("READY", flush=True)
    step = sum(nonces)
    while True:
        sender = step % N
        tx = Transfer.signed(
            keys[sender], DOMAIN, sender, (sender + 1) % N, 1 + step, nonces[sender]
        )
        nonces[sender] += 1
        print(f"A {seq.submit(tx)}", flush=True)
        if step % 3 == 2:  # every other seal writes two batches in one transaction
            sealed = seq.seal_batches(queue, limit=2) if step % 2 else [seq.seal_batch(queue)]
            for batch in sealed:
                print(f"S {batch.number}", flush=True)
        step += 1


if __name__ == "__main__":
    main(sys.argv[1])
