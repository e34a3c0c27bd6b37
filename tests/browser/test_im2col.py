"""/im2col in a real browser at a desktop (1440×900) and a phone (390×844) size: the step links move
the lit column (PyTorch) or row (Keras) in place through htmx and the URL follows; a knob re-renders
the matrices with the shapes nn.Unfold's formula gives; nothing overflows the page sideways (the
matrices scroll in their own boxes); axe finds no violations; screenshots for people to look at."""
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import WCAG, query

URL = "/im2col?framework=torch&type=Conv2d&in_channels=2&out_channels=3&kernel_size=3&padding=1" \
      "&input_shape=1,2,5,5&step=6"


def lit_columns(page) -> list[int]:
    """Indices of the patch matrix's lit cells in their row (the same column on every row)."""
    return page.evaluate("""[...new Set([...document.querySelectorAll('#patch-matrix tr')].flatMap(tr =>
        [...tr.querySelectorAll('td')].map((td, j) => td.classList.contains('lit') ? j : -1).filter(j => j >= 0)))]""")


def lit_column_in_view(page, tries: int = 30) -> bool:
    """Whether the lit column's heading lies inside the patch matrix's scrolling box (polled: the
    script scrolls it there once htmx has settled)."""
    for _ in range(tries):
        if page.evaluate("""(() => { const box = document.querySelector('#patch-matrix').parentElement
            .getBoundingClientRect(), c = document.querySelector('#patch-matrix th.lit').getBoundingClientRect();
            return c.left >= box.left && c.right <= box.right; })()"""):
            return True
        page.wait_for_timeout(100)
    return False


@pytest.mark.parametrize("size, name", [((1440, 900), "desktop"), ((390, 844), "phone")])
def test_stepping_moves_the_column_in_place(context_page, live_server, size, name):
    page = context_page(viewport={"width": size[0], "height": size[1]})
    page.goto(live_server + URL)
    assert lit_columns(page) == [6]
    page.evaluate("window.__kept = 1")
    with page.expect_response(lambda r: "step=7" in r.url and r.request.headers.get("hx-request") == "true"):
        page.locator("#step-forward").click()
    expect(page.locator("#step-label")).to_contain_text("position 7 of 25")
    assert lit_columns(page) == [7] and page.evaluate("window.__kept") == 1 and query(page)["step"] == "7"
    expect(page.locator("#product-matrix td.lit")).to_have_count(1)
    # the lit column is scrolled into view inside the patch matrix's box, at either size
    assert lit_column_in_view(page)
    # the page never scrolls sideways: wide matrices scroll inside their own boxes
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"im2col-{name}.png"), full_page=True)
    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, results.generate_report()


def test_a_knob_rerenders_the_matrices_and_keras_shows_rows(page, live_server, problems, shot):
    page.goto(live_server + URL)
    expect(page.locator("[data-patch-shape]")).to_have_attribute("data-patch-shape", "[18, 25]")
    page.locator("#kernel-0").focus()
    with page.expect_response(lambda r: "kernel=2&kernel=3" in r.url):
        page.keyboard.press("ArrowLeft")
    # kernel 2×3 with padding 1 on 5×5: L = 6·5 = 30 columns of 2·2·3 = 12 numbers
    expect(page.locator("[data-patch-shape]")).to_have_attribute("data-patch-shape", "[12, 30]")
    page.goto(live_server + URL.replace("framework=torch&type=Conv2d&in_channels=2&out_channels=3",
                                        "framework=keras&type=Conv2D&filters=3")
              .replace("padding=1", "padding=same").replace("input_shape=1,2,5,5", "input_shape=1,5,5,2"))
    expect(page.locator("[data-patch-shape]")).to_have_attribute("data-patch-shape", "[25, 18]")
    expect(page.locator("[data-weight-shape]")).to_have_attribute("data-weight-shape", "[18, 3]")
    expect(page.locator("#patch-matrix tr.lit-row")).to_have_count(1)
    shot("im2col-keras")
