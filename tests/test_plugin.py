"""The pytest plugin (verifier/pytest_plugin.py): another project's test settles a proof in a few
lines with the ``zkr_settlement`` fixture; a tampered proof is rejected and nothing changes.
Real proofs: these tests need the batch circuit of protocol v2 (``circuits.batch``)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rollup.node import Rollup
from rollup.node.units import amount_to_quanta
from verifier.settlement import sign_batch

pytest_plugins = ("pytester",)

INNER_TEST = """
import json
from pathlib import Path

import pytest

from protocol.eddsa import Signature
from verifier.settlement import BatchRejected, SettlementConfig

DATA = Path({data!r})


def config():
    c = json.loads((DATA / "config.json").read_text())
    return SettlementConfig(c["depth"], c["batch_slots"], int(c["genesis_root"]),
                            tuple(c["genesis_global"]), c["chain_id"], c["rollup_id"])


def batch(l1):
    # queue the batch's L1 deposits; return its (pubdata, new_root, operator's signature)
    b = json.loads((DATA / "batch.json").read_text())
    for account, x, y, amount, address in b["deposits"]:
        l1.deposit(int(account), (int(x), int(y)), int(amount), int(address))
    signature = Signature(*(int(v) for v in b["signature"]))
    return [int(e) for e in b["pubdata"]], int(b["new_root"]), signature


def test_settles(zkr_settlement):
    l1 = zkr_settlement(DATA / "verification_key.json", config())
    pubdata, new_root, signature = batch(l1)
    proof = json.loads((DATA / "proof.json").read_text())
    assert l1.submit_batch(pubdata, new_root, proof, signature) == 0
    assert l1.root == new_root


def test_tampered_proof_rejected(zkr_settlement):
    l1 = zkr_settlement(json.loads((DATA / "verification_key.json").read_text()), config())
    pubdata, new_root, signature = batch(l1)
    proof = json.loads((DATA / "proof.json").read_text())
    proof["pi_a"] = proof["pi_c"]
    with pytest.raises(BatchRejected, match="proof does not verify"):
        l1.submit_batch(pubdata, new_root, proof, signature)
    assert l1.batch_count == 0 and l1.root == config().genesis_root
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A proven deposit batch of a B = 2, D = 2, M = 1 rollup, exported as plain files."""
    root = tmp_path_factory.mktemp("plugin")
    rng = random.Random(3)
    node = Rollup.init(root / "r", depth=2, batch_slots=2, n_markets=1, rng=rng)
    for _ in range(2):
        node.deposit(node.new_account(rng)[0], amount_to_quanta("1000"))
    deposits = [[str(v) for v in q["fields"]] for q in node.l1.queue()]
    batch = node.seal()
    assert not node.prove().failures
    signature = sign_batch(node.keystore.operator_key(), node.l1.config.domain, 0,
                           node.l1.root, batch.new_root, list(batch.pubdata))  # fmt: skip
    out = root / "data"
    node.export(0, out)
    settlement = dict(node.meta.settlement)
    settlement["genesis_global"] = json.loads(json.dumps(settlement["genesis_global"]))
    (out / "config.json").write_text(json.dumps(_ints(settlement)))
    (out / "batch.json").write_text(
        json.dumps(
            {
                "pubdata": [str(e) for e in batch.pubdata],
                "new_root": str(batch.new_root),
                "deposits": deposits,
                "signature": [str(signature.r8_x), str(signature.r8_y), str(signature.s)],
            }
        )
    )
    node.close()
    return out


def _ints(obj):
    if isinstance(obj, dict):
        return {k: _ints(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_ints(v) for v in obj]
    return int(obj) if isinstance(obj, str) and obj.lstrip("-").isdigit() else obj


def test_plugin_fixture_settles_a_proof(pytester: pytest.Pytester, exported: Path) -> None:
    pytester.makepyfile(test_inner=INNER_TEST.format(data=str(exported)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")  # via the pytest11 entry point
    result.assert_outcomes(passed=2)


def test_plugin_fixture_missing_vk_fails(pytester: pytest.Pytester, exported: Path) -> None:
    pytester.makepyfile(
        test_inner="""
import pytest

def test_missing(zkr_settlement):
    with pytest.raises(FileNotFoundError):
        zkr_settlement("no-such-vk.json", None)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")  # via the pytest11 entry point
    result.assert_outcomes(passed=1)


def test_checker_by_plain_import(exported: Path) -> None:
    """The one Groth16 checker (``verifier.checker``) that the plugin and the node both use."""
    from verifier.checker import groth16_checker
    from verifier.errors import MalformedInputError

    vk = json.loads((exported / "verification_key.json").read_text())
    proof = json.loads((exported / "proof.json").read_text())
    public = tuple(int(v) for v in json.loads((exported / "public.json").read_text()))
    check = groth16_checker(vk)
    assert check(public, proof)
    assert not check((public[0], public[0], public[2]), proof)
    assert not check(public, {"pi_a": "garbage"})
    with pytest.raises(MalformedInputError):  # a malformed key is the caller's error, at once
        groth16_checker({**vk, "vk_alpha_1": ["1", "1", "1"]})


def test_readme_shows_the_tested_example() -> None:
    """The README's plugin example is the ``test_settles`` run above, word for word."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = INNER_TEST.index("def test_settles")
    example = INNER_TEST[start : INNER_TEST.index("\n\n\n", start)].strip()
    assert f"```python\n{example}\n```" in readme
