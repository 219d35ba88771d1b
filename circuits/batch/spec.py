"""The batch circuit's shape: B slots, tree depth D, M markets — one circuit (and key) per shape —
and the integer bounds its comparisons rely on.

Every protocol constant the circuit enforces (widths, scales, codes, layouts) is
``protocol.spec``'s and ``protocol.pubdata``'s. A comparison ``sign_ge(x, n)`` / ``range_check``
proves a statement about integers only if |x| < 2^n is guaranteed by range checks made
elsewhere; the bounds below derive every such n from the widths (P = 2^PRICE_BITS,
S = 2^SIZE_BITS, N = S·P = 2^112 the largest notional, K = 2^FRACTION_BITS·N = 2^132 the
largest risk term, M markets; options: O = OPTION_SLOTS = 4 positions of |n| < 2^40 contracts
valued < 2^64 each, U = 2^OPTION_UNIT_BITS = 2^85 the largest requirement per contract):

    TV_a  = coll' + Σ size'·price + Σ n'·value      |TV_a| < 2^95 + M·N + O·2^104 < 2^tv_bits
    IR_a, MR_a = Σ |size'|·price·f + Σ_short |n'|·unit        < M·K + O·2^40·U = 2^risk_bits
    TV_a·10^6 − IR_a, (TV_a − LV_a)·10^6 − IR_a                          < 2^margin_bits
            (LV_a = Σ_long n'·value ≥ 0: TV_a − LV_a = coll' + Σ size'·price + Σ_short n'·value
            has TV_a's bound)
    TV_b  = TV_a − dc − fv               (the deltas of the update, each range-checked; fv the
            fill's value: ds·price < N for a perpetual; for an option ΔTV = dn·mark −
            Δshort·(mark' − mark), where Δshort has the sign of −dn and |Δshort| ≤ |dn|, so
            |ΔTV| ≤ |dn|·mark' ≤ N)      |dc| < 2^96 + 2·N (a liquidation: −paid0 − penalty +
                                         shortfall, the shortfall < 2^SHORTFALL_BITS = N and
                                         the penalty 0 with it)         |TV_b| < 2^tvb_bits
    MR_b  = MR_a + q·unit                (perpetual unit o·mf < 2^84, option unit mm < 2^85;
            exact when the position shrinks)                     < M·K + O·2^125 + 2^133
    gain  = TV_a·MR_b − TV_b·MR_a                                        < 2^improve_bits ≤ 2^252
    TV_a − min(TV_b, 0) (ratio rule, MR_b = 0) < 2^tv_bits + 2^tvb_bits ≤ 2^improve_bits
    tv_fill (liquidation, TV after the fill at p, before penalty / shortfall):
            = TV_a + penalty − shortfall, |·| < 2^tv_bits + 2·N < 2^117 ≤ 2^128
    liquidatable  MR_b − TV_b·10^6 − 1 with |TV_b| < 2^tvb_bits                  < 2^150
    the draw (liquidation.py)  gain_w < 2^improve_bits (the weight LV_b < O·2^104 is below
            the MR bounds), W_b − 1 − gain_w + [W_b = 0] < 2^(risk_bits+1) when gain_w ≥ 0

References: StarkEx perpetual (total value, total risk; docs.starkware.co), circomlib
``comparators.circom`` (the sign of a bounded difference).
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.errors import DefinitionError
from protocol import spec
from protocol.leaf import MARKET_FIELDS, SERIES_FIELDS

__all__ = ["LIQUIDATABLE_BITS", "TV_FILL_BITS", "BatchShape"]

_N = 1 << (spec.SIZE_BITS + spec.PRICE_BITS)  #: largest notional |size|·price
_K = _N << spec.FRACTION_BITS  #: largest risk term |size|·price·fraction
_OPTION_VALUE_BITS = spec.OPTION_SIZE_BITS + spec.PRICE_BITS  #: |n·value| < 2^104


def _tv_before(n_markets: int) -> int:
    return (1 << 97) + (n_markets + 3) * _N + (spec.OPTION_SLOTS << _OPTION_VALUE_BITS)


#: |tv_fill| < 2^117 ≤ 2^128 in every liquidation the native machine accepts (module docstring).
TV_FILL_BITS: int = 128
#: |MR_b − TV_b·10^6 − 1| < 2^150 in a liquidation.
LIQUIDATABLE_BITS: int = 150


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
            raise DefinitionError(f"TV/TR comparison width {self.improve_bits} > 252")

    @property
    def account_width(self) -> int:
        """Leaf preimage length: 5 + 2M + 2R + 2K (x, y, nonce, floor, collateral, positions,
        records, option positions)."""
        return 5 + 2 * self.n_markets + 2 * spec.ORDER_RECORDS + 2 * spec.OPTION_SLOTS

    @property
    def global_width(self) -> int:
        """Global-state preimage length: 11M markets + 8S series + 8 (keys, time, fund, domain,
        next series id)."""
        return MARKET_FIELDS * self.n_markets + SERIES_FIELDS * spec.MAX_SERIES + 8

    @property
    def tv_bits(self) -> int:
        """|TV_a| < 2^95 + M·N < 2^tv_bits (``protocol.spec.tv_bits``)."""
        return spec.tv_bits(self.n_markets)

    @property
    def risk_bits(self) -> int:
        return spec.risk_bits(self.n_markets)

    @property
    def margin_bits(self) -> int:
        return spec.margin_bits(self.n_markets)

    @property
    def tvb_bits(self) -> int:
        """|TV_b| < 2^97 + (M + 3)·N + O·2^104 (the TV before an update, from TV_a and the
        deltas)."""
        return _tv_before(self.n_markets).bit_length()

    @property
    def improve_bits(self) -> int:
        """|TV_a·MR_b − TV_b·MR_a| < TV_a bound · MR_b bound + TV_b bound · MR_a bound."""
        m = self.n_markets
        tv_a = (1 << 95) + (m + 1) * _N + (spec.OPTION_SLOTS << _OPTION_VALUE_BITS)
        mr_a = (m * _K) + (spec.OPTION_SLOTS << (spec.OPTION_SIZE_BITS + spec.OPTION_UNIT_BITS))
        mr_b = mr_a + (1 << (spec.SIZE_BITS + spec.OPTION_UNIT_BITS))
        return (tv_a * mr_b + _tv_before(m) * mr_a).bit_length()
