"""A proving worker dies with the process that started it (``pipeline.die_with_parent``): a
``kill -9`` of the node used to leave its spawned workers running for good."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.node.conftest import REPO, child_env

PARENT = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from rollup.node.pipeline import die_with_parent

init = die_with_parent if sys.argv[1] == "guarded" else None
args = (os.getpid(),) if init else ()
with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=init, initargs=args) as p:
    print(p.submit(os.getpid).result(), flush=True)
    time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is dead
        return f.read().split(") ")[1][0] != "Z"


def _orphan_after_kill(mode: str, wait: float) -> tuple[int, bool]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, mode], cwd=REPO, env=child_env(),
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    worker = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.1)
    alive = _alive(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)
    return worker, alive


def test_a_worker_ends_when_its_parent_is_killed() -> None:
    _, alive = _orphan_after_kill("guarded", 10.0)
    assert not alive
    _, alive = _orphan_after_kill("bare", 2.0)  # twin: without it, the worker outlives the parent
    assert alive
