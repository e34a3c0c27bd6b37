"""The wheel installs and serves on its own: views, the API, the assets and /docs, from a fresh venv
outside the checkout (so nothing can come from the checkout's files)."""
import json
import re
import shutil
import subprocess
import urllib.request
import zipfile
from pathlib import Path

from app.views import VIEWS
from tests.package.conftest import ROOT, clean_env, run


def get(url: str, data: dict | None = None):
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"} if body else {})
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.status, r.read().decode()


def test_the_wheel_carries_the_package_its_files_and_the_pinned_npm_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {n.split("/")[0] for n in names} == {"convscope", wheel.name.rsplit("-", 3)[0] + ".dist-info"}
    for name in ("convscope/__init__.py", "convscope/__main__.py", "convscope/notebook.py", "convscope/core/conv.py",
                 "convscope/templates/base.html", "convscope/templates/_partials/player.html", "convscope/static/app.css",
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


# ---------------------------------------------------------------- from a clone, from git, from the sdist
def site_package(venv) -> Path:
    (found,) = (venv / "lib").glob("python3*/site-packages/convscope")
    return found


def test_the_wheels_dependencies_are_ranges_that_hold_the_pins(wheel):
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    metadata = zipfile.ZipFile(wheel).read(f"{wheel.name.rsplit('-', 3)[0]}.dist-info/METADATA").decode()
    pins = {canonicalize_name(n): v for n, v in re.findall(r"^([\w.-]+)==(\S+)$", (ROOT / "requirements.txt")
                                                            .read_text(), re.M)}
    requires = [Requirement(line.split(":", 1)[1]) for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [r for r in requires if r.marker is None]
    assert {canonicalize_name(r.name) for r in runtime} == {"fastapi", "uvicorn", "jinja2", "jinja2-fragments", "numpy",
                                                          "orjson", "pillow"}
    for requirement in runtime:
        operators = {s.operator for s in requirement.specifier}
        assert operators == {">=", "<"}, f"{requirement}: a range, from a lower to an upper bound"
        assert pins[canonicalize_name(requirement.name)] in requirement.specifier, f"{requirement} leaves out the pin"


def test_pip_install_from_a_bare_git_clone_builds_the_assets_itself(bare_clone, git_venv):
    from app import __version__
    path, sha = bare_clone
    tracked = run("git", "-C", path, "ls-tree", "-r", "--name-only", sha).split()
    assert not [n for n in tracked if n.startswith("node_modules/")]  # so `npm ci` in the build made them
    assert run(git_venv / "bin" / "convscope", "--version", env=clean_env()).strip() == f"convscope {__version__}"
    vendor = site_package(git_venv) / "vendor"
    assert sorted(p.name for p in vendor.iterdir()) == ["htmx.min.js", "plotly.min.js", "swagger-ui-bundle.js",
                                                          "swagger-ui.css"]
    assert all(p.stat().st_size > 10_000 for p in vendor.iterdir())
    assert (site_package(git_venv) / "samples" / "coffee.png").is_file()


def test_a_clone_builds_without_warnings_and_its_sdist_installs_without_npm(bare_clone, git_venv, tmp_path):
    """setuptools' own build of a fresh clone (sdist and wheel) prints no warning, and the sdist,
    installed where npm is not on PATH, carries every asset."""
    path, sha = bare_clone
    source = tmp_path / "src"
    run("git", "clone", "--quiet", path, source)
    run("git", "-C", source, "checkout", "--quiet", sha)
    python = git_venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "setuptools>=68", env=clean_env())
    code = ("import sys; from setuptools import build_meta as b; "
            "print(b.build_sdist(sys.argv[1])); print(b.build_wheel(sys.argv[1]))")
    result = subprocess.run([python, "-c", code, tmp_path / "dist"], cwd=source, env=clean_env(), check=False,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert not [line for line in output.splitlines() if re.search(r"warn|ignored", line, re.I)], output
    (sdist,) = (tmp_path / "dist").glob("convscope-*.tar.gz")
    no_npm = clean_env(PATH=str(git_venv / "bin"))
    assert shutil.which("npm", path=no_npm["PATH"]) is None
    (site_package(git_venv) / "vendor" / "htmx.min.js").unlink()  # so the reinstall must bring it back
    run(python, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", sdist, env=no_npm)
    assert (site_package(git_venv) / "vendor" / "htmx.min.js").stat().st_size > 10_000
    assert run(git_venv / "bin" / "convscope", "--version", env=no_npm).startswith("convscope ")


def test_without_npm_a_clone_says_first_what_to_install(bare_clone, git_venv, tmp_path):
    path, sha = bare_clone
    source = tmp_path / "src"
    run("git", "clone", "--quiet", path, source)
    run("git", "-C", source, "checkout", "--quiet", sha)
    no_npm = clean_env(PATH=str(git_venv / "bin"))
    result = subprocess.run([git_venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "."], cwd=source,
                            env=no_npm, check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert result.returncode != 0
    output = (result.stdout + result.stderr).splitlines()
    # pip frames the build's output: its first line is ours, before any dependency is fetched
    start = next(i for i, line in enumerate(output) if "lines of output]" in line)
    assert output[start + 1].strip().startswith("Convscope needs npm (Node.js) to build from a source checkout: "
                                                "install Node.js with npm"), "\n".join(output)
    assert "Getting requirements to build wheel did not run successfully" in result.stdout + result.stderr
    assert not (source / "node_modules").exists()
