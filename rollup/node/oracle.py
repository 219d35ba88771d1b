"""The oracle's side of a rollup directory: its index samples and the option marks it signs.

The oracle key signs index prices with funding rates (``OraclePrice``) and, for the same oracle
time, a mark of every option series slot (``Marks``). Marks are computed off-circuit by the oracle
tool ``rollup.pricing.option_mark`` (Black-76 from the index, the time to expiry and an implied
volatility per series, clamped to ``[IV_FLOOR, IV_CAP]``); once a series has expired, its
settlement price is the time-weighted average index of the window before expiry
(``rollup.pricing.settlement_price``, ``TWAP_SECONDS``) from the samples recorded here.

``oracle.json`` (a checksummed envelope, ``rollup.node.files``, replaced atomically)::

    {"samples": [[[time, price], ...] per market],      (value units per base quantum)
     "iv": {"<series id>": "<volatility>"}}              (decimal strings, per year)

Samples are recorded when an oracle update is accepted into the mempool (the genesis price at the
genesis time first), strictly increasing in time per market. Floats appear only in the
volatilities and inside the pricing tool; every signed mark is an integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protocol.spec import MAX_SERIES, PUT
from rollup import pricing
from rollup.account import GlobalState
from rollup.node.errors import CorruptFile, NodeError
from rollup.node.files import read_envelope, write_envelope

__all__ = ["DEFAULT_IV", "IV_CAP", "IV_FLOOR", "TWAP_SECONDS", "OracleLog", "compute_marks"]

FILE = "oracle.json"
RECOVER = "restore oracle.json from a backup (the index history cannot be recomputed)"
DEFAULT_IV = 0.5  #: a series' implied volatility until the oracle is given one
IV_FLOOR, IV_CAP = 0.01, 5.0  #: the clamp of ``option_mark``
TWAP_SECONDS = 1800  #: the settlement price's averaging window before expiry


@dataclass
class OracleData:
    samples: list[list[tuple[int, int]]]  #: per market, (timestamp, index) in time order
    iv: dict[int, float]

    def add_sample(self, timestamp: int, prices: tuple[int, ...]) -> None:
        """One sample per market at ``timestamp`` (replacing any at or after it)."""
        for market, price in zip(self.samples, prices, strict=True):
            market[:] = [s for s in market if s[0] < timestamp] + [(timestamp, price)]


class OracleLog:
    """``oracle.json`` of one rollup directory."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / FILE

    @classmethod
    def create(cls, directory: str | Path, genesis: GlobalState) -> OracleLog:
        log = cls(directory)
        samples = [[(genesis.oracle_time, m.price)] for m in genesis.markets]
        log.save(OracleData(samples, {}))
        return log

    def read(self) -> OracleData:
        body = read_envelope(self.path, "oracle", RECOVER)
        try:
            samples = [[(int(t), int(p)) for t, p in market] for market in body["samples"]]
            iv = {int(k): float(v) for k, v in body["iv"].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise CorruptFile(
                path=self.path, detail=f"not an oracle log ({e}); {RECOVER}"
            ) from None
        return OracleData(samples, iv)

    def save(self, data: OracleData) -> None:
        body = {
            "samples": [[[str(t), str(p)] for t, p in market] for market in data.samples],
            "iv": {str(k): repr(v) for k, v in sorted(data.iv.items())},
        }
        write_envelope(self.path, "oracle", body)

    def set_iv(self, series_id: int, iv: float) -> None:
        pricing.checked_float(f"series {series_id}: iv", iv, positive=True)
        data = self.read()
        data.iv[series_id] = float(iv)
        self.save(data)

    def iv(self, series_id: int) -> float:
        return self.read().iv.get(series_id, DEFAULT_IV)


def settlement_price(samples: list[tuple[int, int]], expiry: int) -> int:
    """The TWAP of the index over the window before ``expiry`` (shortened to the history kept
    when the series is younger than the window)."""
    before = [s for s in samples if s[0] < expiry]
    if not before:
        raise NodeError(detail=f"no index sample before the expiry {expiry}: no settlement price")
    window = min(TWAP_SECONDS, expiry - before[0][0])
    return pricing.settlement_price(before, expiry, window)


def compute_marks(
    g: GlobalState, timestamp: int, prices: tuple[int, ...], log: OracleData
) -> tuple[tuple[int, ...], int]:
    """(marks of the ``MAX_SERIES`` slots, settle flags) for the oracle update at ``timestamp``
    with index ``prices``: live series marked by Black-76 at their iv, expired unsettled ones
    given their settlement price (flag set), empty and settled slots 0."""
    marks, flags = [0] * MAX_SERIES, 0
    for j, s in enumerate(g.series):
        if not s.listed or s.settlement_price:
            continue
        if timestamp >= s.expiry:
            marks[j] = settlement_price(log.samples[s.market], s.expiry)
            flags |= 1 << j
            continue
        kind = "put" if s.kind == PUT else "call"
        iv = log.iv.get(s.series_id, DEFAULT_IV)
        marks[j] = pricing.option_mark(
            kind, prices[s.market], s.strike, timestamp, s.expiry, iv, IV_FLOOR, IV_CAP
        )
    return tuple(marks), flags
