"""The wheel: app/ becomes the package `convscope`, carrying templates/, static/ and the npm files the
app serves (htmx, plotly, swagger-ui; app/assets.py names them), copied from node_modules at build
time so that nothing third-party is committed. Metadata is in pyproject.toml.

From a checkout (`pip install .`, `pip install git+…`) the npm files come from `npm ci` (package-lock.json),
run here when node_modules lacks them; the sdist carries them, so installing it needs no npm. Without
npm the build stops at once, its first line saying what to install."""
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
NO_NPM = ("Convscope needs npm (Node.js) to build from a source checkout: install Node.js with npm "
          "(https://nodejs.org/, or `sudo apt install npm`), then run pip again.\n"
          "Or install the sdist or the wheel, which carry the front-end assets. "
          "(node_modules lacks {missing}; package-lock.json pins them.)")


def npm_files() -> dict[str, str]:
    """app/assets.py's list, read without importing the app (it needs only the standard library)."""
    spec = importlib.util.spec_from_file_location("_convscope_assets", HERE / "app" / "assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NPM_FILES


def missing_npm_files() -> list[str]:
    return [p for p in npm_files().values() if not (HERE / "node_modules" / p).is_file()]


def ensure_npm_files() -> None:
    """node_modules from package-lock.json (`npm ci`) unless it has every file already (an sdist does)."""
    missing = missing_npm_files()
    if not missing:
        return
    npm = shutil.which("npm")
    if npm is None or not (HERE / "package-lock.json").is_file():
        raise SystemExit(NO_NPM.format(missing=", ".join(missing)))
    print("convscope: running `npm ci` for the front-end assets (package-lock.json)", file=sys.stderr, flush=True)
    # npm's own output to stderr: stdout may be a build frontend's channel
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefer-offline"],
                            cwd=HERE, stdout=sys.stderr, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0 or missing_npm_files():
        raise SystemExit(f"`npm ci` in {HERE} failed (exit {result.returncode}): see npm's message above; "
                         "it needs the npm registry (or npm's cache) to fetch package-lock.json's packages")


class BuildWithAssets(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install finds them in the checkout
            return
        ensure_npm_files()
        target = Path(self.build_lib) / "convscope"
        for name in ("templates", "static"):
            shutil.rmtree(target / name, ignore_errors=True)  # no stale files from an earlier build
            shutil.copytree(HERE / name, target / name, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        shutil.rmtree(target / "vendor", ignore_errors=True)
        (target / "vendor").mkdir()
        for name, path in npm_files().items():
            shutil.copyfile(HERE / "node_modules" / path, target / "vendor" / name)


class SdistWithAssets(sdist):
    """An sdist builds the same wheel: it carries the npm files at their node_modules paths
    (templates/ and static/ come through MANIFEST.in)."""

    def run(self):
        ensure_npm_files()
        super().run()

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        for path in npm_files().values():
            (Path(base_dir) / "node_modules" / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / "node_modules" / path, Path(base_dir) / "node_modules" / path)


# Before setuptools prints anything: a build from a checkout without npm stops here, before pip
# downloads the dependencies, with the missing tool as the first line of its message.
if {"egg_info", "dist_info", "bdist_wheel", "build", "build_py", "sdist", "install"} & set(sys.argv[1:]):
    ensure_npm_files()

setup(
    package_dir={"convscope": "app"},
    # every directory under app/ is a package, samples/ (data only: /image's bundled pictures) included,
    # so that setuptools installs its files as declared package data rather than warn it would skip them
    packages=["convscope", *(f"convscope.{p}" for p in find_namespace_packages("app", exclude=["*__pycache__*"]))],
    package_data={"convscope.samples": ["*.png", "*.md"],
                  "convscope.core.frameworks": ["*.json"]},  # the layer signatures recorded from the frameworks
    cmdclass={"build_py": BuildWithAssets, "sdist": SdistWithAssets},
)
