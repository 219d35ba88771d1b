"""``Rollup``: one rollup directory — sequencer, local settlement layer, keys — behind one object.

Every ``zkr`` verb is a method here; the CLI only parses arguments and prints. The files of a
rollup directory (rollup.json, sequencer.db, settlement.db, keystore.json, orders.json, keys/)
and their JSON encoding are ``rollup.directory``'s.

Units at this interface: L1 amounts (deposit, withdraw) and transfers in collateral quanta;
prices in quanta per base quantum (× ``VALUE_SCALE`` inside); funding rates in 2^-32 per second.
A trade executes at the resting (maker) order's limit price for min(size) with each side paying
its order's fee. Before a transaction enters the mempool it is applied to a scratch copy of the
head state with the pending mempool, so an invalid one (e.g. insufficient margin) is refused at
once with the state machine's own error; nothing is stored then.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol.eddsa import derive_public_key, sign
from protocol.spec import DEFAULT_MARKETS, SELL, VALUE_SCALE, RollupParams
from rollup.account import GlobalState
from rollup.circuit_input import shape_of
from rollup.directory import (
    NodeError,
    RandBelow,
    load_keystore,
    load_orders,
    new_key,
    new_keystore,
    read_meta,
    refuse,
    save_keystore,
    save_orders,
    settlement_config,
    settlement_record,
    strs,
    write_export,
    write_meta,
)
from rollup.errors import RollupError
from rollup.proving import groth16_checker, setup_shape, verifying_key_json
from rollup.rebuild import rebuild_from_settlement
from rollup.sequencer import Sequencer
from rollup.state import RollupState
from rollup.store import params_from_list
from rollup.tx import (
    FundingTick,
    Liquidate,
    OraclePrice,
    Order,
    SignedOrder,
    Trade,
    Transfer,
    Tx,
    Withdraw,
    escape_message,
    forced_message,
)
from verifier.settlement import Settlement

__all__ = ["NodeError", "Progress", "Rollup"]

Progress = Callable[[str, int, int], None]


def _default_address(pubkey: tuple[int, int]) -> int:
    return pubkey[0] % (1 << 160)


class Rollup:
    """The façade over one rollup directory (see the module docstring)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.meta = read_meta(self.path)
        self.params: RollupParams = params_from_list(self.meta["params"])
        self.keydir = Path(self.meta["keydir"])
        self.seq = Sequencer.open(str(self.path / "sequencer.db"))
        config = settlement_config(self.meta["settlement"])
        self._checker: Callable | None = None
        self.l1 = Settlement(config, self._check_proof, self.path / "settlement.db", clock=clock)

    # -- lifecycle -----------------------------------------------------------------------------
    @classmethod
    def init(
        cls,
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
    ) -> Rollup:
        """Genesis: markets, oracle key, proving key of the shape (INSECURE setup, cached)."""
        path = Path(path)
        if (path / "rollup.json").exists():
            raise NodeError(detail=f"{path} already holds a rollup")
        if not 1 <= n_markets <= len(DEFAULT_MARKETS):
            raise NodeError(detail=f"n_markets must be in 1..{len(DEFAULT_MARKETS)}")
        params = RollupParams(depth, batch_slots, DEFAULT_MARKETS[:n_markets])
        prices = prices or (100,) * n_markets
        if len(prices) != n_markets or min(prices) <= 0:
            raise NodeError(detail=f"need {n_markets} positive genesis prices")
        path.mkdir(parents=True, exist_ok=True)
        oracle_key = new_key(rng)
        genesis = GlobalState.genesis(
            params, derive_public_key(oracle_key), tuple(p * VALUE_SCALE for p in prices)
        )
        setup_rng = None if rng is None else RandBelow(rng)
        keydir = setup_shape(shape_of(params), keys_root or path / "keys", setup_rng, progress)
        seq = Sequencer.open(str(path / "sequencer.db"), params, genesis)
        settlement = settlement_record(
            params, seq.state.root, genesis, max_pending_batches, max_pending_seconds
        )
        seq.store.close()
        save_keystore(path, new_keystore(oracle_key))
        save_orders(path, [])
        # the settlement layer is created holding the verifying key of the shape
        vk = verifying_key_json(keydir)
        Settlement(settlement_config(settlement), refuse, path / "settlement.db", clock, vk).close()
        write_meta(path, params, settlement, keydir)
        return cls(path, clock)

    def close(self) -> None:
        self.seq.store.close()
        self.l1.close()

    def _check_proof(self, public: tuple[int, int, int], proof: Any) -> bool:
        if self._checker is None:
            self._checker = groth16_checker(self.l1.verifying_key)
        return self._checker(public, proof)

    # -- keys ----------------------------------------------------------------------------------
    def _keystore(self) -> dict[str, Any]:
        return load_keystore(self.path)

    def key(self, account: int) -> bytes:
        entry = self._keystore()["accounts"].get(str(account))
        if entry is None:
            raise NodeError(detail=f"no key for account {account} in the keystore")
        return bytes.fromhex(entry["private_key"])

    def new_account(self, rng: random.Random | None = None) -> tuple[int, tuple[int, int]]:
        """A fresh key pair in the keystore; returns (account index, public key)."""
        store = self._keystore()
        index = len(store["accounts"])
        if index >= self.params.n_accounts:
            raise NodeError(detail=f"the tree of depth {self.params.depth} is full")
        key = new_key(rng)
        pk = derive_public_key(key)
        store["accounts"][str(index)] = {"private_key": key.hex(), "public_key": strs(list(pk))}
        save_keystore(self.path, store)
        return index, pk

    def l1_address(self, account: int) -> int:
        """The default L1 address of an account: its public key's x mod 2^160."""
        return _default_address(derive_public_key(self.key(account)))

    # -- L1 requests ---------------------------------------------------------------------------
    def deposit(self, account: int, amount: int, l1_address: int | None = None) -> int:
        pk = derive_public_key(self.key(account))
        return self.l1.deposit(account, pk, amount, _or(l1_address, _default_address(pk)))

    def account_proof(self, account: int, state: RollupState) -> tuple[list, tuple, list]:
        """(leaf preimage, Merkle siblings, global preimage) of ``account`` in ``state``."""
        return (
            state.account(account).to_list(),
            state.tree.siblings(account),
            state.global_state.to_list(),
        )

    def force_withdrawal(self, account: int, l1_address: int | None = None) -> int:
        """Queue a forced withdrawal on L1, proven against the settled state (rebuilt from L1)."""
        key, state = self.key(account), self.rebuild()
        address = _or(l1_address, _default_address(derive_public_key(key)))
        sig = sign(key, forced_message(account, address))
        return self.l1.request_forced_withdrawal(
            account, address, sig, *self.account_proof(account, state)
        )

    # -- L2 transactions -----------------------------------------------------------------------
    def pending_state(self) -> RollupState:
        """The head state with the mempool applied (failing transactions skipped)."""
        state = self.seq.store.load_state()
        for _, tx in self.seq.store.mempool():
            with contextlib.suppress(RollupError):
                state.apply(tx)
        return state

    def _orders(self) -> list[SignedOrder]:
        return load_orders(self.path)

    def _save_orders(self, orders: list[SignedOrder]) -> None:
        save_orders(self.path, orders)

    def next_nonce(self, account: int, state: RollupState | None = None) -> int:
        state = state or self.pending_state()
        resting = sum(o.order.account == account for o in self._orders())
        return state.account(account).nonce + resting

    def submit(self, tx: Tx) -> int:
        """Dry-run ``tx`` on the pending state (its RollupError propagates), then admit it."""
        self.pending_state().apply(tx)
        return self.seq.submit(tx)

    def order(
        self,
        account: int,
        market: int,
        side: int,
        size: int,
        price: int,
        fee: int = 0,
        expiry: int | None = None,
    ) -> dict[str, Any]:
        """Sign an order; match it against a resting crossing order (→ trade) or rest it."""
        state = self.pending_state()
        expiry = _or(expiry, state.global_state.last_oracle_time + 10**6)
        nonce = self.next_nonce(account, state)
        o = Order(account, market, side, size, price * VALUE_SCALE, fee, nonce, expiry)
        signed = o.sign(self.key(account))
        book = self._orders()
        for k, maker in enumerate(book):
            m = maker.order
            crosses = (
                m.limit_price <= o.limit_price if side != SELL else m.limit_price >= o.limit_price
            )
            if m.market == market and m.side != side and m.account != account and crosses:
                q = min(m.size, size)
                trade = Trade(maker, signed, q, m.limit_price, m.fee, fee)
                seq = self.submit(trade)
                self._save_orders(book[:k] + book[k + 1 :])
                return {"matched": True, "mempool": seq, "quantity": q, "maker": m.account}
        state.existing(account)  # resting orders only for accounts that exist
        self._save_orders([*book, signed])
        return {"matched": False, "nonce": nonce}

    def oracle(self, prices: tuple[int, ...], timestamp: int | None = None) -> int:
        last = self.pending_state().global_state.last_oracle_time
        timestamp = _or(timestamp, max(int(time.time()), last + 1))
        key = bytes.fromhex(self._keystore()["oracle"])
        return self.submit(
            OraclePrice.signed(key, tuple(p * VALUE_SCALE for p in prices), timestamp)
        )

    def funding(self, rates: tuple[int, ...], timestamp: int | None = None) -> int:
        g = self.pending_state().global_state
        return self.submit(FundingTick(tuple(rates), _or(timestamp, g.last_oracle_time)))

    def withdraw(self, account: int, amount: int, l1_address: int | None = None) -> int:
        key = self.key(account)
        address = _or(l1_address, _default_address(derive_public_key(key)))
        nonce = self.next_nonce(account)
        return self.submit(Withdraw.signed(key, account, amount, address, nonce))

    def transfer(self, sender: int, recipient: int, amount: int) -> int:
        nonce = self.next_nonce(sender)
        tx = Transfer.signed(self.key(sender), sender, recipient, amount * VALUE_SCALE, nonce)
        return self.submit(tx)

    def liquidate(
        self, liquidator: int, liquidated: int, market: int, quantity: int, price: int, fee: int = 0
    ) -> int:
        """The liquidator's order takes ``quantity`` of ``liquidated``'s position at ``price``."""
        state = self.pending_state()
        size = state.account(liquidated).positions[market].size
        side = 0 if size > 0 else SELL  # the liquidator reduces the position: buys a long
        o = Order(
            liquidator,
            market,
            side,
            quantity,
            price * VALUE_SCALE,
            fee,
            self.next_nonce(liquidator, state),
            state.global_state.last_oracle_time + 10**6,
        )
        tx = Liquidate(o.sign(self.key(liquidator)), liquidated, quantity, price * VALUE_SCALE, fee)
        return self.submit(tx)

    # -- batches, proofs, settlement -----------------------------------------------------------
    def seal(self) -> Any:
        """Seal the next batch (priority requests first); None if there is nothing to seal."""
        return self.seq.seal_batch(self.l1.queue())

    def unproven(self) -> list[int]:
        return [n for n in range(self.seq.store.head()) if self.seq.store.proof(n) is None]

    def settle(self) -> list[int]:
        """Submit every proven, unsettled batch in order; stops at the first without a proof."""
        done: list[int] = []
        while self.l1.batch_count < self.seq.store.head():
            n = self.l1.batch_count
            proof = self.seq.store.proof(n)
            if proof is None:
                break
            batch = self.seq.store.batch(n)
            self.l1.submit_batch(list(batch.pubdata), batch.new_root, proof)
            done.append(n)
        return done

    def status(self) -> dict[str, Any]:
        l1 = self.l1.status()
        div = self.seq.divergence(self.l1.batch_count, l1["seconds_since_settlement"])
        return {
            "head_root": self.seq.state.root,
            "settled_root": l1["root"],
            "l1": l1,
            "divergence": div,
            "unproven": self.unproven(),
            "resting_orders": len(self._orders()),
        }

    # -- recovery ------------------------------------------------------------------------------
    def rebuild(self) -> RollupState:
        """The settled state recomputed from the settlement layer's data alone."""
        return rebuild_from_settlement(self.l1)

    def freeze(self) -> dict[str, Any]:
        return self.l1.freeze()

    def escape(self, account: int, l1_address: int | None = None) -> int:
        """Exit the frozen rollup with the account's value, proven from the rebuilt state."""
        key, state = self.key(account), self.rebuild()
        address = _or(l1_address, _default_address(derive_public_key(key)))
        sig = sign(key, escape_message(account, address))
        return self.l1.escape(account, address, sig, *self.account_proof(account, state))

    def export(self, number: int, out: str | Path) -> list[Path]:
        """verification_key.json, proof.json, public.json (snarkjs) of a proven batch."""
        proof = self.seq.store.proof(number)
        if proof is None:
            raise NodeError(detail=f"batch {number} has no proof (run 'zkr prove')")
        b = self.seq.store.batch(number)
        return write_export(
            out, self.l1.verifying_key, proof, (b.old_root, b.new_root, b.commitment)
        )


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value
