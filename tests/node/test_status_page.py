"""The node's status page in a real headless browser (Debian's chromium driven by Playwright):
it shows the batches, both roots, the divergence chart, the insurance fund and the number of
option series, and says so when the node is gone. Skips with a one-line reason where no browser
is installed."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from rollup.node.client import NodeClient
from rollup.node.keystore import Keystore
from rollup.node.units import usd_to_value
from tests.node.conftest import RunningNode

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium: apt-get install -y chromium (what .ci/run does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield b
        b.close()


def test_status_page_shows_the_rollup(browser, rollup_dir: Path, tmp_path: Path) -> None:
    node = RunningNode(rollup_dir, "--batch-seconds", 1)
    try:
        client, keys = NodeClient(node.url), Keystore(rollup_dir)
        for k in range(3):
            client.transfer(keys.key(k % 2), k % 2, 1 - k % 2, usd_to_value("1"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the third is sealed by time; all settle once proven
            status = client.status()
            if status["head_batch"] == 3 and status["settled_batches"] == 3:
                break
            time.sleep(0.2)
        page = browser.new_page()
        page.goto(node.url + "/")
        page.wait_for_function(
            f"document.getElementById('head-batch').textContent === '{status['head_batch']}'"
        )
        page.wait_for_function(
            f"document.getElementById('settled-root').textContent === '{status['settled_root']}'"
        )
        assert page.text_content("#insurance").startswith("0")  # no fee was charged yet
        assert page.text_content("#series") == "0"
        assert page.text_content("#state") == "running"
        rows = page.locator("#batches tr")
        assert rows.count() == status["head_batch"]
        assert page.get_attribute("#line-sealed", "points").count(",") >= 2
        shot = Path(os.environ.get("ZKR_SCREENSHOT", tmp_path / "status.png"))
        page.screenshot(path=str(shot), full_page=True)
        code = node.stop()
        page.wait_for_function("document.getElementById('state').textContent.startsWith('unre')")
        assert code == 0  # negative twin: the page says the node is gone
    finally:
        if node.process.poll() is None:
            node.stop()
