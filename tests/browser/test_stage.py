"""The stage comes first, in every visual view, at each user's viewport: the laptop (a cell of the
stage and a knob on screen together, also after a knob moves), the projector (numbers ≥ 16 px, and a
presentation mode with numbers ≥ 18 px driven from the keyboard), the phone (nothing scrolls sideways,
targets ≥ 24 px) and the embed (the stage within 640 px, a default embed ≤ 900 px tall). Screenshots
land in screenshots/stage-*.png."""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.views import VIEWS as LISTED
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import WCAG, here, label

VIEWS = [v.path for v in LISTED if v.player]  # every view of app/views.py whose stage plays the window
CASES = VIEWS + [  # long rows, several channels, per-axis layers
    "/explore?framework=torch&type=Conv1d&in_channels=16&out_channels=32&kernel_size=5&stride=2&input_shape=1,16,36",
    "/pool?framework=torch&type=MaxPool2d&kernel_size=3,2&stride=2,1&padding=1,0&input_shape=1,2,9,7",
    "/transposed?framework=keras&type=Conv2DTranspose&filters=2&kernel_size=3&strides=2,3&input_shape=1,3,2,2",
    "/explore?framework=keras&type=Conv3D&filters=2&kernel_size=1,3,2&strides=1,2,1&input_shape=1,3,7,5,1",
]
OTHERS = ["/", "/groups", "/groups?framework=keras&type=SeparableConv2D&filters=32&kernel_size=3&padding=same"
          "&input_shape=10,16,16,32"]  # the home page's live example and the groups wiring are stages too
LAPTOP = {"viewport": {"width": 1440, "height": 900}}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
EMBED = {"viewport": {"width": 700, "height": 640}}
GEOMETRY = """() => {
  const box = (el) => { if (!el) return null; const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, h: r.height}; };
  const stage = document.querySelector('[data-stage]');
  const cell = stage && [...stage.querySelectorAll('td, li.cell, svg circle')].find((td) => td.getBoundingClientRect().width > 0);
  const knob = [...document.querySelectorAll('form.knob-strip input:not([type=hidden]), form.knob-strip select')].find((k) => k.getBoundingClientRect().width > 0);
  return {stage: box(stage), cell: box(cell), knob: box(knob), font: cell ? parseFloat(getComputedStyle(cell).fontSize) : 0,
          scrollX: document.documentElement.scrollWidth - window.innerWidth, scrollY: window.scrollY,
          height: document.documentElement.scrollHeight, vh: window.innerHeight, vw: window.innerWidth};
}"""


def name(path: str) -> str:
    return re.sub(r"[^\w]+", "-", path.strip("/"))[:60]


@pytest.fixture
def open_page(context_page, live_server):
    """A view in a fresh context with these options, once its stage is there (conftest's context_page
    fails the test on console errors, page errors, HTTP errors and CSP violations)."""
    def open_(path: str, options: dict):
        page = context_page(**options)
        page.goto(live_server + path)
        page.locator("[data-stage]").first.wait_for()
        return page
    return open_


def on_screen(g, box) -> bool:
    return box is not None and box["top"] >= 0 and box["bottom"] <= g["vh"] and box["left"] >= 0 and box["right"] <= g["vw"]


@pytest.mark.parametrize("path", CASES + OTHERS)
def test_laptop_a_stage_cell_and_a_knob_are_on_screen_together_and_stay_so(open_page, path):
    page = open_page(path, LAPTOP)
    g = page.evaluate(GEOMETRY)
    assert on_screen(g, g["cell"]) and on_screen(g, g["knob"]), g
    slider = page.locator("#kernel_size" if path.startswith("/groups") else "form.knob-strip input[type=range]").first
    slider.focus()
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowLeft" if "100" in path else "ArrowRight")
    page.wait_for_timeout(300)
    after = page.evaluate(GEOMETRY)
    assert after["scrollY"] == g["scrollY"], "the page jumped when a knob moved"
    assert on_screen(after, after["cell"]) and on_screen(after, after["knob"]), after
    expect(slider).to_be_focused()
    page.screenshot(path=str(SCREENSHOTS / f"stage-laptop-{name(path)}.png"))


def test_the_window_and_its_output_are_on_screen_together_in_a_long_row(open_page):
    """Q2's layer, Conv1d(16, 32, 5, stride=2), on length 36 (the longest row /explore still draws as numbers is
    40; Q2's 100 is a picture): at step 12 the window reads positions 24–28."""
    page = open_page(CASES[4] + "&step=12", LAPTOP)
    page.wait_for_timeout(600)  # the rows scroll to the window
    boxes = page.evaluate("""() => [...document.querySelectorAll('[data-stage] td.lit, [data-stage] td.current')]
        .map((td) => { const r = td.getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; })""")
    assert len(boxes) >= 5 * 8 + 1
    width, height = 1440, 900
    assert all(0 <= left and right <= width for left, right, _, _ in boxes), boxes
    assert any(top < height for _, _, top, _ in boxes[-1:]), "the output cell is below the fold"
    page.screenshot(path=str(SCREENSHOTS / "stage-laptop-q2-step-40.png"))


@pytest.mark.parametrize("path", VIEWS)
def test_projector_stage_in_the_first_screen_with_numbers_for_the_room(open_page, path):
    page = open_page(path, PROJECTOR)
    g = page.evaluate(GEOMETRY)
    assert on_screen(g, g["cell"]), g
    assert g["font"] >= 16, g["font"]
    assert g["scrollX"] <= 0, g
    page.screenshot(path=str(SCREENSHOTS / f"stage-projector-{name(path)}.png"))


@pytest.mark.parametrize("path", VIEWS)
def test_presentation_mode_fills_the_screen_and_obeys_the_keyboard(open_page, path):
    page = open_page(path, PROJECTOR)
    page.get_by_role("button", name="Present").click()
    expect(page.locator("body.presenting")).to_have_count(1)
    assert "present=1" in here(page)
    g = page.evaluate(GEOMETRY)
    assert g["font"] >= 18 and on_screen(g, g["cell"]), g  # issue 20: ≥ 18 px, sized to fit one screen
    assert page.locator("header.site").is_hidden()
    page.locator("body").click(position={"x": 5, "y": 5})  # the focus leaves the button: keys go to the stage
    first = label(page)
    page.keyboard.press("ArrowRight")
    expect(page.locator("#step-label")).not_to_have_text(first)
    page.keyboard.press(" ")
    expect(page.locator("#play-state")).to_have_text(re.compile("Playing"))
    page.keyboard.press(" ")
    expect(page.locator("#play-state")).to_have_text(re.compile("Paused"))
    page.locator("form.knob-strip input:not([type=hidden]), form.knob-strip select").first.focus()  # knobs by keyboard
    page.screenshot(path=str(SCREENSHOTS / f"stage-present-{name(path)}.png"))
    page.keyboard.press("Escape")
    expect(page.locator("body.presenting")).to_have_count(0)
    assert "present=1" not in here(page)


@pytest.mark.parametrize("path", VIEWS)
def test_a_link_with_present_opens_in_presentation_mode_and_a_knob_keeps_it(open_page, live_server, path):
    page = open_page(path + "?present=1", PROJECTOR)
    expect(page.locator("body.presenting")).to_have_count(1)
    expect(page.get_by_role("button", name="Leave presentation")).to_have_attribute("aria-pressed", "true")
    plain = open_page(path, PROJECTOR)  # present=1 is not a setting of the layer: the same view
    assert page.locator("[data-output-shape]").get_attribute("data-output-shape") == \
        plain.locator("[data-output-shape]").get_attribute("data-output-shape")
    slider = page.locator("form.knob-strip input[type=range]").last
    slider.focus()
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"present=1"))


@pytest.mark.parametrize("path", CASES + OTHERS)
def test_phone_nothing_scrolls_sideways_and_targets_are_large_enough(open_page, path):
    page = open_page(path, PHONE)
    g = page.evaluate(GEOMETRY)
    assert g["scrollX"] <= 0, g
    assert g["stage"]["top"] < 844, g
    small = page.evaluate("""() => [...document.querySelectorAll('[data-stage] button, [data-stage] a, form.knob-strip input, form.knob-strip select')]
        .filter((e) => e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().height < 24).map((e) => e.id || e.textContent)""")
    assert small == [], small
    page.screenshot(path=str(SCREENSHOTS / f"stage-phone-{name(path)}.png"))


@pytest.mark.parametrize("path", ["/pool?type=MaxPool2d&kernel_size=3&stride=2&input_shape=1,16,56,56", "/transposed",
                                  "/explore?type=Conv2d&in_channels=32&out_channels=32&kernel_size=3&padding=1"
                                  "&input_shape=1,32,56,56"])
def test_phone_a_part_brought_into_view_stops_above_the_knob_row(open_page, path):
    """Focus, a script or the browser bringing a part into view leaves it above the sticky knob row, not under it."""
    page = open_page(path, PHONE)
    for part in ("input", "kernel", "output"):
        page.locator(f"[data-part={part}]").first.evaluate("(e) => e.scrollIntoView({block: 'nearest'})")
        box = page.locator(f"[data-part={part}]").first.bounding_box()
        strip = page.locator("form.knob-strip").bounding_box()
        assert box["y"] + min(box["height"], 400) <= strip["y"] + 1, (part, box, strip)


@pytest.mark.parametrize("path", VIEWS)
def test_embed_stage_first_and_a_default_embed_fits(open_page, path):
    page = open_page("/embed" + path, EMBED)
    g = page.evaluate(GEOMETRY)
    assert on_screen(g, g["cell"]), g
    assert g["height"] <= 900, g["height"]
    expect(page.locator(".embed-knobs summary")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / f"stage-embed-{name(path)}.png"), full_page=True)
    minimal = open_page(f"/embed{path}?controls=minimal", EMBED)
    expect(minimal.locator("#play")).to_be_visible()
    expect(minimal.locator(".embed-knobs, .embed-more")).to_have_count(2)
    assert minimal.locator(".embed-knobs").is_hidden() and minimal.locator(".embed-more").is_hidden()
    bare = open_page(f"/embed{path}?controls=none", EMBED)
    assert bare.locator("#play").is_hidden() and bare.locator("[data-stage] td").first.is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_presentation_mode_is_axe_clean(open_page, scheme):
    page = open_page("/explore?present=1", {**PROJECTOR, "color_scheme": scheme})
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()
