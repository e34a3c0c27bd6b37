"""render(): the whole page, or only its live block when htmx asks (same URL, same template)."""
from __future__ import annotations

from pathlib import Path

from fastapi import Request
from jinja2_fragments.fastapi import Jinja2Blocks

from app.assets import asset_url

ROOT = Path(__file__).resolve().parent.parent
templates = Jinja2Blocks(directory=ROOT / "templates")  # *.html only: select_autoescape escapes these
templates.env.globals["asset_url"] = asset_url


def is_htmx(request: Request) -> bool:
    """A partial request from htmx; history restores want the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(request: Request, template: str, context: dict, *, block: str = "live", status_code: int = 200):
    response = templates.TemplateResponse(request, template, context, status_code=status_code,
                                          block_name=block if is_htmx(request) else None)
    response.headers["Vary"] = "HX-Request"
    return response
