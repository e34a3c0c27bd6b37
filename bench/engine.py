"""Engine vs PyTorch CPU, side by side in one run (the machine is shared and noisy: trust ratios).

Each round times every case once, round-robin; a case's time is the median over rounds, and its
ratio is the median of the per-round ratios. Both sides get the same threads (default one: a worker per core), and
the timed call includes moving numpy arrays in and out, as the app does.

    make bench                # or: .venv-bench/bin/python bench/engine.py [--write-readme]
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

THREADS = next((a.split("=")[1] for a in sys.argv if a.startswith("--threads=")), "1")
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = THREADS  # before numpy loads BLAS
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app.core.forward import random_weights, run_layer  # noqa: E402
from app.core.frameworks import build_layer  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(int(THREADS))
except ImportError:  # the engine's times alone; the ratios need torch
    torch = None

# name, torch layer spec, input shape, size class
CASES = [
    ("small 2D (1,3,8,8)→4 k3", {"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": 1}, (1, 3, 8, 8), "small"),
    ("1×1 (1,100,10)→64", {"type": "Conv1d", "in_channels": 100, "out_channels": 64, "kernel_size": 1}, (1, 100, 10), "small"),
    ("1D (1,300,50)→100 k4", {"type": "Conv1d", "in_channels": 300, "out_channels": 100, "kernel_size": 4}, (1, 300, 50), "medium"),
    ("medium 2D (1,16,64,64)→32 k3", {"type": "Conv2d", "in_channels": 16, "out_channels": 32, "kernel_size": 3, "padding": 1}, (1, 16, 64, 64), "medium"),
    ("depthwise (1,32,64,64) k3 g32", {"type": "Conv2d", "in_channels": 32, "out_channels": 32, "kernel_size": 3, "padding": 1, "groups": 32}, (1, 32, 64, 64), "medium"),
    ("large 2D (1,64,112,112)→64 k3", {"type": "Conv2d", "in_channels": 64, "out_channels": 64, "kernel_size": 3, "padding": 1}, (1, 64, 112, 112), "large"),
]
TARGET = {"small": "< 100 µs", "medium": "≤ 1.5× torch", "large": "≤ 1.5× torch"}


def met(row: dict) -> bool | None:
    """The row's target: under 100 µs for the small sizes, within 1.5× PyTorch for the others."""
    if row["size"] == "small":
        return row["ours"] < 100e-6
    return None if row["ratio"] is None else row["ratio"] <= 1.5


def autorange(fn, min_time=0.05) -> tuple[int, float]:
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt >= min_time:
            return n, dt / n
        n *= 2


def make_calls(spec, shape):
    layer = build_layer("torch", spec, shape)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    w = random_weights(layer, 0)
    ours = lambda: run_layer(layer, x, w)  # noqa: E731
    theirs = None
    if torch is not None:
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(shape) - 2]
        tw, tb = torch.from_numpy(w[0]), torch.from_numpy(w[1])
        kw = {k: spec[k] for k in ("padding", "groups") if k in spec}

        def theirs():
            with torch.no_grad():
                return conv(torch.from_numpy(x), tw, tb, **kw).numpy()
        np.testing.assert_allclose(ours(), theirs(), rtol=1e-4, atol=1e-4)  # same numbers first
    return ours, theirs


def run(rounds: int) -> list[dict]:
    calls = [(name, *make_calls(spec, shape), size) for name, spec, shape, size in CASES]
    reps = {name: (autorange(o)[0], autorange(t)[0] if t else 0) for name, o, t, _ in calls}
    times = {name: ([], []) for name, *_ in calls}
    for _ in range(rounds):
        for name, ours, theirs, _ in calls:
            n_o, n_t = reps[name]
            for fn, n, out in ((ours, n_o, times[name][0]), (theirs, n_t, times[name][1])):
                if fn is None:
                    continue
                t = time.perf_counter()
                for _ in range(n):
                    fn()
                out.append((time.perf_counter() - t) / n)
    rows = []
    for name, _, _theirs, size in calls:
        o, t = times[name]
        ratio = statistics.median(a / b for a, b in zip(o, t)) if t else None
        rows.append({"case": name, "size": size, "ours": statistics.median(o),
                     "torch": statistics.median(t) if t else None, "ratio": ratio})
    return rows


def fmt_time(s: float | None) -> str:
    if s is None:
        return "–"
    return f"{s * 1e6:.0f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def table(rows: list[dict]) -> str:
    lines = ["| case | engine | PyTorch CPU | engine / torch | target | met |", "|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] else "–"
        ok = {True: "yes", False: "**no**", None: "–"}[met(r)]
        lines.append(f"| {r['case']} | {fmt_time(r['ours'])} | {fmt_time(r['torch'])} | {ratio} | {TARGET[r['size']]} | {ok} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = ROOT / "README.md"
    body = readme.read_text()
    new = re.sub(r"(<!-- bench:engine -->\n).*?(<!-- /bench:engine -->)", lambda m: m.group(1) + text + "\n" + m.group(2),
                 body, flags=re.S)
    readme.write_text(new)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", default="1", help="BLAS/OpenMP threads for both sides (read before numpy loads)")
    ap.add_argument("--write-readme", action="store_true", help="put the table in README.md")
    args = ap.parse_args()
    rows = run(args.rounds)
    versions = f"numpy {np.__version__}" + (f", torch {torch.__version__}" if torch else ", torch not installed")
    text = (f"{table(rows)}\n\n{THREADS} thread(s) each, float32, median of {args.rounds} interleaved rounds ({versions}; "
            f"{time.strftime('%Y-%m-%d')}).")
    print(text)
    if args.write_readme:
        write_readme(text)
    if any(met(r) is False for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
