"""A lesson in the browser: the embedded view works, a "now try" step changes it in place."""
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import WCAG, here


def test_now_try_changes_the_embedded_view(page, live_server, problems, shot):
    page.goto(live_server + "/learn/output-length")
    view = page.frame_locator("iframe.lesson-view")
    expect(view.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 32, 48]")
    page.get_by_role("link", name="Set stride to 1").click()
    expect(view.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 32, 96]")
    assert here(page).endswith("/learn/output-length")  # only the view changed
    # the reader can move a knob inside the lesson too, once the new view's scripts have run
    view.locator(".embed-more > summary").click()  # the embedded stage's figures are one disclosure below it
    view.locator(".plot").last.scroll_into_view_if_needed()  # plotly loads as its figures come near
    plots = view.locator(".plot").count()  # length 100 is drawn as pictures: the kernel's figure is the plot left
    assert plots >= 1
    expect(view.locator(".plot[data-rendered]")).to_have_count(plots)
    view.locator(".embed-knobs > summary").click()  # and its knobs one disclosure above it
    kernel = view.get_by_label("kernel_size", exact=True)
    kernel.focus()
    kernel.press("ArrowLeft")
    expect(view.locator("[data-output-shape]")).to_have_attribute("data-output-shape", "[1, 32, 97]")
    shot("learn-output-length")


@pytest.mark.parametrize("slug", ["1x1-conv", "separable-slower", "sample-count-mismatch"])
def test_lessons_render_and_are_accessible(page, live_server, problems, shot, slug):
    page.goto(f"{live_server}/learn/{slug}")
    expect(page.locator("iframe.lesson-view")).to_have_attribute("data-convscope-sized", "1")
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()
    shot(f"learn-{slug}")
