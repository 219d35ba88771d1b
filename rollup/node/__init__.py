"""The application layer: a rollup people can operate and trade on, above the state machine.

``rollup/`` below this package is the state machine (the reference), tree, sequencer and store;
``verifier/`` is the settlement layer. This package wires them into a rollup directory and never
the other way round (no module outside ``rollup.node`` imports it; a test pins that):

- ``facade`` — ``Rollup``: one directory behind one object; every ``zkr`` verb is a method;
- ``genesis`` — creating a directory (``zkr init``), atomically;
- ``files`` — atomic writes, checksummed JSON envelopes, the directory lock;
- ``meta``, ``keystore``, ``orders``, ``oracle`` — ``rollup.json``, ``keystore.json``,
  ``orders.json`` (the order book: ids, fills, matching, signed cancels), ``oracle.json`` (index
  samples, implied volatilities, marks and settlement prices);
- ``trading``, ``feeds`` — the façade's orders, liquidations and deleverages; its oracle updates,
  option series listings and settlement sweeps;
- ``l1`` — opening the settlement layer (``settlement.db``) with the Groth16 checker;
- ``pipeline`` — keys per shape, proving jobs on local processes or Dask, stored as they finish;
- ``recovery`` — restoring a lost or damaged ``sequencer.db`` from L1 data alone;
- ``report``, ``views``, ``text`` — status, account, orders, series and risk views (JSON-ready,
  and as text); ``riskview`` — ``rollup.risk``'s views built from the native state;
- ``units`` — human units (USD, whole units) to protocol integers and back, exactly;
- ``service``, ``api``, ``client``, ``status.html`` — the long-running node and its HTTP API;
- ``errors`` — the layer's refusals and ``classify`` (error → kind → exit code or HTTP status);
- ``demo``, ``demo_acts`` — ``zkr demo``.
"""

from importlib import import_module
from typing import Any

#: the package's public names, imported on first use (``cli`` loads ``rollup.node.commands``
#: on every ``zkr`` call, which must not pay for the façade and the state machine)
_LAZY: dict[str, str] = {
    "Busy": "rollup.node.errors",
    "CorruptFile": "rollup.node.errors",
    "Frozen": "rollup.node.errors",
    "NodeError": "rollup.node.errors",
    "NotARollup": "rollup.node.errors",
    "UnitError": "rollup.node.errors",
    "Progress": "rollup.node.facade",
    "Rollup": "rollup.node.facade",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'rollup.node' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name]), name)
