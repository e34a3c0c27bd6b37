"""The wheel: app/ becomes the package `convscope`, carrying templates/, static/ and the npm files the
app serves (htmx, plotly, swagger-ui; app/assets.py names them), copied from node_modules at build
time so that nothing third-party is committed. Metadata is in pyproject.toml."""
import importlib.util
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent


def npm_files() -> dict[str, str]:
    """app/assets.py's list, read without importing the app (it needs only the standard library)."""
    spec = importlib.util.spec_from_file_location("_convscope_assets", HERE / "app" / "assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.NPM_FILES


class BuildWithAssets(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install finds them in the checkout
            return
        target = Path(self.build_lib) / "convscope"
        missing = [p for p in npm_files().values() if not (HERE / "node_modules" / p).is_file()]
        if missing:
            raise SystemExit(f"node_modules lacks {', '.join(missing)}: run `npm ci` (or `make run`) before building")
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

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        for path in npm_files().values():
            (Path(base_dir) / "node_modules" / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / "node_modules" / path, Path(base_dir) / "node_modules" / path)


setup(
    package_dir={"convscope": "app"},
    packages=["convscope", *(f"convscope.{p}" for p in find_packages("app"))],
    package_data={"convscope": ["samples/*.png", "samples/*.md"]},  # /image's bundled pictures
    cmdclass={"build_py": BuildWithAssets, "sdist": SdistWithAssets},
)
