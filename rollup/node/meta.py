"""``rollup.json``: what a rollup directory is — its shape, settlement config and key directory.

``init`` writes it last, so its presence marks a complete directory; a directory without it is not
a rollup (``zkr init`` creates one). The body (in the checksummed envelope of
``rollup.node.files``)::

    {"params": [depth, batch_slots, [[name, base_decimals, initial, maintenance, max_rate,
                                      band, penalty, option fractions], ...]],
     "settlement": {"depth", "batch_slots", "genesis_root", "genesis_global", "chain_id",
                    "rollup_id", "max_pending_batches", "max_pending_seconds", "priority_fee",
                    "operator_address"},
     "keydir": "keys/<digest>"}   (relative to the directory when inside it, else absolute)

Integers that may exceed 2^53 (roots, global-state preimage, rollup id, operator address,
priority fee) are decimal strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol.spec import RollupParams
from rollup.account import GlobalState
from rollup.node.errors import CorruptFile, NotARollup
from rollup.node.files import ints, read_envelope, strs, write_envelope
from rollup.store import params_from_list, params_to_list
from verifier.settlement import SettlementConfig, SettlementError

__all__ = ["Meta", "read_meta", "settlement_config", "settlement_record", "write_meta"]

META = "rollup.json"
RECOVER = "restore rollup.json from a backup (it cannot be recomputed)"


@dataclass(frozen=True)
class Meta:
    """The parsed ``rollup.json``."""

    params: RollupParams
    settlement: dict[str, Any]  #: as recorded (integers as strings)
    keydir: Path  #: resolved against the rollup directory

    @property
    def settlement_config(self) -> SettlementConfig:
        return settlement_config(self.settlement)

    @property
    def genesis(self) -> GlobalState:
        return GlobalState.from_list(ints(self.settlement["genesis_global"]))


def read_meta(path: Path) -> Meta:
    """The ``rollup.json`` of ``path``: ``NotARollup`` if ``path`` is not a rollup directory,
    ``CorruptFile`` if the file is damaged or does not describe a rollup."""
    meta_file = Path(path) / META
    if not meta_file.exists():
        raise NotARollup(detail=f"{path} is not a rollup directory (run 'zkr init')")
    body = read_envelope(meta_file, "rollup", RECOVER)
    try:
        keydir = Path(path) / body["keydir"]  # an absolute keydir stays absolute
        meta = Meta(params_from_list(body["params"]), dict(body["settlement"]), keydir)
        meta.settlement_config  # noqa: B018  (parses every field once)
        meta.genesis  # noqa: B018
    except (KeyError, TypeError, ValueError, IndexError, SettlementError) as e:
        raise CorruptFile(
            path=meta_file, detail=f"does not describe a rollup ({e}); {RECOVER}"
        ) from None
    return meta


def write_meta(path: Path, params: RollupParams, settlement: dict[str, Any], keydir: Path) -> None:
    """Write ``rollup.json`` (atomically), the last file ``init`` writes; a key directory inside
    ``path`` is recorded relative to it, so the rollup directory can be moved or copied whole."""
    keydir, path = Path(keydir).resolve(), Path(path).resolve()
    inside = keydir.is_relative_to(path)
    body = {
        "params": params_to_list(params),
        "settlement": settlement,
        "keydir": str(keydir.relative_to(path) if inside else keydir),
    }
    write_envelope(Path(path) / META, "rollup", body)


def settlement_config(c: dict[str, Any]) -> SettlementConfig:
    """The ``SettlementConfig`` of a settlement record (as ``settlement_record`` writes it)."""
    return SettlementConfig(
        c["depth"],
        c["batch_slots"],
        int(c["genesis_root"]),
        tuple(ints(c["genesis_global"])),
        int(c["chain_id"]),
        int(c["rollup_id"]),
        c["max_pending_batches"],
        c["max_pending_seconds"],
        int(c["priority_fee"]),
        int(c["operator_address"]),
    )


def settlement_record(config: SettlementConfig) -> dict[str, Any]:
    """The settlement config as recorded in rollup.json (large integers as strings)."""
    return {
        "depth": config.depth,
        "batch_slots": config.batch_slots,
        "genesis_root": str(config.genesis_root),
        "genesis_global": strs(list(config.genesis_global)),
        "chain_id": str(config.chain_id),
        "rollup_id": str(config.rollup_id),
        "max_pending_batches": config.max_pending_batches,
        "max_pending_seconds": config.max_pending_seconds,
        "priority_fee": str(config.priority_fee),
        "operator_address": str(config.operator_address),
    }
