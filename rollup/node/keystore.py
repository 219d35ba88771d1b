"""The DEVELOPMENT keystore (``keystore.json``, UNENCRYPTED): account keys, the oracle key (prices,
funding rates, option marks) and the operator key (option series listings).

Private keys are 32-byte EdDSA-Poseidon keys (BabyJubJub, circomlib ``eddsaposeidon``) drawn from a
caller's ``random.Random`` (tests) or from ``secrets`` (the OS). The file is a checksummed envelope
(``rollup.node.files``), mode 0600, rewritten atomically on every change — so a process killed
while adding an account leaves the keystore as it was before or after, never empty. The body::

    {"note": "...unencrypted...", "oracle": "<hex>", "operator": "<hex>",
     "accounts": {"<index>": {"private_key": "<hex>", "public_key": ["<x>", "<y>"]}}}

Keys cannot be recovered from L1: losing this file loses control of the accounts, so it is only
ever replaced whole, never truncated in place.
"""

from __future__ import annotations

import random
import secrets
from pathlib import Path
from typing import Any

from protocol.eddsa import derive_public_key
from rollup.node.errors import CorruptFile, NodeError
from rollup.node.files import read_envelope, strs, write_envelope

__all__ = ["KEYSTORE_NOTE", "Keystore", "RandBelow", "new_key"]

KEYSTORE_NOTE = "development keystore, unencrypted: never use these keys for real funds"
FILE = "keystore.json"
RECOVER = "restore keystore.json from a backup (account keys cannot be recovered from L1)"


def new_key(rng: random.Random | None) -> bytes:
    """A 32-byte EdDSA private key from ``rng`` (tests) or the OS (``secrets``)."""
    return rng.randbytes(32) if rng is not None else secrets.token_bytes(32)


class RandBelow:
    """``randbelow`` (what prover.setup draws toxic waste from) over a ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def randbelow(self, n: int) -> int:
        return self.rng.randrange(n)


class Keystore:
    """``keystore.json`` of one rollup directory; every read checks the file again."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / FILE

    @classmethod
    def create(cls, directory: str | Path, oracle_key: bytes, operator_key: bytes) -> Keystore:
        """A labelled keystore holding the oracle and operator keys and no account yet."""
        store = cls(directory)
        body = {"note": KEYSTORE_NOTE, "oracle": oracle_key.hex(),
                "operator": operator_key.hex(), "accounts": {}}  # fmt: skip
        store._save(body)
        return store

    def _load(self) -> dict[str, Any]:
        body = read_envelope(self.path, "keystore", RECOVER)
        if not (
            isinstance(body, dict)
            and isinstance(body.get("oracle"), str)
            and isinstance(body.get("operator"), str)
            and isinstance(body.get("accounts"), dict)
        ):
            raise CorruptFile(path=self.path, detail=f"not a keystore; {RECOVER}")
        return body

    def _save(self, body: dict[str, Any]) -> None:
        write_envelope(self.path, "keystore", body, mode=0o600)

    def _key(self, hex_key: str, what: str) -> bytes:
        try:
            key = bytes.fromhex(hex_key)
        except (TypeError, ValueError):
            key = b""
        if len(key) != 32:
            raise CorruptFile(path=self.path, detail=f"{what}: not a 32-byte key; {RECOVER}")
        return key

    def oracle_key(self) -> bytes:
        return self._key(self._load()["oracle"], "oracle key")

    def operator_key(self) -> bytes:
        return self._key(self._load()["operator"], "operator key")

    def key(self, account: int) -> bytes:
        """The private key of ``account``; NodeError if the keystore has none."""
        entry = self._load()["accounts"].get(str(account))
        if entry is None:
            raise NodeError(detail=f"no key for account {account} in the keystore")
        return self._key(entry.get("private_key"), f"account {account}")

    def accounts(self) -> list[int]:
        return sorted(int(k) for k in self._load()["accounts"])

    def add(self, capacity: int, rng: random.Random | None = None) -> tuple[int, tuple[int, int]]:
        """A fresh key pair under the next free index (< ``capacity``): (index, public key).
        The caller holds the directory lock, so two processes never pick the same index."""
        body = self._load()
        index = len(body["accounts"])
        while str(index) in body["accounts"]:
            index += 1
        if index >= capacity:
            raise NodeError(detail=f"the accounts tree is full ({capacity} accounts)")
        key = new_key(rng)
        pk = derive_public_key(key)
        body["accounts"][str(index)] = {"private_key": key.hex(), "public_key": strs(list(pk))}
        self._save(body)
        return index, pk
