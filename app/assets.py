"""Front-end assets: ours from static/, third-party ones from node_modules (installed by npm ci).

Only the files named here are served from node_modules; nothing third-party is committed.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = {
    "htmx.min.js": NODE_MODULES / "htmx.org/dist/htmx.min.js",
    "plotly.min.js": NODE_MODULES / "plotly.js-cartesian-dist-min/plotly-cartesian.min.js",
    "swagger-ui-bundle.js": NODE_MODULES / "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": NODE_MODULES / "swagger-ui-dist/swagger-ui.css",
}


def missing_vendor_files() -> list[str]:
    return [str(p.relative_to(ROOT)) for p in VENDOR.values() if not p.is_file()]


def asset_url(name: str) -> str:
    """URL of a static or vendor asset (one place to change when names get content hashes)."""
    return f"/vendor/{name}" if name in VENDOR else f"/static/{name}"
