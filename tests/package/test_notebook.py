"""A real notebook, executed by nbclient in a kernel of the fresh venv (the installed wheel): show and
show_model put an iframe in the output whose URL answers, from a server the kernel started, which
stops with the kernel."""
import contextlib
import html
import os
import re
import urllib.request
from urllib.parse import urlsplit

import nbformat
import pytest
from nbclient import NotebookClient

from tests.package.conftest import kernel_with
from tests.web.page import shape

CELLS = [
    "import sys, convscope\nassert not {'torch', 'keras', 'fastapi'} & set(sys.modules)",
    # a spec dict in the API's words; a live layer is read the same way (tests/package/test_reading.py)
    "convscope.show({'type': 'Conv2d', 'in_channels': 2, 'out_channels': 3, 'kernel_size': 3}, input_shape=(2, 6, 6))",
    ("convscope.show_model('model = nn.Sequential(nn.Conv1d(16, 32, 5), nn.ReLU(), nn.MaxPool1d(2))',\n"
     "                     input_shape=(4, 16, 100))"),
]


def iframe_src(cell) -> str:
    (output,) = [o for o in cell.outputs if o.output_type == "display_data"]
    return html.unescape(re.search(r'<iframe src="([^"]+)"', output.data["text/html"]).group(1))


def test_a_notebook_shows_the_views_inline(venv, kernel_name, tmp_path):
    path = tmp_path / "layers.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS]), path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        layer, model = iframe_src(nb.cells[1]), iframe_src(nb.cells[2])
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/embed/explore\?framework=torch&type=Conv2d&in_channels=2&"
                            r"out_channels=3&kernel_size=3&input_shape=1,2,6,6", layer)
        assert urlsplit(model).path == "/embed/trace" and urlsplit(model).port == urlsplit(layer).port  # one server
        for url, expected in ((layer, [1, 3, 4, 4]), (model, [4, 32, 48])):
            with urllib.request.urlopen(url, timeout=30) as r:
                assert r.status == 200
                page = r.read().decode()
                shapes = re.findall(r'data-output-shape="([^"]*)"', page)
                assert shapes and shape(page) is not None
                assert html.unescape(shapes[-1]).replace(" ", "") == str(expected).replace(" ", "")
    with pytest.raises(OSError):  # the kernel is gone, and its server with it
        urllib.request.urlopen(layer, timeout=5)


# ---------------------------------------------------------------- a model class defined in a cell
# CI has no torch: a stand-in `torch` whose modules look as torch's do to a reader (their classes'
# modules and names, their reprs, their attributes; see tests/golden/layers.json for real ones). The
# model class is then defined in a cell of its own, as people write it, and its forward() is never run.
FAKE_TORCH = '''
import sys, types
torch, nn, F = (types.ModuleType(n) for n in ("torch", "torch.nn", "torch.nn.functional"))
torch.nn, nn.functional = nn, F
sys.modules.update({"torch": torch, "torch.nn": nn, "torch.nn.functional": F})

class Module:
    def __init__(self):
        object.__setattr__(self, "_modules", {})
        self.training = True
    def __setattr__(self, key, value):
        (self._modules if isinstance(value, Module) else self.__dict__)[key] = value
    def __getattr__(self, key):
        try:
            return self.__dict__["_modules"][key]
        except KeyError:
            raise AttributeError(key) from None

class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, pair(kernel_size)
        self.stride, self.padding, self.dilation, self.groups = pair(stride), pair(padding), (1, 1), 1
        self.padding_mode, self.bias = "zeros", object()
    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}" + (f", padding={self.padding}" if self.padding != (0, 0) else "") + ")")

class Linear(Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features, self.bias = in_features, out_features, object() if bias else None
    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None})"

for cls, module in ((Module, "module"), (Conv2d, "conv"), (Linear, "linear")):
    cls.__module__ = f"torch.nn.modules.{module}"
    setattr(nn, cls.__name__, cls)
'''

NET = '''
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 6 * 6, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        x = torch.flatten(x, 1)
        return self.fc(x)
'''

SHOW_NET = "import convscope\nconvscope.show_model(Net(classes=7), input_shape=(1, 1, 14, 14))"

# what torch computes for this Net (conv 3x3: 14 -> 12, pool 2: 6, conv 3x3 padding 1: 6, 16*6*6 = 576)
ROWS = [("Conv2d", [1, 8, 12, 12]), ("ReLU", [1, 8, 12, 12]), ("MaxPool2d", [1, 8, 6, 6]), ("Conv2d", [1, 16, 6, 6]),
        ("ReLU", [1, 16, 6, 6]), ("Flatten", [1, 576]), ("Linear", [1, 7])]


def trace_rows(page: str) -> list[tuple[str, list[int]]]:
    rows = re.findall(r'<tr id="row-\d+" data-output-shape="([^"]*)">.*?<th scope="row">(\w+)', page, re.S)
    return [(name, [int(v) for v in re.findall(r"\d+", html.unescape(shape))]) for shape, name in rows]


@contextlib.contextmanager
def run_cells(kernel_name: str, cells: list[str], path):
    """The cells run in a kernel, which (with the server it started) lives until the block ends."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=120, resources={"metadata": {"path": str(path)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        yield nb.cells


def test_a_model_class_defined_in_a_cell_is_read_with_its_forward(git_kernel_name, tmp_path):
    """In a kernel of the venv installed from a bare git clone (tests/package/test_wheel.py):
    inspect.getsource(Net) fails for a class defined in a cell; its forward() is read from the
    cell IPython keeps, its layers' settings from the live object (classes=7 reaches the last layer),
    so the functional calls are rows of the trace."""
    with run_cells(git_kernel_name, [FAKE_TORCH, NET, "import inspect\ntry:\n    inspect.getsource(Net)\n"
                                 "    print('class source found')\nexcept (OSError, TypeError) as e:\n"
                                 "    print('no class source:', e)", SHOW_NET], tmp_path) as cells:
        assert "no class source" in cells[2].outputs[0].text  # the case this test is about
        (output,) = [o for o in cells[3].outputs if o.output_type == "display_data"]
        assert "read from the live Net" in output.data["text/html"]
        with urllib.request.urlopen(iframe_src(cells[3]), timeout=30) as r:
            page = r.read().decode()
    assert trace_rows(page) == ROWS


def test_the_inline_view_follows_its_content_and_lives_with_the_kernel(venv, kernel_name, tmp_path):
    with run_cells(kernel_name, [
            "import convscope\nconvscope.show({'type': 'MaxPool2d', 'kernel_size': 2}, input_shape=(1, 4, 4))",
            "convscope.show({'type': 'MaxPool2d', 'kernel_size': 2}, input_shape=(1, 4, 4), height=500)"],
            tmp_path) as cells:
        url = iframe_src(cells[0])
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200
    (auto,) = [o.data["text/html"] for o in cells[0].outputs if o.output_type == "display_data"]
    (fixed,) = [o.data["text/html"] for o in cells[1].outputs if o.output_type == "display_data"]
    assert "convscope:resize" in auto and 'height="' not in auto.split("</iframe>")[0]  # embed-host.js, inline
    assert 'height="500" data-convscope-fixed="1"' in fixed
    with pytest.raises(OSError):  # the kernel is gone, and its server with it
        urllib.request.urlopen(url, timeout=5)


TORCH_SITE = os.environ.get("CONVSCOPE_TEST_TORCH_SITE")  # a site-packages holding torch (CI has none)


@pytest.mark.skipif(not TORCH_SITE, reason="real torch not checked: set CONVSCOPE_TEST_TORCH_SITE to a site-packages "
                                           "with torch (the stand-in model above runs everywhere)")
def test_a_real_torch_model_defined_in_a_cell(venv, tmp_path_factory, tmp_path):
    """The same Net with real torch in the kernel, and torch's own output shape for it."""
    name = kernel_with(venv, tmp_path_factory, "convscope-torch", {"PYTHONPATH": TORCH_SITE})
    with run_cells(name, [NET, "import torch\nprint(list(Net(classes=7)(torch.zeros(1, 1, 14, 14)).shape))",
                          SHOW_NET], tmp_path) as cells:
        assert cells[1].outputs[0].text.strip() == "[1, 7]"
        with urllib.request.urlopen(iframe_src(cells[2]), timeout=30) as r:
            assert trace_rows(r.read().decode()) == ROWS
