"""The wheel installs and serves on its own: views, the API, the assets and /docs, from a fresh venv
outside the checkout (so nothing can come from the checkout's files)."""
import json
import re
import subprocess
import urllib.request
import zipfile

from app.views import VIEWS
from tests.package.conftest import ROOT, run


def get(url: str, data: dict | None = None):
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"} if body else {})
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.status, r.read().decode()


def test_the_wheel_carries_the_package_its_files_and_the_pinned_npm_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {n.split("/")[0] for n in names} == {"convscope", wheel.name.rsplit("-", 3)[0] + ".dist-info"}
    for name in ("convscope/__init__.py", "convscope/__main__.py", "convscope/notebook.py", "convscope/core/conv.py",
                 "convscope/templates/base.html", "convscope/templates/_partials/grid.html", "convscope/static/app.css",
                 "convscope/vendor/htmx.min.js", "convscope/vendor/plotly.min.js",
                 "convscope/vendor/swagger-ui-bundle.js", "convscope/vendor/swagger-ui.css"):
        assert name in names
    entry_points = zipfile.ZipFile(wheel).read(f"{wheel.name.rsplit('-', 3)[0]}.dist-info/entry_points.txt").decode()
    assert "convscope = convscope.__main__:main" in entry_points


def test_the_version_comes_from_one_place(venv):
    from app import __version__
    assert run(venv / "bin" / "convscope", "--version").strip() == f"convscope {__version__}"
    assert run(venv / "bin" / "python", "-m", "convscope", "--version").strip() == f"convscope {__version__}"
    where = run(venv / "bin" / "python", "-c", "import convscope; print(convscope.__file__)", cwd=venv)
    assert where.startswith(str(venv)) and not where.startswith(str(ROOT))


def test_importing_it_loads_no_framework_and_no_server(venv):
    code = ("import sys, convscope; convscope.show; "
            "print(sorted(m for m in ('torch', 'keras', 'tensorflow', 'fastapi', 'uvicorn') if m in sys.modules))")
    assert run(venv / "bin" / "python", "-c", code, cwd=venv).strip() == "[]"


def test_the_installed_command_serves_views_api_assets_and_docs(installed_server):
    url = installed_server
    for path in ("/", "/learn", *(v.path for v in VIEWS), "/image?image=coffee",
                 "/embed/explore?framework=keras&type=Conv1D&filters=4&kernel_size=3&input_shape=1,10,2", "/health"):
        status, _ = get(url + path)
        assert status == 200, path
    status, page = get(url + "/explore")
    assets = set(re.findall(r'/assets/[\w.-]+\.(?:js|css)', page))
    assert any(a.startswith("/assets/htmx.min.") for a in assets) and any(a.startswith("/assets/app.") for a in assets)
    for asset in assets:
        status, body = get(url + asset)
        assert status == 200 and len(body) > 100, asset
    plotly = re.search(r'/assets/plotly\.min\.\w+\.js', page)
    assert plotly and get(url + plotly.group())[0] == 200
    status, docs = get(url + "/docs")
    assert status == 200
    for asset in re.findall(r'/assets/swagger-ui[\w.-]+', docs):
        assert get(url + asset)[0] == 200
    assert get(url + "/openapi.json")[0] == 200
    status, body = get(url + "/api/forward", {"framework": "torch", "layer": {"type": "Conv1d", "in_channels": 1,
                                              "out_channels": 1, "kernel_size": 2, "bias": False},
                                              "input": [[[1, 2, 3]]], "weights": [[[[1, 1]]]]})
    assert status == 200 and json.loads(body)["output"] == [[[3.0, 5.0]]]


def test_the_command_refuses_a_bad_port(venv):
    result = subprocess.run([venv / "bin" / "convscope", "--port", "0"], check=False, capture_output=True, text=True)
    assert result.returncode == 2 and "--port" in result.stderr
