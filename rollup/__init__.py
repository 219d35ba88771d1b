"""The native rollup: the reference state machine and the batch circuit's witness source.

Modules (the protocol's numbers, layouts and hashes are ``protocol``'s): ``errors``, ``account``
(accounts, markets, series and the global state), ``tree`` (sparse Merkle tree), ``hashing`` (the
Poseidon backend), ``margin`` (TV, IM/MM, funding), ``options`` and ``series`` (option positions,
listing, marks, settlement), ``fills`` (order fill records), ``bankruptcy`` (liquidation with the
insurance fund, deleverage), ``checks``, ``effects`` and ``state`` (apply, all-or-nothing),
``tx`` (transactions and signed messages), ``witness`` and ``circuit_input`` (what a circuit
slot consumes), ``sequencer`` (mempool, batches), ``store`` (SQLite WAL), ``codec`` (msgpack
blobs), ``rebuild`` (state from published pubdata), ``pricing`` and ``risk`` (Black-76, Greeks
and risk reports, off the proof: floats).  The application layer is ``rollup.node``.
Importing this package imports none of them.
"""
