"""The node's handle on the settlement layer (``verifier.settlement.Settlement``, the L1 contract).

The node calls only the contract's public API. This module adds what belongs to operating it from
a rollup directory, not to the contract:

- ``open_settlement`` opens ``settlement.db`` only if it exists (creating one is ``init``'s job:
  a lost file is an error, never a fresh contract with an empty vault), with the Groth16 checker
  of the stored verifying key (``verifier.checker``, built on first use);
- ``Layer1`` forwards every call and turns SQLite's errors (a truncated or overwritten file) and
  the contract's unreadable state (a failed checksum met by a reading method, ``READS``) into
  ``CorruptFile`` naming ``settlement.db`` — one line, not a traceback.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rollup.node.errors import CorruptFile
from verifier.checker import groth16_checker
from verifier.l1_store import NO_CONVERSION
from verifier.settlement import (
    Settlement,
    SettlementConfig,
    SettlementError,
    SettlementStoreError,
)

__all__ = ["Layer1", "default_address", "open_settlement"]

FILE = "settlement.db"
RECOVER = (
    "restore settlement.db from a backup (it stands for the L1 contract, whose state lives on "
    "the settlement chain in production)"
)
OTHER_FORMAT = "run it with the zkrollup that made it, or start a new rollup with 'zkr init'"
_READ_ERRORS = (sqlite3.DatabaseError, KeyError, TypeError, ValueError, SettlementStoreError)


def default_address(pubkey: tuple[int, int]) -> int:
    """An account's default L1 address: its public key's x mod 2^160."""
    return pubkey[0] % (1 << 160)


def _refuse(public: tuple[int, int, int], proof: Any) -> bool:
    """The checker of a contract opened only to be created: accepts nothing."""
    return False


class Layer1:
    """A ``Settlement`` whose storage errors are ``CorruptFile`` (see the module docstring)."""

    def __init__(self, settlement: Settlement, path: Path) -> None:
        self._settlement = settlement
        self._path = path

    def __getattr__(self, name: str) -> Any:
        try:
            value = getattr(self._settlement, name)
        except _READ_ERRORS as e:
            raise CorruptFile(path=self._path, detail=f"unreadable ({e}); {RECOVER}") from None
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return value(*args, **kwargs)
            except (sqlite3.DatabaseError, SettlementStoreError) as e:
                raise CorruptFile(path=self._path, detail=f"{e}; {RECOVER}") from None

        return call

    @property
    def settlement(self) -> Settlement:
        """The contract object itself."""
        return self._settlement


def open_settlement(
    directory: Path,
    config: SettlementConfig,
    clock: Callable[[], float],
    create_with_key: dict[str, Any] | None = None,
) -> Layer1:
    """The contract of ``directory``; ``create_with_key`` (init only) creates it holding that
    verifying key. CorruptFile if it is missing, empty or unreadable."""
    path = Path(directory) / FILE
    if create_with_key is None:
        if not path.exists():
            raise CorruptFile(path=path, detail=f"missing; {RECOVER}")
        if path.stat().st_size == 0 and not path.with_name(FILE + "-wal").exists():
            raise CorruptFile(path=path, detail=f"empty; {RECOVER}")
        holder: dict[str, Any] = {}

        def check(public: tuple[int, int, int], proof: Any) -> bool:
            if "check" not in holder:
                holder["check"] = groth16_checker(settlement.verifying_key)
            return holder["check"](public, proof)

        checker: Callable[[tuple[int, int, int], Any], bool] = check
    else:
        checker = _refuse
    try:
        if create_with_key is None:
            settlement = Settlement(config, checker, path, clock)
        else:
            settlement = Settlement(config, checker, path, clock, create_with_key, create=True)
    except (SettlementError, *_READ_ERRORS) as e:
        if NO_CONVERSION in str(e):  # made by another zkrollup version, not damaged
            said = str(e).removeprefix(f"{path} ")
            raise CorruptFile(path=path, detail=f"{said}; {OTHER_FORMAT}") from None
        raise CorruptFile(path=path, detail=f"unreadable ({e}); {RECOVER}") from None
    return Layer1(settlement, path)
