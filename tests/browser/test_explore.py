"""/explore in a real browser: sliders re-render the live part in place, the player runs from the
fragment's data with no request per frame, keyboard only, reduced motion, framework and 1D/2D/3D
switches, accessibility, screenshots.

Expected numbers come from the output-size formula or are recomputed here from the grids' indices
(window of output o = o·stride + tap·dilation), never read back from the page's own script.
"""
import html
import itertools
import math
import re
import urllib.request

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import WCAG, label, output_shape, query, tab_to, within

TORCH_2D = "/explore?framework=torch&type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&input_shape=1,2,6,6"
KERAS_3D = "/explore?framework=keras&type=Conv3D&filters=2&kernel_size=2&input_shape=1,4,4,4,2"
TORCH_1D = "/explore?framework=torch&type=Conv1d&in_channels=3&out_channels=4&kernel_size=3&stride=2&padding=1" \
           "&input_shape=1,3,16"


def ready(page):
    """The page's script has run: the player shows its step and both plots are drawn (plotly loads as
    the figures come near the viewport, so they are scrolled to first)."""
    expect(page.locator("#live .plot")).to_have_count(2)
    page.locator("#live .plot").last.scroll_into_view_if_needed()
    expect(page.locator("#live .plot[data-rendered]")).to_have_count(2)
    expect(page.locator("#live .grid td.current")).to_have_count(1)


def arithmetic_text(root) -> str:
    """The written-out arithmetic (heading, lines, total) as plain text."""
    return re.sub(r"\s+", " ", " | ".join([root.locator("#arith h3").inner_text(),
                                           *root.locator("#arith-lines li").all_inner_texts(),
                                           root.locator("#arith-total").inner_text()])).strip()


def server_arithmetic(live_server, url) -> str:
    """The same text as the server renders it, before any script runs."""
    body = urllib.request.urlopen(live_server + url).read().decode()
    strip = lambda frag: re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", frag))).strip()
    head = re.search(r'<div class="arith".*?<h3>(.*?)</h3>', body, re.DOTALL).group(1)
    lines = re.findall(r"<li>(.*?)</li>", re.search(r'<ol id="arith-lines">(.*?)</ol>', body, re.DOTALL).group(1), re.DOTALL)
    total = re.search(r'<p id="arith-total">(.*?)</p>', body, re.DOTALL).group(1)
    return " | ".join(strip(t) for t in [head, *lines, total])


def linked_ids(page) -> set[str]:
    return set(page.eval_on_selector_all("#live .linked", "els => els.map(e => e.id)"))


# ---------------------------------------------------------------- sliders, htmx, URL

def test_slider_rerenders_the_live_part_and_the_url_follows(page, live_server, problems, shot):
    page.goto(live_server + TORCH_2D)
    ready(page)
    assert output_shape(page) == [1, 2, 4, 4]  # 6 − 3 + 1
    page.evaluate("window.__kept = 42; document.querySelector('#live').dataset.old = '1'")
    stride = page.get_by_label("stride (height)", exact=True)
    stride.focus()
    with page.expect_response(lambda r: "stride=2" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#stride-0-value")).to_have_text("2")
    expect(page.locator("#live[data-old]")).to_have_count(0)  # the live part was replaced ...
    assert output_shape(page) == [1, 2, 2, 4]                  # height floor((6 − 3) / 2) + 1 = 2, width 4
    assert page.evaluate("window.__kept") == 42                # ... without a navigation
    q = query(page)
    assert q["stride"] == "2,1" and q["out_channels"] == "2" and q["input_shape"] == "1,2,6,6"  # PyTorch words
    page.get_by_label("stride (width)", exact=True).focus()
    with page.expect_response(lambda r: "stride=2" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 2, 2]")
    assert query(page)["stride"] == "2"  # one value when every axis has it
    ready(page)  # the new fragment's plots are drawn again
    expect(page.locator("#live .plot[data-rendered] .main-svg").first).to_be_attached()
    expect(page.locator("#step-label")).to_have_text("0 of 4: output [0, 0]")
    expect(page.get_by_label("stride (width)", exact=True)).to_be_focused()  # the form is outside the swapped part

    width = page.get_by_label("Input width", exact=True)
    width.focus()
    with page.expect_response(lambda r: "size=5" in r.url):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#size-1-value")).to_have_text("5")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 2, 2]")
    # width floor((5 − 3) / 2) + 1 = 2; height 6: windows at rows 0 and 2 read rows 0..4, so row 5
    # (5 cells in each of the 2 channels) is read by no window and drawn as unreached
    expect(page.locator(".formulas")).to_contain_text("floor(2 / 2) + 1")
    expect(page.locator("#live .grid td.unreached")).to_have_count(10)
    assert query(page)["input_shape"] == "1,2,6,5" and page.evaluate("window.__kept") == 42
    shot("explore-2d-stride2")


def test_invalid_setting_is_explained_in_place(page, live_server, problems):
    page.goto(live_server + TORCH_2D)
    ready(page)
    page.evaluate("window.__kept = 1")
    groups = page.get_by_label("groups", exact=True)
    with page.expect_response(lambda r: "groups=3" in r.url) as answer:
        groups.fill("3")
    assert answer.value.status == 200
    alert = page.locator("#live [role=alert]")
    expect(alert).to_contain_text("in_channels must be divisible by groups")
    expect(alert).to_contain_text("[1, 2]")
    expect(page.locator("[data-output-shape]")).to_have_count(0)
    assert page.evaluate("window.__kept") == 1
    with page.expect_response(lambda r: "groups=2" in r.url):
        groups.fill("2")
    expect(alert).to_have_count(0)
    assert output_shape(page) == [1, 2, 4, 4]


def test_form_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + TORCH_2D)
    page.get_by_label("stride (height)", exact=True).focus()
    page.keyboard.press("ArrowRight")  # the range moves natively; nothing is sent without JS
    page.get_by_role("button", name="Update").click()  # a plain GET
    page.wait_for_url(re.compile(r"stride=2&stride=1"))  # the form's own GET: one value per axis
    assert output_shape(page) == [1, 2, 2, 4]
    assert page.locator("#step-label").inner_text() == "0 of 8: output [0, 0]"  # the server drew frame 0
    context.close()


# ---------------------------------------------------------------- the player

def test_play_pause_step_scrub_and_speed_send_no_requests(page, live_server, problems):
    page.goto(live_server + TORCH_2D)
    ready(page)
    sent = []
    page.on("request", lambda r: sent.append(r.url))
    expect(page.locator("#step-label")).to_have_text("0 of 16: output [0, 0]")

    page.get_by_role("link", name="Forward ▶").click()
    expect(page.locator("#step-label")).to_have_text("1 of 16: output [0, 1]")
    page.get_by_role("link", name="◀ Back").click()
    page.get_by_role("link", name="◀ Back").click()  # wraps round
    expect(page.locator("#step-label")).to_have_text("15 of 16: output [3, 3]")
    expect(page.locator("#y-15")).to_have_class(re.compile(r"\bcurrent\b"))

    scrub = page.get_by_label("Step", exact=True)
    scrub.focus()
    page.keyboard.press("Home")
    expect(page.locator("#step-label")).to_have_text("0 of 16: output [0, 0]")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#step-label")).to_have_text("6 of 16: output [1, 2]")  # 6 = 1·4 + 2
    expect(page.locator("#live .grid td.pending")).to_have_count(9)  # outputs 7..15 still to come

    play = page.locator("#play")
    page.get_by_label("Speed", exact=True).select_option("1")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(play).to_have_text(re.compile("Pause"))
    expect(play).to_be_visible()
    page.wait_for_timeout(1500)
    slow = int(label(page).split()[0]) - 6
    assert 1 <= slow <= 2, label(page)  # 1 step/s for 1.5 s
    page.get_by_label("Speed", exact=True).select_option("10")
    start = int(label(page).split()[0])
    assert within(page, 1.0, lambda: (int(label(page).split()[0]) - start) % 16 >= 5), (start, label(page))
    # 10 steps/s: at least 5 within 1 s, and the play goes on
    expect(play).to_have_attribute("aria-pressed", "true")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    expect(play).to_have_text(re.compile("Play"))
    paused = label(page)
    page.wait_for_timeout(700)
    assert label(page) == paused
    assert sent == []  # every frame came from the fragment's data


@pytest.mark.parametrize("url, step, expected", [
    (TORCH_2D + "&activation=relu", 11, "11 of 16: output [2, 3]"),
    (KERAS_3D + "&f=1", 13, "13 of 27: output [1, 1, 1]"),  # 27 = 3·3·3; 13 = 1·9 + 1·3 + 1
    ("/explore?framework=torch&type=Conv1d&in_channels=12&out_channels=2&kernel_size=2&input_shape=1,12,5", 3,
     "3 of 4: output [3]"),  # 12 channels: eight drawn, the rest summed
])
def test_step_in_the_url_and_the_browsers_arithmetic_match_the_server(page, live_server, problems, url, step,
                                                                      expected):
    page.goto(live_server + f"{url}&step={step}")
    ready(page)
    expect(page.locator("#step-label")).to_have_text(expected)
    expect(page.locator("#scrub")).to_have_value(str(step))
    expect(page.locator(f"#y-{step}")).to_have_class(re.compile(r"\bcurrent\b"))
    on_server = server_arithmetic(live_server, f"{url}&step={step}")
    assert arithmetic_text(page) == on_server
    # walk there from step 0 in the browser: the script writes the same arithmetic
    page.goto(live_server + url)
    ready(page)
    assert arithmetic_text(page) == server_arithmetic(live_server, url)
    forward = page.locator("#step-forward")
    for _ in range(step):
        forward.click()
    expect(page.locator("#step-label")).to_have_text(expected)
    assert arithmetic_text(page) == on_server
    assert query(page)["step"] == str(step)  # the address names the frame shown


def test_a_layer_too_large_to_write_out_at_once_plays_in_blocks_from_the_server(page, live_server, problems):
    """8×8 windows of 512 channels × 7×7 taps: the fragment holds a block of steps; stepping out of it
    asks the server for the fragment of that step, whose arithmetic is the server's own."""
    url = ("/explore?framework=torch&type=Conv2d&in_channels=512&out_channels=2&kernel_size=7&padding=4"
           "&input_shape=1,512,6,6")  # still drawn as numbers (padded 14×14); 512 channels of work: blocks of 15
    page.goto(live_server + url)
    ready(page)
    block = page.evaluate("JSON.parse(document.querySelector('#explore-data').dataset.explore).steps.length")
    assert 1 <= block < 64
    page.locator("#step-back").click()  # from step 0 back to 63: another block, asked of the server
    expect(page.locator("#step-label")).to_have_text("63 of 64: output [7, 7]", timeout=30_000)  # a large fragment
    expect(page.locator("#y-63")).to_have_class(re.compile(r"\bcurrent\b"))
    assert arithmetic_text(page) == server_arithmetic(live_server, f"{url}&step=63")
    assert query(page)["step"] == "63"
    page.locator("#step-back").click()  # 62 is in the block that came: no request
    expect(page.locator("#step-label")).to_have_text("62 of 64: output [7, 6]")
    assert arithmetic_text(page) == server_arithmetic(live_server, f"{url}&step=62")


def test_playing_goes_on_across_a_block_boundary(page, live_server, problems):
    """Play near the end of a block: the next block is asked of the server and playing goes on in it."""
    url = ("/explore?framework=torch&type=Conv2d&in_channels=512&out_channels=2&kernel_size=7&padding=4"
           "&input_shape=1,512,6,6")  # still drawn as numbers (padded 14×14); 512 channels of work: blocks of 15
    page.goto(live_server + url)
    ready(page)
    block = page.evaluate("JSON.parse(document.querySelector('#explore-data').dataset.explore).steps.length")
    page.goto(f"{live_server}{url}&step={block - 1}")
    ready(page)
    page.get_by_label("Speed", exact=True).select_option("10")
    page.locator("#play").click()
    page.wait_for_function(f"() => parseInt(document.querySelector('#step-label').textContent) > {block + 1}",
                           timeout=30_000)
    expect(page.locator("#play-state")).to_have_text("Playing")
    first = page.evaluate("JSON.parse(document.querySelector('#explore-data').dataset.explore).first")
    assert first > 0  # the steps played come from the server's next block
    page.locator("#play").click()
    expect(page.locator("#play-state")).to_have_text("Paused")


# ---------------------------------------------------------------- keyboard, hover, reduced motion

def test_keyboard_only(page, live_server, problems):
    page.goto(live_server + TORCH_2D)
    ready(page)
    tab_to(page, "kernel-1")
    with page.expect_response(lambda r: "kernel=3&kernel=2" in r.url):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 4, 5]")  # 6 − 2 + 1
    tab_to(page, "step-forward")
    page.keyboard.press("Enter")
    expect(page.locator("#step-label")).to_have_text("1 of 20: output [0, 1]")
    page.keyboard.press("Shift+Tab")  # to Play
    assert page.evaluate("document.activeElement.id") == "play"
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    tab_to(page, "scrub")
    page.keyboard.press("End")
    expect(page.locator("#step-label")).to_have_text("19 of 20: output [3, 4]")
    tab_to(page, "speed")
    page.keyboard.press("ArrowUp")  # 3 → 1 step/s
    assert page.locator("#speed").input_value() == "1"


def test_keyboard_focus_on_an_output_cell_marks_its_window_and_enter_jumps_to_it(page, live_server, problems):
    page.goto(live_server + TORCH_2D)
    ready(page)
    tab_to(page, "y-0", limit=60)
    for _ in range(5):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "y-5"
    assert {"x0-7", "x0-8", "x0-9", "x0-13", "x0-14", "x0-15", "x0-19", "x0-20", "x0-21"} <= linked_ids(page)
    page.keyboard.press("Enter")
    expect(page.locator("#step-label")).to_have_text("5 of 16: output [1, 1]")


def window_ids(o, kernel, stride, dilation, padded, channels):
    """Input and kernel cell ids of output position o, from the index arithmetic."""
    ids = set()
    for t in itertools.product(*(range(k) for k in kernel)):
        pos = [oi * stride + ti * dilation for oi, ti in zip(o, t)]
        flat_x = sum(p * math.prod(padded[a + 1:]) for a, p in enumerate(pos))
        flat_w = sum(ti * math.prod(kernel[a + 1:]) for a, ti in enumerate(t))
        ids |= {f"x{c}-{flat_x}" for c in channels} | {f"w{c}-{flat_w}" for c in channels}
    return ids


def test_hovering_links_outputs_and_their_windows(page, live_server, problems):
    url = "/explore?framework=torch&type=Conv2d&in_channels=2&out_channels=2&kernel_size=3,2&stride=2&dilation=1" \
          "&padding=1&input_shape=1,2,7,6"  # padded 9×8; out floor((9 − 3)/2) + 1 = 4 by floor((8 − 2)/2) + 1 = 4
    page.goto(live_server + url)
    ready(page)
    assert output_shape(page) == [1, 2, 4, 4]
    page.hover("#y-6")  # output (1, 2)
    expected = window_ids((1, 2), (3, 2), 2, 1, (9, 8), (0, 1))
    assert len(expected) == 2 * (6 + 6)
    assert linked_ids(page) == expected | {"y-6"}  # itself, its window in both channels, both kernels' taps
    page.hover("#x0-36")  # padded (4, 4): read by outputs (1, 2), (2, 2) as tap row 2 / 0, col 0
    readers = {f"y-{oy * 4 + ox}" for oy, ox in itertools.product(range(4), range(4))
               if any(oy * 2 + ty == 4 and ox * 2 + tx == 4 for ty, tx in itertools.product(range(3), range(2)))}
    assert readers == {"y-6", "y-10"}
    assert linked_ids(page) == readers | {"x0-36"}
    page.mouse.move(0, 0)
    page.hover("h1")
    assert linked_ids(page) == set()


def test_reduced_motion_never_plays_by_itself(page, live_server, problems):
    page.emulate_media(reduced_motion="reduce")
    page.goto(live_server + TORCH_2D + "&step=3")
    ready(page)
    before = label(page)
    page.wait_for_timeout(1500)
    assert label(page) == before == "3 of 16: output [0, 3]"
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")


# ---------------------------------------------------------------- framework and dimensions

def labels(page) -> list[str]:
    """The form's labels, without the axis of per-axis controls ("stride (height)" -> "stride")."""
    return [t.split(" (")[0] for t in page.locator("#explore-form label").all_inner_texts()]


def test_framework_and_dimension_links_keep_the_layer_and_change_the_words(page, live_server, problems, shot):
    page.goto(live_server + TORCH_2D)
    ready(page)
    words = labels(page)
    assert {"in_channels", "out_channels", "stride", "dilation", "bias", "padding_mode"} <= set(words)
    page.get_by_role("navigation", name="Framework").get_by_role("link", name="Keras").click()
    page.wait_for_url(re.compile("framework=keras"))
    ready(page)
    words = labels(page)
    assert {"filters", "strides", "dilation_rate", "use_bias"} <= set(words)
    assert not {"out_channels", "in_channels", "padding_mode"} & set(words)
    assert output_shape(page) == [1, 4, 4, 2]  # the same layer, channels last
    assert query(page)["filters"] == "2" and "out_channels" not in query(page)
    expect(page.get_by_role("link", name="Keras")).to_have_attribute("aria-current", "page")

    page.get_by_role("navigation", name="Dimensions").get_by_role("link", name="1D").click()
    page.wait_for_url(re.compile("type=Conv1D"))
    ready(page)
    assert output_shape(page) == [1, 4, 2] and "Input length" in labels(page)
    page.get_by_role("navigation", name="Dimensions").get_by_role("link", name="3D").click()
    page.wait_for_url(re.compile("type=Conv3D"))
    ready(page)
    assert output_shape(page) == [1, 4, 4, 4, 2]
    assert {"Input depth", "Input height", "Input width"} <= set(labels(page))
    expect(page.locator("#live .grid caption")).not_to_have_count(0)  # 3D: a row of depth slices
    page.get_by_role("navigation", name="Framework").get_by_role("link", name="PyTorch").click()
    page.wait_for_url(re.compile("framework=torch"))
    ready(page)
    assert output_shape(page) == [1, 2, 4, 4, 4]
    assert {"out_channels", "stride", "padding_mode"} <= set(labels(page))
    assert query(page)["type"] == "Conv3d"


# ---------------------------------------------------------------- accessibility, screenshots

@pytest.mark.parametrize("url", [TORCH_2D + "&padding=1&stride=2", KERAS_3D])
def test_no_wcag22_violations_besides_the_code_blocks(page, live_server, problems, url):
    page.goto(live_server + url)
    ready(page)
    results = Axe().run(page, options=WCAG)
    ran = {r["id"] for kind in ("passes", "violations", "incomplete", "inapplicable") for r in results.response[kind]}
    assert "target-size" in ran and "color-contrast" in ran
    others = [v["id"] for v in results.response["violations"] if v["id"] != "scrollable-region-focusable"]
    assert others == [], results.generate_report()


@pytest.mark.parametrize("url", [TORCH_2D + "&padding=1&stride=2", KERAS_3D])
def test_no_wcag22_violations(page, live_server, problems, url):
    page.goto(live_server + url)
    ready(page)
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("name, url", [
    ("explore-1d", TORCH_1D + "&step=5"),
    ("explore-2d", TORCH_2D + "&padding=1&stride=2&activation=relu&step=4"),
    ("explore-3d", KERAS_3D + "&step=13"),
])
def test_screenshots(page, live_server, problems, shot, name, url):
    page.goto(live_server + url)
    ready(page)
    page.hover("#y-1")  # one output's window marked, as a reader would see it
    assert shot(name).stat().st_size > 10_000


def test_the_browser_has_no_number_format_or_index_helpers(page, live_server):
    """Every number the views show is the server's text (tests/web/test_played.py reads the scripts): the shared
    module offers no formatting and no index helpers to a script that might reach for them."""
    page.goto(live_server + TORCH_2D)
    ready(page)
    assert page.evaluate("['fmt', 'wrap', 'term', 'unravel', 'ravel', 'prod'].filter((k) => k in Convscope)") == []


def test_a_knob_move_takes_no_snapshot_of_the_page(page, live_server):
    """htmx copies and serialises the whole page for its history cache before each swap that changes the address
    (HX-Replace-Url), even with historyCacheSize 0, unless the page says hx-history="false": at 2,048 channels that
    copy was a large part of a repaint. Back still reloads the address (refreshOnHistoryMiss)."""
    page.goto(live_server + TORCH_2D)
    expect(page.locator("#live .grid td.current")).to_have_count(1)
    page.evaluate("window.__saves = 0; document.body.addEventListener('htmx:beforeHistorySave', () => window.__saves++)")
    stride = page.get_by_label("stride (width)", exact=True)
    stride.focus()
    stride.press("ArrowRight")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 4, 2]")
    assert query(page)["stride"] == "1,2" and page.evaluate("window.__saves") == 0
