"""The frameworks' own layer signatures, recorded from them (tests/golden/record_signatures.py writes
signatures.json next to this file): which parameter each positional argument fills, which Keras names are
another class, and which keywords never change a shape. One table for the code parser, the tracer and the
front ends, so that no hand-written copy drifts from the frameworks.

>>> POSITIONAL["torch"]["Softshrink"]
('lambd',)
>>> POSITIONAL["keras"]["Conv2D"][:3]
('filters', 'kernel_size', 'strides')
>>> KERAS_ALIASES["MaxPool2D"]
'MaxPooling2D'
>>> no_effect("kernel_initializer"), no_effect("kernel_size")
(True, False)
"""
from __future__ import annotations

import json
from pathlib import Path

_DATA = json.loads(Path(__file__).with_name("signatures.json").read_text())

POSITIONAL: dict[str, dict[str, tuple[str, ...]]] = {
    fw: {layer: tuple(params) for layer, params in table.items()} for fw, table in _DATA["positional"].items()}
KERAS_ALIASES: dict[str, str] = dict(_DATA["keras_aliases"])
VERSIONS: dict[str, str] = {k: v for k, v in _DATA["meta"].items() if k in ("torch", "keras")}

_BOOKKEEPING = ("name", "trainable", "dtype", "device", "seed")


def no_effect(key: str) -> bool:
    """A keyword that changes how a layer is trained, stored or named, never a shape."""
    return key in _BOOKKEEPING or key.endswith(("_initializer", "_regularizer", "_constraint"))


# every such keyword the frameworks' layers take, in one list
NO_EFFECT: tuple[str, ...] = tuple(sorted({*_BOOKKEEPING, *(
    p for table in POSITIONAL.values() for params in table.values() for p in params if no_effect(p))}))
