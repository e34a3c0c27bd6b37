"""The largest requests Convscope allows, and requests just over each limit, against a real uvicorn.

Run it by hand (it also runs from bench/run.sh):

    .venv/bin/python bench/hostile.py            # 7 tries per request (median), the table below
    .venv/bin/python bench/hostile.py --tries 3  # quicker

It starts ``uvicorn app.main:app`` on a free port (one worker, one BLAS/OpenMP thread, no access
log, as the Procfile runs it), times each request from opening the connection to the last byte of
the answer (median of --tries, after one untimed warm-up), stops the server, and prints

    request | ms | target | met

Targets: the largest allowed request of each endpoint answers in < 300 ms; a request just over a
limit is refused in < 50 ms (the limits are checked before any work). The exit code is 1 when a
target is missed.

What "largest allowed" means here:
- /api/forward: a Conv1d(250 → 200, k=1) on a (1, 250, 1000) input: MAX_INPUT_ELEMENTS values in,
  exactly MAX_WORK multiply-adds, 200,000 values out (every limit reached at once);
- /api/trace: pasted code of exactly MAX_CHARS characters (a model.add chain of ~420 Conv2D, the
  slowest form found), and 500 layer specs (the list's cap);
- /api/cost: a Conv3d at 2^20 on every axis and keyword (nothing is computed);
- /explore: the page that draws the most cells: Conv3d, 8 input channels (all drawn), kernel 7,
  dilation 4, padding 'same' on 8×8×8 (each drawn channel padded to 32×32×32);
- /trace: the same MAX_CHARS code with x / y shapes to check; /cost: every control at its maximum.
Views are fetched as a browser would (Accept-Encoding: gzip), each try with a fresh seed or an
ignored parameter, so none is answered from the server's response cache.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.code import MAX_CHARS, MAX_NODES  # noqa: E402 (after the path is set)
from app.core.frameworks.common import MAX_INT  # noqa: E402
from app.core.limits import MAX_BODY_BYTES, MAX_INPUT_ELEMENTS, MAX_OUTPUT_ELEMENTS, MAX_WORK  # noqa: E402

ALLOWED_MS, REFUSED_MS = 300, 50


# ------------------------------------------------------------------ the requests

def _tenths(n: int) -> list:
    """n small numbers as people paste them (tenths), deterministic."""
    return [round(((i * 7919) % 21 - 10) / 10, 1) for i in range(n)]


def _nested(flat: list, shape: tuple) -> list:
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0]
    return [_nested(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _forward(cout: int, shape: tuple, layer: dict | None = None) -> bytes:
    n = 1
    for s in shape:
        n *= s
    layer = layer or {"type": "Conv1d", "in_channels": shape[1], "out_channels": cout, "kernel_size": 1}
    return json.dumps({"framework": "torch", "layer": layer, "input": _nested(_tenths(n), shape)}).encode()


def _code(length: int = MAX_CHARS) -> str:
    """A Keras model.add chain of exactly `length` characters."""
    head = "model = keras.Sequential()\nmodel.add(layers.Input(shape=(28, 28, 8)))\n"
    line = "model.add(layers.Conv2D(8, 3, padding='same'))\n"
    code = head + line * ((length - len(head)) // len(line))
    return code + "#" * (length - len(code))


def _json(obj) -> bytes:
    return json.dumps(obj).encode()


def requests() -> list[tuple[str, str, str, object, int, int | None]]:
    """(label, method, path, body, target ms, expected status)."""
    cin, length = 250, MAX_INPUT_ELEMENTS // 250
    assert MAX_WORK // (cin * length) * cin * length == MAX_WORK and MAX_WORK // (cin * length) * length <= MAX_OUTPUT_ELEMENTS
    big_forward = _forward(MAX_WORK // (cin * length), (1, cin, length))
    code = _code()
    layers500 = [{"type": "Conv1d", "in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1}] * 500
    # the largest page the explorer draws: 8 of 24 channels of 32×32 padded cells, 64 filters of 5×5
    explore = ("/explore?framework=torch&type=Conv2d&in_channels=24&out_channels=64&kernel_size=5,5&padding=2"
               "&input_shape=1,24,28,28")
    cost = ("/cost?framework=torch&type=Conv2d&in_channels=8192&out_channels=8192&kernel_size=15&stride=1"
            "&padding=same&input_shape=4096,8192,8192,8192&peak_gflops=10000000&bandwidth_gbs=1000000")
    over_work = ("/explore?framework=torch&type=Conv2d&in_channels=512&out_channels=128&kernel_size=7&padding=3"
                 "&input_shape=8,512,28,28")
    trace = "/trace?" + urlencode({"code": code, "x_shape": "60000,28,28,8", "y_shape": "60000,28,28,8"})
    over_body = b'{"framework": "torch", "layer": {"type": "ReLU"}, "input": [[1]]}'.ljust(MAX_BODY_BYTES + 1)
    nodes = "x = [" + "a+a," * ((MAX_CHARS - 10) // 4) + "]\n"  # > MAX_NODES syntax nodes, < MAX_CHARS characters
    n_out = (MAX_OUTPUT_ELEMENTS - 1) // 4 + 2  # a stride-4 transposed conv writes 4(n − 1) + 1 > the limit
    deep = 1.0
    for _ in range(9):
        deep = [deep]
    A, R = ALLOWED_MS, REFUSED_MS
    return [
        ("largest POST /api/forward (250k values in, 50M MACs)", "POST", "/api/forward", big_forward, A, 200),
        (f"largest POST /api/trace (code of {MAX_CHARS:,} chars)", "POST", "/api/trace",
         _json({"framework": "keras", "code": code}), A, 200),
        ("largest POST /api/trace (500 layer specs)", "POST", "/api/trace",
         _json({"framework": "torch", "input_shape": [1, 8, 1000], "layers": layers500}), A, 200),
        ("largest POST /api/cost (2^20 everywhere)", "POST", "/api/cost",
         _json({"framework": "torch", "layer": {"type": "Conv3d", "in_channels": MAX_INT, "out_channels": MAX_INT,
                                                "kernel_size": 1}, "input_shape": [MAX_INT] * 5}), A, 200),
        ("largest GET /explore (Conv2d 24→64 k5 on 28×28)", "GET", explore, None, A, 200),
        (f"largest GET /trace (code of {MAX_CHARS:,} chars, x/y check)", "GET", trace, None, A, 200),
        ("largest GET /cost (every control at its maximum)", "GET", cost, None, A, 200),
        # just over each limit
        ("/api/forward body over MAX_BODY_BYTES (Content-Length)", "POST", "/api/forward", over_body, R, 413),
        ("/api/forward body over MAX_BODY_BYTES (chunked)", "POST", "/api/forward", ("chunked", over_body), R, 413),
        ("/api/forward input over MAX_INPUT_ELEMENTS", "POST", "/api/forward",
         _forward(1, (1, MAX_INPUT_ELEMENTS + 1), {"type": "ReLU"}), R, 422),
        ("/api/forward output over MAX_OUTPUT_ELEMENTS", "POST", "/api/forward",
         _forward(1, (1, 1, n_out), {"type": "ConvTranspose1d", "in_channels": 1, "out_channels": 1, "kernel_size": 1,
                                     "stride": 4}), R, 422),
        ("/api/forward work over MAX_WORK (250k values in)", "POST", "/api/forward",
         _forward(MAX_WORK // (cin * length) + 1, (1, cin, length)), R, 422),
        ("/api/forward nesting over 8 levels", "POST", "/api/forward",
         _json({"framework": "torch", "layer": {"type": "ReLU"}, "input": deep}), R, 422),
        ("/api/trace code over MAX_CHARS", "POST", "/api/trace",
         _json({"framework": "keras", "code": _code(MAX_CHARS + 1)}), R, 422),
        (f"/api/trace code over MAX_NODES ({MAX_NODES:,})", "POST", "/api/trace",
         _json({"framework": "keras", "code": nodes}), R, 422),
        ("/api/trace 501 layer specs", "POST", "/api/trace",
         _json({"framework": "torch", "input_shape": [1, 8, 1000], "layers": layers500 + layers500[:1]}), R, 422),
        ("/api/cost input axis over 2^20", "POST", "/api/cost",
         _json({"framework": "torch", "layer": {"type": "Conv1d", "in_channels": 1, "out_channels": 1,
                                                "kernel_size": 1}, "input_shape": [1, 1, MAX_INT + 1]}), R, 422),
        ("GET /explore over MAX_WORK (an error, no drawing)", "GET", over_work, None, R, 200),
        ("GET /trace code over MAX_CHARS", "GET", "/trace?" + urlencode({"code": _code(MAX_CHARS + 1)}), None, R, 200),
        ("GET /cost over the controls' maxima", "GET", cost.replace("input_shape=4096", "input_shape=4097"), None, R,
         422),
    ]


# ------------------------------------------------------------------ the server and the client

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server() -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port",
                             str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"],
                            cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("uvicorn did not start") from None
            time.sleep(0.1)


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _with_try(path: str, n: int) -> str:
    """A URL the response cache has not seen: a fresh seed for /explore, an ignored parameter elsewhere."""
    return f"{path}&{'seed' if path.startswith('/explore') else 'try'}={n + 1}"


def timed(port: int, method: str, path: str, body, n: int) -> tuple[float, int, int]:
    """(ms, status, bytes) for one request on a fresh connection."""
    headers = {"Accept-Encoding": "gzip"}
    if method == "GET":
        path = _with_try(path, n)
    chunked = isinstance(body, tuple)
    if chunked:
        data = body[1]
        body = (data[i:i + 65536] for i in range(0, len(data), 65536))
    if body is not None:
        headers["Content-Type"] = "application/json"
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        try:
            conn.request(method, path, body=body, headers=headers, encode_chunked=chunked)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered (413) and closed before the whole body was sent: read the answer
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return (time.perf_counter() - start) * 1000, response.status, len(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tries", type=int, default=7, help="timed tries per request (median); default 7")
    args = parser.parse_args()
    cases = requests()
    proc, port = start_server()
    rows, failed = [], False
    try:
        for label, method, path, body, target, status in cases:
            timed(port, method, path, body, -1)  # warm-up (imports, first compile of a template)
            times = []
            for n in range(args.tries):
                ms, got, size = timed(port, method, path, body, n)
                if status is not None and got != status:
                    raise SystemExit(f"{label}: expected HTTP {status}, got {got}")
                times.append(ms)
            median = statistics.median(times)
            met = median < target
            failed |= not met
            rows.append((label, median, target, met, size))
    finally:
        stop_server(proc)
    width = max(len(r[0]) for r in rows)
    print(f"| {'request'.ljust(width)} | {'ms':>7} | target   | met |")
    print(f"|{'-' * (width + 2)}|{'-' * 9}|----------|-----|")
    for label, median, target, met, _size in rows:
        print(f"| {label.ljust(width)} | {median:7.1f} | < {target:>3} ms | {'yes' if met else 'NO':<3} |")
    print(f"\nmedian of {args.tries} tries each, one uvicorn worker, 1 BLAS thread; "
          f"{sum(not r[3] for r in rows)} target(s) missed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
