"""A 3D layer on a phone (issue 20), at 390×844 with touch, nothing scrolling sideways. A video clip at picture
level: its input and output pictures side by side at half the width each, clear of the knob row, the kernel
under the output, starting on the first screen. A small 3D layer at numbers level: the output and the input's
window (from its first depth slice) on the first screen, the kernel a screen later (each channel's depth slices
one row that scrolls sideways). In a 700×640 embed the clip's pictures take the width beside a kernel column one depth slice wide.
Screenshots land in screenshots/phone-3d-*.png."""
import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.web.test_picture import REAL_SIZES
from tests.web.test_pool_picture import POOL_SIZES

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
CLIPS = {"explore": "/explore?" + REAL_SIZES["clip3d"], "pool": "/pool?" + POOL_SIZES["clip3d"]}
PICTURE = 150  # px: each picture at least this wide (the three-column phone layout drew a clip's at 64 px)
# where the stage's parts and the knob row are, nothing scrolled
PLACES = """() => {
  const box = (s) => { const r = document.querySelector(s).getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width}; };
  return {input: box('[data-stage] [data-part=input] .pic-frame'), output: box('[data-stage] [data-part=output] .pic-frame'),
          kernel: box('[data-stage] [data-part=kernel]'), knobs: box('main form.knob-strip'),
          scrollWidth: document.documentElement.scrollWidth, scrollY};
}"""


def open_clip(context_page, live_server, view: str, options: dict = PHONE, prefix: str = ""):
    page = context_page(**options)
    page.goto(live_server + prefix + CLIPS[view])
    page.wait_for_function("() => [...document.querySelectorAll('.pic-frame img')].every((i) => i.complete && i.naturalWidth > 0)")
    return page


@pytest.mark.parametrize("view", sorted(CLIPS))
def test_a_clip_shows_its_pictures_large_and_the_kernel_under_them(context_page, live_server, view):
    page = open_clip(context_page, live_server, view)
    g = page.evaluate(PLACES)
    assert g["scrollY"] == 0 and g["scrollWidth"] <= 390, g
    for part in ("input", "output"):
        assert g[part]["width"] >= PICTURE, f"{view}: the {part} picture is {g[part]['width']:.0f} px wide"
        assert g[part]["top"] >= 0 and g[part]["bottom"] <= g["knobs"]["top"], f"{view}: the {part} picture is not clear of the knobs: {g}"
    assert g["input"]["right"] <= g["output"]["left"], g  # side by side, the input first
    assert g["kernel"]["top"] >= g["output"]["bottom"] and g["kernel"]["left"] >= g["input"]["right"], g  # under the output
    assert g["kernel"]["top"] <= 844 - 60, g  # the kernel starts on the first screen
    page.screenshot(path=str(SCREENSHOTS / f"phone-3d-{view}.png"))


NUMBERS = """() => {
  const box = (e) => { const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  return {output: box(document.querySelector('[data-stage] [data-part=output]')), kernel: box(document.querySelector('[data-stage] [data-part=kernel]')),
          window: [...document.querySelectorAll('[data-stage] [data-part=input] td.lit')].map(box),
          knobs: box(document.querySelector('main form.knob-strip')), scrollWidth: document.documentElement.scrollWidth};
}"""


def test_a_small_3d_layer_shows_its_output_and_window_on_the_first_screen(context_page, live_server):
    page = context_page(**PHONE)
    page.goto(live_server + "/explore?dims=3")
    page.locator("[data-stage] [data-part=input] td.lit").first.wait_for()
    page.wait_for_timeout(300)  # stage.js brings the window into its row's view on the next frame
    g = page.evaluate(NUMBERS)
    assert g["scrollWidth"] <= 390 and g["window"], g
    assert 0 <= g["output"]["top"] < g["knobs"]["top"] - 100, g
    start = g["window"][0]  # the window's first cell (its first depth slice): its row scrolls to it, not past it
    assert start["top"] >= 0 and start["bottom"] <= g["knobs"]["top"] and start["left"] >= 0 and start["right"] <= 390, start
    assert g["kernel"]["top"] < 2 * 844, g  # a screen later, not thousands of pixels
    page.screenshot(path=str(SCREENSHOTS / "phone-3d-numbers.png"))


def test_an_embedded_clip_gives_its_pictures_the_width(context_page, live_server):
    page = open_clip(context_page, live_server, "explore", {"viewport": {"width": 700, "height": 640}}, "/embed")
    g = page.evaluate(PLACES)
    assert g["scrollWidth"] <= 700, g
    assert g["input"]["width"] >= 240 and g["output"]["width"] >= 240, g  # beside a 449 px row of kernel slices: 104 px
    assert g["input"]["right"] <= g["kernel"]["left"] and g["kernel"]["right"] <= g["output"]["left"], g
    assert max(g["input"]["bottom"], g["output"]["bottom"]) <= 640 and g["kernel"]["top"] <= 640 - 60, g
    page.screenshot(path=str(SCREENSHOTS / "phone-3d-embed.png"))
