"""The application layer: a rollup people can operate and trade on, above the state machine.

``rollup/`` below this package is the state machine (the reference), tree, sequencer and store;
``verifier/`` is the settlement layer. This package wires them into a rollup directory and never
the other way round (no module outside ``rollup.node`` imports it; a test pins that):

- ``facade`` — ``Rollup``: one directory behind one object; every ``zkr`` verb is a method;
- ``genesis`` — creating a directory (``zkr init``), atomically;
- ``files`` — atomic writes, checksummed JSON envelopes, the directory lock;
- ``meta``, ``keystore``, ``orders`` — ``rollup.json``, ``keystore.json``, ``orders.json`` (the
  order book and its checks);
- ``l1`` — opening the settlement layer (``settlement.db``) with the Groth16 checker;
- ``pipeline`` — keys per shape, proving jobs on local processes or Dask, stored as they finish;
- ``recovery`` — restoring a lost or damaged ``sequencer.db`` from L1 data alone;
- ``report``, ``text`` — status and account views (JSON-ready, and as text);
- ``units`` — human units (USD, whole units) to protocol integers and back, exactly;
- ``service``, ``api``, ``client``, ``status.html`` — the long-running node and its HTTP API;
- ``errors`` — the layer's refusals and ``classify`` (error → kind → exit code or HTTP status);
- ``demo`` — ``zkr demo``.
"""

from rollup.node.errors import Busy, CorruptFile, Frozen, NodeError, NotARollup, UnitError
from rollup.node.facade import Progress, Rollup

__all__ = [
    "Busy",
    "CorruptFile",
    "Frozen",
    "NodeError",
    "NotARollup",
    "Progress",
    "Rollup",
    "UnitError",
]
