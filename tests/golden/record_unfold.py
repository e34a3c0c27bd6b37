"""Record real ``torch.nn.functional.unfold`` outputs (what ``nn.Unfold`` gives) for /im2col's test.

Run from the repository root, in an environment that has torch:

    python tests/golden/record_unfold.py

It writes ``unfold.json`` next to this file: ``{"meta": {...}, "cases": [...]}``, each case one
sample's input (C, H, W) as small integers, the unfold settings (kernel_size, stride, padding,
dilation) and torch's answer (``shape`` and ``patches``, (C·kh·kw, L) for batch item 0). Inputs are
small integers, so the patches are exact. Deterministic: two runs write identical files. CI never
needs torch: tests/core/test_im2col.py reads the file.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

CASES = [  # (channels, height, width, kernel, stride, padding, dilation)
    (1, 4, 4, (2, 2), (1, 1), (0, 0), (1, 1)),
    (2, 5, 6, (3, 3), (1, 1), (1, 1), (1, 1)),
    (3, 6, 5, (2, 3), (2, 1), (0, 1), (1, 1)),
    (2, 7, 7, (3, 2), (2, 2), (1, 0), (2, 1)),
    (1, 6, 8, (1, 3), (1, 2), (0, 2), (1, 2)),
    (4, 3, 3, (3, 3), (1, 1), (0, 0), (1, 1)),
]


def main() -> None:
    rng = np.random.default_rng(0)
    cases = []
    for i, (c, h, w, k, s, p, d) in enumerate(CASES):
        x = rng.integers(-9, 10, size=(1, c, h, w)).astype(np.float32)
        patches = F.unfold(torch.from_numpy(x), kernel_size=k, stride=s, padding=p, dilation=d)[0].numpy()
        cases.append({"id": f"unfold-{i}", "input": x[0].astype(int).tolist(), "kernel_size": list(k),
                      "stride": list(s), "padding": list(p), "dilation": list(d),
                      "shape": list(patches.shape), "patches": patches.astype(int).tolist()})
    out = {"meta": {"torch": torch.__version__, "function": "torch.nn.functional.unfold"}, "cases": cases}
    path = pathlib.Path(__file__).with_name("unfold.json")
    path.write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
