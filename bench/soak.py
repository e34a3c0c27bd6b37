"""Soak: 5 minutes at 64 connections on one worker — zero errors, memory (RSS) flat within 10%.

The load cycles through many distinct /explore states (so the response cache fills and evicts, as
in a real class), with wrk; RSS of the server process is sampled every 5 s. The first minute is
warm-up; "flat" compares the last minute's median RSS with the second minute's.

    .venv/bin/python bench/soak.py [--seconds 300]
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.server import uvicorn  # noqa: E402

LUA = """
counter = 0
request = function()
  counter = counter + 1
  local size = 4 + counter % 9
  local k = 1 + counter % 4
  local path = "/explore?type=Conv2d&input_shape=1,2," .. size .. "," .. size .. "&kernel_size=" .. k .. "," .. k
            .. "&seed=" .. (counter % 500)
  return wrk.format("GET", path, {["HX-Request"] = "true"})
end
"""


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=300)
    args = ap.parse_args()
    with uvicorn() as (url, proc), tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(LUA)
        lua.flush()
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample():
            start = time.monotonic()
            while not done.wait(5):
                samples.append((time.monotonic() - start, rss_mb(proc.pid)))
        threading.Thread(target=sample, daemon=True).start()
        out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{args.seconds}s", "--latency", "-s",
                              lua.name, url], capture_output=True, text=True, timeout=args.seconds + 60).stdout
        done.set()
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    socket = m.group(1) if (m := re.search(r"Socket errors: (.*)", out)) else "none"
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    early = statistics.median([r for t, r in samples if 60 <= t < 120] or [samples[0][1]])
    late = statistics.median([r for t, r in samples if t >= args.seconds - 60] or [samples[-1][1]])
    growth = late / early - 1
    met = errors == 0 and socket == "none" and abs(growth) <= 0.10
    print(f"{args.seconds} s at 64 connections: {requests:,} requests, {errors} non-2xx, socket errors: {socket}; "
          f"RSS {early:.0f} MB (minute 2) → {late:.0f} MB (last minute), {growth:+.1%} (target ±10%): "
          f"{'met' if met else 'NOT met'}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
