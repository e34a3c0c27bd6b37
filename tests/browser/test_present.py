"""Presentation mode on every page, playing across switches and the phone's knob (issue 20).

Every page of the site (the views from app.views.VIEWS, the lessons from the lessons table, home and
/learn) presents at 1280×720: the Present button starts it, nothing is blank, the page's main content is
on the first screen, no text in a stage is under 18 px (a lesson's stage is its embedded view, which
presents with it), the knobs are reachable by keyboard, and Esc leaves. Screenshots land in
screenshots/present-*.png."""
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.routes.learn import LESSONS
from app.views import VIEWS
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import WCAG, here

PAGES = ["/", "/learn", *(v.path for v in VIEWS), *(f"/learn/{slug}" for slug in LESSONS)]
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
# the stage's text, smallest first: [px, what] for every visible text run in each [data-stage] (SVG text at the
# size it is drawn)
STAGE_FONTS = """() => {
  const out = [];
  document.querySelectorAll('[data-stage]').forEach((stage) => {
    const walk = document.createTreeWalker(stage, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement, r = el.getBoundingClientRect();
      if (!n.textContent.trim() || r.width === 0 || r.height === 0 || el.closest('.visually-hidden')) continue;
      let px = parseFloat(getComputedStyle(el).fontSize);
      if (el.closest('svg') && el.getScreenCTM) px *= el.getScreenCTM().a;
      out.push([px, el.tagName + ' ' + n.textContent.trim().slice(0, 30)]);
    }
  });
  return out.sort((a, b) => a[0] - b[0]);
}"""
# a page without a bench (no knob strip of its own): its visible text controls, smallest first [px, what]
CONTROL_FONTS = """() => document.querySelector('main > .bench') ? [] : [...document.querySelectorAll(
  'main :is(select, textarea, input:not([type=range], [type=checkbox], [type=radio], [type=hidden]))')]
  .filter((e) => e.offsetParent).map((e) => [parseFloat(getComputedStyle(e).fontSize), e.id || e.name || e.tagName])
  .sort((a, b) => a[0] - b[0])"""
# how much of main's text is on the first screen (a blank page has none), and main's text size
FIRST_SCREEN = """() => {
  const main = document.querySelector('main');
  let chars = 0;
  const walk = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const r = n.parentElement.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.top < innerHeight && r.bottom > 0) chars += n.textContent.trim().length;
  }
  const frame = main.querySelector('iframe');
  return {chars, frame: frame ? frame.getBoundingClientRect().toJSON() : null, body: parseFloat(getComputedStyle(main).fontSize)};
}"""


def name(path: str) -> str:
    return re.sub(r"[^\w]+", "-", path.strip("/"))[:60] or "home"


def stage_frame(page):
    """The frame that holds the page's stage: the page itself, or a lesson's embedded view."""
    if page.locator("iframe.lesson-view").count():
        page.frame_locator("iframe.lesson-view").locator("#live").wait_for()  # its view (Q3's: /cost, no stage)
        return next(f for f in page.frames if "/embed/" in f.url)
    return page.main_frame


@pytest.mark.parametrize("path", PAGES)
def test_every_page_presents(context_page, live_server, path):
    page = context_page(**PROJECTOR)
    page.goto(live_server + path)
    button = page.locator("[data-present]:visible")
    expect(button).to_have_count(1)  # one Present button on every page
    button.click()
    expect(page.locator("body.presenting")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"present=1"))
    expect(page.locator("[data-present]:visible")).to_have_attribute("aria-pressed", "true")
    assert page.locator("header.site").is_hidden() and page.locator("footer.site").is_hidden()
    page.wait_for_timeout(300)
    seen = page.evaluate(FIRST_SCREEN)
    assert seen["chars"] > 40, f"{path} presents a blank screen: {seen}"
    frame = stage_frame(page)
    if path.startswith("/learn/"):  # a lesson: its number, its answer and its stage (the embedded view) on screen
        expect(page.locator(".lesson-nav [aria-current]")).to_be_in_viewport()
        expect(page.locator(".answer p").first).to_be_in_viewport()
        assert seen["frame"]["top"] < 200 and seen["frame"]["bottom"] <= 721, seen
        expect(page.frame_locator("iframe.lesson-view").locator("body.presenting")).to_have_count(1)
    stages = frame.locator("[data-stage]")
    if stages.count():
        expect(stages.first).to_be_in_viewport()
        fonts = frame.evaluate(STAGE_FONTS)
        assert fonts and fonts[0][0] >= 18, f"{path}: text in the stage under 18 px: {fonts[:5]}"
    else:  # no stage: the main content large
        assert seen["body"] >= 20, seen
    controls = page.evaluate(CONTROL_FONTS)  # a form of its own (/trace's, /cost's, home's) large too
    assert not controls or controls[0][0] >= 18, f"{path}: a form control under 18 px: {controls[:3]}"
    # the knobs by keyboard: Tab reaches a form control (a lesson's are in its embedded view)
    if page.locator("main form").count():
        for _ in range(300):  # from the Present button, past the stage's focusable cells
            page.keyboard.press("Tab")
            if page.evaluate("!!document.activeElement.closest('main form') && "
                             "document.activeElement.matches('input, select, textarea')"):
                break
        else:
            raise AssertionError(f"{path}: Tab never reached a knob")
    page.screenshot(path=str(SCREENSHOTS / f"present-{name(path)}.png"))
    page.keyboard.press("Escape")
    expect(page.locator("body.presenting")).to_have_count(0)
    expect(page.locator("header.site")).to_be_visible()


def test_explore_default_2d_presents_the_window_its_output_and_its_sum_on_one_screen(context_page, live_server):
    page = context_page(**PROJECTOR)
    page.goto(live_server + "/explore?present=1")
    page.locator("#arith-lines li").first.wait_for()
    for part in ("#y-0", "#play", "#arith-total", "#x0-0", "[aria-label^='kernel for input channel']"):
        box = page.locator(part).first.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 720 and box["x"] + box["width"] <= 1280, (part, box)
    # the arithmetic breaks between terms, never inside one: every token is drawn on one line
    broken = page.evaluate("""() => {
      const bad = [];
      document.querySelectorAll('#arith li, #arith-total').forEach((line) => {
        const walk = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          for (const m of n.textContent.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(n, m.index); range.setEnd(n, m.index + m[0].length);
            const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
            if (tops.size > 1) bad.push(m[0]);
          }
        }
      });
      return bad;
    }""")
    assert broken == [], broken
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(SCREENSHOTS / "present-explore-default-2d.png"))


@pytest.mark.parametrize("path", ["/", "/learn/1x1-conv", "/cost", "/image", "/trace"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_presenting_is_axe_clean(context_page, live_server, path, scheme):
    page = context_page(**PROJECTOR, color_scheme=scheme)
    page.goto(live_server + path + "?present=1")
    expect(page.locator("body.presenting")).to_have_count(1)
    page.wait_for_timeout(300)
    result = Axe().run(page, options=WCAG)
    assert result.violations_count == 0, result.generate_report()


def step_of(page) -> int:
    return int(page.locator("#scrub").input_value())


@pytest.mark.parametrize("path, switch", [("/explore", "Framework"), ("/explore", "Dimensions"), ("/pool", "Framework"),
                                          ("/pool", "Pooling"), ("/pool", "Dimensions"), ("/transposed", "Framework"),
                                          ("/transposed", "Dimensions"), ("/pointwise", "Framework")])
def test_playing_survives_a_switch(context_page, live_server, path, switch):
    """A framework or pooling-kind switch goes on from the same step, a dimension switch from step 0; both keep
    playing at the same speed, and the play button says so (aria-pressed)."""
    page = context_page(viewport={"width": 1440, "height": 900})
    page.goto(live_server + path + "?present=1")
    page.locator("#speed").select_option("1")
    page.locator("#play").click()
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#scrub")).to_have_value("2", timeout=4000)
    other = page.locator(f"nav[aria-label='{switch}'] a:not([aria-current])").first
    target, current = other.inner_text(), page.locator(f"nav[aria-label='{switch}'] a[aria-current]").inner_text()
    before, was = step_of(page), page.locator("[data-output-shape]").get_attribute("data-output-shape")
    other.click()
    expect(page.locator(f"nav[aria-label='{switch}'] a[aria-current]")).to_have_text(target)
    after = step_of(page)
    if switch == "Dimensions":
        assert after in (0, 1), (before, after)
    else:
        assert after in (before, before + 1), (before, after)  # 1 step/s: at most one step went by
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#play-state")).to_have_text("Playing")
    assert page.locator("#speed").input_value() == "1"
    expect(page.locator("#scrub")).not_to_have_value(str(after), timeout=3000)  # and it goes on
    assert "present=1" in here(page) and page.locator("body.presenting").count() == 1  # still presenting
    if switch != "Pooling":
        assert page.locator("[data-output-shape]").get_attribute("data-output-shape") != was or switch == "Framework"
    page.go_back()  # Back reloads the page the address names
    expect(page.locator(f"nav[aria-label='{switch}'] a[aria-current]")).to_have_text(current)


def test_a_paused_player_keeps_its_step_across_a_framework_switch(context_page, live_server):
    page = context_page(viewport={"width": 1440, "height": 900})
    page.goto(live_server + "/explore?step=7")
    expect(page.locator("#scrub")).to_have_value("7")
    value = page.locator("#y-7").inner_text()
    page.locator("nav[aria-label='Framework'] a:not([aria-current])").click()
    expect(page.locator("nav[aria-label='Framework'] a[aria-current]")).to_have_text("Keras")
    expect(page.locator("#scrub")).to_have_value("7")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    expect(page.locator("#play-state")).to_have_text("Paused")
    assert page.locator("#y-7").inner_text() == value  # the same layer in Keras' words: the same number
    expect(page).to_have_url(re.compile(r"framework=keras.*step=7"))


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
OUTPUT = {"/": "[data-stage] .sums", "/explore": "[aria-label^='output of filter']", "/pool": "[aria-label^='output channel']",
          "/transposed": "[aria-label^='scatter output channel']", "/pointwise": "#y-table", "/groups": "[data-stage] svg",
          "/image": "[data-part=output]", "/im2col": "[data-part=output]", "/backprop": "[data-part=output]"}
NO_STAGE = {"/cost", "/trace"}
# the first knob of the page's strip that is drawn, and where it and the output are
PLACES = """(output) => {
  const knob = [...document.querySelectorAll('main form input:not([type=hidden]), main form select')]
    .find((k) => k.getBoundingClientRect().height > 0 && k.getBoundingClientRect().top >= 0 && k.getBoundingClientRect().bottom <= innerHeight);
  const out = document.querySelector(output), o = out.getBoundingClientRect();
  const x = Math.min(o.left + 10, innerWidth - 5), y = Math.max(0, o.top) + Math.min(o.height, innerHeight - Math.max(0, o.top)) / 2;
  const under = document.elementFromPoint(x, y);
  return {knob: knob ? knob.id : null, folded: knob ? !!knob.closest('details:not([open])') : null, range: knob && knob.type,
          output: [o.top, o.bottom], uncovered: !!under && out.contains(under)};
}"""


def test_every_view_is_classified_for_the_phone():
    assert {v.path for v in VIEWS} == (set(OUTPUT) - {"/"}) | NO_STAGE


@pytest.mark.parametrize("path", list(OUTPUT))
def test_phone_a_knob_is_ready_beside_the_output(context_page, live_server, path):
    """390×844 with touch: with the output in view, a knob of the strip is on screen too (not folded away),
    the output is not covered by it, and moving that knob keeps both on screen."""
    page = context_page(**PHONE)
    page.goto(live_server + path)
    page.locator(OUTPUT[path]).first.wait_for()
    page.locator(OUTPUT[path]).first.evaluate("(o) => o.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(200)
    seen = page.evaluate(PLACES, OUTPUT[path])
    assert seen["knob"] and not seen["folded"], seen
    assert seen["output"][0] < 844 and seen["output"][1] > 0 and seen["uncovered"], seen
    slider = page.locator("main form input[type=range]:not(#in_channels, #out_channels, #channels, #filters)").first  # /groups: any size fits
    assert slider.evaluate("(k) => { const r = k.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }"), \
        "no slider on screen with the output"
    slider.focus()
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    after = page.evaluate(PLACES, OUTPUT[path])
    assert after["knob"] and after["output"][0] < 844 and after["output"][1] > 0, after
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / f"phone-knob-{name(path)}.png"))


REAL_SIZE = {"/explore": "?framework=torch&type=Conv2d&in_channels=3&out_channels=16&kernel_size=3&padding=1"
                          "&input_shape=1,3,32,32",
             "/pool": "?framework=torch&type=MaxPool2d&kernel_size=2&stride=2&input_shape=1,32,56,56",
             "/backprop": "?framework=torch&type=Conv2d&in_channels=3&out_channels=8&kernel_size=3&input_shape=1,3,32,32"}


@pytest.mark.parametrize("url", [p for p in OUTPUT if p not in ("/", "/groups")] + [p + q for p, q in REAL_SIZE.items()])
def test_phone_the_first_screen_shows_the_output_above_the_knobs(context_page, live_server, url):
    """390×844, nothing scrolled: the output starts in the upper part of the first screen, 150 px or more above
    the knob row (the title, the shapes and the player above it; the stage's words after its pictures)."""
    page = context_page(**PHONE)
    page.goto(live_server + url)
    selector = "[data-part=output]" if "?" in url else OUTPUT[url]  # a real size: the picture level
    page.locator(selector).first.wait_for()
    top = page.locator(selector).first.evaluate("(o) => o.getBoundingClientRect().top")
    knobs = page.evaluate("() => { const f = document.querySelector('main form.knob-strip, #image-form');"
                          " return f ? f.getBoundingClientRect().top : innerHeight; }")
    assert page.evaluate("scrollY") == 0 and top <= 500 and top < knobs - 150, (top, knobs)


def test_explore_presets_sit_with_the_knobs(context_page, live_server):
    """1440×900: the question presets are the knob strip's first line (they were at the foot of the page)."""
    page = context_page(viewport={"width": 1440, "height": 900})
    page.goto(live_server + "/explore")
    summary = page.locator("form.knob-strip .strip-presets > summary")
    expect(summary).to_be_in_viewport()
    summary.click()
    links = page.locator("form.knob-strip nav.presets a")
    expect(links).to_have_count(4)
    for i in range(4):
        expect(links.nth(i)).to_be_in_viewport()
    links.first.click()
    expect(page).to_have_url(re.compile(r"in_channels=16&out_channels=32"))
