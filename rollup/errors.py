# ruff: noqa: N818  (error names say what was refused: InsufficientMargin, BadNonce ...)
"""The rollup's error hierarchy: every rejected transaction raises a ``RollupError`` subclass.

Each error carries its facts as attributes (``InsufficientMargin(account=7, total_value=...,
required=...)``) and a one-line message built from them.  A transaction that raises changes nothing.
"""

from __future__ import annotations

from typing import Any


class RollupError(Exception):
    """Base class of the rollup's errors; ``fields`` holds the facts named in the message."""

    template: str = "{detail}"

    def __init__(self, **fields: Any) -> None:
        self.fields = fields
        for key, value in fields.items():
            setattr(self, key, value)
        super().__init__(self.template.format(**fields))

    def __reduce__(self):  # keep picklable across processes
        return (_rebuild_error, (type(self), self.fields))


def _rebuild_error(cls: type[RollupError], fields: dict[str, Any]) -> RollupError:
    return cls(**fields)


class TransactionError(RollupError):
    """A transaction violates a precondition of the protocol."""


class BadSignature(TransactionError):
    template = "bad signature on {what} for account {account}"


class BadNonce(TransactionError):
    template = "account {account}: nonce {got} does not equal the account nonce {expected}"


class UnknownAccount(TransactionError):
    template = "account {account} is empty (no key registered)"


class AccountOutOfRange(TransactionError):
    template = "account index {account} is outside the tree of depth {depth}"


class MarketOutOfRange(TransactionError):
    template = "market {market} does not exist (there are {n_markets})"


class ValueOutOfRange(TransactionError):
    template = "{name} = {value} is outside its range [{low}, {high}]"


class Unencodable(TransactionError):
    template = "transaction does not fit its pubdata chunk: {detail}"


class InsufficientMargin(TransactionError):
    template = (
        "account {account}: total value {total_value} is below the initial requirement "
        "{required} (value units; long options' value not counted) and the trade does not "
        "reduce its position at a TV/TR no worse"
    )


class PriceOutsideBand(TransactionError):
    template = (
        "price {price} is outside market {market}'s band [{low}, {high}] around the oracle price "
        "{oracle}"
    )


class OrderDead(TransactionError):
    template = "account {account}: order {order_id} can no longer execute ({detail})"


class SelfTrade(TransactionError):
    template = "{what}: both sides are account {account}"


class OrderMismatch(TransactionError):
    template = "orders do not match: {detail}"


class LimitPriceViolated(TransactionError):
    template = "account {account}: price {price} violates its {side} limit {limit}"


class SizeExceeded(TransactionError):
    template = "account {account}: quantity {quantity} exceeds its {what} {limit}"


class FeeExceeded(TransactionError):
    template = "account {account}: fee {fee} exceeds the signed maximum {max_fee} for this fill"


class OrderExpired(TransactionError):
    template = "account {account}: order expired at {expiry}, oracle time is {now}"


class StaleTimestamp(TransactionError):
    template = "{what} timestamp {timestamp} does not exceed the last one {last}"


class OracleGap(TransactionError):
    template = (
        "oracle update follows the one at time {previous}, but the rollup's oracle time is "
        "{last}: the oracle's updates apply in order, none skipped"
    )


class FundingRateTooHigh(TransactionError):
    template = "market {market}: funding rate {rate} exceeds the bound {max_rate} in absolute value"


class NotLiquidatable(TransactionError):
    template = "account {account}: total value {total_value} ≥ maintenance requirement {required}"


class LiquidationPriceOutOfBounds(TransactionError):
    template = (
        "liquidation price {price} outside [{low}, {high}] (oracle {oracle}, market {market})"
    )


class LiquidationNotImproving(TransactionError):
    template = (
        "liquidation of account {account} makes its TV/TR worse: total value {tv_before} → "
        "{tv_after} (value units)"
    )


class OptionSlotsFull(TransactionError):
    template = "account {account} already holds {slots} option positions"


class SeriesUnavailable(TransactionError):
    template = "option series {series}: {detail}"


class MarkOutOfBounds(TransactionError):
    template = "series slot {slot}: mark {mark} {detail}"


class InsuranceExhausted(TransactionError):
    template = (
        "account {account}: the insurance fund {fund} cannot cover a shortfall of {shortfall} "
        "(value units): deleverage it"
    )


class NotDeleveragable(TransactionError):
    template = "deleverage of account {account} refused: {detail}"


class NotBankrupt(NotDeleveragable):
    template = (
        "deleverage of account {account} refused: its total value {total_value} (value units) "
        "is not negative"
    )


class FundCovers(NotDeleveragable):
    template = (
        "deleverage of account {account} refused: the insurance fund {fund} covers its deficit "
        "{deficit} (value units): liquidate it"
    )


class BatchError(RollupError):
    """The sequencer cannot build or store a batch."""


class MempoolRejected(BatchError):
    template = "transaction rejected by the mempool: {detail}"


class StoreError(RollupError):
    """The sequencer store is missing, of another shape, or inconsistent."""

    template = "store: {detail}"


class RebuildError(RollupError):
    """Rebuilding from settled pubdata did not reach the settled root."""

    template = "rebuild: {detail}"
