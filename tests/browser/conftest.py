"""Playwright drives Debian's Chromium (Playwright cannot download its own browsers here).

Every page records console errors, page errors, failed responses and CSP violations; a test
that ends with any of them fails.

Pages are lent from a pool (`_page_pool`): a fresh context and page cost ~0.5-0.7 s (the context, a renderer
process, an empty cache), ~700 times a run. A page goes back to the pool reset to what a fresh one is (see
`_Lent.reset`), or, where a test did something the reset cannot undo, its context is closed.
"""
import json
import os
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlsplit

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
    if not getattr(page, "_csp_recorded", False):  # a pooled page has it from its start
        page.add_init_script(CSP_RECORDER)


CSP_RECORDER = ("window.__csp = []; document.addEventListener('securitypolicyviolation',"
                " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


# calls after which a pooled page's context is closed instead of reset (their effect outlives a navigation)
PAGE_CALLS_THAT_STICK = ("add_init_script", "route", "route_from_har", "route_web_socket", "expose_function",
                         "expose_binding", "set_extra_http_headers", "emulate_media", "set_viewport_size",
                         "add_locator_handler", "set_default_timeout", "set_default_navigation_timeout", "pause")
CONTEXT_CALLS_THAT_STICK = ("add_init_script", "route", "route_from_har", "route_web_socket", "expose_function",
                            "expose_binding", "set_extra_http_headers", "grant_permissions", "set_geolocation",
                            "set_offline", "new_page", "new_cdp_session", "set_default_timeout",
                            "set_default_navigation_timeout", "add_cookies", "set_storage_state")
POOL_SIZE = 8  # idle pages kept (the least recently used is closed)


class _Lent:
    """One pooled context and its page. Between tests the page is reset to what a fresh one shows: listeners the
    test added removed, session storage cleared in its frames, navigated to about:blank, the mouse back at (0, 0),
    the storage of every origin it visited (local storage, IndexedDB, cache storage, service workers), its cookies
    and the HTTP cache cleared (the app keeps nothing in session storage). Anything else a test changes (routes, init scripts, emulation, viewport, more pages, a
    closed or crashed page, a failed test) closes the context instead."""

    def __init__(self, browser, options: dict, key: str):
        self.key = key
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.cdp = self.context.new_cdp_session(self.page)
        self.origins: set[str] = set()
        self.sticky = False
        self.page.on("framenavigated", self._visited)
        self.page.on("crash", self._stick)
        self.page.add_init_script(CSP_RECORDER)
        self.page._csp_recorded = True
        self.own = {"page": self._listeners(self.page), "context": self._listeners(self.context)}
        for target, names in ((self.page, PAGE_CALLS_THAT_STICK), (self.context, CONTEXT_CALLS_THAT_STICK)):
            for name in names:
                if hasattr(target, name):
                    setattr(target, name, self._sticking(getattr(target, name)))

    def _visited(self, frame):
        parts = urlsplit(frame.url)
        if parts.scheme in ("http", "https"):
            self.origins.add(f"{parts.scheme}://{parts.netloc}")

    def _stick(self, *_):
        self.sticky = True

    def _sticking(self, method):
        def call(*args, **kwargs):
            self.sticky = True
            return method(*args, **kwargs)
        return call

    @staticmethod
    def _listeners(target) -> dict:
        emitter = target._impl_obj
        return {event: list(emitter.listeners(event)) for event in list(emitter.event_names())}

    def _drop_test_listeners(self):
        for name, target in (("page", self.page), ("context", self.context)):
            emitter, own = target._impl_obj, self.own[name]
            for event, listeners in self._listeners(target).items():
                for listener in listeners:
                    if listener not in own.get(event, ()):
                        emitter.remove_listener(event, listener)

    def reset(self) -> bool:
        """Make the page what a fresh context's page is; False when that cannot be promised."""
        if self.sticky or self.page.is_closed() or self.context.pages != [self.page]:
            return False
        try:
            self._drop_test_listeners()
            for frame in self.page.frames:  # session storage is the tab's: cleared in each frame's origin
                frame.evaluate("() => { try { sessionStorage.clear() } catch (e) {} }")
            self.page.goto("about:blank", timeout=10_000)
            self.page.mouse.move(0, 0)
            for origin in self.origins:
                self.cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
            self.origins.clear()
            self.cdp.send("Network.clearBrowserCache")
            self.context.clear_cookies()
        except Exception:
            return False
        return not self.sticky and self.context.pages == [self.page]

    def close(self):
        try:
            self.context.close()
        except Exception:  # the browser may be gone already
            pass


@pytest.fixture(scope="session")
def _page_pool(browser):
    """(lend, give): lend(context options) -> a _Lent, idle with those options or new; give(lent, clean) takes it
    back, reset, or closes it when it is not clean (a failed test, problems seen) or cannot be reset."""
    idle: OrderedDict[int, _Lent] = OrderedDict()  # least recently given back first

    def lend(options: dict) -> _Lent:
        key = json.dumps(options, sort_keys=True, default=str)
        for slot, lent in idle.items():
            if lent.key == key:
                del idle[slot]
                return lent
        return _Lent(browser, options, key)

    def give(lent: _Lent, clean: bool):
        if not (clean and lent.reset()):
            lent.close()
            return
        idle[id(lent)] = lent
        while len(idle) > POOL_SIZE:
            idle.popitem(last=False)[1].close()

    yield lend, give
    for lent in idle.values():
        lent.close()


def _passed(request) -> bool:
    return all(getattr(request.node, f"_browser_{when}_passed", True) for when in ("setup", "call"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"_browser_{report.when}_passed", report.passed)
    return report


@pytest.fixture
def page(_page_pool, browser_context_args, request):
    """pytest-playwright's page (a context made with browser_context_args), lent from the pool."""
    lend, give = _page_pool
    marker = next(request.node.iter_markers("browser_context_args"), None)
    lent = lend({**browser_context_args, **(marker.kwargs if marker else {})})
    yield lent.page
    give(lent, _passed(request))


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
def context_page(_page_pool, request):
    """open(**context options) -> a page in a context of its own made with those options (lent from the pool:
    see _Lent); the same problems as conftest's `problems` fixture (console and page errors, HTTP errors, CSP
    violations) fail the test."""
    lend, give = _page_pool
    seen, lent = [], []

    def open_page(**options):
        lent.append(lend(options))
        watch(lent[-1].page, seen)
        return lent[-1].page

    yield open_page
    try:
        for one in lent:
            for page in one.context.pages:
                seen.extend(f"CSP: {v}" for v in page.evaluate("window.__csp || []"))
    finally:
        for one in lent:
            give(one, _passed(request) and not seen)
    assert seen == []
