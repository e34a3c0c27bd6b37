"""The picture stage (static/picture.js) picks the cell a click pressed: a click event's clientX/Y are whole
pixels, so on a picture of about one pixel per cell they can name the cell before it (the left or upper
neighbour); the pointerdown's position (fractional) is the one that counts."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import query
from tests.browser.test_real_sizes import PICTURES_LOADED

WIDE = "/explore?framework=torch&type=Conv1d&in_channels=4&out_channels=2&kernel_size=3&input_shape=1,4,300"
CELLS = 298  # the output's length: the picture is drawn at about a pixel per cell at 1440 px


@pytest.mark.parametrize("j", [7, 60, 123, 200, 296])
def test_a_click_on_a_cell_centre_of_a_wide_picture_goes_to_that_cell(context_page, live_server, j):
    page = context_page(viewport={"width": 1440, "height": 900})
    page.goto(live_server + WIDE)
    page.wait_for_function(PICTURES_LOADED)
    layout = page.locator(".picture-stage").get_attribute("data-layout")
    assert f"[{CELLS}]" in layout, layout
    page.locator("#output-frame").scroll_into_view_if_needed()
    box = page.locator("#output-pic").bounding_box()
    assert box["width"] / CELLS <= 1.5, box  # the picture this is about: about a pixel per cell
    page.mouse.click(box["x"] + (j + 0.5) * box["width"] / CELLS, box["y"] + box["height"] / 2)
    expect(page.locator("#step-label")).to_contain_text(re.compile(rf"(^|\D){j} of {CELLS}: output \[{j}\]"))
    assert query(page)["step"] == str(j)
