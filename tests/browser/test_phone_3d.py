"""A 3D layer on a phone (issue 20): at 390×844 with touch, a video clip's input and output pictures are drawn
side by side at half the width each, the kernel under them across the width (its three depth slices of numbers
in one row), with nothing scrolling sideways; the pictures stand clear of the knob row. Screenshots land in
screenshots/phone-3d-*.png."""
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
          slices: [...document.querySelectorAll('[data-stage] [data-part=kernel] .kernel-card:not([hidden]) table')].map((t) => t.getBoundingClientRect().top),
          scrollWidth: document.documentElement.scrollWidth, scrollY};
}"""


def open_clip(context_page, live_server, view: str):
    page = context_page(**PHONE)
    page.goto(live_server + CLIPS[view])
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
    assert g["kernel"]["top"] >= max(g["input"]["bottom"], g["output"]["bottom"]) and g["kernel"]["width"] > 300, g
    assert g["kernel"]["top"] < 844 - 60, g  # the kernel starts on the first screen
    page.screenshot(path=str(SCREENSHOTS / f"phone-3d-{view}.png"))


def test_the_clip_kernel_depth_slices_sit_in_one_row(context_page, live_server):
    page = open_clip(context_page, live_server, "explore")
    slices = page.evaluate(PLACES)["slices"]
    assert len(slices) == 3 and max(slices) - min(slices) < 1, slices
