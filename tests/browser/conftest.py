"""Playwright drives Debian's Chromium (Playwright cannot download its own browsers here).

Every page records console errors, page errors, failed responses and CSP violations; a test
that ends with any of them fails.
"""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

# a loaded CI machine parses plotly (~500 KB) and fetches a figure's data in more than Playwright's 5 s default
expect.set_options(timeout=10_000)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():  # a missing browser is a failure, never a skip
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def watch(page, seen: list) -> None:
    """Record into seen the page's console errors, uncaught errors, HTTP errors and (read at the end
    from window.__csp) CSP violations."""
    page.on("console", lambda m: m.type == "error" and seen.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    page.on("response", lambda r: r.status >= 400 and seen.append(f"HTTP {r.status} {r.url}"))
    page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                         " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


@pytest.fixture
def problems(page):
    """Console errors, uncaught errors, HTTP errors and CSP violations seen by the page."""
    seen = []
    watch(page, seen)
    yield seen
    try:
        seen.extend(f"CSP: {v}" for v in page.evaluate("window.__csp || []"))
    except Exception:  # the page may be closed already
        pass
    assert seen == []


@pytest.fixture
def shot(page):
    """Save a full-page screenshot under screenshots/ (looked at by people, not compared)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take


@pytest.fixture
def context_page(browser):
    """open(**context options) -> a page in a fresh context; the same problems as conftest's
    `problems` fixture (console and page errors, HTTP errors, CSP violations) fail the test."""
    seen, contexts = [], []

    def open_page(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        watch(page, seen)
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            seen.extend(f"CSP: {v}" for v in page.evaluate("window.__csp || []"))
        context.close()
    assert seen == []
