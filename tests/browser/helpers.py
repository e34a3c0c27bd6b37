"""What the browser tests of every view share."""
import json
import time
from urllib.parse import parse_qs, urlsplit

# axe-core: WCAG 2.2 AA, plus target-size (not in axe's default tags)
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
        "rules": {"target-size": {"enabled": True}}}


def output_shape(page):
    """The shape the page states, from the element that carries data-output-shape."""
    return json.loads(page.locator("[data-output-shape]").get_attribute("data-output-shape"))


def here(page) -> str:
    """The document's own address, read in the page: page.url follows history.replaceState by an event that can
    arrive after the click that called it has returned (a flaky read under load)."""
    return page.evaluate("location.href")


def query(page) -> dict:
    """The page's URL query, one value per key."""
    return {k: v[0] for k, v in parse_qs(urlsplit(here(page)).query).items()}


def label(page) -> str:
    """The player's step label."""
    return page.locator("#step-label").inner_text()


def tab_to(page, element_id: str, limit: int = 120):
    """Press Tab until the element with this id has the focus (keyboard-only tests)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id}")


def within(page, seconds: float, condition) -> bool:
    """Whether condition() is true at some point within `seconds` (polled, and checked once more when they have
    passed): "at least n steps in s seconds" holds as soon as n steps are seen, with no fixed sleep."""
    deadline = time.monotonic() + seconds
    while True:
        late = time.monotonic() >= deadline
        if condition():
            return True
        if late:
            return False
        page.wait_for_timeout(25)
