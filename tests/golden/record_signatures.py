"""Record the layer signatures the code parser reads, from real PyTorch and Keras.

Run from the repository root, in an environment that has the frameworks:

    KERAS_BACKEND=torch python tests/golden/record_signatures.py

It writes ``app/core/frameworks/signatures.json``:
``{"meta": {...}, "positional": {"torch": {layer: [parameter, ...]}, "keras": {...}}, "keras_aliases": {...}}``.

- ``positional``: every public layer class of ``torch.nn`` (``nn.Module`` subclasses) and ``keras.layers``
  (``Layer`` subclasses, and ``keras.Input``), with the parameters a positional argument fills, in order
  (``inspect.signature`` of ``__init__``; ``self``, ``*args`` and ``**kwargs`` left out). PyTorch's ``LSTM``,
  ``GRU`` and ``RNN`` take ``*args`` and hand them to ``RNNBase``: theirs is ``RNNBase``'s without ``mode``;
  layers with no ``__init__`` of their own (``nn.Tanh``: ``nn.Module``'s ``*args``) take none.
- ``keras_aliases``: names of ``keras.layers`` that are another class (``MaxPool2D`` is ``MaxPooling2D``).

The app only reads the file; CI never needs torch or keras. Two runs write byte-identical files. Old Keras 1/2
spellings (``Convolution2D(32, 3, 3)``, ``border_mode``) cannot come from Keras 3: they are a small hand-written
table in app/core/code.py.
"""
from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import torch  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "app" / "core" / "frameworks" / "signatures.json"
POSITIONAL_KINDS = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def positional(func) -> list[str] | None:
    """The parameters positional arguments fill, in order; None when the signature takes ``*args`` only."""
    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    names = [p.name for p in params if p.kind in POSITIONAL_KINDS]
    if not names and any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return names


def torch_table() -> dict[str, list[str]]:
    out = {}
    for name in sorted(dir(torch.nn)):
        cls = getattr(torch.nn, name)
        if name.startswith("_") or not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            continue
        names = positional(cls.__init__)
        if names is None and issubclass(cls, torch.nn.RNNBase):
            names = [n for n in positional(torch.nn.RNNBase.__init__) if n != "mode"]
        out[name] = names or []  # nn.Module's own (*args, **kwargs), nn.Identity's ignored ones: none to fill
    return out


def keras_table() -> tuple[dict[str, list[str]], dict[str, str]]:
    out, aliases = {}, {}
    for name in sorted(dir(keras.layers)):
        cls = getattr(keras.layers, name)
        if name.startswith("_") or not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
            continue
        names = positional(cls.__init__)
        if names is not None:
            out[name] = names
        if cls.__name__ != name and hasattr(keras.layers, cls.__name__):
            aliases[name] = cls.__name__
    out["Input"] = positional(keras.Input)
    return out, aliases


def main() -> None:
    positional_keras, aliases = keras_table()
    data = {"meta": {"torch": torch.__version__.split("+")[0], "keras": keras.__version__,
                     "generated_by": "tests/golden/record_signatures.py"},
            "positional": {"torch": torch_table(), "keras": positional_keras},
            "keras_aliases": aliases}
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{len(data['positional']['torch'])} torch.nn and {len(positional_keras)} keras.layers signatures, "
          f"{len(aliases)} Keras aliases -> {OUT}")


if __name__ == "__main__":
    main()
