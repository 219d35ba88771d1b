"""``zkr``'s verbs of the rollup, trading and options (the application layer's command line).

``cli`` creates the ``zkr`` group and adds ``COMMANDS``; the shared machinery (exit codes,
one-line errors, progress bars, common options) is ``base``. The verbs import the API inside
their bodies, so loading them costs click and the standard library only.
"""

from __future__ import annotations

from rollup.node.commands import rollup_verbs, trading

COMMANDS = (*rollup_verbs.COMMANDS, *trading.COMMANDS)

__all__ = ["COMMANDS"]
