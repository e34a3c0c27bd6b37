"""/transposed in a real browser: controls re-render the live part in place and the URL follows,
the scatter plays from the fragment's data with no request per frame (play, pause, step, scrub,
speed, a visible pause), the direct convolution's window steps the same way, ?step=n and ?pos=n,
keyboard only, reduced motion, the embed's autoplay, accessibility, screenshots.

Expected numbers come from the output-size formula or from the server's own rendering of ?step=n
(which tests/web/test_transposed.py checks against loops written there), never from the page's script.
"""
import html
import re
import urllib.request

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import WCAG, label, output_shape, query, tab_to, within

DEFAULT = ("/transposed?framework=torch&type=ConvTranspose2d&in_channels=2&out_channels=2&kernel_size=3&stride=2"
           "&input_shape=1,2,3,3")  # 2 channels × 9 values: 18 steps; output (3 − 1)·2 + 3 = 7 per axis
DCGAN = ("/transposed?framework=torch&type=ConvTranspose2d&in_channels=2&out_channels=1&kernel_size=3&stride=2"
         "&padding=1&output_padding=1&input_shape=1,2,3,3")
KERAS_1D = ("/transposed?framework=keras&type=Conv1DTranspose&filters=2&kernel_size=3&strides=2&padding=same"
            "&input_shape=1,4,1")
DILATED = ("/transposed?framework=torch&type=ConvTranspose1d&in_channels=1&out_channels=1&kernel_size=3&dilation=2"
           "&output_padding=1&input_shape=1,1,4")  # output_padding 1 ≥ stride 1, allowed below dilation 2


def ready(page):
    expect(page.locator("#live[data-ready]")).to_have_count(1)


def step_of(page) -> int:
    return int(label(page).split()[0])


def texts(page, prefix: str) -> dict[str, str]:
    return dict(page.eval_on_selector_all(f"#live td[id^='{prefix}']", "els => els.map(e => [e.id, e.textContent])"))


def with_class(page, prefix: str, cls: str) -> set[str]:
    return set(page.eval_on_selector_all(f"#live td[id^='{prefix}'].{cls}", "els => els.map(e => e.id)"))


def server(live_server, url) -> str:
    return urllib.request.urlopen(live_server + url).read().decode()


def server_cells(body: str, prefix: str) -> dict[str, str]:
    return {f"{prefix}{i}": html.unescape(t) for i, t in re.findall(rf'<td id="{prefix}(\d+)"[^>]*>([^<]*)</td>', body)}


def server_with_class(body: str, prefix: str, cls: str) -> set[str]:
    return {f"{prefix}{i}" for i, c in re.findall(rf'<td id="{prefix}(\d+)" class="([^"]*)"', body) if cls in c.split()}


def server_text(body: str, element_id: str) -> str:
    inner = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', body, re.DOTALL).group(2)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", inner))).strip()


def server_text_html(body: str, element_id: str) -> str:
    return re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>(.*?)</\1>', body, re.DOTALL).group(2)


def page_text(page, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).inner_text()).strip()


# ---------------------------------------------------------------- controls, htmx, URL

def test_controls_rerender_the_live_part_and_the_url_follows(page, live_server, problems, shot):
    page.goto(live_server + DEFAULT)
    ready(page)
    assert output_shape(page) == [1, 2, 7, 7]
    page.evaluate("window.__kept = 42; document.querySelector('#live').dataset.old = '1'")
    stride = page.get_by_label("stride (width)", exact=True)  # one control per axis, as stride=(2, 3) is written
    stride.focus()
    with page.expect_response(lambda r: "stride=3" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#stride-1-value")).to_have_text("3")
    expect(page.locator("#live[data-old]")).to_have_count(0)  # the live part was replaced ...
    assert output_shape(page) == [1, 2, 7, 9]                  # width (3 − 1)·3 + 3 = 9; height unchanged
    assert page.evaluate("window.__kept") == 42                # ... without a navigation
    q = query(page)
    assert q["stride"] == "2,3" and q["out_channels"] == "2" and q["input_shape"] == "1,2,3,3"  # PyTorch's words
    ready(page)
    expect(stride).to_be_focused()  # the form is outside the swapped part

    with page.expect_response(lambda r: "padding=0&padding=1" in r.url):  # the form sends one per axis
        page.get_by_label("padding (width)", exact=True).select_option("1")
    with page.expect_response(lambda r: "output_padding=0&output_padding=2" in r.url):
        page.get_by_label("output_padding (width)", exact=True).select_option("2")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 7, 9]")  # 9 − 2 + 2
    assert query(page)["output_padding"] == "0,2" and page.evaluate("window.__kept") == 42
    expect(page.locator("#formulas")).to_contain_text("(3 − 1)·3 − 2·1 + 1·(3 − 1) + 2 + 1 = 9")
    ready(page)
    # the output channel control sits outside the swapped part: its bound follows out_channels
    expect(page.locator("#o")).to_have_attribute("max", "1")
    with page.expect_response(lambda r: "filters=3" in r.url):
        page.get_by_label("out_channels", exact=True).fill("3")
    expect(page.locator("#o")).to_have_attribute("max", "2")
    assert output_shape(page) == [1, 3, 7, 9]
    shot("transposed-controls")


def test_form_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + DEFAULT)
    page.get_by_label("stride (width)", exact=True).focus()
    page.keyboard.press("ArrowRight")  # the range moves natively; nothing is sent without JS
    page.get_by_role("button", name="Update").click()  # a plain GET
    page.wait_for_url(re.compile(r"stride=3"))
    assert output_shape(page) == [1, 2, 7, 9]
    assert page.locator("#step-label").inner_text() == "0 of 18: x[0, 0, 0]"  # the server drew frame 0
    page.get_by_role("link", name="Forward ▶").click()  # without JS, a link to the next frame
    page.wait_for_url(re.compile(r"step=1"))
    assert page.locator("#step-label").inner_text() == "1 of 18: x[0, 0, 1]"
    context.close()


def test_invalid_setting_is_explained_in_place(page, live_server, problems):
    page.goto(live_server + DEFAULT)
    ready(page)
    page.evaluate("window.__kept = 1")
    with page.expect_response(lambda r: "output_padding=2" in r.url) as answer:
        page.get_by_label("output_padding (height)", exact=True).select_option("2")
    assert answer.value.status == 200
    alert = page.locator("#live [role=alert]")
    expect(alert).to_contain_text("output_padding must be smaller than either stride or dilation")
    expect(page.locator("[data-output-shape]")).to_have_count(0)
    assert page.evaluate("window.__kept") == 1
    with page.expect_response(lambda r: "output_padding=1" in r.url):
        page.get_by_label("output_padding (height)", exact=True).select_option("1")
    expect(alert).to_have_count(0)
    assert output_shape(page) == [1, 2, 8, 7]  # height (3 − 1)·2 + 3 + 1; width as before
    ready(page)


def test_framework_toggle_changes_the_words(page, live_server, problems):
    page.goto(live_server + DEFAULT)
    ready(page)
    words = lambda: {t.split(" (")[0] for t in page.locator("#transposed-form label").all_inner_texts()}  # per axis
    assert {"in_channels", "out_channels", "stride", "dilation", "groups", "bias"} <= words()
    page.get_by_role("navigation", name="Framework").get_by_role("link", name="Keras").click()
    page.wait_for_url(re.compile("framework=keras"))
    ready(page)
    assert {"filters", "strides", "dilation_rate", "use_bias"} <= words() and not {"out_channels", "groups"} & words()
    assert output_shape(page) == [1, 7, 7, 2]  # 'valid', None: 3·2 + max(3 − 2, 0) = 7, channels last
    expect(page.locator("#scatter h4", has_text="kernel").first).to_have_text("kernel[:, :, 0, 0]")
    assert query(page)["type"] == "Conv2DTranspose"


# ---------------------------------------------------------------- the scatter player

def test_play_pause_step_scrub_and_speed_send_no_requests(page, live_server, problems):
    page.goto(live_server + DEFAULT)
    ready(page)
    sent = []
    page.on("request", lambda r: sent.append(r.url))
    expect(page.locator("#step-label")).to_have_text("0 of 18: x[0, 0, 0]")
    expect(page.locator("#play-state")).to_have_text("Paused")

    page.get_by_role("link", name="Forward ▶").click()
    expect(page.locator("#step-label")).to_have_text("1 of 18: x[0, 0, 1]")
    page.get_by_role("link", name="◀ Back").click()
    page.get_by_role("link", name="◀ Back").click()  # wraps round
    expect(page.locator("#step-label")).to_have_text("17 of 18: x[1, 2, 2]")
    assert with_class(page, "y-", "pending") == set()  # the last stamp is in: every output is final

    scrub = page.get_by_label("Step", exact=True)
    scrub.focus()
    page.keyboard.press("Home")
    expect(page.locator("#step-label")).to_have_text("0 of 18: x[0, 0, 0]")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#step-label")).to_have_text("4 of 18: x[0, 1, 1]")  # 4 = 1·3 + 1
    # x[0, 1, 1] stamps its 3×3 kernel at canvas rows 2..4, columns 2..4
    assert with_class(page, "s-", "lit") == {f"s-{r * 7 + c}" for r in (2, 3, 4) for c in (2, 3, 4)}
    assert with_class(page, "x0-", "lit") == {"x0-4"}

    play = page.locator("#play")
    page.get_by_label("Speed", exact=True).select_option("1")
    play.click()
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#play-state")).to_have_text("Playing")
    page.wait_for_timeout(1500)
    slow = step_of(page) - 4
    assert 1 <= slow <= 2, label(page)  # 1 step/s for 1.5 s
    page.get_by_label("Speed", exact=True).select_option("5")
    start = step_of(page)
    assert within(page, 1.0, lambda: (step_of(page) - start) % 18 >= 3), (start, label(page))  # 5 steps/s
    play.click()
    expect(play).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#play-state")).to_have_text("Paused")  # the pause is visible
    paused = label(page)
    page.wait_for_timeout(700)
    assert label(page) == paused
    assert query(page)["step"] == paused.split()[0]  # the address names the frame shown

    # the direct convolution's window steps the same way
    page.get_by_role("link", name="Next window ▶").click()
    expect(page.locator("#pos-label")).to_have_text("1 of 49: output [0, 1]")
    page.get_by_role("link", name="◀ Previous window").click()
    page.get_by_role("link", name="◀ Previous window").click()
    expect(page.locator("#pos-label")).to_have_text("48 of 49: output [6, 6]")
    assert with_class(page, "z-", "current") == {"z-48"}
    assert query(page)["pos"] == "48"
    assert sent == []  # every frame came from the fragment's data


@pytest.mark.parametrize("url, step, pos", [(DEFAULT, 11, 24), (DCGAN, 9, 13), (KERAS_1D + "&o=1", 2, 5),
                                            (DILATED, 3, 7)])
def test_step_and_pos_in_the_url_match_the_browser_walking_there(page, live_server, problems, url, step, pos):
    """?step=n&pos=m renders that frame on the server; the script, walking there from 0, draws the same."""
    body = server(live_server, f"{url}&step={step}&pos={pos}")
    page.goto(live_server + f"{url}&step={step}&pos={pos}")
    ready(page)
    expected = {p: server_cells(body, p) for p in ("s-", "y-", "k-", "z-")}
    for prefix, cells in expected.items():
        assert texts(page, prefix) == cells, prefix  # the script redraws exactly what the server drew
    for prefix, cls in (("s-", "lit"), ("y-", "pending"), ("z-", "current")):
        assert with_class(page, prefix, cls) == server_with_class(body, prefix, cls), (prefix, cls)
    for element in ("step-label", "stamp-text", "pos-label", "direct-lines", "direct-total", "direct-title-pos"):
        assert page_text(page, f"#{element}") == server_text(body, element), element

    page.goto(live_server + url)
    ready(page)
    for _ in range(step):
        page.locator("#step-forward").click()
    for _ in range(pos):
        page.locator("#pos-forward").click()
    for prefix, cells in expected.items():
        assert texts(page, prefix) == cells, prefix
    for prefix, cls in (("s-", "lit"), ("y-", "pending"), ("d0-", "lit")):
        assert with_class(page, prefix, cls) == server_with_class(body, prefix, cls), (prefix, cls)
    for element in ("step-label", "stamp-text", "pos-label", "direct-lines", "direct-total"):
        assert page_text(page, f"#{element}") == server_text(body, element), element
    faded = page.eval_on_selector_all("#direct-lines span", "els => els.map(e => e.classList.contains('zero'))")
    assert faded == [bool(z) for z in re.findall(r'<span( class="zero")?>', server_text_html(body, "direct-lines"))]
    assert query(page)["step"] == str(step) and query(page)["pos"] == str(pos)


# ---------------------------------------------------------------- keyboard, pointer, motion

def test_keyboard_only(page, live_server, problems):
    page.goto(live_server + DEFAULT)
    ready(page)
    tab_to(page, "kernel-1")
    with page.expect_response(lambda r: "kernel=3&kernel=2" in r.url):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 2, 7, 6]")  # 4 + 2
    ready(page)
    tab_to(page, "step-forward")
    page.keyboard.press("Enter")
    expect(page.locator("#step-label")).to_have_text("1 of 18: x[0, 0, 1]")
    page.keyboard.press("Shift+Tab")  # to Play
    assert page.evaluate("document.activeElement.id") == "play"
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    tab_to(page, "scrub")
    page.keyboard.press("End")
    expect(page.locator("#step-label")).to_have_text("17 of 18: x[1, 2, 2]")
    tab_to(page, "speed")
    page.keyboard.press("ArrowDown")  # 2 → 5 steps/s
    assert page.locator("#speed").input_value() == "5"
    tab_to(page, "y-10")  # an output of the scatter: Enter moves the direct window there
    page.keyboard.press("Enter")
    expect(page.locator("#pos-label")).to_have_text("10 of 42: output [1, 4]")  # 10 = 1·6 + 4
    assert with_class(page, "z-", "current") == {"z-10"}
    tab_to(page, "pos-forward")
    page.keyboard.press("Enter")
    expect(page.locator("#pos-label")).to_have_text("11 of 42: output [1, 5]")


def test_an_output_links_both_ways_and_the_inputs_that_reach_it(page, live_server, problems):
    page.goto(live_server + DCGAN)
    ready(page)
    # output (0, 0) is canvas (1, 1) (padding 1 cropped): stamps reach it from input (i, j) with
    # i·2 + t = 1 for a tap t in 0..2, so i = 0 only, on both axes: x[c, 0, 0] of both channels
    page.hover("#y-0")
    assert set(page.eval_on_selector_all("#live .linked", "els => els.map(e => e.id)")) == \
        {"y-0", "z-0", "s-8", "x0-0", "x1-0"}
    page.hover("#z-7")  # output (1, 1) = canvas (2, 2): i ∈ {0, 1} on each axis (2·0 + 2, 2·1 + 0)
    assert set(page.eval_on_selector_all("#live .linked", "els => els.map(e => e.id)")) == \
        {"y-7", "z-7", "s-16"} | {f"x{c}-{i}" for c in (0, 1) for i in (0, 1, 3, 4)}
    page.click("#y-7")
    expect(page.locator("#pos-label")).to_have_text("7 of 36: output [1, 1]")


def test_reduced_motion_never_plays_by_itself(page, live_server, problems):
    page.emulate_media(reduced_motion="reduce")
    page.goto(live_server + DEFAULT.replace("/transposed", "/embed/transposed") + "&autoplay=1&step=3")
    ready(page)
    before = label(page)
    page.wait_for_timeout(1500)
    assert label(page) == before == "3 of 18: x[0, 1, 0]"
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#play-state")).to_have_text("Paused")


def test_an_embed_may_autoplay(page, live_server, problems):
    page.goto(live_server + DEFAULT.replace("/transposed", "/embed/transposed") + "&autoplay=1")
    ready(page)
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#play-state")).to_have_text("Playing")
    assert within(page, 1.3, lambda: step_of(page) >= 1), label(page)  # 2 steps/s
    page.locator("#play").click()
    expect(page.locator("#play-state")).to_have_text("Paused")


# ---------------------------------------------------------------- accessibility, screenshots

@pytest.mark.parametrize("url", [DCGAN + "&step=5", KERAS_1D, DILATED,
                                 DCGAN.replace("/transposed", "/embed/transposed") + "&theme=dark&step=9&pos=7",
                                 DEFAULT + "&output_padding=2"])  # the last one: an invalid setting, explained
def test_no_wcag22_violations(page, live_server, problems, url):
    page.goto(live_server + url)
    expect(page.locator("#live")).to_have_count(1)
    if "output_padding=2" not in url:
        ready(page)
    results = Axe().run(page, options=WCAG)
    ran = {r["id"] for kind in ("passes", "violations", "incomplete", "inapplicable") for r in results.response[kind]}
    assert "target-size" in ran and "color-contrast" in ran
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("name, url, hover", [
    ("transposed-2d-dcgan", DCGAN + "&step=9&pos=7", "#y-7"),
    ("transposed-2d-default", DEFAULT + "&step=4&pos=16", None),
    ("transposed-1d-keras", KERAS_1D + "&step=2&pos=3", None),
    ("transposed-1d-dilated", DILATED + "&step=2&pos=5", None),
    ("transposed-keras-extra-and-crop", ("/transposed?framework=keras&type=Conv2DTranspose&filters=1&kernel_size=1,4"
     "&strides=3&padding=same&output_padding=2&input_shape=1,2,3,1&step=5"), None),
    ("transposed-invalid", DEFAULT + "&output_padding=2", None),
])
def test_screenshots(page, live_server, problems, shot, name, url, hover):
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(live_server + url)
    if "invalid" not in name:
        ready(page)
    if hover:
        page.hover(hover)
    assert shot(name).stat().st_size > 10_000
