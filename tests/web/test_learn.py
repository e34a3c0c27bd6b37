"""The six lessons: docs/QUESTIONS.md's numbers appear, and every view and "now try" link works."""
import html
import json
import re
from pathlib import Path

import pytest

QUESTIONS = json.loads((Path(__file__).resolve().parents[1] / "data" / "questions.json").read_text())
SLUGS = ["1x1-conv", "output-length", "separable-slower", "keras-weight-shape", "sample-count-mismatch",
         "filters-and-kernel-size"]
# what the page must say, straight from docs/QUESTIONS.md
MUST_SAY = {
    "1x1-conv": ["(1, 100, 64)", "6,464", "relu(W · x[t] + b)", "(batch, 10, 64)"],
    "output-length": ["floor(95 / 2) + 1 = 47 + 1 = 48", "(4, 32, 48) → (4, 32, 48) → (4, 32, 24) → (4, 32, 24)",
                      "2,592", "the pool gives 24"],
    "separable-slower": ["0.142×", "1/32 + 1/9", "2.00× the bytes", "0.78 s vs 1.42 s"],
    "keras-weight-shape": ["(3, 3, 5, 32)", "(32, 5, 3, 3)", "a[0][:, :, :, i]", "weight[i]"],
    "sample-count-mismatch": ["420,420 = 7 × 60,060", "4,150,529", "(None, 8064)", "(None, 1)", "(None, 31, 31, 7, 16)"],
    "filters-and-kernel-size": ["(batch, 50, 100)", "(4, 300, 100)", "pads 1 before and 2 after", "(3, 6, 5)", "(3, 2, 5)"],
}


def page(client, slug):
    r = client.get(f"/learn/{slug}")
    assert r.status_code == 200
    return html.unescape(r.text)


@pytest.mark.parametrize("slug", SLUGS)
def test_answers_write_shapes_as_tuples_and_paragraphs_apart(client, slug):
    """No Python list repr (['batch', 10, 64]) in an answer, and no two paragraphs run together when the page's
    text is read without its tags (a reader mode, a screen reader's flat text: "word by word.'same'")."""
    from app.routes.learn import LESSONS
    answer = LESSONS[slug].answer
    assert not any(re.search(r"\[\s*'|'\s*\]", p) for p in answer), answer
    text = page(client, slug)
    flat = re.sub(r"<[^>]+>", "", text.split('id="answer-title"')[1].split("</section>")[0])
    for p in answer:
        assert p in flat
    assert not re.search(r"[.:)]['A-Z(]", flat.replace("e.g.", "")), flat  # a sentence's end, then the next at once


@pytest.mark.parametrize("slug", SLUGS)
def test_the_numbers_of_the_question_appear(client, slug):
    text = page(client, slug)
    for phrase in MUST_SAY[slug]:
        assert phrase in text, phrase


def test_numbers_match_questions_json():
    from app.routes.learn import LESSONS
    by_q = {}
    for case in QUESTIONS["layers"]:
        by_q.setdefault(case["question"], []).append(case)
    q1 = next(c for c in by_q["Q1"] if c["framework"] == "keras")
    assert LESSONS["1x1-conv"].facts["kernel"] == q1["weight_shapes"][0]
    assert LESSONS["1x1-conv"].facts["params"] == q1["params"]
    q4 = next(c for c in by_q["Q4"] if c["framework"] == "keras")
    assert LESSONS["keras-weight-shape"].facts["keras_kernel"] == q4["weight_shapes"][0]
    q6 = by_q["Q6"]
    assert LESSONS["filters-and-kernel-size"].facts["kernel"] == q6[0]["weight_shapes"][0]
    assert LESSONS["filters-and-kernel-size"].facts["small"] == q6[1]["output_shape"]
    assert LESSONS["filters-and-kernel-size"].facts["pooled"] == q6[2]["output_shape"]
    assert LESSONS["output-length"].facts["shapes"][0] == by_q["Q2"][0]["output_shape"]
    assert LESSONS["sample-count-mismatch"].facts["total_params"] == 4_150_529


@pytest.mark.parametrize("slug", SLUGS)
def test_the_embedded_view_and_every_try_load(client, slug):
    text = page(client, slug)
    view = re.search(r'<iframe class="lesson-view" name="lesson-view" src="([^"]+)"', text).group(1)
    assert view.startswith("/embed/")
    tries = re.findall(r'<a href="([^"]+)" target="lesson-view">', text)
    assert 2 <= len(tries) <= 3
    shapes = set()
    for url in [view, *tries]:
        r = client.get(url)
        assert r.status_code == 200, url
        assert 'class="embed' in r.text and "role=\"alert\"" not in r.text.split("<main")[1][:400]
        m = re.search(r'data-output-shape="([^"]*)"', r.text)
        shapes.add(m.group(1) if m else r.text.count("<tr"))
    assert len(shapes) > 1  # the tries change what the view shows


def test_output_length_tries_say_what_they_show(client):
    text = page(client, "output-length")
    stride1 = re.search(r'<a href="([^"]+)" target="lesson-view">Set stride to 1', text).group(1)
    assert 'data-output-shape="[1, 32, 96]"' in client.get(stride1).text  # (100 − 5) / 1 + 1
    pad2 = re.search(r'<a href="([^"]+)" target="lesson-view">Set padding to 2', text).group(1)
    assert 'data-output-shape="[1, 32, 50]"' in client.get(pad2).text  # floor((100 + 4 − 4 − 1) / 2) + 1


def test_unknown_lesson_is_404(client):
    r = client.get("/learn/nope")
    assert r.status_code == 404 and "1x1-conv" in r.text


def test_home_lists_the_six_questions_and_every_view(client):
    text = client.get("/").text
    for slug in SLUGS:
        assert f'href="/learn/{slug}"' in text
    for view in ("/explore", "/pool", "/transposed", "/pointwise", "/groups", "/cost", "/trace", "/docs"):
        assert f'href="{view}"' in text
