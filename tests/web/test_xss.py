"""No query value is ever reflected as markup: every HTML view, whole page and htmx fragment, in
the site and under /embed/, fed XSS payloads in every parameter it reads.

An answer passes when it is not a 500 and its HTML, read tag by tag (every tag must be readable):
- holds none of the payloads' markup (`<script>alert`, `<img src=x onerror`, `<svg onload`, …);
- has no inline `<script>` (every script has a `src`), no `on*=` or `hx-on*` handler attribute, no
  `srcdoc`, and no URL attribute (href, src, action, hx-get, …) or meta refresh that starts
  with `javascript:` (control characters and whitespace removed first, as browsers do);
- and its HX-Replace-Url header (htmx puts it in the address bar) is a path on this site.
A non-HTML answer (oEmbed's JSON, a lesson's 404 text) is not text/html and is sent with
`nosniff`; oEmbed's `html` field passes the same checks as a page.
"""
from __future__ import annotations

import importlib
import re
from html import unescape
from urllib.parse import urlencode

import pytest
from pydantic import BaseModel

from app.views import BY_PATH
from app.views import VIEWS as LISTED

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</textarea><script>alert(1)</script>",
    "'><svg onload=alert(1)>",
    "</title></style></code><svg/onload=alert(1)>",
]
MARKUP = ("<script>alert", "<script>document", "<img src=x onerror", "<svg onload", "<svg/onload")
# a valid-looking value with a payload after it (the parsers split on commas and try int() …)
VALID = {"kernel_size": "3,3", "input_shape": "1,2,6,6", "size": "6,6", "padding": "same", "framework": "keras",
         "type": "Conv2d", "activation": "relu", "weights": "ones", "bias": "true", "use_bias": "true",
         "padding_mode": "zeros", "kind": "max", "theme": "dark", "controls": "none", "autoplay": "1",
         "x_shape": "100,50", "y_shape": "100,1", "pool_size": "2", "url": "http://testserver/explore?filters=3",
         "peak_gflops": "100", "bandwidth_gbs": "50", "ceil_mode": "true", "count_include_pad": "false",
         "format": "json", "code": "model = keras.Sequential([layers.Conv1D(4, 3, input_shape=(10, 2))])\n#"}
SUFFIX = "<svg onload=alert(1)>"

# view -> the query parameters its route reads: its module's READS (app/views.py: ViewModule), then every
# name of every knob in its KNOBS table and the state models' field names (the form's own words), added
# below, so a new view or knob is covered without editing this file
VIEWS = {v.path: list(v.module.READS) for v in LISTED}
SITE_ONLY = {"/": ["kernel_size", "stride", "padding", "dilation"], "/docs": ["url", "configUrl"]}
EMBED_OPTIONS = ["theme", "controls", "autoplay"]
BEING_BUILT: set[str] = set()  # every view exists now
LESSON = "/learn/1x1-conv"


def _model_fields(view: str) -> set[str]:
    """The state models' fields and every name the view's knobs are read under."""
    module = BY_PATH[view].module if view in BY_PATH else importlib.import_module("app.routes.home")
    knobs = {n for k in getattr(module, "KNOBS", ()) for n in (k.torch, k.keras, *k.also, k.field) if n}
    return knobs | {name for obj in vars(module).values() if isinstance(obj, type) and issubclass(obj, BaseModel)
                    and obj is not BaseModel and obj.__module__ == module.__name__ for name in obj.model_fields}


for _view, _params in VIEWS.items():
    _params += sorted(_model_fields(_view) - set(_params))
SITE_ONLY["/"] += sorted(_model_fields("/") - set(SITE_ONLY["/"]))

MODES = {"page": ("", {}), "fragment": ("", {"HX-Request": "true"}),
         "embed page": ("/embed", {}), "embed fragment": ("/embed", {"HX-Request": "true"})}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcset", "ping",
             "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "hx-push-url", "hx-replace-url", "cite",
             "longdesc", "manifest", "codebase", "archive", "lowsrc", "dynsrc"}
CONTROL = re.compile(r"[\x00-\x20\x7f]+")


# start tags and their attributes, as an HTML tokenizer reads them (a regex: HTMLParser is ~10× slower)
TAG = re.compile(r"<([a-zA-Z][^\s/>\x00]*)((?:[\s/]+[^\s/>\"'=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)[\s/]*>")
OPEN = re.compile(r"<[a-zA-Z]")
ATTR = re.compile(r"([^\s/>\"'=]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")


def _tag_problems(tag: str, attrs: list[tuple[str, str]]) -> list[str]:
    problems = []
    names = {k for k, _ in attrs}
    if tag == "script" and "src" not in names:
        problems.append(f"inline <script {attrs}>")
    for name, value in attrs:
        flat = CONTROL.sub("", value).lower()
        handler = name.startswith(("on", "hx-on", "data-hx-on")) or name == "srcdoc"
        script_url = name in URL_ATTRS and (flat.startswith(("javascript:", "vbscript:"))
                                            or (name == "srcset" and "javascript:" in flat))
        refresh = name == "content" and "url=javascript:" in flat
        js_values = name in ("hx-vals", "hx-vars") and flat.startswith(("js:", "javascript:"))
        if handler or script_url or refresh or js_values:
            problems.append(f"<{tag} {name}={value!r}>")
    return problems


def html_problems(html: str) -> list[str]:
    low = html.lower()
    found = [m for m in MARKUP if m in low]
    tags = list(TAG.finditer(html))
    starts = {m.start() for m in tags}
    found += [f"a tag this audit cannot read: {html[i:i + 80]!r}" for i in (m.start() for m in OPEN.finditer(html))
              if i not in starts]
    for m in tags:
        attrs = [(k.lower(), unescape(v.strip("\"'")) if v else "") for k, v in ATTR.findall(m.group(2))]
        found += _tag_problems(m.group(1).lower(), attrs)
    return found


def fetch(client, url: str, headers: dict):
    try:
        return client.get(url, headers=headers)
    except Exception as e:  # noqa: BLE001 -- the session client re-raises any server error: that is a 500
        pytest.fail(f"GET {url} {headers} is a 500: {type(e).__name__}: {e}")


def check(r, url: str, headers: dict) -> None:
    where = f"GET {url} {headers}"
    oembed_format = url.startswith("/oembed?") and "format=" in url  # oEmbed's answer to a format it lacks
    assert r.status_code < 500 or (oembed_format and r.status_code == 501), f"{where} answered {r.status_code}"
    ctype = r.headers.get("content-type", "")
    if "html" in ctype:
        problems = html_problems(r.text)
        assert not problems, f"{where}: {problems[:5]}"
    else:
        assert r.headers.get("x-content-type-options") == "nosniff", where
    replace = r.headers.get("hx-replace-url")
    if replace is not None:
        assert replace.startswith("/") and not replace.startswith("//"), f"{where}: HX-Replace-Url {replace!r}"


def values_for(param: str, mode: str) -> list[str]:
    """Every payload in the site's page and fragment; under /embed/ (the same view code, with the embed
    options on top) the three that break out of text, of an attribute and of a URL, to keep the file fast."""
    payloads = PAYLOADS if not mode.startswith("embed") else PAYLOADS[:3]
    return [*payloads, VALID.get(param, "3") + SUFFIX]


def _skip_if_being_built(client, view: str) -> None:
    if view in BEING_BUILT and client.get(view).status_code == 404:
        pytest.skip(f"{view} answers 404 today: the view is being built")


def _mark(view: str, mode: str):
    return []


CASES = [pytest.param(view, param, mode, id=f"{mode}:{view}?{param}")
         for view, params in VIEWS.items() for mode in MODES
         for param in params + (EMBED_OPTIONS if mode.startswith("embed") else [])]
CASES += [pytest.param(view, param, mode, id=f"{mode}:{view}?{param}", marks=_mark(view, mode))
          for view, params in [*SITE_ONLY.items(), (LESSON, ["x"])] for mode in ("page", "fragment")
          for param in params]


@pytest.mark.parametrize("view, param, mode", CASES)
def test_each_parameter_reflects_no_markup(client, view, param, mode):
    _skip_if_being_built(client, view)
    prefix, headers = MODES[mode]
    for value in values_for(param, mode):
        url = f"{prefix}{view}?{urlencode({param: value})}"
        check(fetch(client, url, headers), url, headers)


ALL_AT_ONCE = [pytest.param(view, mode, payload, id=f"{mode}:{view}:{i}")
               for view in VIEWS for mode in MODES for i, payload in enumerate(PAYLOADS)]


@pytest.mark.parametrize("view, mode, payload", ALL_AT_ONCE)
def test_every_parameter_at_once(client, view, mode, payload):
    """The payload in every parameter together, and as a parameter name (var_<payload> in /trace)."""
    _skip_if_being_built(client, view)
    prefix, headers = MODES[mode]
    params = {p: payload for p in VIEWS[view] + EMBED_OPTIONS}
    params[f"var_{payload}"] = "3"
    url = f"{prefix}{view}?{urlencode(params)}"
    check(fetch(client, url, headers), url, headers)


def _models(payload: str) -> list[tuple[str, str]]:
    """Model code that parses, with the payload in the places the trace shows back."""
    quoted = payload.replace("\\", "\\\\").replace("'", "\\'")
    return [
        ("keras", f"model = keras.Sequential([layers.Conv2D(8, 3, padding='{quoted}', input_shape=(8, 8, 1))])\n"),
        ("keras", (f"model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(8, 8, 1)), "
                   f"layers.Dense(10, name='{quoted}', activation='{quoted}')])\n")),
        ("keras", (f"# {payload}\nmodel = keras.Sequential([layers.Conv1D(4, 3, input_shape=(10, 2)), "
                   "layers.Flatten(), layers.Dense(1)])\n")),
        ("torch", f"model = nn.Sequential(nn.Conv2d(3, 8, 3, padding_mode='{quoted}'), nn.ReLU())\n"),
        ("torch", f"model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(99, 10))  # {payload}\n"),
        ("keras", f"model = keras.Sequential([layers.Conv2D(depth_1, 3, input_shape=(8, 8, 1))])  # {payload}\n"),
        ("auto", payload),
        ("auto", f"model = keras.Sequential([{payload}])"),
    ]


TRACE_CASES = [pytest.param(mode, payload, i, id=f"{mode}:{p}:{i}") for mode in MODES
               for p, payload in enumerate(PAYLOADS) for i in range(len(_models(""))) ]


@pytest.mark.parametrize("mode, payload, i", TRACE_CASES)
def test_trace_code_shows_its_strings_as_text(client, mode, payload, i):
    """The pasted code is shown in the textarea, and its strings in rows, errors and settings."""
    prefix, headers = MODES[mode]
    framework, code = _models(payload)[i]
    params = {"code": code, "framework": framework, "input_shape": "1,3,10,10" if framework == "torch" else "",
              "x_shape": "100,8,8,1", "y_shape": "100,10", f"var_{payload}": "3"}
    url = f"{prefix}/trace?{urlencode(params)}"
    check(fetch(client, url, headers), url, headers)


OEMBED = [f"http://testserver/explore?in_channels={p}" for p in PAYLOADS] + \
         [f"http://testserver/embed/trace?code={p}" for p in PAYLOADS] + \
         ['http://testserver/explore?"><script>alert(1)</script>', *PAYLOADS]


@pytest.mark.parametrize("url", OEMBED)
def test_oembed_html_escapes_the_url(client, url):
    for params in ({"url": url}, {"url": url, "maxwidth": "<script>alert(1)</script>"},
                   {"url": url, "format": "<script>alert(1)</script>"}):
        full = f"/oembed?{urlencode(params)}"
        r = fetch(client, full, {})
        check(r, full, {})
        if r.status_code == 200:
            problems = html_problems(r.json()["html"])
            assert not problems, f"GET {full}: {problems}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_lesson_slug(client, payload):
    for slug in (payload, "1x1-conv" + payload):
        url = "/learn/" + urlencode({"": slug})[1:]
        r = fetch(client, url, {})
        check(r, url, {})
        assert r.status_code == 404


def test_the_audit_finds_what_it_looks_for():
    """The checks above would see an injection (so a pass means something)."""
    assert html_problems('<p>&lt;script&gt;alert(1)&lt;/script&gt; <a href="/x?javascript:alert(1)">x</a></p>') == []
    for bad in ("<script>alert(1)</script>", '<img src=x onerror=alert(1)>', '<a href=" java\tscript:alert(1)">',
                '<form action="JavaScript:alert(1)">', '<div hx-on:click="alert(1)">', '<svg/onload=alert(1)>',
                '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;">',
                '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
                '<textarea></textarea><script>alert(1)</script></textarea>', "<div hx-get='javascript:alert(1)'>"):
        assert html_problems(bad), bad
