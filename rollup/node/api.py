"""The node's HTTP JSON API and status page, on aiohttp.

Why aiohttp: one well-kept dependency (aio-libs) that is both the HTTP/1.1 server — with its own
request parser, request-size limits and a graceful shutdown that lets requests in flight finish
(``AppRunner.cleanup``) — and asyncio-native, so the node's loop, its signal handling and the
server share one event loop without a second framework (an ASGI server such as uvicorn would
install its own signal handlers and lifecycle around ours). Handlers never touch the stores
themselves: they ``await service.call(...)``, which runs on the node's state thread.

Endpoints (JSON; integers that may exceed 2^53 are decimal strings; errors are
``{"error": message, "kind": kind}`` with the status of their kind — see ``STATUS``)::

    GET  /                         the status page (status.html)
    GET  /api/status               rollup status (rollup.node.report.status) + "node": the loop's
    GET  /api/history              samples {time, sealed, settled, proven, mempool} for the chart
    GET  /api/batches              [{number, new_root, transactions, proven, settled}]
    GET  /api/batches/{n}/proof    {"proof": proof.json, "public": [old, new, commitment]}
    GET  /api/accounts/{n}         the account report (?proof=1: with its Merkle proof)
    GET  /api/accounts/{n}/nonce   {"nonce": what the next withdrawal or transfer takes,
                                    "next_order_id": the id the account's next order must carry}
    GET  /api/accounts/{n}/risk    Greeks, margin, liquidation prices, scenarios (rollup.node.views)
    GET  /api/orders               resting orders (?account=N: one account's; rollup.node.views)
    GET  /api/series               the listed option series (rollup.node.views)
    POST /api/orders               {"order": [account, instrument, side, size, limit_price, max_fee,
                                    order_id, expiry], "signature": [r8x, r8y, s]} → filled
                                    and/or resting: {"account", "order_id", "filled", "resting",
                                    "trades"}
    POST /api/orders/cancel        {"account", "order_id", "signature"} (of
                                    orders.cancel_message(domain, account, order_id))
    POST /api/withdrawals          {"withdraw": [account, amount, l1_address, nonce, [r8x, r8y, s]]}
    POST /api/transfers            {"transfer": [sender, recipient, amount, nonce, [r8x, r8y, s]]}

Bodies are limited to 64 KiB; signed messages are checked by the node exactly as the CLI's. Every
signed message carries the rollup's domain (``domain`` in ``/api/status``).
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING, Any

from aiohttp import web

from protocol.eddsa import Signature
from rollup.node.errors import UnitError, classify
from rollup.node.files import ints
from rollup.node.report import account_report, batches, status
from rollup.node.views import orders_view, risk_view, series_view
from rollup.tx import SignedOrder, Transfer, Withdraw

if TYPE_CHECKING:
    from rollup.node.service import NodeService

__all__ = ["STATUS", "make_app"]

#: HTTP status of each kind of failure (``rollup.node.errors.classify``)
STATUS: dict[str | None, int] = {
    "malformed": 400,
    "refused": 409,
    "l1_refused": 409,
    "corrupt": 500,
    "busy": 503,
    None: 500,
}
MAX_BODY = 64 * 1024


def _fail(error: BaseException) -> web.Response:
    kind = classify(error)
    message = str(error) if kind is not None else f"internal error: {type(error).__name__}: {error}"
    return web.json_response({"error": message, "kind": kind}, status=STATUS[kind])


@web.middleware
async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every failure as ``{"error", "kind"}`` JSON with its status; never a traceback page."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as e:
        return _fail(e)


def _int(text: str, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UnitError(detail=f"{what} {text!r} is not an integer") from None
    if value < 0:
        raise UnitError(detail=f"{what} must be ≥ 0")
    return value


async def _body(request: web.Request, key: str) -> Any:
    try:
        data = await request.json()
    except ValueError:
        raise UnitError(detail="the body is not JSON") from None
    if not isinstance(data, dict) or key not in data:
        raise UnitError(detail=f"the body must be a JSON object with {key!r}")
    return data


def _integers(obj: Any) -> Any:
    """``obj`` after ``ints``, refusing any number that is not an integer (a JSON ``1e999`` or
    ``2.5`` is malformed input, not a transaction to refuse)."""
    if isinstance(obj, list):
        return [_integers(v) for v in obj]
    if isinstance(obj, float):
        raise TypeError(f"{obj!r} is not an integer")
    return obj


def _parse(what: str, make: Any, value: Any) -> Any:
    try:
        return make(_integers(ints(value)))
    except (TypeError, ValueError, IndexError) as e:
        raise UnitError(detail=f"malformed {what}: {e}") from None


def make_app(service: NodeService) -> web.Application:
    """The aiohttp application of ``service`` (see the module docstring)."""
    node = service.node
    routes = web.RouteTableDef()
    page = files("rollup.node").joinpath("status.html").read_text()

    @routes.get("/")
    async def index(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    @routes.get("/api/status")
    async def get_status(request: web.Request) -> web.Response:
        body = await service.call(status, node)
        return web.json_response({**body, "node": await service.call(service.info)})

    @routes.get("/api/history")
    async def get_history(request: web.Request) -> web.Response:
        return web.json_response(await service.call(lambda: list(service.history)))

    @routes.get("/api/batches")
    async def get_batches(request: web.Request) -> web.Response:
        return web.json_response(await service.call(batches, node))

    @routes.get("/api/batches/{n}/proof")
    async def get_proof(request: web.Request) -> web.Response:
        n = _int(request.match_info["n"], "batch")

        def read() -> dict[str, Any]:
            proof = node.proof(n)
            if proof is None:
                from rollup.node.errors import NodeError

                raise NodeError(detail=f"batch {n} has no proof yet")
            b = node.batch(n)
            return {
                "proof": proof,
                "public": [str(v) for v in (b.old_root, b.new_root, b.commitment)],
            }

        return web.json_response(await service.call(read))

    @routes.get("/api/accounts/{n}")
    async def get_account(request: web.Request) -> web.Response:
        n = _int(request.match_info["n"], "account")
        with_proof = request.query.get("proof") in ("1", "true")
        return web.json_response(await service.call(account_report, node, n, with_proof))

    @routes.get("/api/accounts/{n}/nonce")
    async def get_nonce(request: web.Request) -> web.Response:
        n = _int(request.match_info["n"], "account")
        nonce = await service.call(node.next_nonce, n)
        return web.json_response({"nonce": nonce, "next_order_id": await service.call(
            node.next_order_id, n)})  # fmt: skip

    @routes.get("/api/accounts/{n}/risk")
    async def get_risk(request: web.Request) -> web.Response:
        n = _int(request.match_info["n"], "account")
        report = await service.call(risk_view, node, n)
        return web.json_response({k: v for k, v in report.items() if k != "table"})

    @routes.get("/api/orders")
    async def get_orders(request: web.Request) -> web.Response:
        raw = request.query.get("account")
        account = None if raw is None else _int(raw, "account")
        return web.json_response(await service.call(orders_view, node, account))

    @routes.get("/api/series")
    async def get_series(request: web.Request) -> web.Response:
        return web.json_response(await service.call(series_view, node))

    @routes.post("/api/orders")
    async def post_order(request: web.Request) -> web.Response:
        data = await _body(request, "order")
        signed = _parse("order", SignedOrder.from_list, [data["order"], data.get("signature")])
        out = await service.call(node.place, signed)
        trades = [{k: str(v) for k, v in t.items()} for t in out["trades"]]
        return web.json_response(out | {"trades": trades})

    @routes.post("/api/orders/cancel")
    async def post_cancel(request: web.Request) -> web.Response:
        data = await _body(request, "account")
        sig = _parse("signature", lambda s: Signature(*s), data.get("signature"))
        account, order_id = (_int(str(data.get(k)), k) for k in ("account", "order_id"))
        await service.call(node.cancel, account, order_id, sig)
        return web.json_response({"cancelled": True})

    @routes.post("/api/withdrawals")
    async def post_withdrawal(request: web.Request) -> web.Response:
        tx = _parse(
            "withdrawal", Withdraw.from_list, (await _body(request, "withdraw"))["withdraw"]
        )
        return web.json_response({"mempool": await service.call(node.submit, tx)})

    @routes.post("/api/transfers")
    async def post_transfer(request: web.Request) -> web.Response:
        tx = _parse("transfer", Transfer.from_list, (await _body(request, "transfer"))["transfer"])
        return web.json_response({"mempool": await service.call(node.submit, tx)})

    app = web.Application(middlewares=[errors], client_max_size=MAX_BODY)
    app.add_routes(routes)
    return app
