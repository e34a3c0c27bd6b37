"""The pages /explore writes, saved and compared: a speed-up must leave every byte the same.

    .venv/bin/python -m bench.same_html save DIR      # before a change
    .venv/bin/python -m bench.same_html compare DIR   # after it: lists every answer that differs

Each query is asked as a whole page, as an htmx fragment and (where it has one) as the lens alone, in
process (Starlette's TestClient); the bodies are written to DIR, one file each.
"""
from __future__ import annotations

import difflib
import html
import json
import re
import sys
from pathlib import Path

from starlette.testclient import TestClient

from app.main import create_app
from tests.web.test_picture import REAL_SIZES

QUERIES = {
    "default": "",
    "step7": "step=7",
    "f1-step35": "f=1&step=35",
    "1d": "type=Conv1d&in_channels=3&out_channels=2&kernel_size=3&input_shape=1,3,12&step=4",
    "3d": "type=Conv3d&in_channels=2&out_channels=2&kernel_size=2&input_shape=1,2,4,4,4&step=5",
    "keras-relu": "framework=keras&type=Conv2D&filters=3&kernel_size=3,3&padding=same&activation=relu"
                  "&input_shape=1,6,6,2&step=3",
    "torch-gelu": "type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&activation=gelu&step=11",
    "groups": "type=Conv2d&in_channels=4&out_channels=4&kernel_size=3&groups=2&f=3&step=2&input_shape=1,4,7,7",
    "many-channels": "type=Conv2d&in_channels=12&out_channels=3&kernel_size=3&input_shape=1,12,6,6&step=9",
    "stride-dilation": "type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&stride=2&dilation=2&padding=2"
                       "&input_shape=1,2,9,9&step=3",
    "reflect": "type=Conv2d&in_channels=1&out_channels=1&kernel_size=3&padding=1&padding_mode=reflect"
               "&input_shape=1,1,5,5&weights=ones",
    "causal": "framework=keras&type=Conv1D&filters=2&kernel_size=3&padding=causal&input_shape=1,10,2&step=9",
    "no-bias": "type=Conv2d&in_channels=2&out_channels=2&kernel_size=2&bias=false&seed=7",
    "batch": "type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&input_shape=3,2,6,6&seed=3&step=15",
    "big-block": "type=Conv2d&in_channels=1&out_channels=1&kernel_size=1&input_shape=1,1,28,28&step=700",
    "wide-kernel": "type=Conv2d&in_channels=5&out_channels=2&kernel_size=7&input_shape=1,5,20,20&step=190",
    "bad-step": "step=99999",
    "bad-value": "kernel_size=9",
    "no-run": "type=Conv2d&in_channels=2&out_channels=2&kernel_size=3&groups=2&input_shape=1,3,6,6",
    **{f"real-{k}": v for k, v in REAL_SIZES.items()},
    **{f"real-{k}-step": v + "&step=123&f=1" for k, v in REAL_SIZES.items()},
}
OTHERS = {  # the other views that print with app/display.py (fmt, term, grid)
    "transposed": "/transposed", "transposed-step": "/transposed?step=5", "im2col": "/im2col", "pool": "/pool",
    "pointwise": "/pointwise", "image": "/image", "groups": "/groups", "home": "/",
}
ANSWERS = {"page": ("/explore", {}), "fragment": ("/explore", {"HX-Request": "true"}),
           "embed": ("/embed/explore", {"HX-Request": "true"}), "lens": ("/explore/lens", {})}


def answers():
    with TestClient(create_app()) as client:
        for name, query in QUERIES.items():
            for kind, (path, headers) in ANSWERS.items():
                if kind == "lens" and not name.startswith("real-"):
                    continue
                r = client.get(f"{path}?{query}", headers=headers)
                yield f"{name}.{kind}.html", f"{r.status_code}\n".encode() + r.content
        for name, url in OTHERS.items():
            r = client.get(url)
            yield f"other-{name}.html", f"{r.status_code}\n".encode() + r.content


JSON_ATTRIBUTE = re.compile(r'(data-[a-z-]+)="([\[{][^"]*)"')


def same_values(before: bytes, after: bytes) -> bool:
    """The two answers are the same but for how their JSON data attributes are written (spacing, escapes):
    the same HTML around them, and every attribute the same value once parsed."""
    a, b = before.decode(), after.decode()
    if JSON_ATTRIBUTE.sub(r"\1=JSON", a) != JSON_ATTRIBUTE.sub(r"\1=JSON", b):
        return False
    values = lambda text: [json.loads(html.unescape(m.group(2))) for m in JSON_ATTRIBUTE.finditer(text)]  # noqa: E731
    return values(a) == values(b)


def main(action: str, folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    differ = json_only = 0
    for name, body in answers():
        if action == "save":
            (out / name).write_bytes(body)
            continue
        before = (out / name).read_bytes()
        if before != body and same_values(before, body):
            json_only += 1
        elif before != body:
            differ += 1
            diff = difflib.unified_diff(before.decode().splitlines(), body.decode().splitlines(), lineterm="", n=0)
            print(f"{name} differs:", *[line[:300] for line in list(diff)[2:8]], sep="\n  ")
    print(f"{len(QUERIES)} queries and {len(OTHERS)} other pages: " + ("saved" if action == "save" else
          f"{differ} answers differ; {json_only} differ only in how their JSON attributes are written"))
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main(*sys.argv[1:3])
