"""Genesis of a rollup directory (``zkr init``): markets, domain, oracle and operator keys, proving
key of the shape, sequencer store, settlement layer, keystore, order book, oracle log and — last —
``rollup.json``.

Every genesis parameter is checked before anything is made, each refusal one line
(``InvalidArgument``: malformed input, exit code 2):
the shape (D, B, M), the genesis prices, the domain — ``chain_id`` (default ``DEFAULT_CHAIN_ID``)
and ``rollup_id`` (default: 160 random bits from ``rng``, else the OS) —, the settlement config
(N, T, the priority fee in quanta, the operator's L1 address: default its key's). The genesis
oracle time, which is also the genesis funding time, is the clock's time at init.

Everything is built in a temporary sibling directory that is renamed into place at the end, so an
interrupted init leaves nothing behind (and never a directory that looks like a rollup but is
not one). The proving key comes from the INSECURE single-party setup of ``rollup.node.pipeline``,
cached per circuit shape.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from protocol import messages
from protocol.eddsa import derive_public_key
from protocol.spec import DEFAULT_MARKETS, ROLLUP_ID_BITS, RollupParams
from rollup.account import GlobalState
from rollup.node import pipeline
from rollup.node.errors import InvalidArgument, NodeError
from rollup.node.files import fsync_dir
from rollup.node.keystore import Keystore, RandBelow, new_key
from rollup.node.l1 import default_address, open_settlement
from rollup.node.meta import settlement_record, write_meta
from rollup.node.oracle import OracleLog
from rollup.node.orders import OrderBook
from rollup.node.units import genesis_prices
from rollup.sequencer import Sequencer
from rollup.state import RollupState
from verifier.settlement import SettlementConfig, SettlementError

__all__ = ["DEFAULT_CHAIN_ID", "create", "shape_params"]

DEFAULT_CHAIN_ID = 31337  #: a local development chain

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
    chain_id: int = DEFAULT_CHAIN_ID,
    rollup_id: int | None = None,
    priority_fee: int = 0,
    operator_address: int | None = None,
) -> Path:
    """Create the rollup directory ``path`` (missing or empty); returns it.

    ``prices`` are value units per base quantum (default: ``units.DEFAULT_PRICES_USD``),
    ``priority_fee`` quanta; ``rng`` draws the keys, the rollup id and the setup's toxic waste
    (tests), else the OS does.
    """
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise NodeError(detail=f"{path} already exists and is not empty")
    params = shape_params(depth, batch_slots, n_markets)
    if prices is None:
        prices = genesis_prices(n_markets)
    if rollup_id is None:
        rollup_id = rng.getrandbits(ROLLUP_ID_BITS) if rng else secrets.randbits(ROLLUP_ID_BITS)
    oracle_key, operator_key = new_key(rng), new_key(rng)
    genesis = _genesis_state(params, prices, int(clock()), chain_id, rollup_id, oracle_key,
                             operator_key)  # fmt: skip
    if operator_address is None:
        operator_address = default_address(derive_public_key(operator_key))
    root = RollupState(params, genesis).root
    try:
        config = SettlementConfig(
            params.depth, params.batch_slots, root, tuple(genesis.to_list()), chain_id,
            rollup_id, max_pending_batches, max_pending_seconds, priority_fee, operator_address,
        )  # fmt: skip
    except SettlementError as e:
        raise InvalidArgument(detail=f"settlement config: {e}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.init-", dir=path.parent))
    try:
        _build(tmp, params, genesis, config, (oracle_key, operator_key), keys_root, rng,
               progress, clock)  # fmt: skip
        if path.exists():
            path.rmdir()  # empty: checked above
        os.rename(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def shape_params(depth: int, batch_slots: int, n_markets: int) -> RollupParams:
    """The rollup's shape; InvalidArgument (one line) for one outside the protocol's limits."""
    if not isinstance(n_markets, int) or not 1 <= n_markets <= len(DEFAULT_MARKETS):
        raise InvalidArgument(
            detail=f"markets must be in 1..{len(DEFAULT_MARKETS)}, got {n_markets}"
        )
    try:
        return RollupParams(depth, batch_slots, DEFAULT_MARKETS[:n_markets])
    except ValueError as e:
        raise InvalidArgument(detail=str(e)) from None


def _genesis_state(
    params: RollupParams, prices: tuple[int, ...], time_s: int, chain_id: int, rollup_id: int,
    oracle_key: bytes, operator_key: bytes,
) -> GlobalState:  # fmt: skip
    """The genesis global state; every parameter checked (one-line NodeError)."""
    try:
        domain = messages.domain(chain_id, rollup_id)
        return GlobalState.genesis(
            params, derive_public_key(oracle_key), tuple(prices), time_s, domain,
            derive_public_key(operator_key),
        )  # fmt: skip
    except (ValueError, TypeError) as e:
        raise InvalidArgument(detail=f"genesis: {e}") from None


def _build(
    tmp: Path, params: RollupParams, genesis: GlobalState, config: SettlementConfig,
    keys: tuple[bytes, bytes], keys_root: str | Path | None, rng: random.Random | None,
    progress: Progress | None, clock: Callable[[], float],
) -> None:  # fmt: skip
    setup_rng = None if rng is None else RandBelow(rng)
    root = Path(keys_root) if keys_root is not None else tmp / "keys"
    keydir = pipeline.setup_rollup(params, root, setup_rng, progress)
    Sequencer.open(str(tmp / SEQUENCER), params, genesis).store.close()
    Keystore.create(tmp, *keys)
    OrderBook.create(tmp)
    OracleLog.create(tmp, genesis)
    vk = pipeline.verifying_key_json(keydir)
    open_settlement(tmp, config, clock, create_with_key=vk).close()
    write_meta(tmp, params, settlement_record(config), keydir)
