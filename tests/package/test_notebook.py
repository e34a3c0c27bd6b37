"""A real notebook, executed by nbclient in a kernel of the fresh venv (the installed wheel): show and
show_model put an iframe in the output whose URL answers, from a server the kernel started, which
stops with the kernel."""
import html
import re
import urllib.request
from urllib.parse import urlsplit

import nbformat
import pytest
from nbclient import NotebookClient

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
