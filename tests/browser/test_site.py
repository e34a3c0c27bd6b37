"""What every page shares, in a real browser: the dark theme (system setting and the header's toggle,
axe clean in both), the phone (no sideways scroll, the collapsing nav), the player surviving a knob,
plotly loaded only near its figures, the /learn index, /docs in the site's frame, and the polish
(quote marks, no internal file names, readable figures). Screenshots at 1440×900, 1280×720 and
390×844 in both themes land in screenshots/site-*.png.
"""
import itertools
import re
import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.routes.learn import LESSONS
from app.views import VIEWS
from tests.browser.helpers import WCAG, label

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
PAGES = ["/", "/learn", "/learn/output-length", *(v.path for v in VIEWS), "/docs"]  # every view of app/views.py
Q2 = "/explore?framework=torch&type=Conv1d&in_channels=16&out_channels=32&kernel_size=5&stride=2&input_shape=4,16,100"
TRACE_Q5 = ("/trace?framework=keras&code=model+%3D+keras.Sequential%28%5Bkeras.Input%28%2833%2C+33%2C+7%2C+1%29%29%2C+"
            "keras.layers.Conv3D%2816%2C+3%29%2C+keras.layers.Flatten%28%29%2C+keras.layers.Dense%281%29%5D%29")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
DARK_BG = "rgb(20, 23, 28)"  # --bg of the dark palette (static/app.css)
LIGHT_BG = "rgb(251, 251, 253)"


def save(page, name: str, full_page: bool = True):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"site-{name}.png"), full_page=full_page)


def sideways(page) -> int:
    """How far the page itself scrolls sideways (0: not at all)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def until(page, script: str, timeout: float = 5.0):
    """Poll a JavaScript expression until it is true (wait_for_function evals, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"never true: {script}"
        page.wait_for_timeout(50)


def scroll_through(page):
    """Scroll down the page as a reader does, a screen at a time, so every lazy figure comes near and
    is drawn; then back to the top."""
    y = 0
    while y < page.evaluate("document.documentElement.scrollHeight"):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(60)
        y += 500
    expect(page.locator(".plot:not([data-rendered])")).to_have_count(0, timeout=10_000)
    page.evaluate("window.scrollTo(0, 0)")


def settle(page):
    """Past the first paint: fonts loaded, the deferred scripts run."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => r())))")


# ---------------------------------------------------------------- phone

@pytest.mark.parametrize("path", [*PAGES, Q2, TRACE_Q5])
def test_no_page_scrolls_sideways_on_a_phone(context_page, live_server, path):
    page = context_page(**PHONE)
    page.goto(live_server + path)
    settle(page)
    assert sideways(page) == 0
    scroll_through(page)  # figures drawn when scrolled to must fit too
    assert sideways(page) == 0


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["/", "/groups", "/pool", Q2, TRACE_Q5])
def test_phone_pages_are_axe_clean_with_their_scroll_boxes_reachable(context_page, live_server, path, scheme):
    page = context_page(color_scheme=scheme, **PHONE)
    page.goto(live_server + path)
    settle(page)
    scroll_through(page)  # every figure drawn: one too wide scrolls in its box, focusable
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


def test_phone_nav_collapses_into_a_keyboard_operable_menu(context_page, live_server):
    page = context_page(**PHONE)
    page.goto(live_server + "/explore")
    menu = page.locator("#menu-toggle")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_be_visible()
    expect(nav).to_be_hidden()
    box = menu.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24
    menu.focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    links = nav.get_by_role("link")
    count = len(VIEWS) + 3  # Home, Learn, every view of app/views.py, the JSON API
    expect(links).to_have_count(count)
    for box in (links.nth(i).bounding_box() for i in range(count)):
        assert box["height"] >= 24 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert sideways(page) == 0
    page.keyboard.press("Tab")  # the first link follows the button
    assert page.evaluate("document.activeElement.textContent") == "Home"
    page.keyboard.press("Escape")  # Esc closes and gives the focus back to the button
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Space")
    expect(nav).to_be_visible()
    save(page, "menu-390-light", full_page=False)


def test_wide_nav_is_a_plain_row_of_links(context_page, live_server):
    page = context_page(viewport={"width": 1280, "height": 720})
    page.goto(live_server + "/cost")
    expect(page.locator("#menu-toggle")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Cost")).to_have_attribute("aria-current", "page")
    heights = {round(nav.get_by_role("link").nth(i).bounding_box()["y"]) for i in range(10)}
    assert len(heights) == 1  # one line


def test_without_javascript_the_phone_nav_wraps_and_nothing_scrolls(browser, live_server):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(live_server + "/explore")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Trace a model")).to_be_visible()
    expect(page.locator("#menu-toggle")).to_be_hidden()
    expect(page.locator("#theme-toggle")).to_be_hidden()  # a button that could do nothing is not shown
    assert sideways(page) == 0
    context.close()


# ---------------------------------------------------------------- dark theme

@pytest.mark.parametrize("path", ["/", "/learn", *(v.path for v in VIEWS), TRACE_Q5, "/learn/output-length"])
def test_dark_system_setting_darkens_the_site_and_axe_stays_clean(context_page, live_server, path):
    page = context_page(color_scheme="dark", viewport={"width": 1280, "height": 720})
    page.goto(live_server + path)
    settle(page)
    assert background(page) == DARK_BG
    expect(page.locator("#theme-toggle")).to_have_attribute("aria-pressed", "true")
    scroll_through(page)  # the figures drawn too, in the dark theme's ink
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


@pytest.mark.parametrize("path", ["/", "/learn", "/cost", TRACE_Q5])
def test_light_theme_axe_clean(context_page, live_server, path):
    page = context_page(color_scheme="light", viewport={"width": 1280, "height": 720})
    page.goto(live_server + path)
    settle(page)
    assert background(page) == LIGHT_BG
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


def test_toggle_switches_the_theme_remembers_it_and_redraws_figures(context_page, live_server):
    page = context_page(color_scheme="light", viewport={"width": 1280, "height": 720})
    page.goto(live_server + "/cost")
    toggle = page.get_by_role("button", name="Dark theme")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert background(page) == LIGHT_BG
    page.locator(".plot").scroll_into_view_if_needed()
    expect(page.locator(".plot[data-rendered]")).to_have_count(1)
    ink = lambda: page.evaluate("getComputedStyle(document.querySelector('.plot .xtitle')).fill")
    light_ink = ink()
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) == DARK_BG
    until(page, f"getComputedStyle(document.querySelector('.plot .xtitle')).fill !== {light_ink!r}")
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()
    page.goto(live_server + "/explore")  # remembered on the next page, applied before the first paint
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert background(page) == DARK_BG
    page.get_by_role("button", name="Dark theme").click()
    page.reload()
    assert background(page) == LIGHT_BG


def test_the_choice_wins_over_the_system_setting(context_page, live_server):
    page = context_page(color_scheme="dark")
    page.goto(live_server + "/")
    assert background(page) == DARK_BG
    page.get_by_role("button", name="Dark theme").click()
    assert background(page) == LIGHT_BG
    page.reload()
    assert background(page) == LIGHT_BG


def test_a_lessons_embedded_view_follows_the_toggle(context_page, live_server):
    page = context_page(color_scheme="light", viewport={"width": 1280, "height": 720})
    page.goto(live_server + "/learn/output-length")
    view = page.frame_locator("iframe.lesson-view")
    expect(view.locator("[data-output-shape]")).to_be_attached()
    page.get_by_role("button", name="Dark theme").click()
    expect(view.locator("html")).to_have_attribute("data-theme", "dark")
    page.get_by_role("link", name="Set stride to 1").click()  # a new view in the frame: told again
    expect(view.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 32, 96]")
    expect(view.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()  # the remembered choice reaches the frame on the next visit too
    expect(page.frame_locator("iframe.lesson-view").locator("html")).to_have_attribute("data-theme", "dark")


def test_embeds_keep_their_own_theme_and_no_header(context_page, live_server):
    page = context_page(color_scheme="dark", viewport={"width": 700, "height": 640})
    page.goto(live_server + "/embed/explore?theme=light")
    assert background(page) == LIGHT_BG
    expect(page.locator("#theme-toggle")).to_have_count(0)
    page.goto(live_server + "/embed/explore")
    assert background(page) == DARK_BG


# ---------------------------------------------------------------- player

def step_number(page) -> int:
    return int(label(page).split(" ")[0])


def test_playing_survives_a_knob_from_the_same_step(page, live_server, problems):
    page.goto(live_server + "/explore?framework=torch&type=Conv1d&in_channels=1&out_channels=1&kernel_size=3"
                            "&input_shape=1,1,40&step=20")
    page.locator("#speed").select_option("1")  # slow: a reset to 0 could not catch up with step 20
    page.locator("#play").click()
    until(page, "Number(document.querySelector('#step-label').textContent.split(' ')[0]) >= 21")
    before = step_number(page)
    kernel = page.get_by_label("kernel_size", exact=True)
    kernel.focus()
    with page.expect_response(lambda r: "kernel=4" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")  # 38 → 37 outputs: the step is still inside
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 1, 37]")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#play-state")).to_have_text("Playing")
    expect(page.locator("#speed")).to_have_value("1")
    after = step_number(page)
    assert before <= after <= before + 4, (before, after)  # went on from where it was, not from 0
    until(page, f"Number(document.querySelector('#step-label').textContent.split(' ')[0]) > {after}", timeout=10)
    page.locator("#play").click()
    expect(page.locator("#play-state")).to_have_text("Paused")


def test_playing_past_the_new_count_is_clamped(page, live_server, problems):
    page.goto(live_server + "/explore?framework=torch&type=Conv1d&in_channels=1&out_channels=1&kernel_size=3"
                            "&input_shape=1,1,40&step=30")
    page.locator("#speed").select_option("1")
    page.locator("#play").click()
    stride = page.get_by_label("stride", exact=True)
    stride.focus()
    with page.expect_response(lambda r: "stride=2" in r.url and r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")  # 38 → 19 outputs: step 30 is past the end
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 1, 19]")
    expect(page.locator("#play-state")).to_have_text("Playing")
    assert step_number(page) in (18, 0)  # clamped to the last step (and perhaps wrapped on to 0 since)
    expect(page.locator("#step-label")).to_contain_text("of 19")


@pytest.mark.parametrize("path,knob", [("/pool", "#size-0"), ("/transposed", "#size-1"), ("/pointwise", "#positions")])
def test_every_played_view_keeps_playing_through_a_knob(page, live_server, problems, path, knob):
    page.goto(live_server + path)
    page.locator("#play").click()
    expect(page.locator("#play-state")).to_have_text("Playing")
    page.locator(knob).focus()
    page.evaluate("document.querySelector('#live').dataset.old = '1'")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#live[data-old]")).to_have_count(0)  # a new fragment, and it plays
    expect(page.locator("#play-state")).to_have_text("Playing")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.locator("#play").click()
    expect(page.locator("#play-state")).to_have_text("Paused")


def test_a_paused_player_stays_paused_after_a_knob(page, live_server, problems):
    page.goto(live_server + "/explore?framework=torch&type=Conv1d&in_channels=1&out_channels=1&kernel_size=3"
                            "&input_shape=1,1,40&step=5")
    kernel = page.get_by_label("kernel_size", exact=True)
    kernel.focus()
    with page.expect_response(lambda r: "kernel=4" in r.url):
        page.keyboard.press("ArrowRight")
    expect(page.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 1, 37]")
    page.wait_for_timeout(600)
    expect(page.locator("#play-state")).to_have_text("Paused")


# ---------------------------------------------------------------- weight

def test_plotly_loads_only_when_a_figure_comes_near(page, live_server, problems):
    fetched = []
    page.on("request", lambda r: "plotly" in r.url and fetched.append(r.url))
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server + "/explore")
    settle(page)
    page.wait_for_timeout(1500)
    assert fetched == []
    expect(page.locator(".plot[data-rendered]")).to_have_count(0)
    page.locator(".plot").first.scroll_into_view_if_needed()
    expect(page.locator(".plot[data-rendered]").first).to_be_attached()
    assert len(fetched) == 1
    page.locator(".plot").last.scroll_into_view_if_needed()
    expect(page.locator(".plot[data-rendered]")).to_have_count(2)
    assert len(fetched) == 1  # once per page
    # heatmaps take their column (they were 348 px wide in a 960 px one), up to twice their size
    width = page.locator(".plot .main-svg").first.bounding_box()["width"]
    column = page.locator(".plot").first.bounding_box()["width"]
    assert width >= 600 and width <= column, (width, column)
    heat, title = (page.locator(".plot").first.locator(sel).first.bounding_box() for sel in (".hm", ".annotation"))
    assert abs((heat["x"] + heat["width"] / 2) - (title["x"] + title["width"] / 2)) < 4  # each title over its panel
    save(page, "explore-heatmaps-1440-light", full_page=False)


def boxes_overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or
                a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("width,query", [(1280, ""), (390, ""), (390, "?channels=128&filters=128"),
                                         (1280, "?peak_gflops=300&bandwidth_gbs=40")])
def test_roofline_labels_do_not_overlap(page, live_server, problems, width, query):
    page.set_viewport_size({"width": width, "height": 720})
    page.goto(live_server + "/cost" + query)
    page.locator(".plot").scroll_into_view_if_needed()
    expect(page.locator(".plot[data-rendered]")).to_have_count(1)
    labels = page.locator(".plot .textpoint text")
    expect(labels).to_have_count(4)
    boxes = {labels.nth(i).text_content(): labels.nth(i).bounding_box() for i in range(4)}
    markers = [m.bounding_box() for m in page.locator(".plot .scatterlayer .point").all()]
    for (na, a), (nb, b) in ((x, y) for i, x in enumerate(boxes.items()) for y in list(boxes.items())[i + 1:]):
        assert not boxes_overlap(a, b), (na, nb)
    for name, label_box in boxes.items():
        assert not any(boxes_overlap(label_box, m) for m in markers), name
    save(page, f"cost-roofline-{width}{'-' if query else ''}{len(query) or ''}", full_page=False)


def test_colour_bar_ticks_do_not_collide_in_a_small_embed(page, live_server, problems):
    page.set_viewport_size({"width": 400, "height": 640})
    page.goto(live_server + "/embed/explore?framework=torch&type=Conv2d&in_channels=1&out_channels=1"
                            "&kernel_size=2,2&input_shape=1,1,3,3")
    page.locator(".embed-more > summary").click()  # an embed's figures are one disclosure under its stage
    page.locator(".plot").last.scroll_into_view_if_needed()
    expect(page.locator(".plot[data-rendered]")).to_have_count(2)
    for bar in page.locator(".plot .colorbar").all():
        ticks = [t.bounding_box() for t in bar.locator(".cbaxis text").all()]
        assert len(ticks) >= 2
        for a, b in itertools.pairwise(ticks):
            assert not boxes_overlap(a, b), ticks
    assert sideways(page) == 0


# ---------------------------------------------------------------- pages and polish

def test_learn_index_lists_every_lesson(page, live_server, problems, shot):
    page.goto(live_server + "/learn")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Learn")
    lessons = page.locator(".lesson-list li a")
    expect(lessons).to_have_count(len(LESSONS))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Learn")).to_have_attribute(
        "aria-current", "page")
    first = lessons.first.get_attribute("href")
    lessons.first.click()
    page.wait_for_url(live_server + first)
    expect(page.locator("h1")).to_be_visible()
    shot("site-learn-after-click")


def test_docs_live_in_the_sites_frame(page, live_server, problems):
    page.goto(live_server + "/docs")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_text("/api/forward").first).to_be_visible()
    expect(page.locator("footer.site")).to_be_visible()
    assert "API.md" not in page.locator("body").inner_text()
    assert "QUESTIONS.md" not in page.locator("body").inner_text()


@pytest.mark.parametrize("path", ["/", "/cost", "/learn", "/explore", "/trace", "/learn/sample-count-mismatch"])
def test_users_see_no_internal_file_names(page, live_server, problems, path):
    page.goto(live_server + path)
    text = page.locator("body").inner_text()
    assert not re.search(r"\b[A-Z_]+\.md\b", text), re.findall(r".{30}\b[A-Z_]+\.md\b.{30}", text)


def test_no_quote_opens_with_two_quote_marks(page, live_server, problems):
    for path in ("/", "/learn"):
        page.goto(live_server + path)
        for text in page.locator(".asked-short").all_inner_texts():
            assert not re.match(r"^[“‘\"'][“‘\"']", text), text
            assert text.startswith("“") and text.endswith("”"), text


def test_one_filter_is_singular(page, live_server, problems):
    page.goto(live_server + "/explore?framework=torch&type=Conv2d&in_channels=2&out_channels=1&kernel_size=3"
                            "&input_shape=1,2,6,6")
    text = page.locator("body").inner_text()
    assert "1 matrices" not in text and "1 filters" not in text


def test_trace_shapes_never_wrap_and_the_result_comes_into_view(page, live_server, problems):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + TRACE_Q5)
    shapes = page.locator(".trace-table tbody td:nth-child(4) code")
    expect(shapes.first).to_be_visible()
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.trace-table td code')).lineHeight)"
                         " || 20")
    for box in (shapes.nth(i).bounding_box() for i in range(shapes.count())):
        assert box["height"] <= line * 1.5, box
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("document.querySelector('#live').getBoundingClientRect().top") > 844  # below the form
    page.get_by_label("Input shape, batch first").fill("None,33,33,7,1")
    with page.expect_response(lambda r: "/trace" in r.url and r.request.headers.get("hx-request") == "true"):
        page.get_by_role("button", name="Trace").click()
    until(page, "(() => { const r = document.querySelector('#live').getBoundingClientRect();"
                           " return r.top >= -1 && r.top < innerHeight - 200; })()")


# ---------------------------------------------------------------- screenshots, looked at

@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width,height", [(1440, 900), (1280, 720), (390, 844)])
def test_screenshots(context_page, live_server, scheme, width, height):
    options = PHONE if width == 390 else {"viewport": {"width": width, "height": height}}
    page = context_page(color_scheme=scheme, **options)
    for path, name in (("/", "home"), ("/explore", "explore"), ("/cost", "cost"), ("/learn", "learn"),
                       ("/docs", "docs"), (TRACE_Q5, "trace")):
        page.goto(live_server + path)
        settle(page)
        scroll_through(page)  # lazy figures drawn, as a reader scrolling down sees them
        assert sideways(page) == 0
        save(page, f"{name}-{width}-{scheme}")
