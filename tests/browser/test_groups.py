"""/groups in a real browser: changing groups re-renders the live part in place (the URL follows, the
graph's edges change), the groups choices follow the channel counts, keyboard only, no JavaScript,
accessibility, screenshots.

Expected edge counts are C_out · C_in / groups, from the definition of a grouped conv.
"""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import WCAG, query

SMALL = "/groups?framework=torch&type=Conv2d&in_channels=4&out_channels=8&kernel_size=3&padding=1&groups=2" \
        "&input_shape=1,4,8,8"
SEPARABLE = "/groups?framework=keras&type=SeparableConv2D&filters=32&kernel_size=3&padding=same" \
            "&depth_multiplier=1&input_shape=10,16,16,32"


def edges(page) -> int:
    """Edges drawn in the graph: one 'M…L…' segment each, counted in the SVG itself."""
    return page.evaluate("""[...document.querySelectorAll('#live .graph .edge')]
        .reduce((n, p) => n + (p.getAttribute('d').match(/M/g) || []).length, 0)""")


def hx_answer(fragment: str):
    return lambda r: fragment in r.url and r.request.headers.get("hx-request") == "true"


def tab_to(page, selector: str, limit: int = 60):
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_changing_groups_rerenders_in_place_and_the_url_follows(page, live_server, problems, shot):
    page.goto(live_server + SMALL)
    assert edges(page) == 8 * 4 // 2
    page.evaluate("window.__kept = 42; document.querySelector('#live').dataset.old = '1'")
    groups = page.get_by_label("groups", exact=True)
    with page.expect_response(hx_answer("groups=4")):
        groups.select_option("4")
    expect(page.locator("#live[data-old]")).to_have_count(0)             # the live part was replaced ...
    expect(page.locator("#live .graph")).to_have_attribute("data-edge-count", "8")
    assert edges(page) == 8 * 4 // 4                                     # depthwise: one input per output
    assert page.evaluate("window.__kept") == 42                           # ... without a navigation
    assert query(page)["groups"] == "4" and query(page)["in_channels"] == "4"
    expect(page.locator("#groups-table tr.current")).to_have_attribute("data-groups", "4")
    expect(page.locator("#live .reads")).to_contain_text("in_channels/groups = 4/4 = 1 input channel")
    shot("groups-depthwise")

    with page.expect_response(hx_answer("groups=1")):
        groups.select_option("1")
    expect(page.locator("#live .graph")).to_have_attribute("data-edge-count", "32")
    assert edges(page) == 8 * 4
    shot("groups-1")

    # 4 → 6 input channels: the select's choices follow gcd(6, 8) = 2
    channels = page.get_by_label("in_channels", exact=True)
    channels.focus()
    with page.expect_response(hx_answer("channels=6")):
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
    expect(page.locator("#channels-value")).to_have_text("6")
    expect(page.locator("#groups option")).to_have_text(["1 (standard conv)", "2"])
    expect(page.locator("#groups-hint")).to_have_text("divisors of gcd(6, 8)")
    with page.expect_response(hx_answer("groups=2")):
        groups.select_option("2")
    expect(page.locator("#live .graph")).to_have_attribute("data-edge-count", "24")
    assert edges(page) == 8 * 6 // 2 and query(page)["input_shape"] == "1,6,8,8"
    assert page.evaluate("window.__kept") == 42


def test_groups_that_stop_dividing_are_explained_in_place(page, live_server, problems):
    page.goto(live_server + SMALL.replace("groups=2", "groups=4"))
    page.evaluate("window.__kept = 1")
    channels = page.get_by_label("in_channels", exact=True)
    channels.focus()
    with page.expect_response(hx_answer("channels=5")) as answer:
        page.keyboard.press("ArrowRight")  # 5 input channels: groups=4 divides neither 5 nor gcd(5, 8) = 1
    assert answer.value.status == 200
    alert = page.locator("#live [role=alert]")
    expect(alert).to_contain_text("in_channels must be divisible by groups")
    expect(alert).to_contain_text("Valid choices: groups=1")
    expect(page.locator("#live .graph")).to_have_count(0)
    expect(page.locator("#groups option")).to_have_text(["1 (standard conv)", "4 (does not divide both)"])
    with page.expect_response(hx_answer("groups=1")):
        page.get_by_label("groups", exact=True).select_option("1")
    expect(alert).to_have_count(0)
    assert edges(page) == 8 * 5 and page.evaluate("window.__kept") == 1


def test_keyboard_only(page, live_server, problems):
    page.goto(live_server + SMALL)
    tab_to(page, "#groups")
    with page.expect_response(hx_answer("groups=4")):
        page.keyboard.press("ArrowDown")  # 2 → 4 on a closed select
    expect(page.locator("#live .graph")).to_have_attribute("data-edge-count", "8")
    expect(page.locator("#groups")).to_be_focused()  # the select was swapped out of band: htmx keeps focus
    with page.expect_response(hx_answer("groups=1")):
        page.keyboard.press("Home")
    expect(page.locator("#live .graph")).to_have_attribute("data-edge-count", "32")
    tab_to(page, "#bias")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.id") == "kernel_size"
    with page.expect_response(hx_answer("kernel_size=2")):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#live code.weight-shape").first).to_have_text("[8, 4, 2, 2]")
    tab_to(page, "#groups-table tr[data-groups='2'] a")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"groups=2"))
    expect(page.locator("#groups-table tr.current")).to_have_attribute("data-groups", "2")
    page.keyboard.press("Tab")
    tab_to(page, "a[href*='type=separable']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"type=separable"))
    expect(page.locator("#stages-table")).to_be_visible()


def test_form_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + SMALL)
    page.get_by_label("groups", exact=True).select_option("4")
    page.get_by_role("button", name="Update").click()  # a plain GET
    page.wait_for_url(re.compile(r"groups=4"))
    assert page.locator("#live .graph").get_attribute("data-edge-count") == "8"
    context.close()


@pytest.mark.parametrize("url", [SMALL, SEPARABLE, SMALL.replace("groups=2", "groups=3")])
def test_no_wcag22_violations(page, live_server, problems, url):
    page.goto(live_server + url)
    results = Axe().run(page, options=WCAG)
    ran = {r["id"] for kind in ("passes", "violations", "incomplete", "inapplicable") for r in results.response[kind]}
    assert "target-size" in ran and "color-contrast" in ran and "svg-img-alt" in ran
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("name, url", [
    ("groups-middle", ("/groups?framework=torch&type=Conv2d&in_channels=12&out_channels=12&kernel_size=3&padding=1"
                      "&groups=3&input_shape=1,12,8,8")),
    ("groups-separable", SEPARABLE),
    ("groups-separable-small", ("/groups?framework=torch&type=separable&in_channels=4&out_channels=6&kernel_size=3"
                               "&padding=1&depth_multiplier=2&input_shape=1,4,8,8")),
])
def test_screenshots(page, live_server, problems, shot, name, url):
    page.goto(live_server + url)
    expect(page.locator("#live .graph")).to_be_visible()
    assert shot(name).stat().st_size > 10_000
