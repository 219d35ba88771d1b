"""Opening one rollup account against the verified state root, as escapes and forced requests do.

An account is opened by its list-form preimage, its Merkle path and the global-state preimage
(layouts: ``protocol.leaf``)::

    state_root = Poseidon(merkle_path_root(leaf_hash(account), index, siblings), global_hash)

Everything a user hands in is checked canonical first (``protocol.leaf.check_account`` /
``check_global``: each integer within its protocol width, coordinates < r), so no preimage can
hash equal to a valid one by wrapping mod r and then be paid at its unreduced value. The request
is authorised by the leaf's key signing the ``protocol.messages`` preimage of the request
(EdDSA-Poseidon, circomlib).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from protocol import leaf
from protocol.eddsa import Signature, verify
from protocol.errors import ProtocolError
from protocol.poseidon import merkle_path_root, poseidon_hash
from protocol.spec import L1_ADDRESS_BITS

__all__ = ["open_account"]


def open_account(
    error: type[Exception],
    depth: int,
    n_markets: int,
    root: int,
    index: int,
    l1_address: int,
    what: str,
    signed_preimage: list[int],
    signature: Signature,
    preimage: Sequence[Any],
    siblings: Sequence[int],
    global_state: Sequence[Any],
) -> tuple[list, list]:
    """The canonical (account, global state) list forms if they open ``root`` at ``index`` and
    the account's key signed ``Poseidon(signed_preimage)`` (a ``what`` request); else ``error``
    with the precise reason."""
    if not isinstance(l1_address, int) or not 0 <= l1_address < 1 << L1_ADDRESS_BITS:
        raise error(f"L1 address {l1_address!r} is not a 160-bit integer")
    if not isinstance(index, int) or not 0 <= index < 1 << depth:
        raise error(f"account {index!r} is outside the tree of depth {depth}")
    if not isinstance(siblings, (list, tuple)) or len(siblings) != depth:
        raise error(f"Merkle path must have {depth} siblings")
    if not isinstance(signature, Signature):
        raise error(f"the {what} signature must be a Signature, got {type(signature).__name__}")
    try:
        account = leaf.check_account(preimage, n_markets)
        state = leaf.check_global(global_state, n_markets)
        accounts_root = merkle_path_root(leaf.leaf_hash(account), index, list(siblings))
    except (ProtocolError, ValueError) as e:
        raise error(f"account {index}: {e}") from None
    if leaf.state_root(accounts_root, leaf.global_hash(state)) != root:
        raise error(f"account {index}: leaf and path do not match the verified root")
    pk = (account[0], account[1])
    if pk == (0, 0) or not verify(pk, poseidon_hash(signed_preimage), signature):
        raise error(f"account {index}: bad {what} signature")
    return account, state
