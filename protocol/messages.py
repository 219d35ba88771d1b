"""The messages that keys sign (EdDSA-Poseidon, ``protocol.eddsa``): each is the Poseidon hash of
a preimage whose first element is a domain tag (``protocol.spec.TAG_*``)::

    order     = Poseidon(TAG_ORDER=1, account, market, side, size, limit_price, fee, nonce, expiry)
    withdraw  = Poseidon(TAG_WITHDRAW=2, account, amount, l1_address, nonce)
    transfer  = Poseidon(TAG_TRANSFER=3, sender, recipient, amount, nonce)
    oracle    = Poseidon(TAG_ORACLE=4, timestamp, price_0, ..., price_{M-1})
    forced    = Poseidon(TAG_FORCED=5, account, l1_address)        (checked by the settlement layer)
    escape    = Poseidon(TAG_ESCAPE=6, account, l1_address)        (checked by the settlement layer)

``side`` is 0 = buy, 1 = sell; ``fee`` is the maximum fee (value units) the signer accepts; an order
is valid while ``last_oracle_time ≤ expiry``. The ``*_preimage`` functions give the hash inputs (the
circuit hashes the same lists); ``message(preimage)`` hashes one with the reference Poseidon.
"""

from __future__ import annotations

from collections.abc import Sequence

from protocol.poseidon import poseidon_hash
from protocol.spec import TAG_ESCAPE, TAG_FORCED, TAG_ORACLE, TAG_ORDER, TAG_TRANSFER, TAG_WITHDRAW


def order_preimage(
    account: int, market: int, side: int, size: int, limit_price: int, fee: int, nonce: int,
    expiry: int,
) -> list[int]:  # fmt: skip
    return [TAG_ORDER, account, market, side, size, limit_price, fee, nonce, expiry]


def withdraw_preimage(account: int, amount: int, l1_address: int, nonce: int) -> list[int]:
    return [TAG_WITHDRAW, account, amount, l1_address, nonce]


def transfer_preimage(sender: int, recipient: int, amount: int, nonce: int) -> list[int]:
    return [TAG_TRANSFER, sender, recipient, amount, nonce]


def oracle_preimage(timestamp: int, prices: Sequence[int]) -> list[int]:
    return [TAG_ORACLE, timestamp, *prices]


def forced_preimage(account: int, l1_address: int) -> list[int]:
    return [TAG_FORCED, account, l1_address]


def escape_preimage(account: int, l1_address: int) -> list[int]:
    return [TAG_ESCAPE, account, l1_address]


def message(preimage: Sequence[int]) -> int:
    """The signed message of a preimage: Poseidon(preimage) (reference hash)."""
    return poseidon_hash(preimage)
