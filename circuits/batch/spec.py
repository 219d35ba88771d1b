"""The batch circuit's shape: B slots, tree depth D, M markets — one circuit (and key) per shape.

Every protocol constant the circuit enforces (widths, scales, codes, layouts) is
``protocol.spec``'s and ``protocol.pubdata``'s; the derived widths below are the protocol's
(``protocol.spec.tv_bits`` …) evaluated at this shape's M.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.errors import DefinitionError
from protocol import spec


@dataclass(frozen=True)
class BatchShape:
    """B slots, accounts tree depth D, M markets: one circuit (and one key pair) per shape."""

    batch_slots: int
    depth: int
    n_markets: int

    def __post_init__(self) -> None:
        if self.batch_slots < 1:
            raise DefinitionError(f"batch_slots must be ≥ 1, got {self.batch_slots}")
        if not 1 <= self.depth <= spec.ACCOUNT_BITS:
            raise DefinitionError(f"depth must be in 1..{spec.ACCOUNT_BITS}, got {self.depth}")
        if not 1 <= self.n_markets <= spec.MAX_MARKETS:
            raise DefinitionError(
                f"n_markets must be in 1..{spec.MAX_MARKETS}, got {self.n_markets}"
            )
        if self.improve_bits > 252:
            raise DefinitionError(f"liquidation product width {self.improve_bits} > 252")

    @property
    def account_width(self) -> int:
        """Leaf preimage length: 4 + 2M."""
        return spec.account_width(self.n_markets)

    @property
    def global_width(self) -> int:
        """Global-state preimage length: 5M + 5."""
        return spec.global_width(self.n_markets)

    @property
    def tv_bits(self) -> int:
        return spec.tv_bits(self.n_markets)

    @property
    def risk_bits(self) -> int:
        return spec.risk_bits(self.n_markets)

    @property
    def margin_bits(self) -> int:
        return spec.margin_bits(self.n_markets)

    @property
    def improve_bits(self) -> int:
        return spec.improve_bits(self.n_markets)
