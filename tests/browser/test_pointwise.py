"""/pointwise in a real browser: controls re-render the live part in place, the player runs from the
fragment's data with no request per frame (and a visible pause), ?step=n, keyboard only, reduced
motion, accessibility, screenshots.

Expected numbers come from the definitions (the output keeps the positions; a 1×1 conv reads the
column at position t) or from the server's own rendering of ?step=n, never from the page's script.
"""
import html
import re
import urllib.request

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import WCAG, label, output_shape, query, tab_to, within

SMALL = "/pointwise?framework=torch&type=Conv1d&in_channels=4&out_channels=3&kernel_size=1&input_shape=1,4,6"
Q1 = "/pointwise?framework=keras&type=Conv1D&filters=64&kernel_size=1&activation=relu&input_shape=2,10,100"


def ready(page):
    """The page's script has run: three heatmaps drawn, one input and one output column lit (plotly
    loads as the figures come near the viewport, so they are scrolled to first)."""
    expect(page.locator("#live .plot")).to_have_count(3)
    page.locator("#live .plot").last.scroll_into_view_if_needed()
    expect(page.locator("#live .plot[data-rendered]")).to_have_count(3)
    expect(page.locator("#x-table thead th.lit")).to_have_count(1)
    expect(page.locator("#y-table thead th.lit")).to_have_count(1)


def position(page) -> int:
    return int(re.match(r"t = (\d+)", label(page)).group(1))


def lit_column(page, table: str) -> set[str]:
    return set(page.eval_on_selector_all(f"#{table} tbody td.lit", "els => els.map(e => e.id)"))


def arithmetic_text(page) -> str:
    return re.sub(r"\s+", " ", " | ".join([page.locator("#arith-title").inner_text(),
                                           *page.locator("#arith-lines li").all_inner_texts()])).strip()


def server_arithmetic(live_server, url) -> str:
    """The same text as the server renders it, before any script runs."""
    body = urllib.request.urlopen(live_server + url).read().decode()
    strip = lambda frag: re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", frag))).strip()
    head = re.search(r'<h3 id="arith-title">(.*?)</h3>', body, re.DOTALL).group(1)
    lines = re.findall(r"<li>(.*?)</li>", re.search(r'<ol id="arith-lines">(.*?)</ol>', body, re.DOTALL).group(1),
                       re.DOTALL)
    return " | ".join(strip(t) for t in [head, *lines])


# ---------------------------------------------------------------- controls, htmx, URL

def test_controls_rerender_the_live_part_and_the_url_follows(page, live_server, problems, shot):
    page.goto(live_server + SMALL)
    ready(page)
    assert output_shape(page) == [1, 3, 6]
    page.evaluate("window.__kept = 42; document.querySelector('#live').dataset.old = '1'")
    filters = page.get_by_label("out_channels", exact=True)
    with page.expect_response(lambda r: "filters=5" in r.url and r.request.headers.get("hx-request") == "true"):
        filters.fill("5")
    expect(page.locator("#live[data-old]")).to_have_count(0)  # the live part was replaced ...
    assert page.evaluate("window.__kept") == 42                # ... without a navigation
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 5, 6]")
    expect(page.locator("#arith-lines li")).to_have_count(5)   # one line per output channel
    q = query(page)
    assert q["out_channels"] == "5" and q["input_shape"] == "1,4,6" and q["type"] == "Conv1d"  # PyTorch words
    ready(page)

    positions = page.get_by_label("Positions (length)", exact=True)
    positions.focus()
    with page.expect_response(lambda r: "positions=7" in r.url):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#positions-value")).to_have_text("7")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 5, 7]")
    expect(page.locator("#step-label")).to_have_text("t = 0 of 0–6")
    expect(positions).to_be_focused()  # the form is outside the swapped part: focus stays put
    assert query(page)["input_shape"] == "1,4,7" and page.evaluate("window.__kept") == 42

    with page.expect_response(lambda r: "activation=relu" in r.url):
        page.get_by_label("Then activation", exact=True).select_option("relu")
    expect(page.locator("#arith-title")).to_have_text("Position 0: y[:, 0] = relu(W · x[:, 0] + b)")
    assert query(page)["activation"] == "relu"
    # the framework link outside the live part follows the state: the same layer in Keras' words
    page.get_by_role("navigation", name="Framework").get_by_role("link", name="Keras").click()
    page.wait_for_url(re.compile("framework=keras"))
    ready(page)
    assert output_shape(page) == [1, 7, 5]  # (N, L, filters)
    assert query(page)["filters"] == "5" and query(page)["activation"] == "relu"
    expect(page.get_by_label("filters", exact=True)).to_have_value("5")
    shot("pointwise-keras-after-controls")


def test_form_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + SMALL)
    page.get_by_label("out_channels", exact=True).fill("2")
    page.get_by_role("button", name="Update").click()  # a plain GET
    page.wait_for_url(re.compile(r"filters=2"))
    assert output_shape(page) == [1, 2, 6]
    page.get_by_role("link", name="Forward ▶").click()  # the step links are plain links too
    page.wait_for_url(re.compile(r"step=1"))
    assert label(page) == "t = 1 of 0–5"
    context.close()


# ---------------------------------------------------------------- the player

def test_play_pause_step_scrub_and_speed_send_no_requests(page, live_server, problems):
    page.goto(live_server + SMALL)
    ready(page)
    sent = []
    page.on("request", lambda r: sent.append(r.url))
    expect(page.locator("#step-label")).to_have_text("t = 0 of 0–5")
    expect(page.locator("#play-state")).to_have_text("Paused")

    page.get_by_role("link", name="Forward ▶").click()
    expect(page.locator("#step-label")).to_have_text("t = 1 of 0–5")
    assert lit_column(page, "x-table") == {f"x-{c * 6 + 1}" for c in range(4)}  # channel c, position 1
    assert lit_column(page, "y-table") == {f"y-{o * 6 + 1}" for o in range(3)}
    page.get_by_role("link", name="◀ Back").click()
    page.get_by_role("link", name="◀ Back").click()  # wraps round
    expect(page.locator("#step-label")).to_have_text("t = 5 of 0–5")
    expect(page.locator("#x-table-col-5")).to_have_class(re.compile(r"\blit\b"))
    page.wait_for_function("[...document.querySelectorAll('.plot[data-column]')]"
                           ".every(el => el.layout.shapes[0].x0 === 4.5)")  # both heatmaps outline t = 5

    scrub = page.get_by_label("Position", exact=True)
    scrub.focus()
    page.keyboard.press("Home")
    expect(page.locator("#step-label")).to_have_text("t = 0 of 0–5")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#step-label")).to_have_text("t = 3 of 0–5")
    expect(page.locator("#arith-title")).to_have_text("Position 3: y[:, 3] = W · x[:, 3] + b")

    play = page.locator("#play")
    page.get_by_label("Speed", exact=True).select_option("1")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(play).to_have_text(re.compile("Pause"))
    expect(page.locator("#play-state")).to_have_text("Playing")
    page.wait_for_timeout(1500)
    slow = (position(page) - 3) % 6
    assert 1 <= slow <= 2, label(page)  # 1 position/s for 1.5 s
    page.get_by_label("Speed", exact=True).select_option("5")
    start = position(page)
    assert within(page, 1.0, lambda: (position(page) - start) % 6 >= 3), (start, label(page))
    # 5 positions/s: at least 3 within 1 s (mod 6), and the play goes on
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    expect(play).to_have_text(re.compile("Play"))
    expect(page.locator("#play-state")).to_have_text("Paused")  # the pause is visible, not only announced
    paused = label(page)
    page.wait_for_timeout(800)
    assert label(page) == paused
    assert sent == []  # every frame came from the fragment's data


@pytest.mark.parametrize("url, step", [
    (SMALL + "&activation=relu", 4),
    (SMALL.replace("in_channels=4", "in_channels=12").replace("1,4,6", "1,12,6") + "&activation=tanh&bias=false",
     5),
    (Q1, 7),  # 100 channels: eight products written out, the other 92 as one sum
])
def test_step_in_the_url_and_the_browsers_arithmetic_match_the_server(page, live_server, problems, url, step):
    page.goto(live_server + f"{url}&step={step}")
    ready(page)
    L = int(re.search(r"input_shape=\d+,(\d+),(\d+)", url).group(2 if "torch" in url else 1))
    expect(page.locator("#step-label")).to_have_text(f"t = {step} of 0–{L - 1}")
    expect(page.locator("#scrub")).to_have_value(str(step))
    expect(page.locator(f"#y-table-col-{step}")).to_have_class(re.compile(r"\blit\b"))
    on_server = server_arithmetic(live_server, f"{url}&step={step}")
    assert arithmetic_text(page) == on_server
    # walk there from position 0 in the browser: the script writes the same arithmetic
    page.goto(live_server + url)
    ready(page)
    assert arithmetic_text(page) == server_arithmetic(live_server, url)
    for _ in range(step):
        page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_have_text(f"t = {step} of 0–{L - 1}")
    assert arithmetic_text(page) == on_server
    assert query(page)["step"] == str(step)  # the address names the position shown
    conv = page.locator("#dense-table td[id^=conv-]").all_inner_texts()
    assert conv == page.locator("#dense-table td[id^=dense-]").all_inner_texts()  # side by side, equal
    assert conv == [page.locator(f"#y-{o * L + step}").inner_text() for o in range(len(conv))]


def test_clicking_a_column_moves_there(page, live_server, problems):
    page.goto(live_server + SMALL)
    ready(page)
    page.locator("#x-13").click()  # channel 2, position 1 (13 = 2·6 + 1)
    expect(page.locator("#step-label")).to_have_text("t = 1 of 0–5")
    page.locator("#y-table-col-4").click()
    expect(page.locator("#step-label")).to_have_text("t = 4 of 0–5")


# ---------------------------------------------------------------- keyboard, reduced motion

def test_keyboard_only(page, live_server, problems):
    page.goto(live_server + SMALL)
    ready(page)
    tab_to(page, "positions")
    with page.expect_response(lambda r: "positions=5" in r.url):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 3, 5]")
    tab_to(page, "activation")
    with page.expect_response(lambda r: "activation=relu" in r.url):
        page.keyboard.press("ArrowDown")  # none → nn.ReLU()
    page.wait_for_url(re.compile("activation=relu"))  # HX-Replace-Url, after the swap: step the new fragment
    tab_to(page, "step-forward")
    page.keyboard.press("Enter")
    expect(page.locator("#step-label")).to_have_text("t = 1 of 0–4")
    page.keyboard.press("Shift+Tab")  # to Play
    assert page.evaluate("document.activeElement.id") == "play"
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#play-state")).to_have_text("Paused")
    tab_to(page, "scrub")
    page.keyboard.press("End")
    expect(page.locator("#step-label")).to_have_text("t = 4 of 0–4")
    tab_to(page, "speed")
    page.keyboard.press("ArrowUp")  # 2 → 1 position/s
    assert page.locator("#speed").input_value() == "1"
    tab_to(page, "code-torch")  # the code is reachable and scrollable by keyboard


def test_reduced_motion_never_plays_by_itself(page, live_server, problems):
    page.emulate_media(reduced_motion="reduce")
    page.goto(live_server + SMALL + "&step=3")
    ready(page)
    before = label(page)
    page.wait_for_timeout(1500)
    assert label(page) == before == "t = 3 of 0–5"
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#play-state")).to_have_text("Paused")
    assert page.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")


# ---------------------------------------------------------------- accessibility, screenshots

@pytest.mark.parametrize("url", [SMALL + "&activation=relu", Q1, Q1.replace("framework=keras", "framework=torch")
                                 .replace("Conv1D&filters=64", "Conv1d&in_channels=100&out_channels=64")
                                 .replace("2,10,100", "2,100,10")])
def test_no_wcag22_violations(page, live_server, problems, url):
    page.goto(live_server + url)
    ready(page)
    results = Axe().run(page, options=WCAG)
    ran = {r["id"] for kind in ("passes", "violations", "incomplete", "inapplicable") for r in results.response[kind]}
    assert "target-size" in ran and "color-contrast" in ran
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("name, url", [
    ("pointwise-small", SMALL + "&activation=relu&step=2"),
    ("pointwise-q1-keras", Q1 + "&step=3"),
])
def test_screenshots(page, live_server, problems, shot, name, url):
    page.goto(live_server + url)
    ready(page)
    assert shot(name).stat().st_size > 10_000
