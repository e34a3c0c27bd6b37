"""/trace in a real browser: pasting code re-renders the live part in place and the URL follows,
an unresolved name grows a field whose value traces the model, a failing row is visible and
announced, explore links open /explore on the layer, keyboard only, accessibility, screenshots.

Expected shapes are the recordings in tests/golden/traces.json (real Keras / PyTorch) or the Q2
formula written out here.
"""
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.helpers import WCAG, query

MODELS = {m["id"]: m for m in json.loads(
    (Path(__file__).resolve().parents[1] / "golden" / "traces.json").read_text())["models"]}
Q2_CODE = ("model = nn.Sequential(\n    nn.Conv1d(16, 32, kernel_size=5, stride=2),\n    nn.ReLU(),\n"
           "    nn.MaxPool1d(2, stride=2),\n    nn.Dropout(0.25),\n)\n")
Q2_SHAPES = [[4, 32, 48], [4, 32, 48], [4, 32, 24], [4, 32, 24]]  # L = floor((100 − 4 − 1) / 2) + 1 = 48; pool: 24
Q5_ONE_NAME = MODELS["keras-q5-conv3d"]["code"].replace("Conv3D(16,", "Conv3D(depth_1,")
Q5_SHAPES = [layer["output_shape"] for layer in MODELS["keras-q5-conv3d"]["layers"]]
LENET_WRONG = MODELS["torch-error-lenet-wrong-linear-in-features"]["code"]
ROWS = "#live tr[data-output-shape]"


def shapes(page) -> list:
    return [json.loads(s) for s in page.eval_on_selector_all(ROWS, "rows => rows.map(r => r.dataset.outputShape)")]


def open_trace(page, live_server, url="/trace"):
    page.goto(live_server + url)
    expect(page.locator("#trace-form")).to_be_visible()
    page.evaluate("window.__kept = 42")


def htmx_answer(page, predicate=lambda url: True):
    return page.expect_response(lambda r: "/trace" in r.url and r.request.headers.get("hx-request") == "true"
                                and predicate(r.url))


def q5_example(page, live_server):
    page.goto(live_server + "/trace")
    page.get_by_role("navigation", name="Examples").get_by_role("link", name=re.compile("^Q5")).click()
    expect(page.locator(ROWS)).to_have_count(8)


# ================================================================= paste, trace, URL

def test_pasted_code_traces_in_place_and_the_url_follows(page, live_server, problems, shot):
    open_trace(page, live_server)
    page.get_by_label("Input shape").fill("4,16,100")
    with htmx_answer(page, lambda url: "Conv1d" in url) as answer:
        page.get_by_label("Model code").fill(Q2_CODE)
    assert answer.value.status == 200
    expect(page.locator(ROWS)).to_have_count(4)
    assert shapes(page) == Q2_SHAPES
    expect(page.locator("#live")).to_contain_text("2,592")
    assert page.evaluate("window.__kept") == 42  # no navigation: the live part was swapped
    expect(page).to_have_url(re.compile(r"/trace\?"))
    q = query(page)
    assert q["code"] == Q2_CODE and q["input_shape"] == "4,16,100"
    # the URL is the state: opening it afresh renders the same rows
    page.goto(page.url)
    expect(page.locator(ROWS)).to_have_count(4)
    assert shapes(page) == Q2_SHAPES
    expect(page.get_by_label("Model code")).to_have_value(Q2_CODE)


def test_changing_the_input_shape_retraces(page, live_server, problems):
    open_trace(page, live_server)
    page.get_by_label("Model code").fill(Q2_CODE)
    with htmx_answer(page, lambda url: "input_shape=2%2C16%2C50" in url or "input_shape=2,16,50" in url):
        page.get_by_label("Input shape").fill("2,16,50")
    length = (50 - 1 * (5 - 1) - 1) // 2 + 1  # 23
    expect(page.locator(ROWS).first).to_have_attribute("data-output-shape", json.dumps([2, 32, length]))
    assert shapes(page)[2] == [2, 32, length // 2]
    assert page.evaluate("window.__kept") == 42


# ================================================================= unresolved names

def test_unresolved_name_grows_a_field_that_traces_the_model(page, live_server, problems, shot):
    open_trace(page, live_server)
    page.get_by_label("Framework").select_option("keras")
    with htmx_answer(page, lambda url: "depth_1" in url):
        page.get_by_label("Model code").fill(Q5_ONE_NAME)
    field = page.locator("#live input[name=var_depth_1]")
    expect(field).to_be_visible()
    expect(page.get_by_label("depth_1")).to_have_count(1)  # labelled by the name itself
    expect(page.locator(ROWS)).to_have_count(0)
    shot("trace-unresolved")
    with htmx_answer(page, lambda url: "var_depth_1=16" in url):
        field.fill("16")
    expect(page.locator(ROWS)).to_have_count(8)
    assert shapes(page) == Q5_SHAPES
    expect(page.locator("#live")).to_contain_text("4,150,529")
    assert query(page).get("var_depth_1") == "16"
    assert page.evaluate("window.__kept") == 42
    # the value stays in the request when the code changes again
    with htmx_answer(page, lambda url: "var_depth_1=16" in url):
        page.get_by_label("Model code").fill(Q5_ONE_NAME.replace("Dense(32,", "Dense(64,"))
    expect(page.locator(ROWS).nth(6)).to_have_attribute("data-output-shape", json.dumps([None, 64]))


# ================================================================= a model that does not fit

def test_failing_row_is_visible_and_announced(page, live_server, problems, shot):
    open_trace(page, live_server)
    page.get_by_label("Input shape").fill("4,3,32,32")
    with htmx_answer(page, lambda url: "fc1" in url):
        page.get_by_label("Model code").fill(LENET_WRONG)
    alert = page.locator("#live").get_by_role("alert")
    expect(alert).to_have_count(1)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("[4, 400]")
    expect(alert).to_contain_text("256")
    row = page.locator("#live tr:has([role=alert])")
    expect(row).to_contain_text("fc1")
    colours = row.evaluate("r => [getComputedStyle(r).backgroundColor, getComputedStyle(r.cells[0]).backgroundColor,"
                           " getComputedStyle(r.parentElement.rows[0]).backgroundColor]")
    assert colours[0] != colours[2] or colours[1] != colours[2], colours  # highlighted against a normal row
    assert shapes(page)[-1] == [4, 400]
    alert.scroll_into_view_if_needed()
    shot("trace-failing")


# ================================================================= explore links

def test_explore_link_opens_the_layer_on_its_input(page, live_server, problems):
    m = MODELS["torch-lenet-tutorial-flatten"]
    open_trace(page, live_server)
    page.get_by_label("Input shape").fill("4,3,32,32")
    with htmx_answer(page, lambda url: "conv2" in url):
        page.get_by_label("Model code").fill(m["code"])
    conv2 = page.locator(ROWS).filter(has_text="(conv2)")
    expect(conv2).to_have_attribute("data-output-shape", json.dumps([4, 16, 10, 10]))
    with page.expect_navigation():
        conv2.get_by_role("link", name="explore").click()
    expect(page).to_have_url(re.compile(r"/explore\?"))
    q = query(page)
    assert q["type"] == "Conv2d" and q["in_channels"] == "6" and q["out_channels"] == "16"
    assert q["kernel_size"] == "5" and q["input_shape"] == "1,6,14,14"  # after conv1 (28) and pool (14)
    expect(page.locator("[data-output-shape]").first).to_have_attribute("data-output-shape", "[1, 16, 10, 10]")


# ================================================================= keyboard only

def test_keyboard_only(page, live_server, problems):
    page.goto(live_server + "/trace")
    for _ in range(40):  # Tab from the top until the code field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "code":
            break
    else:
        pytest.fail("Tab never reached the code field")
    page.keyboard.insert_text(Q2_CODE)
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if order[-1] == "input_shape":
            page.keyboard.insert_text("4,16,100")
    assert order[:4] == ["framework", "input_shape", "x_shape", "y_shape"], order
    assert page.evaluate("document.activeElement.type") == "submit", order
    page.keyboard.press("Enter")
    expect(page.locator(ROWS)).to_have_count(4)
    assert shapes(page) == Q2_SHAPES
    # on through the results to the explore link, and open it with Enter
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "explore":
            break
    else:
        pytest.fail("Tab never reached an explore link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/explore\?.*type=Conv1d"))
    expect(page.locator("[data-output-shape]").first).to_have_attribute("data-output-shape", "[1, 32, 48]")


# ================================================================= accessibility and screenshots

@pytest.mark.parametrize("state", ["q5", "unresolved", "failing"])
def test_no_wcag22_violations(page, live_server, problems, state):
    if state == "q5":
        q5_example(page, live_server)
    elif state == "unresolved":
        page.goto(live_server + "/trace?" + urlencode({"framework": "keras", "code": Q5_ONE_NAME}))
        expect(page.locator("#live input[name=var_depth_1]")).to_be_visible()
    else:
        open_trace(page, live_server)
        page.get_by_label("Input shape").fill("4,3,32,32")
        with htmx_answer(page, lambda url: "fc1" in url):
            page.get_by_label("Model code").fill(LENET_WRONG)
        expect(page.locator("#live").get_by_role("alert")).to_be_visible()
    results = Axe().run(page, options=WCAG)
    ran = {r["id"] for kind in ("passes", "violations", "incomplete", "inapplicable") for r in results.response[kind]}
    assert "target-size" in ran and "color-contrast" in ran
    assert results.violations_count == 0, results.generate_report()


def test_q5_example_with_the_fit_check(page, live_server, problems, shot):
    q5_example(page, live_server)
    assert shapes(page) == Q5_SHAPES
    expect(page.locator("#live")).to_contain_text("4,150,529")
    expect(page.locator("#live")).to_contain_text("420,420 = 7 × 60,060")
    expect(page.get_by_label("x shape")).to_have_value("420420,33,33,1")
    assert query(page)["framework"] == "keras"
    shot("trace-q5")


def test_the_table_is_not_clipped_on_a_laptop(page, live_server, problems, shot):
    """1440×900, LeNet: every column (params, MACs, receptive field, the explore link) in the page's width, with no
    inner scroll beside empty margins."""
    from app.routes.trace import EXAMPLES
    page.set_viewport_size({"width": 1440, "height": 900})
    framework, code, shape, _ = EXAMPLES["PyTorch LeNet (tutorial)"]
    page.goto(live_server + "/trace?" + urlencode({"framework": framework, "code": code, "input_shape": shape}))
    table = page.locator(".trace-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    box = page.locator(".table-scroll")
    assert box.evaluate("(b) => b.scrollWidth <= b.clientWidth + 1"), "the table scrolls inside its box"
    for name in ("params", "MACs", "receptive field"):
        head = table.locator("thead th", has_text=name).bounding_box()
        assert head["x"] >= 0 and head["x"] + head["width"] <= 1440, (name, head)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    page.screenshot(path=str(shot("trace-laptop-lenet-full").parent / "trace-laptop-lenet.png"), full_page=True)
