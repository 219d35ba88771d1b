"""Who signs what in a slot: the signed nonce, the messages and keys, the two EdDSA checks.

``rollup.state`` (``_check_signed``, ``_check_order``, ``_oracle``, ``_list_series``,
``_marks``)::

    nonce = (withdraw + transfer)·nonce_0          (the sender's account nonce; orders carry
                                                    order ids instead: circuits.batch.orders)
    sig0:  withdraw, transfer   circuits.batch.transfer's message,  key of update 0
           trade (maker)        order0's message,                    key of update 0
           liquidate            order0's message (the liquidator),   key of update 1
           oracle               the oracle message,                  the oracle key
           marks                the marks message,                   the oracle key
           list_series          the listing message,                 the operator key
    sig1:  trade (taker)        order1's message,                    key of update 1
    deleverage, deposit, forced withdrawal, settle, no-op: no signature (the checks are
    disabled with the placeholder key (0, 1); ``circuits.gadgets.eddsa``)

Messages carry the domain of the global state, so a message signed for another deployment
never verifies. Messages (``protocol.messages``): Poseidon of the preimage, the oracle's a
Poseidon sponge (for M ≤ 6 one call, Poseidon(2^64 + n, preimage)). sig0's types are
exclusive, so its messages of equal arity share one Poseidon over their selected preimage
(``pooled_message``): e.g. at M = 4 the oracle's and the marks' are both Poseidon(12).
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.api import API
from circuits.batch.inputs import SlotInputs
from circuits.batch.state import AccountVars, GlobalVars
from circuits.gadgets.eddsa import eddsa_poseidon_verify
from circuits.gadgets.poseidon import poseidon, poseidon_sponge
from circuits.linear import Value, Variable, as_variable
from protocol.poseidon import SPONGE_RATE, SPONGE_TAG
from protocol.spec import LIQUIDATE, LIST_SERIES, MARKS, ORACLE, TRADE, TRANSFER, WITHDRAW

__all__ = ["pooled_message", "signatures"]

Request = tuple[Value, Sequence[Value]]  #: (selector, preimage)


def _mux(api: API, requests: Sequence[Request], i: int, name: str) -> Variable:
    """Σ_r sel_r·preimage_r[i] (the selected request's input; the selectors are exclusive)."""
    values = [as_variable(p[i]) for _, p in requests]
    if all(v.key() == values[0].key() for v in values):
        return values[0]
    consts = [v.constant_value for v in values]
    varying = [r for r, c in enumerate(consts) if c is None]
    if len(varying) <= len(values) - 1:  # constants are free, each variable one row
        return api.sum([
            as_variable(sel) * c if c is not None else api.mul(sel, v, name=f"{name}_{r}")
            for r, ((sel, _), v, c) in enumerate(zip(requests, values, consts, strict=True))
        ])  # fmt: skip
    base = values[0]  # all variable: the first as default, one row per other request
    return base + api.sum([
        api.mul(sel, v - base, name=f"{name}_{r}")
        for r, ((sel, _), v) in enumerate(zip(requests[1:], values[1:], strict=True), 1)
    ])  # fmt: skip


def pooled_message(api: API, requests: Sequence[Request], name: str) -> Variable:
    """Σ_r sel_r·Poseidon(preimage_r) for exclusive selectors, one Poseidon per arity."""
    by_arity: dict[int, list[Request]] = {}
    for req in requests:
        by_arity.setdefault(len(req[1]), []).append(req)
    terms = []
    with api.namespace(name):
        for n, group in sorted(by_arity.items()):
            inputs = [_mux(api, group, i, f"in{n}_{i}") for i in range(n)]
            h = poseidon(api, inputs, f"poseidon{n}")
            terms.append(api.mul(api.sum([sel for sel, _ in group]), h, name=f"selected{n}"))
    return api.sum(terms)


def oracle_request(api: API, sel: Value, preimage: Sequence[Value]) -> Request | Variable:
    """The oracle sponge as a pool request (one Poseidon call), or, beyond one chunk, its
    selected message computed on its own."""
    n = len(preimage)
    if n <= SPONGE_RATE:
        return (sel, [SPONGE_TAG + n, *preimage])
    return api.mul(sel, poseidon_sponge(api, list(preimage), "oracle_msg"), name="oracle_sel")


def signatures(
    api: API,
    inp: SlotInputs,
    old: Sequence[AccountVars],
    g: GlobalVars,
    preimages: dict[str, Sequence[Value]],
) -> None:
    """The nonce row and both signature checks of the module docstring; ``preimages`` holds
    'transfer' (withdraw or transfer, one preimage), 'order0', 'order1', 'oracle', 'list' and
    'marks'."""
    sel = inp.sel
    moves = sel[WITHDRAW] + sel[TRANSFER]
    signs0 = moves + sel[TRADE]
    oracle_key = sel[ORACLE] + sel[MARKS]
    api.assert_equal(inp.nonce, api.mul(moves, old[0].nonce, name="nonce_u0"), "nonce")
    with api.namespace("signers"):
        requests: list[Request] = [
            (moves, preimages["transfer"]),
            (sel[TRADE] + sel[LIQUIDATE], preimages["order0"]),
            (sel[LIST_SERIES], preimages["list"]),
            (sel[MARKS], preimages["marks"]),
        ]
        oracle = oracle_request(api, sel[ORACLE], preimages["oracle"])
        extra = [oracle] if isinstance(oracle, Variable) else []
        if not extra:
            requests.append(oracle)  # type: ignore[arg-type]
        msg0 = pooled_message(api, requests, "msg0") + api.sum(extra)
        msg1 = api.mul(sel[TRADE], poseidon(api, preimages["order1"], "order1_msg"), name="msg1")
        en0 = signs0 + sel[LIQUIDATE] + oracle_key + sel[LIST_SERIES]
        pk0: list[Variable] = []
        keys = zip(
            (old[0].pubkey_x, old[0].pubkey_y),
            (old[1].pubkey_x, old[1].pubkey_y),
            g.oracle_pk,
            g.operator_pk,
            strict=True,
        )
        for c, (k0, k1, ko, kl) in enumerate(keys):
            pk0.append(
                api.mul(signs0, k0, name=f"pk0_u0_{c}")
                + api.mul(sel[LIQUIDATE], k1, name=f"pk0_u1_{c}")
                + api.mul(oracle_key, ko, name=f"pk0_oracle_{c}")
                + api.mul(sel[LIST_SERIES], kl, name=f"pk0_operator_{c}")
                + (1 - en0) * c
            )
        pk1 = [
            api.mul(sel[TRADE], k, name=f"pk1_u1_{c}") + (1 - sel[TRADE]) * c
            for c, k in enumerate((old[1].pubkey_x, old[1].pubkey_y))
        ]
    eddsa_poseidon_verify(api, (pk0[0], pk0[1]), msg0, tuple(inp.sigs[0]), enabled=en0, name="sig0")
    eddsa_poseidon_verify(
        api, (pk1[0], pk1[1]), msg1, tuple(inp.sigs[1]), enabled=sel[TRADE], name="sig1"
    )
