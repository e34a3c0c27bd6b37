"""convscope.show reads real layers: PyTorch modules and Keras layers recorded by
tests/golden/record_layers.py (their classes, reprs, attributes and get_config(), and the output
shapes the frameworks computed) are rebuilt here as look-alike objects (CI has no torch), and the
view each one opens must show the shape the framework gave."""
import ast
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core.code import parse_model
from app.core.trace import trace
from app.notebook import model_code, read_layer, show, trace_url, view_url
from tests.web.page import alerts, shape

ROOT = Path(__file__).resolve().parents[2]
RECORDED = json.loads((ROOT / "tests" / "golden" / "layers.json").read_text())


def opaque(value):
    """What the recorder could not write down (a Parameter, a tensor) comes back as an object."""
    if isinstance(value, dict) and "__unplain__" in value:
        return type(value["__unplain__"], (), {})()
    if isinstance(value, dict):
        return {k: opaque(v) for k, v in value.items()}
    if isinstance(value, list):
        return [opaque(v) for v in value]
    return value


def look_alike(record: dict, children: dict | None = None):
    """An object with the recorded classes (by module and name), repr, attributes or get_config()."""
    base: tuple = ()
    for module, name in reversed(record["mro"]):
        cls = type(name, base, {"__module__": module})
        base = (cls,)
    if "repr" in record:
        cls.__repr__ = lambda self: record["repr"]
    obj = cls()
    if "attributes" in record:
        obj.__dict__.update(opaque(record["attributes"]))
        obj.__dict__["_modules"] = {k: look_alike(v) for k, v in (record.get("children") or {}).items()}
    if "config" in record:
        obj.get_config = lambda: opaque(record["config"])
    if children is not None:
        obj.layers = children
    return obj


def name(record: dict) -> str:
    return record["mro"][0][1]


@pytest.mark.parametrize("record", RECORDED["layers"], ids=[f"{r['framework']}-{name(r)}-{i}"
                                                           for i, r in enumerate(RECORDED["layers"])])
def test_the_view_shows_what_the_framework_computed(record, client):
    url = view_url(look_alike(record), record["input_shape"])
    assert url.startswith(("/explore?", "/pool?", "/transposed?")) and f"type={name(record)}&" in url
    page = client.get("/embed" + url)
    assert page.status_code == 200, alerts(page.text)
    assert alerts(page.text) == []
    expected = [1, *record["output_shape"][1:]]
    if record.get("config", {}).get("data_format") == "channels_first":  # the view draws it channels-last
        expected = [expected[0], *expected[2:], expected[1]]
    assert shape(page.text) == expected


def test_attributes_win_over_a_repr_that_leaves_settings_out():
    (record,) = [r for r in RECORDED["layers"] if "divisor_override=" not in r.get("repr", "x")
                 and r.get("attributes", {}).get("divisor_override") == 2]
    assert "ceil_mode" not in record["repr"]  # AvgPool2d's repr: kernel_size, stride, padding only
    framework, spec = read_layer(look_alike(record))
    assert framework == "torch" and spec["ceil_mode"] is True and spec["count_include_pad"] is False


def test_bare_words_in_a_repr_are_read_as_strings():
    (record,) = [r for r in RECORDED["layers"] if "padding_mode=reflect" in r.get("repr", "")]
    obj = look_alike(record)
    obj.__dict__.clear()  # only the repr left to read
    assert read_layer(obj)[1] | {"bias": None} == {"type": "Conv2d", "in_channels": 4, "out_channels": 4,
                                                   "kernel_size": [3, 3], "stride": [1, 1], "padding": "same",
                                                   "groups": 2, "padding_mode": "reflect", "bias": None}


def test_a_subclass_reads_as_its_framework_class():
    record = next(r for r in RECORDED["layers"] if name(r) == "Conv2d")
    parent = type(look_alike(record))
    child = type("MyConv", (parent,), {"__module__": "__main__"})()
    child.__dict__.update(opaque(record["attributes"]))
    assert read_layer(child)[1]["type"] == "Conv2d"


@pytest.mark.parametrize("index", range(len(RECORDED["models"])))
def test_a_model_traces_to_the_shape_the_framework_computed(index, client):
    record = RECORDED["models"][index]
    if record["framework"] == "torch":
        model = look_alike(record["tree"])
    else:
        model = look_alike(record, [look_alike(r) for r in record["layers"]])
        model.inputs = [SimpleNamespace(shape=tuple(record["model_input"]))]
    framework, code, notes = model_code(model)
    parsed = parse_model(code, framework)
    assert len(parsed.layers) == len(record.get("layers") or []) or record["framework"] == "torch"
    t = trace(framework, tuple(record["input_shape"]), parsed.layers)
    assert t.error is None and list(t.rows[-1].output_shape) == record["output_shape"], code
    assert sum(r.params for r in t.rows) == record["params"], code
    if record["framework"] == "torch" and record["tree"]["mro"][0][1] != "Sequential":
        assert notes and "order they were assigned" in notes[0]  # a class whose source is not at hand
    assert client.get("/embed" + trace_url(model, record["input_shape"])).status_code == 200


def test_show_model_takes_one_layer_or_a_list_of_specs():
    record = next(r for r in RECORDED["layers"] if r["framework"] == "keras")
    framework, code, _ = model_code(look_alike(record))
    assert framework == "keras" and len(parse_model(code, "keras").layers) == 1
    specs = [{"type": "Conv1d", "in_channels": 16, "out_channels": 32, "kernel_size": 5}, {"type": "ReLU"}]
    framework, code, _ = model_code(specs)
    t = trace(framework, (4, 16, 100), parse_model(code, framework).layers)
    assert t.error is None and t.rows[-1].output_shape == (4, 32, 96)


def test_a_layer_no_view_draws_is_named_with_what_is_supported():
    with pytest.raises(ValueError, match=r"Linear.*show_model|show_model.*Linear") as e:
        view_url({"type": "Linear", "in_features": 3, "out_features": 2}, (1, 3), framework="torch")
    assert "Conv1d/2d/3d" in str(e.value) and "MaxPooling1D/2D" in str(e.value)
    with pytest.raises(ValueError, match="PyTorch or Keras"):
        view_url({"type": "Conv9x"})
    with pytest.raises(TypeError, match="torch.nn module, a Keras layer or a spec dict"):
        view_url(42)


def test_input_shapes_with_or_without_the_batch():
    spec = {"type": "Conv1D", "filters": 4, "kernel_size": 3}
    assert view_url(spec, (50, 300)) == view_url(spec, (None, 50, 300)) == view_url(spec, "32,50,300")
    with pytest.raises(ValueError, match=r"3-axis input \(N, \*spatial, C\)"):
        view_url(spec, (1, 2, 50, 300))


def test_a_plain_shell_gets_the_url_printed(capsys):
    show({"type": "MaxPool2d", "kernel_size": 2}, (2, 6, 6), base_url="https://convscope.example/")
    assert capsys.readouterr().out == ("Convscope: https://convscope.example/pool?framework=torch&type=MaxPool2d&"
                                       "kernel_size=2&input_shape=1,2,6,6\n")


def test_importing_the_package_stays_cheap():
    code = ("import sys, app; app.show; app.show_model; "
            "print(sorted(m for m in ('torch', 'keras', 'fastapi', 'uvicorn', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_nothing_is_evaluated_and_no_framework_is_imported():
    tree = ast.parse((ROOT / "app" / "notebook.py").read_text())
    calls = {getattr(n.func, "id", getattr(n.func, "attr", None)) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not calls & {"eval", "exec", "literal_eval", "compile", "__import__", "import_module"}
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"torch", "keras", "tensorflow"}


def test_the_doctests_of_the_notebook_module():
    import doctest

    import app.notebook
    assert doctest.testmod(app.notebook).failed == 0


RESIDUAL = '''
import torch.nn as nn
import torch.nn.functional as F
from torch import flatten
WIDTH = 4
POOL = 1

def act(x):
    return F.relu(x)

class Block(nn.Module):
    def __init__(self, cin, cout, down=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, 2 if down else 1, 1)
        self.downsample = nn.Conv2d(cin, cout, 1, 2) if down else None
        self.scale = 2

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        return act(self.conv(x) + identity)

class Net(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.a = Block(WIDTH, WIDTH)
        self.b = Block(WIDTH, 8, down=True)
        self.fc = nn.Linear(8 * 4 * 4, classes)

    def forward(self, x):
        x = F.max_pool2d(self.b(self.a(x)), POOL)
        return self.fc(flatten(x, 1))
'''


def test_a_live_model_is_written_from_its_objects_and_its_methods_source(monkeypatch):
    """A model whose classes were defined where only linecache has their text (a notebook cell): two
    Blocks with different settings become a class and a subclass with its own __init__, a None submodule stays None, the helper, the
    constant and `from torch import flatten` come along, and the constructor's argument counts."""
    import linecache
    import types

    from tests.package.test_notebook import FAKE_TORCH
    for name in ("torch", "torch.nn", "torch.nn.functional"):
        monkeypatch.setitem(sys.modules, name, None)  # the stand-in goes away with the test
    exec(FAKE_TORCH, {})  # noqa: S102 -- the test's own stand-in for torch, not user text
    sys.modules["torch"].flatten = types.FunctionType(compile("def flatten(x, d): pass", "<torch>", "exec")
                                                      .co_consts[0], {}, "flatten")
    sys.modules["torch"].flatten.__module__ = "torch"
    cell = "/tmp/ipykernel_0/1.py"
    monkeypatch.setitem(linecache.cache, cell, (len(RESIDUAL), None, RESIDUAL.splitlines(True), cell))
    scope = {"__name__": "__main__"}
    exec(compile(RESIDUAL, cell, "exec"), scope)  # noqa: S102
    with pytest.raises(OSError):
        __import__("inspect").getsource(scope["Net"])  # the class itself: no source, as in a notebook
    framework, code, notes = model_code(scope["Net"](classes=3))
    assert notes == ["read from the live Net (every submodule's settings) and the source of its forward()"], code
    assert "class Block(nn.Module)" in code and "class Block_2(Block):\n    def __init__(self):\n        nn.Module.__init__(self)" in code and "self.downsample = None" in code
    assert "from torch import flatten" in code and "POOL = 1" in code and "def act(x):" in code
    assert "WIDTH" not in code  # __init__ is written from the object, not read
    parsed = parse_model(code, framework)
    t = trace(framework, (1, 4, 8, 8), parsed.layers, parsed.inputs)
    rows = [(r.spec["type"], list(r.output_shape)) for r in t.rows]
    assert t.error is None and rows == [  # torch 2.13's shapes for this Net, run
        ("Conv2d", [1, 4, 8, 8]), ("add", [1, 4, 8, 8]), ("ReLU", [1, 4, 8, 8]), ("Conv2d", [1, 8, 4, 4]),
        ("Conv2d", [1, 8, 4, 4]), ("add", [1, 8, 4, 4]), ("ReLU", [1, 8, 4, 4]), ("MaxPool2d", [1, 8, 4, 4]),
        ("Flatten", [1, 128]), ("Linear", [1, 3])], code
