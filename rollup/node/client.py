"""``NodeClient``: a Python client of a running node's HTTP API (``rollup.node.api``).

The client signs locally — the private key never leaves the caller — and sends signed messages;
the node checks them exactly as it checks its own. Arguments are protocol units (as ``Rollup``'s;
``rollup.node.units`` converts from USD and whole units). Transport is the standard library's
``urllib.request`` (no HTTP parsing here); a refusal comes back as ``RemoteError`` carrying the
node's message and kind (``rollup.node.errors.KINDS``), an unreachable node as ``NodeUnreachable``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from protocol.eddsa import sign
from rollup.node.errors import NodeError
from rollup.node.files import strs
from rollup.node.orders import cancel_message
from rollup.node.trading import DEFAULT_ORDER_SECONDS
from rollup.tx import Order, Transfer, Withdraw

__all__ = ["NodeClient", "NodeUnreachable", "RemoteError"]


class RemoteError(NodeError):
    """The node refused a request; ``kind`` is its ``classify`` kind, ``status`` the HTTP one."""

    template = "{message}"


class NodeUnreachable(NodeError):  # noqa: N818 (says what happened)
    """No node answers at the URL."""


class NodeClient:
    """A node at ``url`` (e.g. ``http://127.0.0.1:8700``)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._domain: int | None = None

    @property
    def domain(self) -> int:
        """The rollup's domain (every signed message carries it), read once from the node."""
        if self._domain is None:
            self._domain = int(self.status()["domain"])
        return self._domain

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            try:
                detail = json.loads(e.read())
            except ValueError:
                detail = {"error": f"HTTP {e.code}", "kind": None}
            raise RemoteError(
                message=detail.get("error"), kind=detail.get("kind"), status=e.code
            ) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise NodeUnreachable(detail=f"no node at {self.url} ({reason})") from None

    # -- reads ---------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return self._request("GET", "/api/status")

    def history(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/history")

    def batches(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/batches")

    def proof(self, number: int) -> dict[str, Any]:
        return self._request("GET", f"/api/batches/{number}/proof")

    def account(self, index: int, proof: bool = False) -> dict[str, Any]:
        return self._request("GET", f"/api/accounts/{index}" + ("?proof=1" if proof else ""))

    def next_nonce(self, index: int) -> int:
        return self._request("GET", f"/api/accounts/{index}/nonce")["nonce"]

    def next_order_id(self, index: int) -> int:
        return self._request("GET", f"/api/accounts/{index}/nonce")["next_order_id"]

    def orders(self, account: int | None = None) -> list[dict[str, Any]]:
        query = "" if account is None else f"?account={account}"
        return self._request("GET", "/api/orders" + query)

    def series(self) -> list[dict[str, Any]]:
        return self._request("GET", "/api/series")

    def risk(self, index: int) -> dict[str, Any]:
        return self._request("GET", f"/api/accounts/{index}/risk")

    # -- signed requests -----------------------------------------------------------------------
    def order(
        self, key: bytes, account: int, instrument: int, side: int, size: int, price: int,
        max_fee: int = 0, expiry: int | None = None, order_id: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Sign an order with ``key`` (the next order id from the node unless given; expiry a
        week from now) and send it: {"account", "order_id", "filled", "resting", "trades"}."""
        oid = self.next_order_id(account) if order_id is None else order_id
        expiry = int(time.time()) + DEFAULT_ORDER_SECONDS if expiry is None else expiry
        o = Order(account, instrument, side, size, price, max_fee, oid, expiry)
        signed = o.sign(key, self.domain).to_list()
        return self._request(
            "POST", "/api/orders", {"order": strs(signed[0]), "signature": strs(signed[1])}
        )

    def cancel(self, key: bytes, account: int, order_id: int) -> None:
        sig = sign(key, cancel_message(self.domain, account, order_id))
        body = {"account": account, "order_id": order_id,
                "signature": strs([sig.r8_x, sig.r8_y, sig.s])}  # fmt: skip
        self._request("POST", "/api/orders/cancel", body)

    def withdraw(self, key: bytes, account: int, amount: int, l1_address: int) -> int:
        """Withdraw ``amount`` quanta to ``l1_address``; the mempool sequence number."""
        tx = Withdraw.signed(key, self.domain, account, amount, l1_address,
                             self.next_nonce(account))  # fmt: skip
        return self._request("POST", "/api/withdrawals", {"withdraw": strs(tx.to_list())})[
            "mempool"
        ]

    def transfer(self, key: bytes, sender: int, recipient: int, amount: int) -> int:
        """Transfer ``amount`` value units; the mempool sequence number."""
        tx = Transfer.signed(key, self.domain, sender, recipient, amount, self.next_nonce(sender))
        return self._request("POST", "/api/transfers", {"transfer": strs(tx.to_list())})["mempool"]
