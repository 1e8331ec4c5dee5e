"""Fixtures for browser journeys in real Chromium through Playwright's sync API.

Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``), so
journeys of every app share one browser. Tests marked ``browser`` are skipped
when Debian's Chromium is missing, unless ``REQUIRE_SERVICES=1`` (CI installs
it), which turns that into a failure.
"""

import os
from pathlib import Path

import pytest

from incidentops.env import BASE_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = BASE_DIR / "test-artifacts"
PASSWORD = "pass-word-123"  # tests.factories.UserFactory's password


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser") and not CHROMIUM.exists():
        reason = "needs Chromium at /usr/bin/chromium"
        if os.environ.get("REQUIRE_SERVICES", "") not in ("", "0", "false"):
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("needs Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django would
    # refuse database access from it without this (checked on every access).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_session(browser, live_server):
    """``open_session(user)``: a logged-in page in a fresh browser context."""
    contexts = []

    def login(user, *, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield login
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """``screenshot(page, name)``: a full-page PNG under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
