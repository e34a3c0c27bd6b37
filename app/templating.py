"""render(): the whole page, or only its live block when htmx asks (same URL, same template);
view_response(): a view in the site or embedded in someone's page (/embed/<view>), cacheable."""
from __future__ import annotations

import functools
import hashlib
import threading
from collections import OrderedDict
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.concurrency import run_in_threadpool

from .assets import TEMPLATES, asset_url

templates = Jinja2Blocks(directory=TEMPLATES)  # *.html only: select_autoescape escapes these
templates.env.globals["asset_url"] = asset_url
THEMES = ("auto", "light", "dark")
CONTROLS = ("full", "minimal", "none")


def is_htmx(request: Request) -> bool:
    """A partial request from htmx; history restores want the whole page."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render(request: Request, template: str, context: dict, *, block: str = "live", status_code: int = 200,
           only: str | None = None):
    """The page, its ``block`` when htmx asks (the whole page when the template has none), or always
    only the block ``only`` (a fragment route)."""
    partial = is_htmx(request) and block in templates.get_template(template).blocks
    response = templates.TemplateResponse(request, template, context, status_code=status_code,
                                          block_name=only or (block if partial else None))
    response.headers["Vary"] = "HX-Request"
    return response


def embed_options(request: Request) -> dict | None:
    """theme, controls and autoplay of an embedded view (/embed/...); None in the site itself."""
    if not request.url.path.startswith("/embed/"):
        return None
    q = request.query_params
    return {"theme": q.get("theme") if q.get("theme") in THEMES else "auto",
            "controls": q.get("controls") if q.get("controls") in CONTROLS else "full",
            "autoplay": q.get("autoplay") == "1"}


def view_response(request: Request, template: str, context: dict, *, path: str, query: str | None,
                  refused: bool = False, only: str | None = None) -> Response:
    """A view's answer: page or fragment, in the site or embedded, with its canonical URL.

    Deterministic GET answers carry an ETag and a short max-age, so a CDN can absorb a lecture
    hall opening the same link; ``refused`` (a bad value in the URL) is a 422 for a full page.
    ``only``: always that block of the template alone (a fragment of the view with a URL of its own).
    """
    embed = embed_options(request)
    view_path = ("/embed" if embed else "") + path
    embed_params = {k: ("1" if v is True else v) for k, v in (embed or {}).items()
                    if v not in ("auto", "full", False)}
    own_query = "&".join(p for p in (query, urlencode(embed_params)) if p)
    origin = str(request.base_url).rstrip("/")
    ctx = {**context, "embed": embed, "view_path": view_path,
           "page_url": f"{origin}{path}" + (f"?{query}" if query else ""),
           "embed_url": f"{origin}/embed{path}" + (f"?{query}" if query else "")}
    response = render(request, template, ctx, status_code=422 if refused and not is_htmx(request) else 200, only=only)
    if query is not None:
        response.headers["HX-Replace-Url"] = f"{view_path}?{own_query}" if own_query else view_path
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:20] + '"'
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "public, max-age=300"
    if response.status_code == 200 and request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={k: v for k, v in response.headers.items()
                                                  if k.lower() in ("etag", "cache-control", "vary")})
    return response


class ResponseCache:
    """Rendered views by URL: a view is a pure function of its URL, so a lecture hall opening one
    link (or sliding back to a state it saw) is answered without rendering again. Bounded in bytes."""

    def __init__(self, max_bytes: int = 64 * 2**20):
        self.max_bytes, self.bytes, self.entries = max_bytes, 0, OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key, response: Response) -> None:
        entry = (response.body, response.status_code, dict(response.headers))
        with self.lock:
            if key in self.entries or len(response.body) > self.max_bytes // 8:
                return
            self.entries[key] = entry
            self.bytes += len(response.body)
            while self.bytes > self.max_bytes:
                _, (body, _, _) = self.entries.popitem(last=False)
                self.bytes -= len(body)


CACHE = ResponseCache()


def cached_view(route):
    """Serve a view route from CACHE when the same URL (and htmx headers) was rendered before.

    The wrapper is async: a hit is a dict lookup on the event loop, without the trip through the
    thread pool that FastAPI gives a plain route; a miss renders there as before."""
    @functools.wraps(route)
    async def wrapper(request: Request, **params):
        key = (str(request.base_url), request.url.path, request.url.query, is_htmx(request))
        entry = CACHE.get(key)
        if entry is None:
            response = await run_in_threadpool(route, request, **params)
            if response.status_code == 200 and "etag" in response.headers:
                CACHE.put(key, response)
            return response
        body, status, headers = entry
        if request.headers.get("if-none-match") == headers.get("etag"):
            return Response(status_code=304, headers={k: v for k, v in headers.items()
                                                      if k in ("etag", "cache-control", "vary")})
        headers = {k: v for k, v in headers.items() if k != "content-length"}
        return Response(body, status_code=status, headers=headers)
    return wrapper
