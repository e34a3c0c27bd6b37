"""/pointwise at real sizes in Chromium: the layers of tests/web/test_pointwise_sizes.py (REAL_SIZES) open as
pictures (x, W and y laid out as the matrix product) with the three parts of the stage on the first screen at the
laptop, the projector presenting, the phone and an embed; the lens (pointed at, clicked, moved by the arrow keys,
played) writes out the engine's arithmetic of one (position, filter), checked against a plain loop over the
engine's input and weights; a knob's fragment stays small. Screenshots land in screenshots/pointwise/ (the first
screen, as a reader sees it)."""
import gzip
import html
import math
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import WCAG, here
from tests.browser.test_present import PLACES
from tests.web.page import num
from tests.web.test_pointwise_sizes import FRAGMENT_GZIP, REAL_SIZES, products_of, reference

SHOTS = SCREENSHOTS / "pointwise"
VIEWS = {  # name -> (context options, path, extra query)
    "laptop": ({"viewport": {"width": 1440, "height": 900}}, "/pointwise?", ""),
    "present": ({"viewport": {"width": 1280, "height": 720}}, "/pointwise?", "&present=1"),
    "phone": ({"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
               "device_scale_factor": 2}, "/pointwise?", ""),
    "embed": ({"viewport": {"width": 700, "height": 640}}, "/embed/pointwise?", ""),
}
SEEN = 60  # px of each part, both ways, on the first screen
PICTURES_LOADED = """() => [...document.querySelectorAll('.pic-frame img')].every((i) => i.complete && i.naturalWidth > 0)"""
ON_SCREEN = """(part) => {
  const r = document.querySelector(`[data-stage] [data-part=${part}]`).getBoundingClientRect();
  return [Math.min(r.right, innerWidth) - Math.max(r.left, 0), Math.min(r.bottom, innerHeight) - Math.max(r.top, 0)];
}"""
FITS = """() => { // every product of the lens and the lens's total: in view or in the products' own scroll box
  const total = document.querySelector('#lens-total').getBoundingClientRect();
  return total.width > 0 && total.bottom <= innerHeight && total.top >= 0;
}"""


def open_layer(context_page, live_server, name: str, view: str = "laptop", extra: str = ""):
    options, path, more = VIEWS[view]
    page = context_page(**options)
    page.goto(live_server + path + REAL_SIZES[name] + more + extra)
    page.wait_for_function(PICTURES_LOADED)
    return page


@pytest.mark.parametrize("view", sorted(VIEWS))
@pytest.mark.parametrize("name", sorted(REAL_SIZES))
def test_the_three_parts_show_on_the_first_screen(context_page, live_server, name, view):
    """Each part at least 60×60 px on the first screen (the phone: the output beside a knob, not under it)."""
    page = open_layer(context_page, live_server, name, view)
    assert page.locator("[data-stage] .picture-stage").count() == 1
    if view == "phone":
        page.locator("#output-frame").evaluate("(o) => o.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(200)
        seen = page.evaluate(PLACES, "#output-frame")
        assert seen["knob"] and not seen["folded"] and seen["uncovered"], seen
    for part in ("input", "kernel", "output") if view != "phone" else ("output",):
        width, height = page.evaluate(ON_SCREEN, part)
        assert width >= SEEN and height >= SEEN, f"{name} at {view}: {part} shows {width:.0f}×{height:.0f} px"
    assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1  # nothing scrolls sideways
    if view in ("laptop", "present"):  # the lens's total beside the pictures, on the same screen
        assert page.evaluate(FITS), f"{name} at {view}: the lens's total is off the first screen"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{view}.png"))


def lens(page) -> dict:
    """The lens as the page shows it: its title's (filter, position), every product, and the total's numbers."""
    title = page.locator("#arith-title").inner_text()
    f, t = (int(v) for v in re.match(r"y\[(\d+), (\d+)\]", title).groups())
    products = [num(p.rsplit("=", 1)[1]) for p in products_of(page.locator("#lens-products").inner_text())]
    total = [num(s.inner_text()) for s in page.locator("#lens-total strong").all()]
    return {"f": f, "t": t, "products": products, "total": total}


def check_lens(page, query: str, t: int, f: int):
    expect(page.locator("#arith-title")).to_contain_text(f"y[{f}, {t}]")
    ref, shown = reference(query, t, f), lens(page)
    assert (shown["f"], shown["t"]) == (f, t)
    assert shown["products"] == pytest.approx(ref["products"], abs=0.006)
    assert shown["total"] == pytest.approx(ref["total"], abs=0.006), (shown["total"], ref["total"])


def point_at(page, f: int, t: int, filters: int, positions: int) -> tuple[int, int]:
    """Move the pointer over y[f, t] where the output picture draws it, at a whole CSS pixel (a click's
    coordinates are whole pixels: with more positions than pixels, the pixel's first position is the one pointed
    at); the (filter, position) under the pointer."""
    box = page.locator("#output-pic").bounding_box()
    x = math.floor(box["x"] + (t + 0.5) * box["width"] / positions)
    y = math.floor(box["y"] + (f + 0.5) * box["height"] / filters)
    page.mouse.move(x, y)
    return (math.floor((y - box["y"]) / box["height"] * filters), math.floor((x - box["x"]) / box["width"] * positions))


@pytest.mark.parametrize("name, f, t", [("resnet", 40, 2500), ("embedding", 77, 33), ("mobilenet", 200, 600)])
def test_the_lens_follows_the_pointer_the_click_and_the_keys_with_the_engine_arithmetic(
        context_page, live_server, name, f, t):
    page = open_layer(context_page, live_server, name)
    query = REAL_SIZES[name]
    filters, positions = REAL_SIZES_SHAPE[name]
    check_lens(page, query, 0, 0)
    f, t = point_at(page, f, t, filters, positions)  # another filter, far outside the block: the server's lens
    check_lens(page, query, t, f)
    w_row = "() => parseFloat(document.querySelector('#w-boxes span').style.top)"  # the row of W the lens reads
    page.wait_for_function(f"() => Math.abs(({w_row})() - {100 * f / filters}) < 0.01")
    assert "step=" not in here(page)  # pointing previews; the player stays where it was
    page.mouse.move(1, 1)
    check_lens(page, query, 0, 0)
    assert page.evaluate(w_row) == 0  # back to filter 0's row
    point_at(page, f, t, filters, positions)
    page.mouse.down()
    page.mouse.up()  # a click goes there: the fragment of that filter and block
    expect(page.locator("#step-label")).not_to_contain_text("t = 0 of")
    page.wait_for_function(PICTURES_LOADED)
    # a click's coordinates are whole pixels (a hover's are not): with several positions to a pixel, the click
    # may land a pixel's worth of positions from the hovered one; the lens then follows the click
    clicked = int(re.match(r"t = (\d+)", page.locator("#step-label").inner_text())[1])
    per_pixel = positions / page.locator("#output-pic").bounding_box()["width"]
    assert abs(clicked - t) <= per_pixel + 1, (clicked, t)
    t = clicked
    page.mouse.move(1, 1)
    check_lens(page, query, t, f)
    assert f"f={f}" in here(page) and f"step={t}" in here(page)
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-label")).to_contain_text(f"t = {t + 1} of")
    check_lens(page, query, t + 1, f)
    page.keyboard.press("ArrowDown")  # the next filter, the same position
    check_lens(page, query, t + 1, f + 1)
    expect(page.locator("#output-frame")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    check_lens(page, query, t, f + 1)


REAL_SIZES_SHAPE = {"resnet": (64, 3136), "embedding": (100, 50), "mobilenet": (256, 784)}


def test_playing_moves_the_column_fills_the_output_and_crosses_blocks(context_page, live_server):
    page = open_layer(context_page, live_server, "embedding")  # 300 channels: blocks of 5 positions
    query = REAL_SIZES["embedding"]
    before = page.locator("#window-boxes span").first.get_attribute("style")
    pending = page.locator("#pending-boxes span").first.get_attribute("style")
    page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_contain_text("t = 1 of 0–49")
    assert page.locator("#window-boxes span").first.get_attribute("style") != before
    assert page.locator("#pending-boxes span").first.get_attribute("style") != pending
    check_lens(page, query, 1, 0)
    served = page.request.get(f"{live_server}/pointwise/lens?{query}&step=1&f=0").text()  # the server's, to the letter
    lines = html.unescape(re.search(r'<pre id="lens-products"[^>]*>(.*?)</pre>', served, re.DOTALL)[1])
    assert page.locator("#lens-products").inner_text() == lines
    for _ in range(5):  # past the fragment's block: the next block's fragment, the player where it was
        page.locator("#step-forward").click()
        page.wait_for_timeout(150)
    expect(page.locator("#step-label")).to_contain_text("t = 6 of 0–49")
    page.wait_for_function(PICTURES_LOADED)
    check_lens(page, query, 6, 0)


def test_a_knob_redraws_the_pictures_in_place_and_its_fragment_is_small(context_page, live_server):
    page = open_layer(context_page, live_server, "mobilenet")
    old = page.locator("#input-pic").get_attribute("src")
    page.locator("#seed").fill("7")
    page.locator("#seed").dispatch_event("input")
    expect(page.locator("#input-pic")).not_to_have_attribute("src", old)
    page.wait_for_function(PICTURES_LOADED)
    assert "seed=7" in page.locator("#input-pic").get_attribute("src")
    answer = page.request.get(page.url, headers={"HX-Request": "true"})
    assert answer.ok and len(gzip.compress(answer.body())) <= FRAGMENT_GZIP
    check_lens(page, REAL_SIZES["mobilenet"] + "&seed=7", 0, 0)


def test_a_layer_over_the_limits_is_refused_with_the_limit_named(context_page, live_server):
    page = context_page(viewport={"width": 1440, "height": 900})
    page.goto(live_server + "/pointwise?framework=torch&type=Conv1d&in_channels=256&out_channels=64&kernel_size=1"
              "&input_shape=1,256,3136")
    expect(page.locator("[data-stage][role=alert]")).to_contain_text("the limit is 250,000")


@pytest.mark.parametrize("name, view", [("embedding", "laptop"), ("deep", "present"), ("resnet", "phone")])
def test_no_wcag22_violations_at_picture_level(context_page, live_server, name, view):
    page = open_layer(context_page, live_server, name, view)
    results = Axe().run(page, options=WCAG)
    ran = {r["id"] for kind in ("passes", "violations", "incomplete", "inapplicable") for r in results.response[kind]}
    assert "target-size" in ran and "color-contrast" in ran and "image-alt" in ran
    assert results.violations_count == 0, results.generate_report()
    assert page.locator("#w-pic").get_attribute("alt").startswith("The weight matrix W as a heatmap")
    expect(page.locator("#lens-products")).to_have_accessible_name(re.compile("a line per channel, channel 0 first"))


def test_the_positions_slider_opens_a_longer_one_at_its_end(context_page, live_server):
    """The default page's slider spans 1–64 as it always did; at 64 it spans 1–256, and a longer input is drawn
    as pictures, the slider's end four times the positions."""
    page = context_page(viewport={"width": 1440, "height": 900})
    page.goto(live_server + "/pointwise")
    slider = page.locator("#positions")
    expect(slider).to_have_attribute("max", "64")
    slider.fill("64")
    expect(page.locator("#step-label")).to_contain_text("of 0–63")
    expect(slider).to_have_attribute("max", "256")
    assert page.locator("#x-table").count() == 1  # still every number
    slider.fill("200")
    expect(page.locator("#step-label")).to_contain_text("of 0–199")
    expect(slider).to_have_attribute("max", "800")
    page.wait_for_function(PICTURES_LOADED)
    assert page.locator("[data-stage] .picture-stage").count() == 1 and page.locator("#x-table").count() == 0
    slider.fill("10")
    expect(slider).to_have_attribute("max", "64")
    expect(page.locator("#x-table")).to_have_count(1)


@pytest.mark.parametrize("view", ["present", "embed", "phone"])
def test_the_lens_answers_a_tap_and_the_keys_when_presenting_embedded_and_on_a_phone(context_page, live_server, view):
    page = open_layer(context_page, live_server, "embedding", view)
    query = REAL_SIZES["embedding"]
    page.locator("#output-frame").evaluate("(o) => o.scrollIntoView({block: 'center'})")  # clear of a phone's knobs
    page.wait_for_timeout(200)
    box = page.locator("#output-pic").bounding_box()
    x, y = math.floor(box["x"] + box["width"] * 0.7), math.floor(box["y"] + box["height"] * 0.25)
    f, t = math.floor((y - box["y"]) / box["height"] * 100), math.floor((x - box["x"]) / box["width"] * 50)
    if view == "phone":
        page.touchscreen.tap(x, y)
    else:
        page.mouse.click(x, y)
    expect(page.locator("#step-label")).to_contain_text(f"t = {t} of 0–49")
    page.wait_for_function(PICTURES_LOADED)
    check_lens(page, query, t, f)
    page.locator("#output-frame").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#step-label")).to_contain_text(f"t = {t - 1} of 0–49")
    check_lens(page, query, t - 1, f)
    page.keyboard.press("ArrowUp")
    check_lens(page, query, t - 1, f - 1)
