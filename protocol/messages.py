"""The messages that keys sign (EdDSA-Poseidon, ``protocol.eddsa``) and the domain they carry.

Every message is bound to one deployment by its domain, a field element fixed at genesis and
kept in the global state::

    domain = Poseidon(TAG_DOMAIN=7, chain_id, rollup_id)

and starts with a tag (``protocol.spec.TAG_*``) so no message of one kind is a message of
another::

    order     = Poseidon(TAG_ORDER=1, domain, account, instrument, side, size, limit_price,
                         max_fee, order_id, expiry)
    withdraw  = Poseidon(TAG_WITHDRAW=2, domain, account, amount, l1_address, nonce)
    transfer  = Poseidon(TAG_TRANSFER=3, domain, sender, recipient, amount, nonce)
    oracle    = poseidon_sponge([TAG_ORACLE=4, domain, previous·2^40 + timestamp,
                                 price_0, ..., price_{M-1}, rate_0 + 2^32, ..., rate_{M-1} + 2^32])
                (previous: the time of the update this one follows, so the updates form a
                 chain; both times < 2^40, packed in one element: the message keeps its width)
    forced    = Poseidon(TAG_FORCED=5, domain, account, l1_address, request_nonce, expiry)
    escape    = Poseidon(TAG_ESCAPE=6, domain, account, l1_address)
    list      = Poseidon(TAG_LIST=8, domain, slot, series_id, market, expiry, strike, kind)
                                                                     (signed by the operator key)
    marks     = Poseidon(TAG_MARKS=9, domain, timestamp, mark_0, ..., mark_{S-1}, settle_flags)
                                                                     (signed by the oracle key)
    batch     = Poseidon(TAG_BATCH=10, domain, number, commitment)
                        (signed by the operator key: only the operator submits batches, and
                         each batch number once; commitment as in ``protocol.pubdata``)

Orders: ``instrument`` is a perpetual market m < 256 or 256 + an option series id (ids are never
reused, so an order can never execute in a later series listed in the same slot); ``side`` is
0 = buy, 1 = sell; ``max_fee`` is the most the signer pays for the whole size
(a partial fill of q pays at most ``max_fee · q / size``); the order executes while the last
oracle time ≤ ``expiry``; ``order_id`` identifies it among the account's fill records. Forced
requests and escapes are checked by the settlement layer only. The ``*_preimage`` functions give
the hash inputs; they build lists, so the circuit calls them on its own variables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from protocol.poseidon import poseidon_hash, poseidon_sponge
from protocol.spec import (
    RATE_OFFSET,
    TAG_BATCH,
    TAG_DOMAIN,
    TAG_ESCAPE,
    TAG_FORCED,
    TAG_LIST,
    TAG_MARKS,
    TAG_ORACLE,
    TAG_ORDER,
    TAG_TRANSFER,
    TAG_WITHDRAW,
    TIME_BITS,
    check_domain_ids,
)


def domain(chain_id: int, rollup_id: int) -> int:
    """Poseidon(TAG_DOMAIN, chain_id, rollup_id): the domain of one deployment."""
    return poseidon_hash([TAG_DOMAIN, *check_domain_ids(chain_id, rollup_id)])


def order_preimage(
    domain: Any, account: Any, instrument: Any, side: Any, size: Any, limit_price: Any,
    max_fee: Any, order_id: Any, expiry: Any,
) -> list:  # fmt: skip
    return [TAG_ORDER, domain, account, instrument, side, size, limit_price, max_fee, order_id,
            expiry]  # fmt: skip


def withdraw_preimage(domain: Any, account: Any, amount: Any, l1_address: Any, nonce: Any) -> list:
    return [TAG_WITHDRAW, domain, account, amount, l1_address, nonce]


def transfer_preimage(domain: Any, sender: Any, recipient: Any, amount: Any, nonce: Any) -> list:
    return [TAG_TRANSFER, domain, sender, recipient, amount, nonce]


def oracle_preimage(
    domain: Any, previous: Any, timestamp: Any, prices: Sequence[Any], rates: Sequence[Any]
) -> list:
    """``previous``: the oracle time of the update this one follows (the genesis time for the
    first), so the oracle's updates form a chain the operator must apply in order, skipping
    none; it shares one element with ``timestamp`` (``previous·2^40 + timestamp``: both are
    times below 2^40, checked where the update applies, so the packing is one-to-one there).
    Rates enter in offset binary (``rate + 2^32``), so every element is non-negative."""
    times = previous * (1 << TIME_BITS) + timestamp
    return [TAG_ORACLE, domain, times, *prices, *(x + RATE_OFFSET for x in rates)]


def forced_preimage(
    domain: int, account: int, l1_address: int, request_nonce: int, expiry: int
) -> list[int]:
    return [TAG_FORCED, domain, account, l1_address, request_nonce, expiry]


def escape_preimage(domain: int, account: int, l1_address: int) -> list[int]:
    return [TAG_ESCAPE, domain, account, l1_address]


def list_preimage(
    domain: Any, slot: Any, series_id: Any, market: Any, expiry: Any, strike: Any, kind: Any
) -> list:
    return [TAG_LIST, domain, slot, series_id, market, expiry, strike, kind]


def marks_preimage(domain: Any, timestamp: Any, marks: Sequence[Any], settle_flags: Any) -> list:
    """``settle_flags``: bit j set ⇒ mark j is series j's settlement price."""
    return [TAG_MARKS, domain, timestamp, *marks, settle_flags]


def batch_preimage(domain: Any, number: Any, commitment: Any) -> list:
    """What the operator signs to submit batch ``number`` with that pubdata commitment: the
    settlement layer takes batches from the operator only, each number once."""
    return [TAG_BATCH, domain, number, commitment]


def message(preimage: Sequence[int]) -> int:
    """The signed message of a fixed-length preimage: Poseidon(preimage) (reference hash)."""
    return poseidon_hash(preimage)


def oracle_message(preimage: Sequence[int]) -> int:
    """The oracle's signed message: poseidon_sponge(preimage) (any number of markets)."""
    return poseidon_sponge(preimage)
