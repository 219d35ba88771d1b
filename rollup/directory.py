"""The files of one rollup directory, as ``rollup.node.Rollup`` reads and writes them.

Layout (DESIGN §7: SQLite, WAL, one file per component)::

    rollup.json       shape (params), settlement config, key directory
    sequencer.db      rollup.store.Store (tree, accounts, mempool, batches, proofs)
    settlement.db     verifier.settlement.Settlement (vault, root, queue, published pubdata)
    keystore.json     DEVELOPMENT keystore, UNENCRYPTED: account keys and the oracle key
    orders.json       resting signed orders (matched into trades by ``Rollup.order``)
    keys/<digest>/    proving key per circuit shape (rollup.proving), unless keys_root is given

The JSON files hold every integer as a decimal string, so 254-bit field elements stay exact for
every reader. Private keys are 32-byte EdDSA-Poseidon keys (BabyJubJub, circomlib
``eddsaposeidon``) drawn from a caller's ``random.Random`` (tests) or from ``secrets`` (the OS).
An exported batch is snarkjs's trio ``verification_key.json``, ``proof.json``, ``public.json``
with the public signals (old_root, new_root, commitment).
"""

from __future__ import annotations

import json
import random
import secrets
from pathlib import Path
from typing import Any

from protocol.spec import RollupParams
from rollup.account import GlobalState
from rollup.errors import RollupError
from rollup.store import params_to_list
from rollup.tx import SignedOrder
from verifier.settlement import SettlementConfig

KEYSTORE_NOTE = "development keystore, unencrypted: never use these keys for real funds"


class NodeError(RollupError):
    """A node-level refusal (missing directory, unknown key, nothing to do)."""


# -- rollup.json ---------------------------------------------------------------------------------
def read_meta(path: Path) -> dict[str, Any]:
    """The parsed ``rollup.json`` of ``path``; NodeError if ``path`` is not a rollup directory."""
    meta_file = path / "rollup.json"
    if not meta_file.exists():
        raise NodeError(detail=f"{path} is not a rollup directory (run 'zkr init')")
    return json.loads(meta_file.read_text())


def write_meta(path: Path, params: RollupParams, settlement: dict[str, Any], keydir: Path) -> None:
    """Write ``rollup.json``, the last file ``Rollup.init`` writes: it marks a whole directory."""
    meta = {
        "params": params_to_list(params),
        "settlement": settlement,
        "keydir": str(Path(keydir).resolve()),
    }
    (path / "rollup.json").write_text(json.dumps(meta, indent=1))


def settlement_record(
    params: RollupParams,
    genesis_root: int,
    genesis: GlobalState,
    max_pending_batches: int,
    max_pending_seconds: int,
) -> dict[str, Any]:
    """The settlement config as recorded in rollup.json (integers as strings)."""
    return {
        "depth": params.depth,
        "batch_slots": params.batch_slots,
        "genesis_root": str(genesis_root),
        "genesis_global": strs(genesis.to_list()),
        "max_pending_batches": max_pending_batches,
        "max_pending_seconds": max_pending_seconds,
    }


def settlement_config(c: dict[str, Any]) -> SettlementConfig:
    """The settlement config recorded in rollup.json."""
    return SettlementConfig(c["depth"], c["batch_slots"], int(c["genesis_root"]),
                            tuple(ints(c["genesis_global"])), c["max_pending_batches"],
                            c["max_pending_seconds"])  # fmt: skip


def refuse(public: tuple[int, int, int], proof: Any) -> bool:
    """The proof checker of the settlement layer opened only to be created: accepts nothing."""
    return False


# -- keystore.json, orders.json ------------------------------------------------------------------
def new_keystore(oracle_key: bytes) -> dict[str, Any]:
    """A labelled keystore holding the oracle key and no account yet."""
    return {"note": KEYSTORE_NOTE, "oracle": oracle_key.hex(), "accounts": {}}


def load_keystore(path: Path) -> dict[str, Any]:
    return json.loads((path / "keystore.json").read_text())


def save_keystore(path: Path, store: dict[str, Any]) -> None:
    (path / "keystore.json").write_text(json.dumps(store, indent=1))


def load_orders(path: Path) -> list[SignedOrder]:
    data = json.loads((path / "orders.json").read_text())
    return [SignedOrder.from_list(ints(o)) for o in data]


def save_orders(path: Path, orders: list[SignedOrder]) -> None:
    (path / "orders.json").write_text(json.dumps([strs(o.to_list()) for o in orders]))


def new_key(rng: random.Random | None) -> bytes:
    """A 32-byte EdDSA private key from ``rng`` (tests) or the OS (``secrets``)."""
    return rng.randbytes(32) if rng is not None else secrets.token_bytes(32)


class RandBelow:
    """``randbelow`` (what prover.setup draws toxic waste from) over a ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def randbelow(self, n: int) -> int:
        return self.rng.randrange(n)


# -- exported batches ----------------------------------------------------------------------------
def write_export(
    out: str | Path, verifying_key: Any, proof: Any, public: tuple[int, int, int]
) -> list[Path]:
    """Write verification_key.json, proof.json, public.json (snarkjs) into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "verification_key.json": verifying_key,
        "proof.json": proof,
        "public.json": [str(v) for v in public],
    }
    for name, obj in files.items():
        (out / name).write_text(json.dumps(obj, indent=1))
    return [out / name for name in files]


# -- JSON integers -------------------------------------------------------------------------------
def strs(obj: Any) -> Any:
    """Integers as decimal strings (JSON keeps 254-bit values exact for every reader)."""
    if isinstance(obj, (list, tuple)):
        return [strs(v) for v in obj]
    return str(obj) if isinstance(obj, int) else obj


def ints(obj: Any) -> Any:
    """The inverse of ``strs`` on lists: decimal strings back to integers."""
    if isinstance(obj, list):
        return [ints(v) for v in obj]
    return int(obj) if isinstance(obj, str) else obj
