"""Record what PyTorch counts in models whose parameters no trace row shows, for tests/web/test_trace_api.py.

Run from the repository root, in an environment that has torch:

    python tests/golden/record_uncounted.py

It writes ``tests/golden/uncounted.json``: per case its code, input shape and variables, PyTorch's
``sum(p.numel() for p in model.parameters())`` and, per named part (an attribute path: a module forward() never
calls, or an nn.Parameter), the parameters under that path. The app never runs the code; this script does (it is
ours, not a user's). Two runs write byte-identical files.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

OUT = Path(__file__).with_name("uncounted.json")
CASES = {
    "own-parameter": ("""import torch
import torch.nn as nn
class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 5)
        self.scale = nn.Parameter(torch.ones(5))
        self.drop = nn.Dropout(0.1)
    def forward(self, x):
        return self.fc(x) * self.scale
""", [1, 4], {}, ["scale"]),
    "uncalled-modules": ("""import torch.nn as nn
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.spare = nn.Linear(4, 2)
    def forward(self, x):
        return self.fc(x)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Block()
        self.layers = nn.Sequential(nn.Linear(4, 5), nn.ReLU())
        self.head = nn.Linear(5, 3)
        self.act = nn.GELU()
    def forward(self, x):
        return self.layers(self.b(x))
""", [1, 4], {}, ["b.spare", "head"]),
    "backbone-with-spares": ("""import torch
import torch.nn as nn
class Net(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.head = nn.Linear(8, 10)
        self.bn = nn.BatchNorm2d(8)
        self.cls_token = nn.Parameter(torch.zeros(1, 8))
        self.w = nn.Parameter(torch.randn(n, 3))
        self.emb = nn.Embedding(100, 16)
        self.lstm = nn.LSTM(16, 32)
        self.big = nn.Conv2d(8, 4, 11)
    def forward(self, x):
        return self.conv(x)
model = Net(n)
""", [1, 3, 32, 32], {"n": 5}, ["head", "bn", "cls_token", "w", "emb", "lstm", "big"]),
}


def record(code: str, variables: dict, parts: list[str]) -> dict:
    scope = {"torch": torch, "nn": nn, **variables}
    exec(code, scope)  # noqa: S102 - our own recorded cases, never a user's text
    model = scope.get("model") or next(v for v in reversed(list(scope.values()))
                                       if isinstance(v, type) and issubclass(v, nn.Module))()
    named = dict(model.named_parameters())
    return {"total_params": sum(p.numel() for p in model.parameters()),
            "parts": {part: sum(p.numel() for name, p in named.items() if name == part or name.startswith(part + "."))
                      for part in parts}}


def main() -> None:
    cases = [{"id": case_id, "code": code, "input_shape": shape, "variables": variables,
              **record(code, variables, parts)} for case_id, (code, shape, variables, parts) in CASES.items()]
    OUT.write_text(json.dumps({"meta": {"torch": torch.__version__, "generated_by": "tests/golden/record_uncounted.py"},
                               "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
