"""The home page's live example in a real browser: sliders, keyboard, no-JS form, accessibility."""
import json

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import here, output_shape


def test_slider_recomputes_in_place_and_url_follows(page, live_server, problems, shot):
    page.goto(live_server + "/")
    expect(page.locator("#live .sums li")).to_have_count(8)  # 10 inputs, kernel 3: 8 outputs
    assert output_shape(page) == [1, 1, 8]
    slider = page.get_by_label("Stride", exact=True)
    slider.focus()
    with page.expect_response(lambda r: "stride=2" in r.url):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#stride-value")).to_have_text("2")
    expect(page.locator("#live .sums li")).to_have_count(4)  # floor((10 - 3) / 2) + 1
    expect(page.locator(".formula")).to_contain_text("floor(7 / 2) + 1 = 3 + 1 = 4")
    assert output_shape(page) == [1, 1, 4]
    expect(page.locator("#live .cell.unreached")).to_have_count(1)  # x[9] is read by no window
    assert "stride=2" in here(page)
    expect(page.locator(".sums li").first).to_contain_text("y[0] = x[0] + x[1] + x[2] = 2 + 3 + 2 = 7")
    shot("home-stride2")


def test_impossible_setting_is_explained_in_place(page, live_server, problems):
    page.goto(live_server + "/?kernel_size=9&dilation=3")
    expect(page.locator("#live [role=alert]")).to_contain_text("does not fit")
    page.get_by_label("Dilation", exact=True).focus()
    with page.expect_response(lambda r: "dilation=2" in r.url):
        page.keyboard.press("ArrowLeft")
    expect(page.locator("#live [role=alert]")).to_have_count(1)  # 2·8+1 = 17 > 10: still no fit
    page.get_by_label("Kernel size", exact=True).focus()
    with page.expect_response(lambda r: "kernel_size=5" in r.url):
        for _ in range(4):
            page.keyboard.press("ArrowLeft")
    expect(page.locator("#live [role=alert]")).to_have_count(0)
    assert output_shape(page) == [1, 1, 2]  # floor((10 - 9) / 1) + 1


def test_form_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/")
    page.get_by_label("Padding", exact=True).focus()
    page.keyboard.press("ArrowRight")  # the range moves natively; nothing is sent without JS
    page.keyboard.press("ArrowRight")
    page.get_by_role("button", name="Update").click()  # a plain GET form submit
    assert "padding=2" in here(page)
    expect(page.locator("#live .cell.pad")).to_have_count(4)
    assert json.loads(page.locator("[data-output-shape]").get_attribute("data-output-shape")) == [1, 1, 12]
    context.close()


def test_no_accessibility_violations(page, live_server, problems):
    page.goto(live_server + "/?padding=1&stride=2")
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_api_docs_render(page, live_server, problems, shot):
    page.goto(live_server + "/docs")
    expect(page.get_by_text("/api/forward")).to_be_visible()
    shot("docs")


def test_the_questions_start_on_the_first_screen_of_a_laptop(page, live_server, problems, shot):
    """1440×900: the questions stand in a column beside the live example: each question's link starts on the
    first screen, and the example's first cell is there too."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server + "/")
    expect(page.locator("#questions-title")).to_be_in_viewport()
    from app.routes.learn import LESSONS
    links = page.locator(".questions li > a")
    expect(links).to_have_count(len(LESSONS))  # one per lesson (Q7: backprop)
    for i in range(len(LESSONS)):
        box = links.nth(i).bounding_box()
        assert box["y"] + 20 <= 900, (i, box)
    assert page.locator("#live li.cell").first.bounding_box()["y"] + 30 <= 900
    page.screenshot(path=str(shot("home-laptop-full").parent / "home-laptop.png"))
