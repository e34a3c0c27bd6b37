"""Hostile requests to the JSON API (behaviour only; timings are bench/hostile.py's job).

- bodies over MAX_BODY_BYTES are a 413, with a Content-Length and also sent chunked (none);
- input over each documented limit is a 422 whose message names the limit, for /api/forward,
  /api/trace and /api/cost, and input at the limit is answered;
- deeply nested JSON, huge numbers, NaN/Infinity literals, wrong types, broken encodings are a
  422 in FastAPI's shape, never a 500;
- a real uvicorn (``live_server``) keeps answering a normal request after each hostile one,
  including ones that break HTTP itself (a chunked flood, a client that hangs up mid-body).
"""
from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import numpy as np
import pytest

from app.core.code import MAX_CHARS, MAX_ITEMS, MAX_NODES, MAX_NUMBER
from app.core.frameworks.common import MAX_INT
from app.core.limits import MAX_BODY_BYTES, MAX_INPUT_ELEMENTS, MAX_OUTPUT_ELEMENTS, MAX_WORK

ENDPOINTS = ["/api/forward", "/api/trace", "/api/cost"]
NORMAL = {
    "/api/forward": {"framework": "torch", "layer": {"type": "Conv1d", "in_channels": 1, "out_channels": 1,
                                                     "kernel_size": 2, "bias": False},
                     "input": [[[1, 2, 3]]], "weights": [[[[1, 1]]]]},
    "/api/trace": {"framework": "torch", "input_shape": [1, 3, 8],
                   "layers": [{"type": "Conv1d", "in_channels": 3, "out_channels": 4, "kernel_size": 3}]},
    "/api/cost": {"framework": "torch", "layer": {"type": "Conv2d", "in_channels": 3, "out_channels": 4,
                                                  "kernel_size": 3}, "input_shape": [1, 3, 8, 8]},
}
EXPECTED = {"/api/forward": ("output", [[[3.0, 5.0]]]), "/api/trace": ("total_params", 40),
            "/api/cost": ("params", 112)}
JSON = {"content-type": "application/json"}
KERAS = "model = keras.Sequential([layers.Conv1D(4, 3, input_shape=(10, 2))])\n"


def assert_refusal(r, *words: str, status: int = 422) -> str:
    """A 422 in FastAPI's shape (the location starts at the body); the message holds every word."""
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    detail = r.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    for d in detail:
        assert d["loc"] and d["loc"][0] == "body" and isinstance(d["msg"], str) and d["msg"], d
    text = " ".join(d["msg"] for d in detail)
    for w in words:
        assert w in text, (w, text[:500])
    return text


# ------------------------------------------------------------------ 413: bodies over the size limit

def _padded(path: str, size: int) -> bytes:
    """A valid request for path, padded with JSON whitespace to exactly size bytes."""
    body = json.dumps(NORMAL[path]).encode()
    return body + b" " * (size - len(body))


def _chunks(data: bytes, size: int = 64 * 1024):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def assert_refused_as_too_large(r, *words):
    """A 413 like every other refusal: JSON naming the body and the limit, with the site's headers."""
    assert r.status_code == 413, r.text[:200]
    (item,) = r.json()["detail"]
    assert item["loc"] == ["body"] and item["type"] == "too_large"
    for w in (f"{MAX_BODY_BYTES:,} bytes", "smaller input", *words):
        assert w in item["msg"], item["msg"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'self'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_body_over_the_limit_is_413_with_a_content_length(client, path):
    r = client.post(path, content=_padded(path, MAX_BODY_BYTES + 1), headers=JSON)
    assert r.request.headers["content-length"] == str(MAX_BODY_BYTES + 1)
    assert_refused_as_too_large(r, f"{MAX_BODY_BYTES + 1:,} bytes")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_body_over_the_limit_is_413_when_sent_chunked(client, path):
    r = client.post(path, content=_chunks(_padded(path, MAX_BODY_BYTES + 1)), headers=JSON)
    assert "content-length" not in r.request.headers and r.request.headers["transfer-encoding"] == "chunked"
    assert_refused_as_too_large(r)


def test_a_page_sent_a_huge_body_is_413_with_headers(client):
    """Outside the API too: the refusal comes before any route, with the headers every answer has."""
    r = client.request("GET", "/explore", content=b"x" * (MAX_BODY_BYTES + 1))
    assert_refused_as_too_large(r)
    assert r.headers["x-frame-options"] == "SAMEORIGIN"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_body_at_the_limit_is_read_also_chunked(client, path):
    key, value = EXPECTED[path]
    for content in (_padded(path, MAX_BODY_BYTES), _chunks(_padded(path, MAX_BODY_BYTES))):
        r = client.post(path, content=content, headers=JSON)
        assert r.status_code == 200, r.text[:300]
        assert r.json()[key] == value


# ------------------------------------------------------------------ 422: over each limit, naming it

def _forward(layer: dict, shape: tuple, framework: str = "torch") -> dict:
    return {"framework": framework, "layer": layer, "input": np.zeros(shape, dtype=np.float32).tolist()}


def _conv1d(cin: int, cout: int, k: int = 1, **kw) -> dict:
    return {"type": "Conv1d", "in_channels": cin, "out_channels": cout, "kernel_size": k, **kw}


def test_forward_input_limit(client):
    assert client.post("/api/forward", json=_forward({"type": "ReLU"}, (1, MAX_INPUT_ELEMENTS))).status_code == 200
    r = client.post("/api/forward", json=_forward({"type": "ReLU"}, (1, MAX_INPUT_ELEMENTS + 1)))
    assert_refusal(r, f"{MAX_INPUT_ELEMENTS + 1:,}", f"{MAX_INPUT_ELEMENTS:,}")
    assert r.json()["detail"][0]["loc"] == ["body", "input"]


def test_forward_output_limit(client):
    # a stride-4 transposed conv with kernel 1 writes 4·(n − 1) + 1 values from n
    n = (MAX_OUTPUT_ELEMENTS - 1) // 4 + 1
    layer = {"type": "ConvTranspose1d", "in_channels": 1, "out_channels": 1, "kernel_size": 1, "stride": 4}
    assert client.post("/api/forward", json=_forward(layer, (1, 1, n))).status_code == 200
    r = client.post("/api/forward", json=_forward(layer, (1, 1, n + 1)))
    assert_refusal(r, f"{4 * n + 1:,}", f"{MAX_OUTPUT_ELEMENTS:,}")


def test_forward_work_limit(client):
    cin, length = 250, 1000  # MAX_INPUT_ELEMENTS values; work = cout · cin · length
    at = _forward(_conv1d(cin, MAX_WORK // (cin * length)), (1, cin, length))
    assert client.post("/api/forward", json=at).status_code == 200
    over = _forward(_conv1d(cin, MAX_WORK // (cin * length) + 1), (1, cin, length))  # output still allowed
    assert_refusal(client.post("/api/forward", json=over), "multiply-adds", f"{MAX_WORK:,}")


def test_forward_nesting_limit(client):
    deep = 1.0
    for _ in range(9):
        deep = [deep]
    assert_refusal(client.post("/api/forward", json={"framework": "torch", "layer": {"type": "ReLU"}, "input": deep}),
                   "8 levels")


@pytest.mark.parametrize("path, body", [
    ("/api/cost", {"framework": "torch", "layer": _conv1d(1, 1, MAX_INT + 1), "input_shape": [1, 1, MAX_INT]}),
    ("/api/cost", {"framework": "torch", "layer": _conv1d(1, MAX_INT + 1), "input_shape": [1, 1, 8]}),
    ("/api/forward", {"framework": "torch", "layer": _conv1d(1, MAX_INT + 1), "input": [[[1.0]]]}),
    ("/api/trace", {"framework": "torch", "input_shape": [1, 1, 8], "layers": [_conv1d(1, 1, 1, stride=MAX_INT + 1)]}),
], ids=["cost kernel_size", "cost out_channels", "forward out_channels", "trace stride"])
def test_layer_keyword_over_max_int_names_the_limit(client, path, body):
    r = client.post(path, json=body)
    if path == "/api/trace" and r.status_code == 200:  # a layer list that does not trace is an answer (docs/API.md)
        assert r.json()["ok"] is False
        text = r.json()["error"]["message"]
    else:
        text = assert_refusal(r)
    assert f"{MAX_INT:,}" in text or str(MAX_INT) in text or "2^20" in text or "2**20" in text, text


@pytest.mark.parametrize("path", ["/api/cost", "/api/trace"])
def test_input_shape_limits(client, path):
    shape = NORMAL[path]["input_shape"]
    assert_refusal(client.post(path, json={**NORMAL[path], "input_shape": [*shape[:-1], MAX_INT + 1]}),
                   f"{MAX_INT:,}")
    assert_refusal(client.post(path, json={**NORMAL[path], "input_shape": [1] * 9}), "8")
    at = client.post(path, json={**NORMAL[path], "input_shape": [*shape[:-1], MAX_INT]})
    assert at.status_code == 200, at.text[:300]


def test_trace_code_length_limit(client):
    at = client.post("/api/trace", json={"framework": "keras", "code": (KERAS + "#" * MAX_CHARS)[:MAX_CHARS]})
    assert at.status_code == 200 and at.json()["ok"], at.text[:300]
    r = client.post("/api/trace", json={"framework": "keras", "code": (KERAS + "#" * MAX_CHARS)[:MAX_CHARS + 1]})
    msg = assert_refusal(r)
    assert str(MAX_CHARS) in msg or f"{MAX_CHARS:,}" in msg, msg


def test_trace_code_node_limit(client):
    code = "x = [" + "a+a," * ((MAX_CHARS - 10) // 4) + "]\n"  # 6 syntax nodes in 4 characters
    assert len(code) <= MAX_CHARS
    assert_refusal(client.post("/api/trace", json={"framework": "keras", "code": code}), f"{MAX_NODES:,}")


def test_trace_code_number_and_tuple_limits(client):
    big = f"model = keras.Sequential([layers.Conv1D({MAX_NUMBER + 1}, 3, input_shape=(10, 2))])\n"
    assert_refusal(client.post("/api/trace", json={"framework": "keras", "code": big}), "2^31")
    long = f"model = keras.Sequential([layers.Conv1D(4, 3, input_shape=({', '.join(['2'] * (MAX_ITEMS + 1))}))])\n"
    assert_refusal(client.post("/api/trace", json={"framework": "keras", "code": long}), f"at most {MAX_ITEMS}")


def test_trace_list_limits(client):
    layers = [{"type": "ReLU"}] * 501
    assert_refusal(client.post("/api/trace", json={"framework": "torch", "input_shape": [1, 3], "layers": layers}),
                   "500")
    many = {f"v{i}": 1 for i in range(51)}
    assert_refusal(client.post("/api/trace", json={"framework": "keras", "code": KERAS, "variables": many}), "50")


# ------------------------------------------------------------------ malformed bodies: 422, never 500

def _deep(n: int, open_: str = "[", close: str = "]") -> str:
    return open_ * n + close * n


MALFORMED = {
    "nested arrays 100k deep": f'{{"framework": "torch", "layer": {{"type": "ReLU"}}, "input": {_deep(100_000)}}}',
    "nested objects 100k deep": '{"a": ' * 100_000 + "1" + "}" * 100_000,
    "nested arrays 100k deep (input_shape)": f'{{"framework": "torch", "input_shape": {_deep(100_000)}}}',
    "nested in layer 10k deep": (f'{{"framework": "torch", "layer": {{"type": "ReLU", "x": {_deep(10_000)}}}, '
                                 f'"input": [[1]], "input_shape": [1, 1], '
                                 f'"layers": [{{"type": "ReLU", "y": {_deep(10_000)}}}]}}'),
    "a 5000-digit integer": f'{{"framework": "torch", "seed": {"9" * 5000}, "input_shape": [{"9" * 5000}]}}',
    "a 4000-digit integer": (f'{{"framework": "torch", "layer": {{"type": "Conv1d", "in_channels": {"9" * 4000}}}, '
                             f'"input": [[1]], "seed": {"9" * 4000}, "input_shape": [1, {"9" * 4000}]}}'),
    "1e400": '{"framework": "torch", "layer": {"type": "ReLU"}, "input": [[1e400]], "input_shape": [1e400], '
             '"seed": 1e400, "dtype_bytes": 1e400, "variables": {"a": 1e400}, "code": "x = 1"}',
    "2**64 seed": '{"framework": "torch", "layer": {"type": "ReLU"}, "input": [[1]], "seed": 18446744073709551616}',
    "zero and negative sizes": '{"framework": "torch", "layer": {"type": "ReLU"}, "input_shape": [-0, 0, -1]}',
    "float32 overflow": '{"framework": "torch", "layer": {"type": "ReLU"}, "input": [[3.5e38]]}',
    "empty": "",
    "not JSON": "framework=torch",
    "truncated": '{"framework": "torch", "layer": {"type": ',
    "a JSON array": "[1, 2, 3]",
    "a JSON string": '"torch"',
    "null": "null",
    "invalid UTF-8": b'{"framework": "\xff\xfe", "code": "\xc3\x28"}',
    "a lone surrogate": '{"framework": "keras", "code": "x = \'\\ud800\'", "layer": {"type": "\\ud800"}, '
                        '"input": [[1]], "input_shape": [1, 2]}',
    "a NUL in code": '{"framework": "keras", "code": "x = 1\\u0000"}',
    "wrong types": json.dumps({"framework": 1, "layer": "Conv1d", "input": {"a": 1}, "input_shape": "1,2",
                               "code": 3, "layers": {}, "variables": [], "seed": "x", "weights": 3,
                               "dtype_bytes": "4"}),
    "wrong types inside": json.dumps({"framework": "torch", "layer": {"type": ["Conv1d"], "kernel_size": {}},
                                      "input": [["a", None]], "input_shape": [True, None, "3"],
                                      "layers": [[1], None], "weights": [{"a": 1}], "variables": {"a": "b"}}),
    "ragged input": json.dumps({"framework": "torch", "layer": {"type": "ReLU"}, "input": [[1, 2], [3]]}),
}
NAN_FIELDS = {  # NaN, Infinity and -Infinity (Python's json reads them) in each numeric field
    "/api/forward": ['"input": [[{x}]]', '"weights": [[[[{x}]]]]', '"seed": {x}',
                     '"layer": {{"type": "LeakyReLU", "negative_slope": {x}}}',
                     '"layer": {{"type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": {x}}}'],
    "/api/trace": ['"input_shape": [1, {x}]', '"variables": {{"a": {x}}}',
                   '"layers": [{{"type": "Conv1d", "in_channels": 3, "out_channels": {x}, "kernel_size": 3}}]'],
    "/api/cost": ['"input_shape": [1, 3, {x}, 8]', '"dtype_bytes": {x}',
                  '"layer": {{"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": {x}}}'],
}


def _with(path: str, fragment: str) -> str:
    """NORMAL[path] with one field replaced by a raw JSON fragment."""
    key = fragment.split(":")[0].strip().strip('"')
    rest = {k: v for k, v in NORMAL[path].items() if k != key}
    if key in ("variables", "code"):
        rest = {"framework": "keras", "code": "model = keras.Sequential([layers.Conv1D(a, 3, input_shape=(10, 2))])"}
    return "{" + ", ".join([*(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in rest.items()), fragment]) + "}"


NAN_CASES = [pytest.param(path, _with(path, f.format(x=x)), id=f"{path} {f.split(':')[0]} {x}")
             for path, fragments in NAN_FIELDS.items() for f in fragments for x in ("NaN", "Infinity", "-Infinity")]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_bodies_are_422(client, path, name):
    body = MALFORMED[name]
    r = client.post(path, content=body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass"),
                    headers=JSON)
    assert_refusal(r)


@pytest.mark.parametrize("path, body", NAN_CASES)
def test_nan_and_infinity_are_refused(client, path, body):
    r = client.post(path, content=body, headers=JSON)
    if path == "/api/trace" and ('"variables"' in body or '"layers"' in body):
        # a value in a layer is the trace's answer (docs/API.md): ok false, the error naming the layer and the value
        assert r.status_code in (200, 422), r.text[:300]
        if r.status_code == 200:
            error = r.json()["error"]
            assert r.json()["ok"] is False and error["index"] == 0, r.text[:300]
            assert any(w in error["message"] for w in ("nan", "inf", "a ")), error
        return
    assert_refusal(r)


@pytest.mark.parametrize("field, value", [("input", [["1", "2"]]), ("input", [[" 3 ", "1e3"]]),
                                          ("input", [[True, False]]), ("weights", [[[["2"]]], ["0"]]),
                                          ("weights", [[[[True]]], [False]])],
                         ids=["input strings", "input padded strings", "input booleans", "weight strings",
                              "weight booleans"])
def test_numbers_are_json_numbers(client, field, value):
    if field == "input":
        body = {"framework": "torch", "layer": {"type": "ReLU"}, "input": value}
    else:
        body = {"framework": "torch", "layer": _conv1d(1, 1), "input": [[[1.0]]], "weights": value}
    assert_refusal(client.post("/api/forward", json=body), field)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_body_that_is_not_declared_json_is_still_refused_in_shape(client, path):
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"content-type": ctype} if ctype else {}
        r = client.post(path, content=b"framework=torch&layer=ReLU", headers=headers)
        assert_refusal(r)


# ------------------------------------------------------------------ a real server keeps answering

def _normal_requests_answer(url: str) -> None:
    host, port = urlsplit(url).hostname, urlsplit(url).port
    for path, body in NORMAL.items():
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            conn.request("POST", path, body=json.dumps(body), headers=JSON)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        assert r.status == 200, (path, r.status, data[:300])
        key, value = EXPECTED[path]
        assert json.loads(data)[key] == value
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", "/explore?kernel_size=3", headers={"HX-Request": "true"})
    r = conn.getresponse()
    assert r.status == 200 and b"data-output-shape" in r.read()
    conn.close()


def _exchange(url: str, head: bytes, body=(), *, read: bool = True) -> int | None:
    """Send raw bytes (a request head, then body parts) and read the status of the answer, if any."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as s:
        try:
            s.sendall(head)
            for part in body:
                s.sendall(part)
        except (BrokenPipeError, ConnectionResetError):  # the server may answer and close before the end
            pass
        if not read:
            return None
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data.split(b" ", 2)[1])


def _head(path: str, *headers: str, method: str = "POST") -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n" + "".join(h + "\r\n" for h in headers) +
            "\r\n").encode()


def _post(path: str, body: bytes) -> tuple[bytes, list[bytes]]:
    return _head(path, "Content-Type: application/json", f"Content-Length: {len(body)}"), [body]


def _http_chunks(data: bytes, size: int = 64 * 1024):
    for part in _chunks(data, size):
        yield b"%x\r\n" % len(part) + part + b"\r\n"
    yield b"0\r\n\r\n"


def _big(path: str) -> bytes:
    return _padded(path, MAX_BODY_BYTES + 1)


LIVE = {
    "chunked flood over the limit": lambda url: _exchange(
        url, _head("/api/forward", "Content-Type: application/json", "Transfer-Encoding: chunked"),
        _http_chunks(_big("/api/forward"))) == 413,
    "chunked over the limit, /api/trace": lambda url: _exchange(
        url, _head("/api/trace", "Content-Type: application/json", "Transfer-Encoding: chunked"),
        _http_chunks(_big("/api/trace"))) == 413,
    "chunked over the limit, /api/cost": lambda url: _exchange(
        url, _head("/api/cost", "Content-Type: application/json", "Transfer-Encoding: chunked"),
        _http_chunks(_big("/api/cost"))) == 413,
    "Content-Length over the limit, body sent": lambda url: _exchange(
        url, _head("/api/forward", "Content-Type: application/json", f"Content-Length: {MAX_BODY_BYTES + 1}"),
        [_big("/api/forward")]) == 413,
    "Content-Length of 1 GB, no body sent": lambda url: _exchange(
        url, _head("/api/forward", "Content-Type: application/json", "Content-Length: 1000000000")) == 413,
    "hangs up mid-body": lambda url: _exchange(
        url, _head("/api/forward", "Content-Type: application/json", "Content-Length: 100000"),
        [b'{"framework": "torch", "input": [[1, 2'], read=False) is None,
    "hangs up mid-chunk": lambda url: _exchange(
        url, _head("/api/trace", "Content-Type: application/json", "Transfer-Encoding: chunked"),
        [b"ffff\r\n" + b"{" * 1000], read=False) is None,
    "not HTTP": lambda url: _exchange(url, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n") == 400,
    "a bad chunk size": lambda url: _exchange(
        url, _head("/api/forward", "Transfer-Encoding: chunked"), [b"zz\r\nabc\r\n0\r\n\r\n"]) in (400, 422),
    "both Content-Length and chunked": lambda url: _exchange(
        url, _head("/api/forward", "Content-Length: 5", "Transfer-Encoding: chunked"),
        [b"5\r\nhello\r\n0\r\n\r\n"]) in (400, 422),
    "a 64 KB header": lambda url: _exchange(url, _head("/health", "X-Big: " + "a" * 65536, method="GET")) in
    (200, 400, 413, 431),
    "a 64 KB query on a view": lambda url: _exchange(url, _head("/explore?code=" + "a" * 65536, method="GET")) in
    (200, 400, 414, 422, 431),
    "nested arrays 100k deep": lambda url: _exchange(
        url, *_post("/api/forward", MALFORMED["nested arrays 100k deep"].encode())) == 422,
    "a 5000-digit integer": lambda url: _exchange(
        url, *_post("/api/cost", MALFORMED["a 5000-digit integer"].encode())) == 422,
    "NaN and Infinity": lambda url: _exchange(
        url, *_post("/api/forward", b'{"framework": "torch", "layer": {"type": "ReLU"}, "input": [[NaN, -Infinity]]}'))
    == 422,
    "work over the limit": lambda url: _exchange(
        url, _head("/api/forward", "Content-Type: application/json", "Transfer-Encoding: chunked"),
        _http_chunks(json.dumps(_forward(_conv1d(250, 201), (1, 250, 1000))).encode())) == 422,
    "code over the node limit": lambda url: _exchange(
        url, _head("/api/trace", "Content-Type: application/json", "Transfer-Encoding: chunked"),
        _http_chunks(json.dumps({"framework": "keras", "code": "x = [" + "a+a," * 4990 + "]"}).encode())) == 422,
}


@pytest.mark.parametrize("name", list(LIVE))
def test_a_real_server_keeps_answering_after_a_hostile_request(live_server, name):
    _normal_requests_answer(live_server)
    assert LIVE[name](live_server), name
    _normal_requests_answer(live_server)
