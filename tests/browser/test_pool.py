"""/pool in a real browser: controls re-render the live part in place and the URL follows, the player
runs from the fragment's data with no request per frame, keyboard only, reduced motion and embed
autoplay, the window and its maximum marked, accessibility, screenshots.

Expected numbers come from the frameworks' output-size formulas or are recomputed here from the grid
(window of output o = o·stride − pad + tap), never read back from the page's own script.
"""
import html
import re
import urllib.request

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import WCAG, label, output_shape, query, tab_to

TORCH_1D = "/pool?framework=torch&type=MaxPool1d&kernel_size=2&input_shape=1,2,9"
AVG_1D = "/pool?framework=torch&type=AvgPool1d&kernel_size=3&stride=2&padding=1&count_include_pad=false&input_shape=1,2,8"
MAX_2D = "/pool?framework=torch&type=MaxPool2d&kernel_size=3&stride=2&padding=1&input_shape=1,2,7,7"
KERAS_SAME = "/pool?framework=keras&type=AveragePooling2D&pool_size=2&padding=same&input_shape=1,5,5,2"
CEIL = "/pool?framework=torch&type=MaxPool1d&kernel_size=2&ceil_mode=true&input_shape=1,2,7"
MINUS = "\u2212"


def ready(page, channels: int = 2):
    """The page's script has run: every channel shows its current output and the figure is drawn
    (plotly loads as the figure comes near the viewport, so it is scrolled to first)."""
    more = page.locator(".embed-more > summary")  # an embed keeps its figures in a disclosure under the stage
    if more.count() and more.is_visible():
        more.click()
    if page.locator("#live .plot").is_visible() or more.count() == 0:
        page.locator("#live .plot").scroll_into_view_if_needed()
        expect(page.locator("#live .plot[data-rendered]")).to_have_count(1)
    expect(page.locator("#live .grid td.current")).to_have_count(channels)


def arithmetic_text(page) -> str:
    return re.sub(r"\s+", " ", " | ".join([page.locator("#arith-title").inner_text(),
                                           *page.locator("#arith-lines li").all_inner_texts(),
                                           page.locator("#arith-why").inner_text()])).strip()


def server_arithmetic(live_server, url) -> str:
    """The same text as the server renders it, before any script runs."""
    body = urllib.request.urlopen(live_server + url).read().decode()
    strip = lambda frag: re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", frag))).strip()
    head = re.search(r'<h3 id="arith-title">(.*?)</h3>', body, re.DOTALL).group(1)
    lines = re.findall(r"<li>(.*?)</li>", re.search(r'<ol id="arith-lines">(.*?)</ol>', body, re.DOTALL).group(1),
                       re.DOTALL)
    why = re.search(r'<p id="arith-why">(.*?)</p>', body, re.DOTALL).group(1)
    return " | ".join(strip(t) for t in [head, *lines, why])


def ids(page, selector: str) -> set[str]:
    return set(page.eval_on_selector_all(selector, "els => els.map(e => e.id)"))


def num(text: str) -> float:
    return float(text.replace(MINUS, "-"))


# ---------------------------------------------------------------- controls, htmx, URL

def test_controls_rerender_the_live_part_and_the_url_follows(page, live_server, problems, shot):
    page.goto(live_server + TORCH_1D)
    ready(page)
    assert output_shape(page) == [1, 2, 4]  # floor((9 − 2) / 2) + 1
    page.evaluate("window.__kept = 42; document.querySelector('#live').dataset.old = '1'")
    kernel = page.get_by_label("kernel_size", exact=True)
    kernel.focus()
    with page.expect_response(lambda r: "kernel=3" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#kernel-0-value")).to_have_text("3")
    expect(page.locator("#live[data-old]")).to_have_count(0)  # the live part was replaced ...
    assert page.evaluate("window.__kept") == 42                # ... without a navigation
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 3]")  # stride 3 now
    expect(page.locator("#stride-note")).to_contain_text("not given → kernel_size = 3")
    q = query(page)
    assert q["kernel_size"] == "3" and q["input_shape"] == "1,2,9" and "stride" not in q  # PyTorch words
    expect(kernel).to_be_focused()  # the form is outside the swapped part: focus stays put
    ready(page)

    with page.expect_response(lambda r: "stride=1" in r.url):
        page.get_by_label("stride", exact=True).select_option("1")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 7]")  # 9 − 3 + 1
    with page.expect_response(lambda r: "ceil_mode=true" in r.url):
        page.get_by_label("ceil_mode", exact=True).select_option("true")
    page.wait_for_url(re.compile("ceil_mode=true"))  # HX-Replace-Url, after the swap
    assert query(page)["stride"] == "1"
    ready(page)

    # the framework link in the live part follows the state: the same pooling in Keras' words
    page.get_by_role("navigation", name="Framework").get_by_role("link", name="Keras").click()
    page.wait_for_url(re.compile("framework=keras"))
    ready(page)
    assert output_shape(page) == [1, 7, 2]  # (N, length, C)
    q = query(page)
    assert q["type"] == "MaxPooling1D" and q["pool_size"] == "3" and q["strides"] == "1" and "ceil_mode" not in q
    words = page.locator("#pool-form label").all_inner_texts()
    assert {"pool_size", "strides", "padding"} <= set(words) and not {"kernel_size", "ceil_mode", "dilation"} & set(words)
    page.get_by_role("navigation", name="Pooling").get_by_role("link", name="Average").click()
    page.wait_for_url(re.compile("type=AveragePooling1D"))
    ready(page)
    expect(page.locator("#arith-why")).to_contain_text("divisor 3")
    shot("pool-keras-after-controls")


def test_invalid_setting_is_explained_in_place(page, live_server, problems):
    page.goto(live_server + TORCH_1D)
    ready(page)
    page.evaluate("window.__kept = 1")
    with page.expect_response(lambda r: "padding=2" in r.url) as answer:
        page.get_by_label("padding", exact=True).select_option("2")
    assert answer.value.status == 200
    alert = page.locator("#live [role=alert]")
    expect(alert).to_contain_text("pad should be at most half of kernel size")
    expect(alert).to_contain_text("padding ≤ 1")
    expect(page.locator("[data-output-shape]")).to_have_count(0)
    assert page.evaluate("window.__kept") == 1
    with page.expect_response(lambda r: "padding=1" in r.url):
        page.get_by_label("padding", exact=True).select_option("1")
    expect(alert).to_have_count(0)
    assert output_shape(page) == [1, 2, 5]  # floor((9 + 2 − 2) / 2) + 1


def test_form_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + TORCH_1D)
    page.get_by_label("stride", exact=True).select_option("1")
    page.get_by_role("button", name="Update").click()  # a plain GET
    page.wait_for_url(re.compile(r"stride=1"))
    assert output_shape(page) == [1, 2, 8]
    page.get_by_role("link", name="Forward ▶").click()  # the step links are plain links too
    page.wait_for_url(re.compile(r"step=1"))
    assert label(page) == "1 of 8: output [1]"
    context.close()


# ---------------------------------------------------------------- the player

def test_play_pause_step_scrub_and_speed_send_no_requests(page, live_server, problems):
    page.goto(live_server + MAX_2D)
    ready(page)
    sent = []
    page.on("request", lambda r: sent.append(r.url))
    expect(page.locator("#step-label")).to_have_text("0 of 16: output [0, 0]")
    expect(page.locator("#play-state")).to_have_text("Paused")

    page.get_by_role("link", name="Forward ▶").click()
    expect(page.locator("#step-label")).to_have_text("1 of 16: output [0, 1]")
    page.get_by_role("link", name="◀ Back").click()
    page.get_by_role("link", name="◀ Back").click()  # wraps round
    expect(page.locator("#step-label")).to_have_text("15 of 16: output [3, 3]")
    expect(page.locator("#y0-15")).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator("#y1-15")).to_have_class(re.compile(r"\bcurrent\b"))  # every channel at once

    scrub = page.get_by_label("Step", exact=True)
    scrub.focus()
    page.keyboard.press("Home")
    expect(page.locator("#step-label")).to_have_text("0 of 16: output [0, 0]")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#step-label")).to_have_text("6 of 16: output [1, 2]")
    expect(page.locator("#live .grid td.pending")).to_have_count(2 * 9)  # outputs 7..15 of both channels to come

    play = page.locator("#play")
    # count the frames shown (a counter, not the step number, which wraps round every 16)
    page.evaluate("window.__frames = 0; new MutationObserver(() => window.__frames++)"
                  ".observe(document.querySelector('#step-label'), {childList: true, characterData: true, subtree: true})")
    page.get_by_label("Speed", exact=True).select_option("1")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(play).to_have_text(re.compile("Pause"))
    expect(page.locator("#play-state")).to_have_text("Playing")
    before = page.evaluate("[window.__frames, performance.now()]")
    page.wait_for_timeout(1500)
    after = page.evaluate("[window.__frames, performance.now()]")
    slow = (after[0] - before[0]) / (after[1] - before[1]) * 1000
    assert 0.4 <= slow <= 1.5, slow  # 1 step/s
    page.get_by_label("Speed", exact=True).select_option("10")
    before = page.evaluate("[window.__frames, performance.now()]")
    page.wait_for_timeout(1000)
    after = page.evaluate("[window.__frames, performance.now()]")
    fast = (after[0] - before[0]) / (after[1] - before[1]) * 1000
    assert 5 <= fast <= 11, fast  # 10 steps/s, and the play goes on
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#play-state")).to_have_text("Paused")  # the pause is visible, not only announced
    paused = label(page)
    page.wait_for_timeout(700)
    assert label(page) == paused
    assert sent == []  # every frame came from the fragment's data


@pytest.mark.parametrize("url, step, expected", [
    (MAX_2D, 5, "5 of 16: output [1, 1]"),
    (AVG_1D, 0, "0 of 4: output [0]"),
    (AVG_1D.replace("false", "true") + "&ceil_mode=true", 4, "4 of 5: output [4]"),  # hangs past the padding
    (CEIL, 3, "3 of 4: output [3]"),
    (KERAS_SAME, 8, "8 of 9: output [2, 2]"),
    # divisor 8: odd eighths are exact halves at two decimals (Python rounds them to even, as must the script)
    ("/pool?framework=torch&type=AvgPool2d&kernel_size=2&divisor_override=8&input_shape=1,4,6,6&seed=3", 7,
     "7 of 9: output [2, 1]"),
])
def test_step_in_the_url_and_the_browsers_arithmetic_match_the_server(page, live_server, problems, url, step,
                                                                      expected):
    channels = 4 if "1,4,6,6" in url else 2
    page.goto(live_server + f"{url}&step={step}")
    ready(page, channels)
    expect(page.locator("#step-label")).to_have_text(expected)
    expect(page.locator("#scrub")).to_have_value(str(step))
    on_server = server_arithmetic(live_server, f"{url}&step={step}")
    assert arithmetic_text(page) == on_server
    # walk there from step 0 in the browser: the script writes the same arithmetic at every step
    page.goto(live_server + url)
    ready(page, channels)
    for s in range(step):
        assert arithmetic_text(page) == server_arithmetic(live_server, f"{url}&step={s}"), s
        page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_have_text(expected)
    assert arithmetic_text(page) == on_server
    assert query(page).get("step", "0") == str(step)  # the address names the frame shown


def grid_values(page, channel: int) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(f"#live td[id^='x{channel}-']", "els => els.map(e => [e.id, e.textContent])")


def test_the_window_and_its_maximum_are_marked(page, live_server, problems):
    page.goto(live_server + MAX_2D + "&step=5")  # output [1, 1]: rows and columns 1..3 (padding 1, stride 2)
    ready(page)
    drawn = 9  # 7 + 1 + 1 cells per row
    window = [(1 + r) * drawn + (1 + c) for r in range(1, 4) for c in range(1, 4)]  # padded index of position (r, c)
    assert ids(page, "#live td.lit[id^='x0-']") == {f"x0-{i}" for i in window}
    for ch in (0, 1):
        values = dict(grid_values(page, ch))
        vals = [num(values[f"x{ch}-{i}"]) for i in window]
        first = window[vals.index(max(vals))]
        assert ids(page, f"#live td.win[id^='x{ch}-']") == {f"x{ch}-{first}"}
        assert num(page.locator(f"#y{ch}-5").inner_text()) == max(vals)

    page.goto(live_server + CEIL + "&step=3")  # the extra window reads position 6 and hangs one cell past the end
    ready(page)
    assert ids(page, "#live td.lit[id^='x0-']") == {"x0-6", "x0-7"}
    expect(page.locator("#x0-7")).to_have_class(re.compile(r"\bpast\b"))
    expect(page.locator("#y0-3")).to_have_class(re.compile(r"\bextra\b"))


def test_clicking_an_output_jumps_to_its_step_and_hover_marks_its_window(page, live_server, problems):
    page.goto(live_server + AVG_1D)
    ready(page)
    page.hover("#y1-2")  # window 2 covers positions 3..5: padded indices 4..6
    assert ids(page, "#live td.linked[id^='x']") == {f"x{c}-{i}" for c in (0, 1) for i in (4, 5, 6)}
    page.click("#y1-2")
    expect(page.locator("#step-label")).to_have_text("2 of 4: output [2]")
    page.mouse.move(0, 0)
    page.hover("h1")
    assert ids(page, "#live td.linked") == set()


# ---------------------------------------------------------------- keyboard, reduced motion, autoplay

def test_keyboard_only(page, live_server, problems):
    page.goto(live_server + AVG_1D)
    ready(page)
    tab_to(page, "size-0")
    with page.expect_response(lambda r: "size=9" in r.url):
        page.keyboard.press("ArrowRight")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 5]")  # floor(8/2) + 1
    tab_to(page, "count_include_pad")
    with page.expect_response(lambda r: "count_include_pad=true" in r.url):
        page.keyboard.press("ArrowUp")  # False → True
    expect(page.locator("#arith-why")).to_contain_text("count_include_pad=True counts every cell")
    tab_to(page, "step-forward")
    page.keyboard.press("Enter")
    expect(page.locator("#step-label")).to_have_text("1 of 5: output [1]")
    page.keyboard.press("Shift+Tab")  # to Play
    assert page.evaluate("document.activeElement.id") == "play"
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    tab_to(page, "scrub")
    page.keyboard.press("End")
    expect(page.locator("#step-label")).to_have_text("4 of 5: output [4]")
    tab_to(page, "speed")
    page.keyboard.press("ArrowUp")  # 3 → 1 step/s
    assert page.locator("#speed").input_value() == "1"


def test_reduced_motion_never_plays_by_itself_even_when_an_embed_asks(page, live_server, problems):
    page.emulate_media(reduced_motion="reduce")
    page.goto(live_server + MAX_2D.replace("/pool?", "/embed/pool?") + "&autoplay=1&step=3")
    ready(page)
    before = label(page)
    page.wait_for_timeout(1200)
    assert label(page) == before == "3 of 16: output [0, 3]"
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")


def test_only_an_embed_with_autoplay_plays_by_itself(page, live_server, problems):
    page.goto(live_server + MAX_2D)
    ready(page)
    page.wait_for_timeout(800)
    assert label(page).startswith("0 of 16") and page.locator("#play").get_attribute("aria-pressed") == "false"
    page.goto(live_server + MAX_2D.replace("/pool?", "/embed/pool?") + "&autoplay=1")
    ready(page)
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#step-label")).not_to_have_text(re.compile(r"^0 of"), timeout=3000)


# ---------------------------------------------------------------- accessibility, screenshots

@pytest.mark.parametrize("url", [AVG_1D + "&step=1", MAX_2D + "&step=5", KERAS_SAME,
                                 CEIL.replace("/pool?", "/embed/pool?") + "&theme=dark"])
def test_no_wcag22_violations(page, live_server, problems, url):
    page.goto(live_server + url)
    ready(page)
    results = Axe().run(page, options=WCAG)
    ran = {r["id"] for kind in ("passes", "violations", "incomplete", "inapplicable") for r in results.response[kind]}
    assert "target-size" in ran and "color-contrast" in ran
    assert results.violations_count == 0, results.generate_report()


def test_refusal_page_has_no_wcag22_violations(page, live_server, problems, shot):
    page.goto(live_server + TORCH_1D + "&padding=2")
    expect(page.locator("#live [role=alert]")).to_contain_text("at most half")
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()
    shot("pool-refused")


@pytest.mark.parametrize("name, url, channels", [
    ("pool-q2-49", "/pool?framework=torch&type=MaxPool1d&kernel_size=2&input_shape=4,2,49&step=23", 2),
    ("pool-avg-count-include-pad-false", AVG_1D + "&step=0", 2),
    ("pool-2d-max", MAX_2D + "&step=5", 2),
    ("pool-ceil-adds", CEIL + "&step=3", 2),
    ("pool-ceil-adds-nothing",
     "/pool?framework=torch&type=MaxPool1d&kernel_size=2&stride=2&padding=1&ceil_mode=true&input_shape=1,1,5&step=2", 1),
    ("pool-keras-same", KERAS_SAME + "&step=8", 2),
])
def test_screenshots(page, live_server, problems, shot, name, url, channels):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server + url)
    ready(page, channels)
    assert shot(name).stat().st_size > 10_000
