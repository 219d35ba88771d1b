"""Genesis of a rollup directory (``zkr init``): markets, oracle key, proving key of the shape,
sequencer store, settlement layer, keystore, order book and — last — ``rollup.json``.

Everything is built in a temporary sibling directory that is renamed into place at the end, so an
interrupted init leaves nothing behind (and never a directory that looks like a rollup but is
not one). The proving key comes from the INSECURE single-party setup of ``rollup.node.pipeline``,
cached per circuit shape.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from protocol.eddsa import derive_public_key
from protocol.spec import DEFAULT_MARKETS, RollupParams
from rollup.account import GlobalState
from rollup.circuit_input import shape_of
from rollup.node.errors import NodeError
from rollup.node.files import fsync_dir
from rollup.node.keystore import Keystore, RandBelow, new_key
from rollup.node.l1 import open_settlement
from rollup.node.meta import settlement_config, settlement_record, write_meta
from rollup.node.orders import OrderBook
from rollup.node.pipeline import setup_shape, verifying_key_json
from rollup.node.units import genesis_prices
from rollup.sequencer import Sequencer

__all__ = ["create"]

Progress = Callable[[str, int, int], None]
SEQUENCER = "sequencer.db"


def create(
    path: str | Path,
    depth: int = 8,
    batch_slots: int = 2,
    n_markets: int = 2,
    prices: tuple[int, ...] | None = None,
    keys_root: str | Path | None = None,
    max_pending_batches: int = 8,
    max_pending_seconds: int = 86_400,
    rng: random.Random | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.time,
) -> Path:
    """Create the rollup directory ``path`` (missing or empty); returns it.

    ``prices`` are value units per base quantum (default: ``units.DEFAULT_PRICES_USD``);
    ``rng`` draws the keys and the setup's toxic waste (tests), else the OS does.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise NodeError(detail=f"{path} already exists and is not empty")
    if not 1 <= n_markets <= len(DEFAULT_MARKETS):
        raise NodeError(detail=f"n_markets must be in 1..{len(DEFAULT_MARKETS)}")
    try:
        params = RollupParams(depth, batch_slots, DEFAULT_MARKETS[:n_markets])
    except ValueError as e:
        raise NodeError(detail=str(e)) from None
    if prices is None:
        prices = genesis_prices(n_markets)
    if len(prices) != n_markets or min(prices) <= 0:
        raise NodeError(detail=f"need {n_markets} positive genesis prices")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.init-", dir=path.parent))
    try:
        _genesis(tmp, params, prices, keys_root, max_pending_batches,
                 max_pending_seconds, rng, progress, clock)  # fmt: skip
        if path.exists():
            path.rmdir()  # empty: checked above
        os.rename(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _genesis(
    tmp: Path, params: RollupParams, prices: tuple[int, ...], keys_root: str | Path | None,
    max_pending_batches: int, max_pending_seconds: int, rng: random.Random | None,
    progress: Progress | None, clock: Callable[[], float],
) -> None:  # fmt: skip
    oracle_key = new_key(rng)
    genesis = GlobalState.genesis(params, derive_public_key(oracle_key), tuple(prices))
    setup_rng = None if rng is None else RandBelow(rng)
    root = Path(keys_root) if keys_root is not None else tmp / "keys"
    keydir = setup_shape(shape_of(params), root, setup_rng, progress)
    seq = Sequencer.open(str(tmp / SEQUENCER), params, genesis)
    settlement = settlement_record(
        params, seq.state.root, genesis, max_pending_batches, max_pending_seconds
    )
    seq.store.close()
    Keystore.create(tmp, oracle_key)
    OrderBook.create(tmp)
    vk = verifying_key_json(keydir)
    open_settlement(tmp, settlement_config(settlement), clock, create_with_key=vk).close()
    write_meta(tmp, params, settlement, keydir)
