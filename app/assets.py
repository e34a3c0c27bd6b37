"""Front-end assets: ours from static/, third-party ones from node_modules (installed by npm ci), or
both from inside the package when it was installed from a wheel.

Every asset is served under a content-hashed name (``/assets/app.3f2a9c1e.css``) with
``Cache-Control: immutable``, so a CDN or browser keeps it until the file changes. Only the
third-party files named here are served from node_modules; nothing third-party is committed.
"""
from __future__ import annotations

import gzip
import hashlib
from functools import cache
from pathlib import Path

# asset name -> its file in node_modules (versions pinned by package-lock.json)
NPM_FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "plotly.min.js": "plotly.js-cartesian-dist-min/plotly-cartesian.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}


def locate(package: Path) -> tuple[Path, dict[str, Path]]:
    """Where templates/ and static/ are, and each vendor file: inside the package when it was installed
    from a wheel (the build copies them in, the vendor files into vendor/), else in the checkout
    around it (node_modules from `npm ci`). Nothing else in the app knows which of the two it is."""
    if (package / "templates").is_dir():
        return package, {name: package / "vendor" / name for name in NPM_FILES}
    root = package.parent
    return root, {name: root / "node_modules" / path for name, path in NPM_FILES.items()}


ROOT, VENDOR = locate(Path(__file__).resolve().parent)
TEMPLATES, STATIC = ROOT / "templates", ROOT / "static"
PRECOMPRESSED = ("plotly.min.js", "swagger-ui-bundle.js")  # large: gzip -9 once, not per request


def missing_vendor_files() -> list[str]:
    return [str(p.relative_to(ROOT)) for p in VENDOR.values() if not p.is_file()]


def source(name: str) -> Path | None:
    """The file behind an asset name, or None for anything not ours to serve."""
    if name in VENDOR:
        return VENDOR[name]
    path = STATIC / name
    return path if "/" not in name and path.is_file() else None


@cache
def digest(name: str) -> str:
    return hashlib.sha256(source(name).read_bytes()).hexdigest()[:10]


@cache
def hashed_names() -> dict[str, str]:
    """'app.3f2a9c1e0b.css' -> 'app.css', for every asset that exists."""
    names = [*VENDOR, *(p.name for p in STATIC.iterdir() if p.is_file())]
    return {hashed(n): n for n in names if source(n)}


def hashed(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{digest(name)}.{ext}"


def asset_url(name: str) -> str:
    """The content-hashed URL of a static or vendor asset."""
    return f"/assets/{hashed(name)}"


@cache
def gzipped(name: str) -> bytes:
    return gzip.compress(source(name).read_bytes(), compresslevel=9, mtime=0)
