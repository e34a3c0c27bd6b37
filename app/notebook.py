"""The views inside a notebook: ``convscope.show(layer)`` and ``convscope.show_model(model)``.

A layer is read from the object itself, never by importing torch or keras here: a PyTorch module
from its attributes (the keywords the framework adapter knows) and its ``repr`` (the rest), a Keras
layer from ``get_config()``. Text is read by the same ast-based parser /trace uses (app/core/code.py):
nothing is evaluated. The result is a view URL in the framework's own words (docs/API.md "View URLs"),
shown inline as its ``/embed/…`` form in an iframe, from a server this kernel starts on a free
port (one per process, stopped at exit) or from ``base_url=`` (a hosted instance, a course demo).
"""
from __future__ import annotations

import atexit
import html
import inspect
import os
import signal
import socket
import sys
import textwrap
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

# class name -> the view that draws it
VIEWS = {
    **{f"Conv{d}{s}": "explore" for d in (1, 2, 3) for s in ("d", "D")},
    **{t: "transposed" for t in ("ConvTranspose1d", "ConvTranspose2d", "Conv1DTranspose", "Conv2DTranspose")},
    **{t: "pool" for t in ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
                           "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D")},
}
SUPPORTED = ("PyTorch Conv1d/2d/3d, ConvTranspose1d/2d, MaxPool1d/2d, AvgPool1d/2d; "
             "Keras Conv1D/2D/3D, Conv1DTranspose/Conv2DTranspose, MaxPooling1D/2D, AveragePooling1D/2D")
# Keras' defaults (keras/src/layers/convolutional, pooling): left out of the URL, as people leave them out
KERAS_DEFAULTS = {"strides": 1, "padding": "valid", "dilation_rate": 1, "groups": 1, "activation": "linear",
                  "use_bias": True, "depth_multiplier": 1}
PER_AXIS = {"kernel_size", "pool_size", "stride", "strides", "padding", "dilation", "dilation_rate", "output_padding"}
HEIGHT = 640  # an inline frame's height until its content reports its own
_SKIP = object()


# ---------------------------------------------------------------- reading a layer
def _plain(value: Any) -> Any:
    """A number, string, bool, None or a flat list of those; _SKIP for anything else (a tensor, a dict)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)) and all(v is None or isinstance(v, (bool, int, float, str)) for v in value):
        return list(value)
    return _SKIP


def _framework_class(obj: Any) -> tuple[str | None, str]:
    """('torch' | 'keras' | None, the framework's class name): the first class along the MRO that
    comes from torch or keras, so a user's subclass of nn.Conv2d reads as Conv2d."""
    for cls in type(obj).__mro__:
        root = (cls.__module__ or "").split(".")[0]
        if root == "torch":
            return "torch", cls.__name__
        if root in ("keras", "tensorflow", "tf_keras"):
            return "keras", cls.__name__
    return None, type(obj).__name__


def _torch_keywords(layer_type: str) -> dict[str, Any]:
    """The keywords (and their defaults) the PyTorch adapter reads for this class, if it knows it."""
    from .core.frameworks import torch as adapter
    if layer_type.startswith("ConvTranspose"):
        return adapter.TRANSPOSED_DEFAULTS
    if layer_type.startswith("Conv"):
        return adapter.CONV_DEFAULTS
    if layer_type.startswith("MaxPool"):
        return adapter.MAXPOOL_DEFAULTS
    if layer_type.startswith("AvgPool"):
        return adapter.AVGPOOL_DEFAULTS
    return adapter.ACTIVATION_LAYERS.get(layer_type, (None, {}))[1]


def _parse_call(text: str, framework: str) -> dict | None:
    """`Conv2d(3, 8, kernel_size=(3, 3), padding=same)` -> its spec, read with /trace's parser.

    torch's reprs write some strings without quotes (padding=same, padding_mode=reflect): a bare
    word the parser cannot resolve is read again as that word."""
    from .core.code import CodeError, parse_model  # the parser imports numpy: only when a layer is read
    words: dict[str, str] = {}
    code = f"model = nn.Sequential({text})" if framework == "torch" else f"model = Sequential([{text}])"
    for _ in range(4):
        try:
            model = parse_model(code, framework, words)
        except CodeError:
            return None
        if not model.unresolved:
            return model.layers[0] if model.layers else None
        words.update({w: w for w in model.unresolved})
    return None


def torch_spec(module: Any) -> dict:
    """A torch.nn module's spec in PyTorch's words: the attributes the adapter knows (AvgPool2d's repr
    leaves out ceil_mode and count_include_pad), the repr for everything else."""
    _, name = _framework_class(module)
    lines = repr(module).splitlines()
    spec = (_parse_call(lines[0], "torch") if len(lines) == 1 else None) or {}
    spec["type"] = name
    attributes = getattr(module, "__dict__", {})
    for key in _torch_keywords(name):
        if key == "bias":
            spec["bias"] = getattr(module, "bias", None) is not None  # a Parameter, or None
        elif key in attributes and (value := _plain(attributes[key])) is not _SKIP:
            spec[key] = value
    return {"type": name, **{k: v for k, v in spec.items() if k != "type"}}


def keras_spec(layer: Any) -> dict:
    """A Keras layer's spec in Keras' words, from get_config(): what changes the forward numbers
    (names, dtypes, initializers, regularizers and constraints do not)."""
    from .core.frameworks.signatures import no_effect  # the parser's own rule: one list of such keywords
    _, name = _framework_class(layer)
    spec: dict[str, Any] = {"type": name}
    for key, value in layer.get_config().items():
        if no_effect(key):
            continue
        value = _plain(value)
        if value is not _SKIP and value is not None:  # None is Keras' "the default" everywhere
            spec[key] = value
    return spec


def read_layer(layer: Any, framework: str | None = None) -> tuple[str, dict]:
    """(framework, spec) for a torch.nn module, a Keras layer or a spec dict in the API's words."""
    if isinstance(layer, dict):
        spec = dict(layer.get("layer", layer))
        framework = framework or layer.get("framework") or spec.pop("framework", None)
        spec.pop("framework", None)
        name = spec.get("type")
        if not isinstance(name, str):
            raise TypeError("a layer spec needs a 'type' naming the layer class, e.g. {'type': 'Conv2d', ...}")
        if framework is None:
            from .core.frameworks import keras, torch
            framework = "torch" if name in torch.LAYER_TYPES else "keras" if name in keras.LAYER_TYPES else None
        if framework not in ("torch", "keras"):
            raise ValueError(f"cannot tell whether {name!r} is PyTorch or Keras: pass framework='torch' or 'keras'")
        return framework, spec
    found, name = _framework_class(layer)
    found = framework or found or ("keras" if hasattr(layer, "get_config") else "torch" if hasattr(layer, "_modules")
                                   else None)
    if found == "torch":
        return "torch", torch_spec(layer)
    if found == "keras":
        return "keras", keras_spec(layer)
    raise TypeError(f"convscope.show reads a torch.nn module, a Keras layer or a spec dict, got {type(layer).__name__}")


# ---------------------------------------------------------------- URLs
def _one(key: str, value: Any) -> Any:
    """kernel_size=(3, 3) -> 3: one number when every axis has it, as people write it and the views'
    knobs take it (only for per-axis keywords: a Reshape's (4, 4) stays)."""
    if key in PER_AXIS and isinstance(value, list) and value and len(set(value)) == 1:
        return value[0]
    return value


def _word(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else str(value)


def _input_shape(shape: Any, dims: int, layout: str, name: str) -> list[int]:
    """The input the view draws: one example (batch 1), in the framework's layout; the batch axis may
    be left out, or be None."""
    if isinstance(shape, str):
        shape = [p.strip() for p in shape.strip("()[] ").split(",") if p.strip()]
    try:
        values = [None if v is None or str(v).lower() == "none" else int(v) for v in shape]
    except (TypeError, ValueError):
        raise ValueError(f"input_shape: give integers {layout}, got {shape!r}") from None
    if len(values) == dims + 1:
        values = [1, *values]
    if len(values) != dims + 2 or None in values[1:]:
        raise ValueError(f"input_shape: {name} takes a {dims + 2}-axis input {layout} (the batch may be left out), "
                         f"got {shape!r}")
    return [1, *values[1:]]


def view_url(layer: Any, input_shape: Any = None, *, framework: str | None = None, base_url: str = "") -> str:
    """The URL of the view that draws this layer, in the framework's words (``/explore?framework=…``).

    >>> view_url({"type": "Conv1D", "filters": 4, "kernel_size": 3, "padding": "same"}, (50, 300))
    '/explore?framework=keras&type=Conv1D&filters=4&kernel_size=3&padding=same&input_shape=1,50,300'
    """
    framework, spec = read_layer(layer, framework)
    name = spec["type"]
    view = VIEWS.get(name)
    if view is None:
        raise ValueError(f"convscope.show draws {SUPPORTED}; got {name}. For a whole model (any layers), "
                         "use convscope.show_model(model_or_code, input_shape=...)")
    defaults = _torch_keywords(name) if framework == "torch" else KERAS_DEFAULTS
    params = {"framework": framework, "type": name}
    channels_first = spec.get("data_format") == "channels_first"
    for key, value in spec.items():
        value = _one(key, value)
        if key in ("type", "data_format") or (key in defaults and defaults[key] == value):
            continue
        params[key] = _word(value)
    if input_shape is not None:
        dims = int(next(c for c in name if c.isdigit()))
        layout = "(N, C, *spatial)" if framework == "torch" or channels_first else "(N, *spatial, C)"
        shape = _input_shape(input_shape, dims, layout, name)
        if channels_first:  # the views draw Keras channels-last; the numbers are the same
            shape = [shape[0], *shape[2:], shape[1]]
        params["input_shape"] = _word(shape)
    return f"{base_url.rstrip('/')}/{view}?{urlencode(params, safe=',')}"


def _py(value: Any) -> str:
    """A value as a Python literal, for code the trace reads back (lists as tuples, as people write)."""
    if isinstance(value, list):
        return "(" + ", ".join(map(_py, value)) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _call(prefix: str, spec: dict, defaults: dict) -> str:
    """`nn.Conv2d(in_channels=3, …)`: the keywords that differ from the defaults."""
    values = {k: _one(k, v) for k, v in spec.items() if k != "type"}
    args = [f"{k}={_py(v)}" for k, v in values.items() if not (k in defaults and defaults[k] == v)]
    return f"{prefix}{spec['type']}({', '.join(args)})"


def _torch_leaves(module: Any, path: str = ""):
    """(path, module) for every module without children, in registration order."""
    children = getattr(module, "_modules", None) or {}
    if not children:
        yield path, module
    for name, child in children.items():
        if child is not None:
            yield from _torch_leaves(child, f"{path}.{name}" if path else name)


def _keras_layers(model: Any):
    """The layers in order, nested models flattened; a lone layer is a model of one."""
    if not hasattr(model, "layers"):
        yield model
        return
    for layer in model.layers:
        if hasattr(layer, "layers") and _framework_class(layer)[1] in ("Sequential", "Functional", "Model"):
            yield from _keras_layers(layer)
        else:
            yield layer


# ---------------------------------------------------------------- a live torch model as code
# A class defined in a notebook cell has no source file: inspect.getsource(Net) fails, but each
# method's code object names the cell's file, which IPython keeps in linecache, so
# inspect.getsource(Net.forward) works. __init__ is not read: it is written anew from the live object
# (the arguments it was called with are gone; the submodules it made are there).
_FRAMEWORKS = ("torch", "keras", "tensorflow", "tf_keras", "builtins")


class _NoSource(Exception):
    """A method (or helper) whose source Python cannot give; the message names it."""


def _user_classes(cls: type) -> list[type]:
    """The classes along the MRO written by the user (not torch's, not object), most derived first."""
    return [c for c in cls.__mro__ if (c.__module__ or "").split(".")[0] not in _FRAMEWORKS]


def _function_source(func: Any, what: str) -> str:
    try:
        return textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        raise _NoSource(what) from None


def _names_used(code: Any):
    """The global names a code object (and the functions, lambdas and comprehensions inside it) reads."""
    yield from code.co_names
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from _names_used(const)


class _Writer:
    """Writes a live torch model as code that /trace reads: imports and helpers its methods use,
    each user class once with its methods (its __init__ from the first live instance), a subclass
    with only an __init__ for each instance with other settings, then ``model = …``."""

    def __init__(self) -> None:
        self.header = ["import torch", "import torch.nn as nn", "import torch.nn.functional as F"]
        self.helpers: list[str] = []
        self.classes: list[str] = []
        # a user class -> the name it was first written under (with its methods); (class, *__init__ lines)
        # -> the name of the class with those settings (a subclass of the first, __init__ alone)
        self.class_names: dict[Any, str] = {}
        self.seen_globals: set[str] = set()

    def global_name(self, name: str, value: Any) -> None:
        if name in self.seen_globals or name in ("torch", "nn", "F"):
            return
        self.seen_globals.add(name)
        if inspect.ismodule(value):
            module = value.__name__
            self.header.append(f"import {module}" if module == name else f"import {module} as {name}")
        elif inspect.isfunction(value) and (value.__module__ or "").split(".")[0] not in _FRAMEWORKS:
            self.helpers.append(_function_source(value, f"{name}()"))
            self.scan(value)
        elif callable(value) and (getattr(value, "__module__", None) or "").split(".")[0] == "torch":
            attr = getattr(value, "__name__", name)
            self.header.append(f"from {value.__module__} import {attr}" + ("" if attr == name else f" as {name}"))
        elif (plain := _plain(value)) is not _SKIP:
            self.helpers.append(f"{name} = {_py(plain)}")

    def scan(self, func: Any) -> None:
        """The globals a method or helper reads: modules, torch functions, the user's helpers, constants."""
        func = getattr(func, "__func__", func)
        code, scope = getattr(func, "__code__", None), getattr(func, "__globals__", {})
        if code is None:
            return
        for name in _names_used(code):
            if name in scope:
                self.global_name(name, scope[name])

    def module(self, module: Any) -> str:
        """The expression that builds this module."""
        users = _user_classes(type(module))
        methods = {}
        for cls in reversed(users):  # the most derived definition wins
            for key, value in vars(cls).items():
                if key != "__init__" and (inspect.isfunction(value) or isinstance(value, (staticmethod, classmethod))):
                    methods[key] = (cls, value)
        registered = getattr(module, "_modules", None) or {}
        children = {k: c for k, c in registered.items() if c is not None}
        _, base = _framework_class(module)
        if not methods or "forward" not in methods:  # a subclass that keeps its torch class's forward
            if base in ("Sequential", "ModuleList"):
                items = ", ".join(self.module(c) for c in children.values())
                return f"nn.Sequential({items})" if base == "Sequential" else f"nn.ModuleList([{items}])"
            if base == "ModuleDict":
                return "nn.ModuleDict({" + ", ".join(f"{k!r}: {self.module(c)}" for k, c in children.items()) + "})"
            if not users or base != "Module":
                return _call("nn.", torch_spec(module), _torch_keywords(base))
            raise _NoSource(f"{type(module).__name__}.forward()")
        init = []
        for key, value in vars(module).items():
            if not key.startswith("_") and key != "training" and (plain := _plain(value)) is not _SKIP:
                init.append(f"        self.{key} = {_py(plain)}")
        for key, child in registered.items():  # a submodule set to None (no downsample) stays None
            init.append(f"        self.{key} = {'None' if child is None else self.module(child)}")
        cls = type(module)
        if (cls, *init) in self.class_names:  # an instance with the same settings as one written before
            return f"{self.class_names[(cls, *init)]}()"
        taken = set(self.class_names.values())
        name = cls.__name__ if cls.__name__ not in taken else \
            next(f"{cls.__name__}_{i}" for i in range(2, 10_000) if f"{cls.__name__}_{i}" not in taken)
        if cls in self.class_names:  # other settings of a class written before: only its __init__ differs
            first = self.class_names[cls]
            self.classes.append(f"class {name}({first}):\n    def __init__(self):\n        nn.Module.__init__(self)\n"
                                + "\n".join(init))
        else:
            lines = [f"    {key} = {_py(plain)}" for key, value in vars(cls).items()  # attributes the methods read
                     if not key.startswith("_") and not callable(value) and (plain := _plain(value)) is not _SKIP]
            lines += ["    def __init__(self):", "        super().__init__()", *init]
            for key, (owner, value) in methods.items():
                lines += ["", textwrap.indent(_function_source(value, f"{owner.__name__}.{key}()"), "    ").rstrip()]
                self.scan(value)
            self.class_names[cls] = name
            self.classes.append(f"class {name}(nn.Module):\n" + "\n".join(lines))
        self.class_names[(cls, *init)] = name
        return f"{name}()"

    def code(self, model: Any) -> str:
        top = self.module(model)
        parts = ["\n".join(dict.fromkeys(self.header)), *self.helpers, *self.classes, f"model = {top}"]
        return "\n\n\n".join(parts) + "\n"


def torch_model_code(model: Any) -> str:
    """A live torch model (a user's nn.Module subclass, defined in a file or a notebook cell) as code
    /trace reads: forward() as written, every submodule as the object has it."""
    return _Writer().code(model)


def model_code(model: Any, framework: str | None = None) -> tuple[str, str, list[str]]:
    """(framework, code /trace reads, notes) for a live model, a list of layers or of spec dicts."""
    notes: list[str] = []
    found, name = _framework_class(model)
    framework = framework or found
    if isinstance(model, (list, tuple)):
        specs = [read_layer(layer, framework) for layer in model]
        framework = framework or (specs[0][0] if specs else None)
        return framework, _code(framework, [s for _, s in specs], [None] * len(specs), None), notes
    if framework == "torch":
        if _user_classes(type(model)) and getattr(model, "_modules", None) is not None:
            from .core.code import CodeError, parse_model
            try:  # forward() from its source, every submodule's settings from the live object
                code = torch_model_code(model)
                parse_model(code, "torch")
                notes.append(f"read from the live {type(model).__name__} (every submodule's settings) and the source "
                             "of its forward()")
                return "torch", code, notes
            except _NoSource as e:
                why = f"the source of {e} is not available"
            except CodeError as e:
                why = f"its forward() could not be followed ({e})"
            notes.append(f"{why}: its layers are traced in the order they were assigned, and functional calls in "
                         "forward() (F.relu, flatten) are not seen; pass the class's code as a string for those")
        leaves = [(path, module) for path, module in _torch_leaves(model)]
        return "torch", _code("torch", [torch_spec(m) for _, m in leaves], [p for p, _ in leaves], None), notes
    if framework == "keras":
        layers = [layer for layer in _keras_layers(model) if _framework_class(layer)[1] != "InputLayer"]
        shape = None
        try:
            shape = tuple(model.inputs[0].shape)[1:]
        except (AttributeError, IndexError, TypeError, ValueError):
            pass
        return "keras", _code("keras", [keras_spec(layer) for layer in layers], [None] * len(layers), shape), notes
    raise TypeError(f"convscope.show_model reads model code (a string), a torch.nn module, a Keras model or a list "
                    f"of layers, got {type(model).__name__}")


def _code(framework: str, specs: list[dict], paths: list, keras_input: tuple | None) -> str:
    if framework == "torch":
        lines = ["import torch.nn as nn", "", "model = nn.Sequential("]
        for spec, path in zip(specs, paths):
            lines.append(f"    {_call('nn.', spec, _torch_keywords(spec['type']))},"
                         + (f"  # {path}" if path and not path.isdigit() else ""))
        return "\n".join([*lines, ")"]) + "\n"
    lines = ["import keras", "from keras import layers", "", "model = keras.Sequential(["]
    if keras_input and None not in keras_input:
        lines.append(f"    keras.Input(shape={_py(list(keras_input))}),")
    defaults = {**KERAS_DEFAULTS, "data_format": "channels_last"}
    lines += [f"    {_call('layers.', spec, defaults)}," for spec in specs]
    return "\n".join([*lines, "])"]) + "\n"


def trace_url(code_or_model: Any, input_shape: Any = None, *, framework: str | None = None,
              base_url: str = "") -> str:
    """The /trace URL for model code (a string, read and never run) or a live model (read as code)."""
    return _trace(code_or_model, input_shape, framework, base_url)[0]


def _trace(code_or_model, input_shape, framework, base_url) -> tuple[str, list[str]]:
    from .core.code import detect_framework
    notes: list[str] = []
    if isinstance(code_or_model, str):
        code = code_or_model
        framework = framework or detect_framework(code) or "auto"
    else:
        framework, code, notes = model_code(code_or_model, framework)
    params = {"framework": framework, "code": code}
    if input_shape is not None:
        params["input_shape"] = input_shape if isinstance(input_shape, str) else \
            ",".join("None" if v is None else str(int(v)) for v in input_shape)
    return f"{base_url.rstrip('/')}/trace?{urlencode(params, safe=',')}", notes


# ---------------------------------------------------------------- where the browser finds the server
# The kernel's server listens on 127.0.0.1. Where the browser runs elsewhere (JupyterHub, Binder,
# VS Code remote, Colab) it reaches that port through a proxy, as TensorBoard's notebook view does:
# jupyter-server-proxy's /user/<name>/proxy/<port>/ (found from JupyterHub's environment, or given
# with configure(proxy_url=…) or CONVSCOPE_PROXY_URL), or Colab's own port proxy.
_settings: dict[str, Any] = {"proxy_url": None, "base_url": None}


def configure(*, proxy_url: str | None = None, base_url: str | None = None) -> None:
    """Where the browser finds Convscope, for every later show() / show_model().

    ``proxy_url``: the URL of this kernel's server as the browser sees it, ``{port}`` (and ``{user}``,
    JupyterHub's user name) filled in, e.g. ``"/user/{user}/proxy/{port}/"`` (jupyter-server-proxy)
    or ``"https://my-host.example/proxy/{port}/"``; the environment variable CONVSCOPE_PROXY_URL
    says the same. ``base_url``: a hosted Convscope to use instead of starting a server here
    (CONVSCOPE_BASE_URL). ``None`` leaves a setting as it was; ``proxy_url=""``: no proxy, the
    browser is on this machine (whatever the environment says); ``base_url=""``: serve from here."""
    if proxy_url and "{port}" not in proxy_url:
        raise ValueError(f"proxy_url needs {{port}} where the server's port goes, got {proxy_url!r} "
                         "(e.g. '/user/{user}/proxy/{port}/')")
    if proxy_url is not None:
        _settings["proxy_url"] = proxy_url  # the server restarts under it at the next show()
    if base_url is not None:
        _settings["base_url"] = base_url or None


def proxy_template(env: Any = os.environ) -> str | None:
    """configure()'s proxy_url, else $CONVSCOPE_PROXY_URL, else jupyter-server-proxy's path on JupyterHub
    and Binder ($JUPYTERHUB_SERVICE_PREFIX + proxy/{port}/); None where the browser shares the kernel's machine.

    >>> proxy_template({"JUPYTERHUB_SERVICE_PREFIX": "/user/ann/"})
    '/user/ann/proxy/{port}/'
    >>> proxy_template({}) is None
    True
    """
    if _settings["proxy_url"] is not None:
        return _settings["proxy_url"] or None
    if env.get("CONVSCOPE_PROXY_URL"):
        return env["CONVSCOPE_PROXY_URL"]
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX")
    return f"{prefix.rstrip('/')}/proxy/{{port}}/" if prefix else None


def proxied(template: str, port: int, env: Any = os.environ) -> str:
    """The proxy URL for this port, without its trailing slash.

    >>> proxied("/user/{user}/proxy/{port}/", 8123, {"JUPYTERHUB_USER": "ann"})
    '/user/ann/proxy/8123'
    """
    user = env.get("JUPYTERHUB_USER") or env.get("USER") or ""
    return template.replace("{port}", str(port)).replace("{user}", quote(user)).rstrip("/")


def _colab_url(port: int) -> str | None:
    """Colab's proxy URL for a port of the kernel's machine (what TensorBoard uses there)."""
    colab = sys.modules.get("google.colab")
    if colab is None:
        return None
    from google.colab import output  # only inside Colab
    return str(output.eval_js(f"google.colab.kernel.proxyPort({int(port)}, {{'cache': false}})")).rstrip("/")


# ---------------------------------------------------------------- showing
def show(layer: Any, input_shape: Any = None, *, framework: str | None = None, base_url: str | None = None,
         height: int | None = None, block: bool = False) -> None:
    """Show this layer's view inline (a torch.nn module, a Keras layer, or a spec dict in the API's
    words): /explore for a conv, /pool for a pooling layer, /transposed for a transposed conv.

    ``input_shape``: in the framework's layout, the batch axis optional (the view draws one example).
    ``base_url``: a hosted Convscope to use instead of starting one here. ``height``: a fixed height
    in pixels (by default the frame follows its content). ``block``: outside a notebook, keep serving
    until Ctrl+C (a script's server otherwise ends with the script)."""
    _display(view_url(layer, input_shape, framework=framework), base_url, height, [], block)


def show_model(code_or_model: Any, input_shape: Any = None, *, framework: str | None = None,
               base_url: str | None = None, height: int | None = None, block: bool = False) -> None:
    """Show the trace of a model: every layer's output shape, parameters and MACs, and where the
    shapes stop fitting. ``code_or_model``: its code as a string (read, never run), a torch.nn module,
    a Keras model or a list of layers; ``input_shape`` with the batch axis (unless the code gives it).
    ``height`` and ``block`` as in show()."""
    path, notes = _trace(code_or_model, input_shape, framework, "")
    _display(path, base_url, height, notes, block)


def _in_notebook() -> bool:
    """Jupyter, VS Code and Colab kernels can show HTML; a terminal (python, IPython) cannot."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def _interactive() -> bool:
    """A REPL (python, IPython, a notebook) lives on after show(); a script ends."""
    ipython = sys.modules.get("IPython")
    return hasattr(sys, "ps1") or bool(sys.flags.interactive) or (ipython is not None and ipython.get_ipython()
                                                                  is not None)


def _resizer() -> str:
    """static/embed-host.js, inlined: the frame follows its content's height, as on any host page."""
    from .assets import STATIC
    return (STATIC / "embed-host.js").read_text()


def inline_html(base: str, path: str, height: int | None, notes: list[str]) -> str:
    """The iframe a notebook shows, the link to the full page and the notes.

    >>> print(inline_html("/p", "/explore?x=1", None, []))  # doctest: +ELLIPSIS
    <iframe src="/p/embed/explore?x=1" ... style="border:0;height:640px"></iframe><script>...</script>...
    """
    page, embed = base + path, f"{base}/embed{path}"
    note = "".join(f"<div><small>{html.escape(n)}</small></div>" for n in notes)
    sizing = (f'height="{int(height)}" data-convscope-fixed="1" style="border:0"' if height
              else f'style="border:0;height:{HEIGHT}px"')
    script = "" if height else f"<script>{_resizer()}</script>"
    return (f'<iframe src="{html.escape(embed)}" title="Convscope" width="100%" {sizing}></iframe>{script}{note}'
            f'<div><small><a href="{html.escape(page)}" target="_blank" rel="noopener">Open in Convscope</a>'
            "</small></div>")


def _display(path: str, base_url: str | None, height: int | None, notes: list[str], block: bool = False) -> None:
    base_url = base_url or _settings["base_url"] or os.environ.get("CONVSCOPE_BASE_URL")
    base = (base_url or local_server()).rstrip("/")
    if _in_notebook():
        from IPython.display import HTML, display
        display(HTML(inline_html(base, path, height, notes)))
        return
    for n in notes:
        print(f"Note: {n}")
    print(f"Convscope: {base + path}")
    if base_url:
        return
    if block:
        print("Serving until Ctrl+C.", flush=True)
        _server.serve_until_interrupted()
    elif not _interactive():
        print("(This URL works while this script runs: its server stops when the script ends. "
              "Pass block=True to keep serving until Ctrl+C.)", flush=True)
    else:
        print("(Served by this Python session until it ends.)", flush=True)


class _Server:
    """uvicorn in a daemon thread of this process, on a free port of 127.0.0.1; stopped at exit (and
    with the process, should it be killed). Behind a proxy that strips its path (jupyter-server-proxy)
    the app is told that path (ASGI root_path) and writes its URLs under it."""

    def __init__(self, template: str | None = None) -> None:
        import uvicorn

        from .main import app

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.template, self.url, root_path = template, f"http://127.0.0.1:{port}", ""
        if (colab := _colab_url(port)) is not None:
            self.url = colab
        elif template is not None:
            self.url = proxied(template, port)
            root_path = urlsplit(self.url).path.rstrip("/")
        # log_config=None: leave the kernel's logging as the user set it up
        self.server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                                                    root_path=root_path))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name="convscope-server",
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Convscope server did not start (see the log above)")
            time.sleep(0.05)
        atexit.register(self.stop)

    def serve_until_interrupted(self) -> None:
        """Serve until Ctrl+C, as the script was told: also where this process was started ignoring SIGINT
        (a background job of a shell script, or a parent that ignores it: Python then keeps ignoring it)."""
        main = threading.current_thread() is threading.main_thread()  # only there can a handler be set
        was = signal.signal(signal.SIGINT, signal.default_int_handler) if main else None
        try:
            while self.thread.is_alive():
                time.sleep(0.5)  # not join(): a Ctrl+C inside Thread.join can leave the thread's lock held
        except KeyboardInterrupt:
            print("Stopped.", flush=True)
        finally:
            if main:
                signal.signal(signal.SIGINT, was)
            self.stop()

    def stop(self) -> None:
        """Stop serving: gracefully for up to 5 s, then at once (open connections and requests dropped). The
        server's thread must end: its event loop's end releases the request threads, which would otherwise
        keep the process from exiting."""
        self.server.should_exit = True
        self.thread.join(timeout=5)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout=5)


_server: _Server | None = None
_lock = threading.Lock()


def local_server() -> str:
    """The URL of this process's Convscope server as the browser reaches it, started on first use (and
    again when the proxy setting changed)."""
    global _server
    with _lock:
        template = proxy_template()
        if _server is not None and _server.thread.is_alive() and _server.template != template:
            _server.stop()
        if _server is None or not _server.thread.is_alive():
            _server = _Server(template)
        return _server.url
