"""Pasted model code -> layer specs. The code is parsed with ``ast``, never executed.

Understood: Keras ``Sequential([...])``, ``model.add(...)`` chains, the functional API
(``x = layers.Conv2D(...)(x)``), ``input_shape=`` / ``Input`` / ``InputLayer``; PyTorch
``nn.Sequential(...)`` and ``nn.Module`` classes (layers assigned in ``__init__``, order from a
plain-chain ``forward``, with ``F.relu``, ``torch.flatten``, ``x.view`` and friends). Values may
be literals, names given in ``variables``, and + − × / // of those; anything else is named.

Hostile input is bounded before any work: a length cap, ``ast.parse`` fenced against the
parser's own errors, an iterative walk with a node cap, and caps on numbers and tuple lengths.
"""
from __future__ import annotations

import ast
import math
import threading
from dataclasses import dataclass, field
from typing import Any

MAX_CHARS = 20_000
_PARSE_LOCK = threading.Lock()
MAX_NODES = 20_000
MAX_NUMBER = 2**31
MAX_ITEMS = 16


class CodeError(ValueError):
    """The code cannot be read as a model; the message says where and why."""


# positional parameters of the constructors people call positionally (torch.nn / keras.layers signatures)
_CONV_T = ("in_channels", "out_channels", "kernel_size", "stride", "padding")
_POS_TORCH = {
    **{f"Conv{d}d": (*_CONV_T, "dilation", "groups", "bias", "padding_mode") for d in (1, 2, 3)},
    **{f"ConvTranspose{d}d": (*_CONV_T, "output_padding", "groups", "bias", "dilation") for d in (1, 2, 3)},
    **{f"MaxPool{d}d": ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode") for d in (1, 2, 3)},
    **{f"AvgPool{d}d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad") for d in (1, 2, 3)},
    **{f"Adaptive{k}Pool{d}d": ("output_size",) for k in ("Avg", "Max") for d in (1, 2, 3)},
    **{f"BatchNorm{d}d": ("num_features", "eps", "momentum") for d in (1, 2, 3)},
    **{f"ZeroPad{d}d": ("padding",) for d in (1, 2, 3)},
    **{k: ("p", "inplace") for k in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout")},
    "Linear": ("in_features", "out_features", "bias"), "Flatten": ("start_dim", "end_dim"),
    "Unflatten": ("dim", "unflattened_size"), "Embedding": ("num_embeddings", "embedding_dim"),
    "LSTM": ("input_size", "hidden_size", "num_layers"), "GRU": ("input_size", "hidden_size", "num_layers"),
    "RNN": ("input_size", "hidden_size", "num_layers"), "LeakyReLU": ("negative_slope", "inplace"),
    "ELU": ("alpha", "inplace"), "CELU": ("alpha", "inplace"), "Softmax": ("dim",), "LogSoftmax": ("dim",),
    "Hardtanh": ("min_val", "max_val"), "Softplus": ("beta", "threshold"), "Upsample": ("size", "scale_factor", "mode"),
    **{k: ("inplace",) for k in ("ReLU", "ReLU6", "SELU", "SiLU", "Mish", "Hardsigmoid", "Hardswish")},
}
_CONV_K = ("filters", "kernel_size", "strides", "padding")
_POS_KERAS = {
    **{f"Conv{d}D": _CONV_K for d in (1, 2, 3)}, **{f"Conv{d}DTranspose": _CONV_K for d in (1, 2, 3)},
    **{f"SeparableConv{d}D": _CONV_K for d in (1, 2)},
    **{f"DepthwiseConv{d}D": ("kernel_size", "strides", "padding", "depth_multiplier") for d in (1, 2)},
    **{f"{k}Pooling{d}D": ("pool_size", "strides", "padding") for k in ("Max", "Average") for d in (1, 2, 3)},
    **{f"ZeroPadding{d}D": ("padding",) for d in (1, 2, 3)}, **{f"UpSampling{d}D": ("size",) for d in (1, 2, 3)},
    **{k: ("rate",) for k in ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")},
    "Dense": ("units", "activation"), "Activation": ("activation",), "Embedding": ("input_dim", "output_dim"),
    "LSTM": ("units",), "GRU": ("units",), "SimpleRNN": ("units",), "Reshape": ("target_shape",),
    "Permute": ("dims",), "BatchNormalization": ("axis",), "LeakyReLU": ("negative_slope",),
    "ReLU": ("max_value", "negative_slope", "threshold"), "ELU": ("alpha",), "Softmax": ("axis",),
    "TimeDistributed": ("layer",), "Input": ("shape",), "InputLayer": ("shape",),
}
_POSITIONAL = {"torch": _POS_TORCH, "keras": _POS_KERAS}
# torch.nn.functional calls and tensor methods in a forward(): what layer each one is
_FUNCTIONAL = {"relu": "ReLU", "relu6": "ReLU6", "gelu": "GELU", "sigmoid": "Sigmoid", "tanh": "Tanh",
               "silu": "SiLU", "elu": "ELU", "leaky_relu": "LeakyReLU", "softplus": "Softplus", "mish": "Mish",
               "dropout": "Dropout", "dropout2d": "Dropout2d", "softmax": "Softmax", "log_softmax": "LogSoftmax",
               **{f"max_pool{d}d": f"MaxPool{d}d" for d in (1, 2, 3)}, **{f"avg_pool{d}d": f"AvgPool{d}d" for d in (1, 2, 3)},
               **{f"adaptive_avg_pool{d}d": f"AdaptiveAvgPool{d}d" for d in (1, 2, 3)}}
_FUNCTIONAL_ARGS = {**{f"MaxPool{d}d": ("kernel_size", "stride", "padding") for d in (1, 2, 3)},
                    **{f"AvgPool{d}d": ("kernel_size", "stride", "padding") for d in (1, 2, 3)},
                    **{f"AdaptiveAvgPool{d}d": ("output_size",) for d in (1, 2, 3)},
                    "Dropout": ("p",), "Dropout2d": ("p",), "LeakyReLU": ("negative_slope",),
                    "Softmax": ("dim",), "LogSoftmax": ("dim",)}
_MODEL_NAMES = {"Sequential", "Model", "Functional"}


@dataclass
class ParsedModel:
    framework: str
    layers: list[dict] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)  # torch module paths ("conv1", "0"); None for the rest
    input_shape: tuple | None = None  # from the code: (None, *shape) for Keras
    unresolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    order_guessed: bool = False  # forward() was not a plain chain: the layers are in __init__ order

    def failure(self, message: str) -> str:
        """A trace failure's message, warned where the layers' order was a guess."""
        if not self.order_guessed:
            return message
        return (f"{message}. But forward() is not a plain chain, so the layers were traced in __init__ order: "
                "if it branches (two paths from one input, a skip connection) this mismatch may not be real")


def _call_name(node: ast.AST) -> str | None:
    """layers.Conv2D -> 'Conv2D'; nn.Conv2d -> 'Conv2d'; Dense -> 'Dense'."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


class _Reader:
    """Reads one pasted program into a ParsedModel."""

    def __init__(self, tree: ast.Module, framework: str, variables: dict[str, Any]):
        self.tree, self.framework = tree, framework
        self.model = ParsedModel(framework)
        self.variables: dict[str, Any] = {}
        self.bad: dict[str, str] = {}
        self.constants(tree.body)
        self.variables.update(variables)  # what the user gives wins over the code

    def constants(self, body: list[ast.stmt]) -> None:
        """`n = 10`, `shape = (28, 28, 1)`, `a, b = 100, 32`, `m = n * 2`: values the code itself defines."""
        for stmt in body:
            if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
                continue
            target, value = stmt.targets[0], stmt.value
            pairs = [(target, value)]
            if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                pairs = list(zip(target.elts, value.elts))
            for name, node in pairs:
                if isinstance(name, ast.Name) and isinstance(node, (ast.Constant, ast.Tuple, ast.List, ast.BinOp,
                                                                     ast.UnaryOp, ast.Name)):
                    self.constant(name.id, node)

    def constant(self, name: str, node: ast.AST) -> None:
        unresolved = list(self.model.unresolved)
        try:
            value = self.value(node, name)
        except CodeError as e:
            self.bad[name] = str(e)  # said if a layer uses the name
            return
        finally:
            self.model.unresolved = unresolved  # a constant the code cannot give is not yet a question
        if value is not None:
            self.variables[name] = value

    def defaults(self, func: ast.FunctionDef) -> None:
        """def __init__(self, num_classes=10): the defaults are the values a plain Net() uses."""
        args = func.args.args[len(func.args.args) - len(func.args.defaults):]
        for arg, default in zip([*args, *func.args.kwonlyargs], [*func.args.defaults, *func.args.kw_defaults]):
            if default is not None and arg.arg not in self.variables:
                self.constant(arg.arg, default)

    # values: literals, known names, simple arithmetic
    def value(self, node: ast.AST, where: str) -> Any:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or v is None:
                return v
            if isinstance(v, (int, float)):
                if abs(v) > MAX_NUMBER or not math.isfinite(v):  # abs first: a 400-digit int overflows isfinite
                    raise CodeError(f"line {node.lineno}: {where} is {v!r}, larger than Convscope reads (|x| ≤ 2^31)")
                return v
            if isinstance(v, str) and len(v) <= 100:
                return v
            raise CodeError(f"line {node.lineno}: {where} must be a number, a short string, True/False or None")
        if isinstance(node, (ast.Tuple, ast.List)):
            if len(node.elts) > MAX_ITEMS:
                raise CodeError(f"line {node.lineno}: {where} has {len(node.elts)} items; at most {MAX_ITEMS}")
            return [self.value(e, where) for e in node.elts]
        if isinstance(node, ast.Name):
            if node.id in self.variables:
                return self.variables[node.id]
            if node.id in self.bad:
                raise CodeError(self.bad[node.id])
            if node.id not in self.model.unresolved:
                self.model.unresolved.append(node.id)
            return None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.value(node.operand, where)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise CodeError(f"line {node.lineno}: {where}: a sign goes before a number, not {ast.unparse(node.operand)[:40]}")
            return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div)):
            a, b = self.value(node.left, where), self.value(node.right, where)
            if a is None or b is None:
                return None
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
                raise CodeError(f"line {node.lineno}: {where}: arithmetic works on numbers only")
            if isinstance(node.op, (ast.FloorDiv, ast.Div)) and b == 0:
                raise CodeError(f"line {node.lineno}: {where} divides by zero")
            out = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}.get(type(node.op))
            if out is None:
                out = a // b if isinstance(node.op, ast.FloorDiv) else a / b
            if abs(out) > MAX_NUMBER:
                raise CodeError(f"line {node.lineno}: {where} is larger than Convscope reads (|x| ≤ 2^31)")
            return out
        raise CodeError(f"line {getattr(node, 'lineno', '?')}: cannot read {where} = `{ast.unparse(node)[:60]}`: "
                        "write a number, a tuple, a string or a name (see 'variables')")

    def layer(self, call: ast.Call) -> dict | None:
        """A constructor call -> spec; Input/InputLayer set the input shape and return None."""
        name = _call_name(call.func)
        positional = _POSITIONAL[self.framework].get(name)
        if positional is None:  # a layer Convscope does not trace: the trace names it, with the ones it knows
            return {"type": name}
        if len(call.args) > len(positional):
            raise CodeError(f"line {call.lineno}: {name} takes at most {len(positional)} positional arguments "
                            f"here ({', '.join(positional) or 'none'}); name the others")
        spec: dict[str, Any] = {"type": name}
        for key, arg in zip(positional, call.args):
            spec[key] = self.sub_layer(arg) if key == "layer" else self.value(arg, f"{name} {key}")
        for kw in call.keywords:
            if kw.arg is None:
                raise CodeError(f"line {call.lineno}: {name}(**…) cannot be read; write the keywords out")
            spec[kw.arg] = self.sub_layer(kw.value) if kw.arg == "layer" else self.value(kw.value, f"{name} {kw.arg}")
        if self.framework == "keras":
            if name in ("Input", "InputLayer"):
                shape = spec.get("shape") or spec.get("input_shape")
                if not isinstance(shape, list) or None in shape:
                    raise CodeError(f"line {call.lineno}: {name} needs shape=(...) with known sizes")
                self.model.input_shape = (spec.get("batch_size"), *shape)
                return None
            for key in ("input_shape", "batch_input_shape"):
                if key in spec:
                    shape = spec.pop(key)
                    if isinstance(shape, list):
                        self.model.input_shape = (None, *shape) if key == "input_shape" else tuple(shape)
        return spec

    def sub_layer(self, node: ast.AST) -> dict:
        if not isinstance(node, ast.Call):
            raise CodeError(f"line {node.lineno}: TimeDistributed needs a layer call, e.g. TimeDistributed(Dense(8))")
        return self.layer(node)

    def add(self, spec: dict | None, name: str | None = None) -> None:
        if spec is not None:
            if len(self.model.layers) >= 500:
                raise CodeError("more than 500 layers; Convscope traces at most 500")
            self.model.layers.append(spec)
            self.model.names.append(name)

    # Keras
    def keras(self) -> None:
        body = list(_statements(self.tree))
        for stmt in body:
            call = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr)) else None
            if not isinstance(call, ast.Call):
                continue
            if _call_name(call.func) == "Sequential" and call.args and isinstance(call.args[0], (ast.List, ast.Tuple)):
                for element in call.args[0].elts:
                    if isinstance(element, ast.Call):
                        self.add(self.layer(element))
            elif isinstance(call.func, ast.Attribute) and call.func.attr == "add" and call.args \
                    and isinstance(call.args[0], ast.Call):
                self.add(self.layer(call.args[0]))
            elif isinstance(call.func, ast.Call) and _call_name(call.func.func) not in _MODEL_NAMES:
                self.add(self.layer(call.func))  # functional: layers.Conv2D(...)(x)
            elif _call_name(call.func) in ("Input", "InputLayer"):
                self.layer(call)

    # PyTorch
    def torch(self) -> None:
        classes = [n for n in _statements(self.tree) if isinstance(n, ast.ClassDef)]
        for cls in classes:
            methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
            if "__init__" in methods:
                self.module_class(methods["__init__"], methods.get("forward"))
                if self.model.layers:
                    return
        for stmt in _statements(self.tree):
            call = stmt.value if isinstance(stmt, (ast.Assign, ast.Expr)) else None
            if isinstance(call, ast.Call) and _call_name(call.func) == "Sequential" and not self.model.layers:
                self.sequential(call, "")
                return

    def sequential(self, call: ast.Call, prefix: str) -> None:
        for i, arg in enumerate(call.args):
            if isinstance(arg, ast.Call) and _call_name(arg.func) == "Sequential":
                self.sequential(arg, f"{prefix}{i}.")
            elif isinstance(arg, ast.Call):
                self.add(self.layer(arg), f"{prefix}{i}")

    def module_class(self, init: ast.FunctionDef, forward: ast.FunctionDef | None) -> None:
        self.defaults(init)
        self.constants(init.body)
        modules: dict[str, ast.Call] = {}
        for stmt in ast.walk(init):
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call):
                target = stmt.targets[0]
                if isinstance(target, ast.Attribute) and _dotted(target.value) == "self":
                    modules[target.attr] = stmt.value
        order = self.forward_order(forward, modules) if forward else None
        if order is None:
            if forward is not None:
                self.model.notes.append("forward() is not a plain chain of calls: layers are in __init__ order")
                self.model.order_guessed = True
            order = [("module", name) for name in modules]
        for kind, item in order:
            if kind == "module":
                call = modules[item]
                if _call_name(call.func) == "Sequential":
                    self.sequential(call, f"{item}.")
                else:
                    self.add(self.layer(call), item)
            else:
                self.add(item)

    def forward_order(self, forward: ast.FunctionDef, modules: dict) -> list | None:
        """Calls in a forward() made of `x = f(g(x))` lines, innermost first; None if it is not such a chain.

        `out, h = self.lstm(x)` keeps the first output; `out[:, -1]` picks positions (an index row)."""
        order = []
        for stmt in forward.body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # a docstring
            if not isinstance(stmt, (ast.Assign, ast.Return)) or stmt.value is None:
                return None
            node = stmt.value
            chain = []
            while isinstance(node, (ast.Call, ast.Subscript)):
                step = self.forward_call(node, modules) if isinstance(node, ast.Call) else self.index(node)
                if step is None:
                    return None
                chain.append(step)
                if isinstance(node, ast.Subscript):
                    node = node.value
                else:
                    node = node.func.value if _is_method(node) else (node.args[0] if node.args else None)
            if not isinstance(node, ast.Name):
                return None
            order += [s for s in reversed(chain) if s != ("skip", None)]
        return order

    def size_or_value(self, node: ast.AST, where: str):
        """x.size(0) or x.shape[0] in a view: that axis's size, written "size(0)" until the trace knows it."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "size" \
                and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, int):
            return f"size({node.args[0].value})"
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "shape" \
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
            return f"size({node.slice.value})"
        return self.value(node, where)

    def index(self, node: ast.Subscript) -> tuple | None:
        """out[-1] or out[:, -1, :]: integers pick (and drop) an axis, bare slices keep one."""
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        picks = []
        for item in items:
            if isinstance(item, ast.Slice) and item.lower is item.upper is item.step is None:
                picks.append(None)
            elif isinstance(item, (ast.Constant, ast.UnaryOp)):
                value = self.value(item, "an index")
                if not isinstance(value, int):
                    return None
                picks.append(value)
            else:
                return None
        return ("layer", {"type": "index", "picks": picks})

    def forward_call(self, call: ast.Call, modules: dict) -> tuple | None:
        func = call.func
        if isinstance(func, ast.Attribute) and _dotted(func.value) == "self" and func.attr in modules:
            return ("module", func.attr)
        name = _call_name(func)
        if _is_method(call):  # x.view(...), x.flatten(1), x.reshape(...)
            if name in ("view", "reshape"):
                return ("layer", {"type": "view", "shape": [self.size_or_value(a, f"x.{name}") for a in call.args]})
            if name == "flatten":
                return ("layer", {"type": "Flatten", **({"start_dim": self.value(call.args[0], "flatten")} if call.args else {})})
            if name in ("contiguous", "float", "squeeze") and not call.args:
                return ("skip", None)
            return None
        if name == "flatten" and _dotted(func).startswith("torch"):
            extra = {"start_dim": self.value(call.args[1], "torch.flatten start_dim")} if len(call.args) > 1 else {"start_dim": 0}
            return ("layer", {"type": "Flatten", **extra})
        if name in _FUNCTIONAL:
            layer = _FUNCTIONAL[name]
            spec = {"type": layer}
            for key, arg in zip(_FUNCTIONAL_ARGS.get(layer, ()), call.args[1:]):
                spec[key] = self.value(arg, f"{name} {key}")
            for kw in call.keywords:
                if kw.arg not in ("inplace", "training"):
                    spec[{"negative_slope": "negative_slope"}.get(kw.arg, kw.arg)] = self.value(kw.value, f"{name} {kw.arg}")
            return ("layer", spec)
        return None


def _is_method(call: ast.Call) -> bool:
    """x.view(...) (a call on the data), not F.relu(x) or self.conv(x)."""
    return (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, (ast.Name, ast.Call))
            and _dotted(call.func.value) not in ("self", "F", "nn", "torch", "functional", "nn.functional",
                                                  "torch.nn.functional"))


def _statements(tree: ast.Module):
    """Top-level statements and those inside functions (a model is often built in a build_model())."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.With)):
            yield from node.body
        else:
            yield node


def detect_framework(code: str) -> str | None:
    torch_marks = ("import torch", "from torch", "nn.Module", "nn.Sequential", "nn.Conv", "nn.Linear")
    keras_marks = ("keras", "tensorflow", "layers.", "Sequential(", "model.add(")
    t = sum(code.count(m) for m in torch_marks)
    k = sum(code.count(m) for m in keras_marks) - code.count("nn.Sequential(")
    if t == k == 0:
        return None
    return "torch" if t >= k else "keras"


def parse_model(code: str, framework: str | None = None, variables: dict[str, Any] | None = None) -> ParsedModel:
    """The model's layers in order, as specs in the framework's own words."""
    if len(code) > MAX_CHARS:
        raise CodeError(f"the code has {len(code):,} characters; Convscope reads at most {MAX_CHARS:,}")
    try:
        with _PARSE_LOCK:  # CPython 3.11's ast keeps recursion state per interpreter: one parse at a time
            tree = ast.parse(code)
    except (RecursionError, MemoryError, SystemError):
        raise CodeError("the code nests too deeply (or is too large) for Convscope to read") from None
    except (SyntaxError, ValueError, OverflowError) as e:
        where = f"line {e.lineno}: " if isinstance(e, SyntaxError) and e.lineno else ""
        raise CodeError(f"this is not Python that Convscope can read: {where}{getattr(e, 'msg', None) or e}") from None
    count = 0
    for _ in ast.walk(tree):  # iterative (a queue), so deep trees cannot exhaust the stack
        count += 1
        if count > MAX_NODES:
            raise CodeError(f"the code is too large to read (more than {MAX_NODES:,} syntax nodes)")
    framework = framework or detect_framework(code)
    if framework not in ("torch", "keras"):
        raise CodeError("cannot tell whether this is PyTorch or Keras code: choose the framework")
    reader = _Reader(tree, framework, dict(variables or {}))
    try:
        reader.keras() if framework == "keras" else reader.torch()
    except RecursionError:
        raise CodeError("the code nests too deeply to read") from None
    if not reader.model.layers:
        raise CodeError("found no model: Convscope reads Keras Sequential([...]) / model.add(...) / functional "
                        "layers, and PyTorch nn.Sequential(...) or an nn.Module class")
    return reader.model
