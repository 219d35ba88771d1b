"""README's Python examples run as written: the state machine, the façade (batch proofs by the
binding stand-in of ``tests.node.standin``), the prover and verifier; each with a negative twin
on the objects the example left behind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.node import standin

README = Path(__file__).resolve().parents[1] / "README.md"
RUNNABLE = ("state.apply(Trade", "Rollup.init(", "groth16_setup(r1cs")


def examples() -> dict[str, str]:
    """The README's python blocks that the README says are run, keyed by their marker."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    found = {m: b for b in blocks for m in RUNNABLE if m in b}
    assert set(found) == set(RUNNABLE), f"README lost an example: {set(RUNNABLE) - set(found)}"
    return found


def test_state_machine_example(capsys: pytest.CaptureFixture[str]) -> None:
    from rollup import errors

    scope: dict = {}
    exec(examples()["state.apply(Trade"], scope)
    size, root = capsys.readouterr().out.split()
    assert int(size) == 10**6 and int(root, 16) == scope["state"].root
    # negative twin: the same signed orders again are refused (fill records), nothing changes
    state, buy, sell, trade = scope["state"], scope["buy"], scope["sell"], scope["Trade"]
    with pytest.raises(errors.RollupError):
        state.apply(trade(buy, sell, 10**6, scope["price"], 0, 0))
    assert state.root == int(root, 16)


def test_facade_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if standin.enabled():
        standin.install(monkeypatch.setattr)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # the key cache of a real setup stays in tmp
    scope: dict = {}
    exec(examples()["Rollup.init("], scope)
    assert capsys.readouterr().out.split() == ["[0,", "1]", "2"]
    # negative twin: the directory exists now; init refuses to overwrite it
    from rollup.node import Rollup
    from rollup.node.errors import NodeError

    with pytest.raises(NodeError, match="already exists"):
        Rollup.init("my-rollup", depth=8, batch_slots=2, n_markets=2)


def test_prover_example() -> None:
    from protocol.fields import R
    from verifier.groth16 import parse_public_inputs, verify

    scope: dict = {}
    exec(examples()["groth16_setup(r1cs"], scope)
    # negative twin: the same proof on a changed public input does not verify
    public = [str((scope["public"][0] + 1) % R)]
    proof = scope["parse_proof"](scope["proof_to_json"](scope["proof"]))
    assert not verify(scope["vk"], parse_public_inputs(public), proof)
