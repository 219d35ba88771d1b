"""A pytest plugin: a fresh settlement layer with a Groth16 verifying key, for other tests.

Registered through the ``pytest11`` entry point ``zkrollup = "verifier.pytest_plugin"`` (or
``-p verifier.pytest_plugin`` where the package is not installed). The fixture is a factory::

    def test_my_batch_settles(zkr_settlement):
        l1 = zkr_settlement("verification_key.json", config)   # vk: path or snarkjs dict
        assert l1.submit_batch(pubdata, new_root, proof_json, operator_signature) == 0
        assert l1.root == new_root

(``operator_signature``: the operator key's signature over the batch,
``verifier.settlement.sign_batch``; the settlement layer takes batches from the operator only.)

Each call gives an in-memory ``verifier.settlement.Settlement`` whose proof checker is
``verifier.checker.groth16_checker`` (Groth 2016 §3.2: ``e(A, B) = e(α, β)·e(L, γ)·e(C, δ)``
with public inputs ``(old_root, new_root, commitment)``) — the same checker the rollup node uses;
a malformed proof is a proof that does not verify, so ``submit_batch`` raises ``BatchRejected``
and nothing changes. Only the verifier (py_ecc) is imported: no prover, no numba.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from verifier.checker import groth16_checker
from verifier.settlement import Settlement, SettlementConfig

__all__ = ["zkr_settlement"]


def _vk_json(verification_key: dict[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(verification_key, dict):
        return verification_key
    from protocol import jsonio

    return jsonio.loads(Path(verification_key).read_text())


SettlementFactory = Callable[..., Settlement]


@pytest.fixture
def zkr_settlement() -> Iterator[SettlementFactory]:
    """Factory ``(verification_key, config, clock=None) -> Settlement`` (fresh, in memory)."""
    made: list[Settlement] = []

    def make(
        verification_key: dict[str, Any] | str | Path,
        config: SettlementConfig,
        clock: Callable[[], float] | None = None,
    ) -> Settlement:
        vk = _vk_json(verification_key)
        kwargs = {} if clock is None else {"clock": clock}
        l1 = Settlement(config, groth16_checker(vk), None, verifying_key=vk, **kwargs)
        made.append(l1)
        return l1

    yield make
    for l1 in made:
        l1.close()
