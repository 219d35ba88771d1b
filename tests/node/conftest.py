"""Fixtures of the application-layer tests: a small rollup directory (B = 2, D = 2, M = 1) with two
funded accounts, built through the Python API; batch proofs by the binding stand-in of
``tests.node.standin`` (``ZKR_REAL_PROOFS=1``: the batch circuit's Groth16 proofs)."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rollup.node import Rollup
from rollup.node.units import amount_to_quanta
from tests.node import standin

REPO = Path(__file__).resolve().parents[2]
SHAPE = {"depth": 2, "batch_slots": 2, "n_markets": 1}


def child_env() -> dict[str, str]:
    """The environment of a child ``python`` that imports this checkout first."""
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    return dict(os.environ, PYTHONPATH=path)


def zkr_command(*args: object) -> list[str]:
    """``zkr ARGS`` as a child process of this checkout (with the proof stand-in, if on)."""
    code = standin.child_prelude()
    code += "import sys; from cli import main; sys.argv = ['zkr', *sys.argv[1:]]; main()"
    return [sys.executable, "-c", code, *(str(a) for a in args)]


@pytest.fixture(scope="module", autouse=True)
def standin_proofs() -> object:
    """The binding stand-in for batch proofs (``tests.node.standin``) for a module's tests."""
    if not standin.enabled():
        yield None
        return
    with pytest.MonkeyPatch.context() as mp:
        standin.install(mp.setattr)
        yield mp


@pytest.fixture(scope="module")
def funded_template(tmp_path_factory: pytest.TempPathFactory, standin_proofs: object) -> Path:
    """A rollup directory: accounts 0 and 1 with 1,000 USD each (batch 0 sealed, not proven)."""
    root = tmp_path_factory.mktemp("node")
    rng = random.Random(11)
    node = Rollup.init(root / "r", keys_root=root / "keys", rng=rng, max_pending_seconds=3600,
                       **SHAPE)  # fmt: skip
    for _ in range(2):
        index, _ = node.new_account(rng)
        node.deposit(index, amount_to_quanta("1000"))
    assert node.seal().number == 0
    node.close()
    return root / "r"


@pytest.fixture
def rollup_dir(funded_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the funded rollup directory."""
    d = tmp_path / "r"
    shutil.copytree(funded_template, d)
    return d


class RunningNode:
    """``zkr node --port 0`` on a directory; ``url`` once it listens, ``stop()`` sends SIGTERM."""

    def __init__(self, d: Path, *args: object) -> None:
        self.process = subprocess.Popen(
            zkr_command("node", "--dir", d, "--port", 0, *args), cwd=REPO, env=child_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        assert self.process.stderr is not None
        self.url = ""
        deadline = time.monotonic() + 120
        while not self.url and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.lines.append(line.strip())
            m = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
            if m:
                self.url = m.group(1)
        assert self.url, self.lines
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.process.stderr))
        self._reader.start()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self._reader.join()
        return code
