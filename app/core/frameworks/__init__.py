"""Framework front ends: layer specs in PyTorch's or Keras' own words -> canonical ``Layer``."""
from __future__ import annotations

from typing import Any

from ...core.frameworks import keras, torch
from ...core.frameworks.common import SpecError
from ...core.ops import Layer

FRAMEWORKS = {"torch": torch, "keras": keras}


def build_layer(framework: str, spec: dict[str, Any], input_shape: tuple[int, ...]) -> Layer:
    """The canonical layer for ``spec`` applied to an input of ``input_shape`` (framework layout)."""
    if framework not in FRAMEWORKS:
        raise SpecError(f"framework must be 'torch' or 'keras', got {framework!r}", "framework")
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise SpecError("layer must be an object with a 'type' naming the layer class, e.g. {\"type\": \"Conv2d\"}",
                        "type")
    return FRAMEWORKS[framework].build(spec, tuple(input_shape))


__all__ = ["SpecError", "build_layer", "FRAMEWORKS"]
