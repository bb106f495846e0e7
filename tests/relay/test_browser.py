"""End to end in a real browser: examples/relay/ in headless Chromium, reloaded mid-answer.

Debian's ``chromium`` (installed by ``scripts/system-deps.sh``, which ``make test`` and
``.ci/run`` call) driven by Playwright with its executable path set to that binary; no
browser is downloaded. Outside CI, a machine without Chromium skips this test; under
``CI=true`` it fails instead.
"""

from __future__ import annotations

import shutil
import tempfile

import httpx
import pytest
from _relay_util import ON_CI, ROOT, decode_native
from test_workers import relay_process

import sluice

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / ".artifacts"


@pytest.fixture
def chromium() -> str:
    """Debian's chromium binary (skipped without it, except under CI)."""
    if CHROMIUM is None:
        if ON_CI:
            pytest.fail("chromium is not installed: scripts/system-deps.sh should have done it")
        pytest.skip("no chromium on this machine (apt-get install chromium, or make test)")
    return CHROMIUM


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_reload_mid_answer_ends_complete_and_not_duplicated(chromium: str, backend: str) -> None:
    """Start a chat, reload while it streams: the painted answer equals the relay's, once."""
    from playwright.sync_api import sync_playwright

    static = str(ROOT / "examples" / "relay")
    with (
        relay_process(
            "--mock", "--mock-delay", "0.05", "--backend", backend, "--static", static
        ) as url,
        tempfile.TemporaryDirectory() as profile,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium, args=FLAGS, headless=True
        )
        try:
            page = browser.pages[0] if browser.pages else browser.new_page()
            page.goto(url)
            page.fill("#prompt", "Tell me about rivers, please")
            page.click("#send")
            page.wait_for_function("document.getElementById('answer').textContent.length > 80")
            assert page.get_attribute("#status", "data-state") == "streaming"
            before = page.text_content("#answer") or ""
            page.reload()
            page.wait_for_selector("#status[data-state=done]", timeout=30_000)
            painted = page.text_content("#answer") or ""
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"relay-browser-{backend}.png"), full_page=True)
            chat = page.evaluate("JSON.parse(sessionStorage.getItem('sluice-relay-chat')).id")
        finally:
            browser.close()
        body = httpx.get(f"{url}/chats/{chat}/stream", timeout=10).content
    events = decode_native(body)
    text = "".join(
        e.delta.text
        for e in events
        if isinstance(e, sluice.ContentBlockDelta) and isinstance(e.delta, sluice.TextDelta)
    )
    assert painted == text
    assert painted.startswith("You asked: Tell me about rivers, please")
    assert len(before) < len(painted) and painted.startswith(before)
    assert painted.count("Rivers do not hurry") == 1
