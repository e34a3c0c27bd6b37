"""Record what convscope.show reads from real PyTorch and Keras layers, and what they compute.

For each layer: its class, module, repr (PyTorch), public attributes (PyTorch) or get_config()
(Keras), and the output shape the framework gives for an input. For each model: the same for its
layers, and the model's output shape. tests/package/test_reading.py rebuilds look-alike objects from
this file (CI has no torch) and checks that the views show the recorded shapes.

    KERAS_BACKEND=torch /path/to/venv-with-torch-and-keras/bin/python tests/golden/record_layers.py
"""
import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
import torch
from torch import nn

OUT = Path(__file__).resolve().parent / "layers.json"


def plain(value):
    """JSON for what a reader may meet: numbers, strings, bools, None, tuples, dicts of those."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return {"__unplain__": type(value).__name__}  # a tensor or an object: the reader must skip it


def mro(obj):
    """The classes a reader may look along (a user's subclass of nn.Conv2d is a Conv2d)."""
    return [[c.__module__, c.__name__] for c in type(obj).__mro__ if c is not object]


def torch_record(module):
    attributes = {k: plain(v) for k, v in vars(module).items() if not k.startswith("_") and k != "training"}
    if hasattr(module, "bias"):
        attributes["bias"] = None if module.bias is None else {"__unplain__": "Parameter"}
    return {"framework": "torch", "mro": mro(module), "repr": repr(module), "attributes": attributes}


def keras_record(layer):
    return {"framework": "keras", "mro": mro(layer), "config": plain(layer.get_config())}


TORCH_LAYERS = [  # (layer, input shape)
    (nn.Conv1d(16, 33, 3, stride=2), (1, 16, 20)),
    (nn.Conv2d(3, 8, 3), (1, 3, 10, 10)),
    (nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=1, dilation=1, bias=False), (1, 2, 9, 8)),
    (nn.Conv2d(4, 4, 3, padding="same", padding_mode="reflect", groups=2), (1, 4, 7, 7)),
    (nn.Conv2d(2, 2, 3, padding="valid", dilation=2, padding_mode="circular"), (1, 2, 9, 9)),
    (nn.Conv3d(1, 2, 3, padding=1), (1, 1, 4, 5, 5)),
    (nn.ConvTranspose1d(2, 3, 3, stride=2, output_padding=1), (1, 2, 5)),
    (nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1), (1, 2, 3, 3)),
    (nn.MaxPool1d(3, stride=2, padding=1), (1, 2, 11)),
    (nn.MaxPool2d(2), (1, 2, 6, 6)),
    (nn.MaxPool2d(3, stride=2, ceil_mode=True), (1, 1, 8, 8)),
    (nn.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), (1, 2, 9)),
    (nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=2), (1, 2, 7, 7)),
]
KERAS_LAYERS = [
    (keras.layers.Conv1D(100, 4, padding="same", activation="relu"), (1, 50, 30)),
    (keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2), (1, 12, 2)),
    (keras.layers.Conv2D(8, 3), (1, 10, 10, 3)),
    (keras.layers.Conv2D(4, (3, 2), strides=(2, 1), padding="same", use_bias=False), (1, 9, 8, 2)),
    (keras.layers.Conv2D(4, 3, groups=2, activation="tanh"), (1, 7, 7, 4)),
    (keras.layers.Conv2D(3, 3, data_format="channels_first"), (1, 2, 8, 8)),
    (keras.layers.Conv3D(2, 3, padding="same"), (1, 4, 5, 5, 1)),
    (keras.layers.Conv1DTranspose(3, 3, strides=2), (1, 5, 2)),
    (keras.layers.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1), (1, 3, 3, 2)),
    (keras.layers.MaxPooling1D(2), (1, 10, 2)),
    (keras.layers.MaxPooling2D(3, strides=2, padding="same"), (1, 7, 7, 2)),
    (keras.layers.AveragePooling2D(2, padding="same"), (1, 5, 5, 1)),
]


def torch_models():
    class Net(nn.Module):  # registration order is the forward order
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 4, 3)
            self.act = nn.ReLU()
            self.pool = nn.MaxPool2d(2)
            self.flat = nn.Flatten()
            self.fc = nn.Linear(4 * 5 * 5, 10)

        def forward(self, x):
            return self.fc(self.flat(self.pool(self.act(self.conv1(x)))))

    return [
        (nn.Sequential(nn.Conv1d(16, 32, kernel_size=5, stride=2), nn.ReLU(), nn.MaxPool1d(2, stride=2),
                       nn.Dropout(0.25)), (4, 16, 100)),
        (nn.Sequential(nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.AvgPool2d(2)),
                       nn.Conv2d(6, 16, 5, padding="same", bias=False), nn.BatchNorm2d(16, bias=False), nn.LeakyReLU(0.1),
                       nn.Flatten(), nn.Linear(16 * 14 * 14, 10)), (2, 3, 32, 32)),
        (Net(), (2, 1, 12, 12)),
    ]


def keras_models():
    L = keras.layers
    return [
        (keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(),
                           L.Conv2D(16, 3, padding="same"), L.Flatten(), L.Dropout(0.5), L.Dense(10)]), None),
        (keras.Sequential([keras.Input((50, 8)), L.Conv1D(4, 3, padding="causal"), L.AveragePooling1D(2),
                           L.GlobalMaxPooling1D(), L.Dense(1, activation="sigmoid")]), None),
    ]


def main():
    layers, models = [], []
    for layer, shape in TORCH_LAYERS:
        out = layer(torch.zeros(shape))
        layers.append({**torch_record(layer), "input_shape": list(shape), "output_shape": list(out.shape)})
    for layer, shape in KERAS_LAYERS:
        out = layer(np.zeros(shape, dtype="float32"))
        layers.append({**keras_record(layer), "input_shape": list(shape), "output_shape": list(out.shape)})
    for model, shape in torch_models():
        out = model(torch.zeros(shape))
        leaves = [m for m in model.modules() if not list(m.children())]
        models.append({"framework": "torch", "tree": tree(model), "input_shape": list(shape), "output_shape": list(out.shape),
                       "leaves": len(leaves), "params": sum(p.numel() for p in model.parameters())})
    for model, _ in keras_models():
        shape = (2, *model.inputs[0].shape[1:])
        out = model(np.zeros(shape, dtype="float32"))
        models.append({"framework": "keras", "mro": mro(model), "layers": [keras_record(layer) for layer in model.layers],
                       "model_input": list(model.inputs[0].shape), "input_shape": list(shape),
                       "output_shape": list(out.shape), "params": model.count_params()})
    OUT.write_text(json.dumps({"torch": torch.__version__, "keras": keras.__version__, "layers": layers,
                               "models": models}, indent=1) + "\n")
    print(f"{len(layers)} layers, {len(models)} models -> {OUT}")


def tree(module):
    """A torch module and its children, recorded as torch_record plus 'children' (name -> tree)."""
    return {**torch_record(module), "children": {name: tree(child) for name, child in module.named_children()}}


if __name__ == "__main__":
    main()
