"""The native rollup: the reference state machine and the batch circuit's witness source.

Modules (DESIGN §3–§7): ``params`` (scales, bounds, markets), ``errors``, ``account`` (leaf and
global-state layouts and hashes), ``tree`` (sparse Merkle tree), ``hashing`` (numba Poseidon and
its pure twin), ``margin`` (TV/TR, funding), ``tx`` (transactions and signed messages),
``effects`` and ``state`` (apply, all-or-nothing), ``witness`` (what a circuit slot consumes),
``pubdata`` (chunks and commitment), ``sequencer`` (mempool, batches), ``store`` (SQLite WAL),
``codec`` (msgpack blobs), ``rebuild`` (state from published pubdata).  Importing this package
imports none of them.
"""
