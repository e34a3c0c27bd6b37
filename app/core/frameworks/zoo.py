"""The frameworks' own model zoos (torchvision.models, keras.applications) as source the trace parser follows.

The architectures are written out in zoo_torch.py and zoo_keras.py from the libraries' own definitions; this
module says which calls in a paste name them and parses their source once.

>>> is_zoo("torch", "torchvision.models.resnet18"), is_zoo("torch", "torchvision.models.resnet.resnet50")
(True, True)
>>> is_zoo("keras", "tensorflow.keras.applications.MobileNetV2"), is_zoo("keras", "keras.layers.Conv2D")
(True, False)
>>> "resnet152" in factories("torch") and "ResNet50" in factories("keras")
True
"""

from __future__ import annotations

import ast
import functools

from . import zoo_keras, zoo_torch

LIBRARY = {"torch": "torchvision.models", "keras": "keras.applications"}
_MODULES = {"torch": zoo_torch, "keras": zoo_keras}


def _refusals() -> frozenset[str]:
    """The messages the zoos' own checks raise (``raise ValueError("...")``): told as the library's refusal."""
    found = set()
    for module in _MODULES.values():
        for node in ast.walk(ast.parse(module.SOURCE)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args and isinstance(
                    node.exc.args[0], ast.Constant) and isinstance(node.exc.args[0].value, str):
                found.add(node.exc.args[0].value)
    return frozenset(found)


REFUSALS = _refusals()


def is_zoo(framework: str, path: str) -> bool:
    """Whether a dotted name reaches into the framework's zoo (any submodule: models.resnet.resnet18)."""
    parts = path.split(".")
    if framework == "torch":
        return parts[0] == "torchvision" and len(parts) > 2 and parts[1] == "models"
    return "applications" in parts[:-1] and parts.index("applications") < len(parts) - 1


def factories(framework: str) -> tuple[str, ...]:
    return _MODULES[framework].FACTORIES


@functools.cache
def tree(framework: str) -> ast.Module:
    """The zoo's source, parsed once per process."""
    return ast.parse(_MODULES[framework].SOURCE)


def preset(framework: str, ext) -> dict:
    """Names the zoo's source uses besides the frameworks' own (``ext`` builds the parser's library handle)."""
    if framework == "torch":
        return {"functools": ext("functools"), "OrderedDict": ext("collections.OrderedDict"), "math": ext("math")}
    return {"layers": ext("keras.layers"), "keras": ext("keras"), "math": ext("math"),
            # inception_resnet_v2's own Layer (keras.src.applications.inception_resnet_v2), read as a layer
            "CustomScaleLayer": ext("keras.layers.CustomScaleLayer")}
