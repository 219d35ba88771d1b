"""The settlement layer's view of one rollup account: leaf and global-state hashes, total value,
and the check that an account preimage and its Merkle path open the verified state root.

Layouts as ``rollup.account`` (DESIGN §3), restated so that ``verifier`` imports only circuits'
native primitives (no numba, no rollup)::

    leaf        = Poseidon(x, y, nonce, collateral, Poseidon(size_0, f_0, ..., size_{M-1}, f_{M-1}))
    global_hash = Poseidon(Poseidon(price_m, F_m, init_m, maint_m, max_rate_m) for each m,
                           oracle_x, oracle_y, oracle_time, funding_time, fee_pool)
    state_root  = Poseidon(merkle_path_root(leaf, account, siblings), global_hash)
    TV          = collateral + Σ_m size_m · (price_m − (F_m − f_m))       (value units)

Signed integers enter hashes mod r.  An escape or forced withdrawal is authorised by the leaf's
key signing Poseidon(tag, account, l1_address) (EdDSA-Poseidon, circomlib; DESIGN §6).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.primitives.eddsa import Signature, verify
from circuits.primitives.poseidon import merkle_path_root, poseidon_hash

R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
ADDRESS_LIMIT = 1 << 160

__all__ = ["ADDRESS_LIMIT", "R", "account_total_value", "check_account", "global_hash", "leaf_hash"]


def _signed(x: int) -> int:
    return x % R


def leaf_hash(account: Sequence) -> int:
    """Poseidon(x, y, nonce, collateral, Poseidon(size_0, f_0, ...)) — ``rollup.account`` layout."""
    x, y, nonce, collateral, *positions = account
    flat = [_signed(v) for p in positions for v in p]
    return poseidon_hash([x, y, nonce, _signed(collateral), poseidon_hash(flat)])


def global_hash(state: Sequence) -> int:
    """Poseidon(market hashes..., oracle x, oracle y, oracle time, funding time, fee pool)."""
    markets, px, py, t_oracle, t_funding, fee_pool = state
    hashes = [poseidon_hash([m[0], _signed(m[1]), m[2], m[3], m[4]]) for m in markets]
    return poseidon_hash([*hashes, px, py, t_oracle, t_funding, fee_pool])


def account_total_value(account: Sequence, state: Sequence) -> int:
    """TV = collateral + Σ size · (price − (F − f)), value units."""
    collateral, positions = account[3], account[4:]
    return collateral + sum(
        s * (m[0] - (m[1] - f)) for (s, f), m in zip(positions, state[0], strict=True)
    )


def check_account(
    error: type[Exception], depth: int, root: int, tag: int, what: str, account: int,
    l1_address: int, signature: Signature, preimage: Sequence, siblings: Sequence[int],
    global_state: Sequence,
) -> None:  # fmt: skip
    """Preimage + path + global preimage hash to ``root``, and the leaf's key signed
    Poseidon(tag, account, l1_address); else raise ``error`` with the precise reason."""
    if not 0 <= l1_address < ADDRESS_LIMIT:
        raise error(f"L1 address {l1_address} is not a 160-bit integer")
    if len(siblings) != depth or not 0 <= account < 1 << depth:
        raise error(f"Merkle path must have {depth} siblings")
    accounts_root = merkle_path_root(leaf_hash(preimage), account, list(siblings))
    if poseidon_hash([accounts_root, global_hash(global_state)]) != root:
        raise error(f"account {account}: leaf and path do not match the verified root")
    pk, message = (preimage[0], preimage[1]), poseidon_hash([tag, account, l1_address])
    if pk == (0, 0) or not verify(pk, message, signature):
        raise error(f"account {account}: bad {what} signature")
