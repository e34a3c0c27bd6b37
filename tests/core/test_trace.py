"""Pasted models traced by the parser and the trace engine, against what real Keras and PyTorch
reported for the same code (tests/golden/record_traces.py: Keras' model.layers, PyTorch's module
calls in forward order)."""
import json
from pathlib import Path

import pytest

from app.core.code import parse_model
from app.core.trace import fit_check, show_shape, trace

MODELS = json.loads((Path(__file__).resolve().parents[1] / "golden" / "traces.json").read_text())["models"]


def run(model):
    parsed = parse_model(model["code"], model["framework"], model.get("variables") or {})
    assert parsed.unresolved == []
    shape = tuple(model["input_shape"]) if not model.get("input_from_code") else parsed.input_shape
    t = trace(model["framework"], shape, parsed.layers)
    rows = [{"name": parsed.names[r.index], "type": r.type, "output_shape": show_shape(r.output_shape, t.batch_known),
             "params": r.params} for r in t.rows]
    return parsed, t, rows


def recorded_rows(model):
    return [{k: row[k] for k in ("name", "type", "output_shape", "params")} for row in model["layers"]]


def module_rows(model, rows):
    """PyTorch: only module calls get a row in the recording (F.relu, torch.flatten do not)."""
    if model["framework"] == "keras":
        return [{**r, "name": rec["name"]} for r, rec in zip(rows, model["layers"])] + rows[len(model["layers"]):]
    return [r for r in rows if r["name"] is not None]


@pytest.mark.parametrize("model", [m for m in MODELS if "error" not in m], ids=lambda m: m["id"])
def test_shapes_and_params_match_the_framework(model):
    parsed, t, rows = run(model)
    assert t.ok, t.error
    assert module_rows(model, rows) == recorded_rows(model)
    assert t.total_params == model["total_params"]


@pytest.mark.parametrize("model", [m for m in MODELS if "error" in m], ids=lambda m: m["id"])
def test_models_that_do_not_fit_fail_at_the_same_layer(model):
    parsed, t, rows = run(model)
    assert not t.ok
    assert module_rows(model, rows) == recorded_rows(model)  # the rows before the failure agree
    index, message = t.error
    failing = model["error"]
    assert parsed.layers[index]["type"] == failing["type"]
    if model["framework"] == "torch":
        assert parsed.names[index] == failing["name"]
    assert "received" in message and len(message) > 40


def test_unresolved_names_are_reported_until_given():
    model = next(m for m in MODELS if m.get("variables"))
    parsed = parse_model(model["code"], model["framework"])
    assert sorted(parsed.unresolved) == sorted(model["variables"])


def test_q5_fit_check_explains_the_sample_counts():
    lines = fit_check((420420, 33, 33, 1), (60060, 1), (None, 33, 33, 7, 1), (None, 1))
    text = " ".join(line for _, line in lines)
    assert "420,420 = 7 × 60,060" in text and "[60060, 33, 33, 7, 1]" in text
    assert [ok for ok, _ in lines] == [False, True, False]
    assert fit_check((60060, 33, 33, 7, 1), (60060, 1), (None, 33, 33, 7, 1), (None, 1)) == [
        (True, "x [60060, 33, 33, 7, 1]: 60,060 samples of [33, 33, 7, 1], as the model takes"),
        (True, "y [60060, 1]: 60,060 samples of [1], as the model gives")]


@pytest.mark.parametrize("kw, words", [
    ({"start_dim": 7}, ["start_dim", "-4 to 3", "got 7"]),
    ({"end_dim": "x"}, ["end_dim", "-4 to 3", "got 'x'"]),
    ({"start_dim": True}, ["start_dim", "got True"]),  # PyTorch: "must be int, not bool"
    ({"start_dim": 2, "end_dim": 1}, ["start_dim 2 comes after end_dim 1", "start_dim ≤ end_dim"]),
])
def test_flatten_dims_are_read_as_pytorch_does(kw, words):
    """No wrapping modulo the rank and no reversed ranges: PyTorch refuses these, and so do we."""
    t = trace("torch", [1, 3, 8, 8], [{"type": "Flatten", **kw}])
    assert not t.ok
    for w in words:
        assert w in t.error[1], t.error[1]
