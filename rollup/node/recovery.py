"""Restoring a lost or damaged ``sequencer.db`` from the settlement layer's published data alone.

``rebuild`` (``rollup.rebuild``) replays every batch the settlement layer accepted — its pubdata
is enough to recompute every account — and must arrive at the settled root. ``restore`` then
writes a new store holding that state as the state after the last settled batch, with the number
of priority requests those batches consumed, so the sequencer seals the next batch on top of the
settled root and the settlement layer accepts it.

What is not on L1 is not recovered: batches sealed but not settled and the mempool of the lost
store (their signers re-submit; nonces follow the settled state). A damaged store is never
deleted: it is moved aside as ``sequencer.db.damaged-<unix time>`` (with its ``-wal``/``-shm``
files, so SQLite never applies a stale log to the new file). The new store is written under a
temporary name, closed (checkpointed), fsynced and renamed into place, so a crash during the
restore leaves either no store (restore again) or the whole new one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from protocol.pubdata import l1_effects
from rollup.errors import RebuildError
from rollup.node.errors import NodeError
from rollup.node.files import DirectoryLock, fsync_dir
from rollup.node.l1 import open_settlement
from rollup.node.meta import read_meta
from rollup.rebuild import rebuild
from rollup.store import Store

__all__ = ["Restored", "rebuild_or_restore", "restore"]

SEQUENCER = "sequencer.db"


@dataclass(frozen=True)
class Restored:
    """What ``restore`` did."""

    batches: int  #: settled batches replayed; the sequencer seals this number next
    accounts: int
    root: int  #: the settled root the new store starts from
    moved_aside: Path | None  #: where the damaged store went (None: there was none)


def restore(path: str | Path, clock=time.time, force: bool = False) -> Restored:
    """Write ``path``/sequencer.db from L1 data. Refused while the current store opens cleanly,
    unless ``force`` (which moves it aside too: its unsettled batches are not on L1)."""
    path = Path(path)
    meta = read_meta(path)
    with DirectoryLock(path, "zkr rebuild"):
        target = path / SEQUENCER
        if not force and _healthy(target):
            raise NodeError(
                detail=f"{target} is intact: nothing to restore (--force replaces it with the "
                "settled state, dropping its unsettled batches and mempool)"
            )
        l1 = open_settlement(path, meta.settlement_config, clock)
        try:
            published = l1.published_batches()
            try:
                state = rebuild(
                    meta.params, meta.genesis, published, meta.settlement_config.genesis_root
                )
            except RebuildError as e:
                raise NodeError(detail=f"cannot restore from L1: {e}") from None
            if state.root != l1.root:
                raise NodeError(detail="cannot restore from L1: the replay does not reach its root")
            consumed = sum(
                len(l1_effects(p, meta.params.batch_slots, meta.params.n_markets).requests)
                for _, p, _ in published
            )
        finally:
            l1.close()
        aside = _move_aside(target)
        tmp = path / f".{SEQUENCER}.restoring"
        for stale in (tmp, _side(tmp, "-wal"), _side(tmp, "-shm")):
            stale.unlink(missing_ok=True)
        store = Store.restore(
            tmp, state, meta.genesis, head=len(published), priority_consumed=consumed
        )
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        for side in ("-wal", "-shm"):
            _side(tmp, side).unlink(missing_ok=True)
        os.rename(tmp, target)
        fsync_dir(path)
    return Restored(len(published), len(state.accounts), state.root, aside)


def _healthy(target: Path) -> bool:
    """Whether the store at ``target`` opens and reads back whole (any failure: it does not)."""
    try:
        store = Store(target)
    except Exception:
        return False
    try:
        store.load_state()
        store.mempool()
        store.batches()
        return True
    except Exception:
        return False
    finally:
        store.close()


def _diverged(path: Path, clock) -> bool:
    """The (readable) store lacks batches the settlement layer accepted, or holds another root
    for the last of them (``facade.check_against_settlement``): a store put back from a backup."""
    from rollup.node.errors import CorruptFile
    from rollup.node.facade import check_against_settlement

    l1 = open_settlement(path, read_meta(path).settlement_config, clock)
    store = Store(path / SEQUENCER)
    try:
        check_against_settlement(path, store, l1)
        return False
    except CorruptFile:
        return True
    finally:
        store.close()
        l1.close()


def rebuild_or_restore(path: str | Path, clock=time.time, force: bool = False) -> dict:
    """``zkr rebuild``: restore the store when it is lost, damaged or behind the settlement
    layer (or ``force``); otherwise check that the settled state rebuilt from L1 alone reaches
    the settled root. Returns {"restored": bool, "batches", "accounts", "root", "moved_aside"}."""
    path = Path(path)
    read_meta(path)
    healthy = _healthy(path / SEQUENCER)
    behind = healthy and not force and _diverged(path, clock)  # moved aside like a forced one
    if force or not healthy or behind:
        r = restore(path, clock, force=force or behind)
        aside = None if r.moved_aside is None else str(r.moved_aside)
        return {"restored": True, "batches": r.batches, "accounts": r.accounts,
                "root": str(r.root), "moved_aside": aside}  # fmt: skip
    from rollup.node.facade import Rollup

    with Rollup(path, clock, lock=False) as node:
        state = node.rebuild()
        batches = node.l1.batch_count
    return {"restored": False, "batches": batches, "accounts": len(state.accounts),
            "root": str(state.root), "moved_aside": None}  # fmt: skip


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _move_aside(target: Path) -> Path | None:
    """Rename the store and its WAL/SHM files to ``.damaged-<time>`` names; the new main name."""
    if not any(_side(target, s).exists() for s in ("", "-wal", "-shm")):
        return None
    stamp = int(time.time())
    aside = target.with_name(f"{target.name}.damaged-{stamp}")
    n = 0
    while any(_side(aside, s).exists() for s in ("", "-wal", "-shm")):
        n += 1
        aside = target.with_name(f"{target.name}.damaged-{stamp}.{n}")
    for suffix in ("", "-wal", "-shm"):
        if _side(target, suffix).exists():
            os.rename(_side(target, suffix), _side(aside, suffix))
    fsync_dir(target.parent)
    return aside
