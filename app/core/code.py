"""Pasted model code -> the layers a forward pass runs, in order, and where each one's input comes from.

The code is parsed with ``ast`` and followed by a small interpreter that never executes it: values are
numbers, strings, tuples, lists and dicts the code writes itself; layers are specs in the framework's own
words; tensors are symbols that remember which layer made them. It follows what people write: Keras
Sequential lists, ``model.add`` chains and the functional API (branches, merges, models built inside
functions); PyTorch ``nn.Sequential`` and ``nn.Module`` classes, their own blocks, helper functions, layer
lists built in loops, and ``forward()`` as data flow (several variables, ``torch.cat``, ``+``, ``F.*``,
``view``/``size()``, loops over ``ModuleList``). What it cannot follow is named, never guessed.

Hostile input is bounded before and during the work: a length cap, ``ast.parse`` fenced against the
parser's own errors, a node cap, then caps on interpreter steps, call depth, numbers, list lengths and
layers. Nothing from the paste is imported, opened, evaluated or called outside this interpreter.
"""
from __future__ import annotations

import ast
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from ..core.frameworks import zoo
from ..core.frameworks.common import SpecError
from ..core.frameworks.signatures import KERAS_ALIASES, POSITIONAL, no_effect
from ..core.trace import MERGES, layer_step, merge_step

MAX_CHARS = 20_000
_PARSE_LOCK = threading.Lock()
MAX_NODES = 20_000
MAX_NUMBER = 2**31
MAX_ITEMS = 64  # a literal tuple or list (VGG's configurations hold 18–21)
MAX_STEPS = 200_000  # expressions and statements the interpreter follows per request
MAX_DEPTH = 24  # nested calls of the paste's own functions and classes
MAX_LAYERS = 2_000  # rows in a trace: the zoos' deepest (Keras' ResNet152 516, NASNetLarge 1,041) fit
MAX_LIST = 2_000  # any list the code builds (append in a loop)


class CodeError(ValueError):
    """The code cannot be read as a model; the message says where and why."""


class _ZooRefusal(CodeError):
    """A zoo architecture's own check failed (its message, from core/frameworks/zoo_*.py)."""


class NeedShape(Exception):
    """forward() uses a size that only the input shape can give."""


class _Return(Exception):
    def __init__(self, value):
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Stop(Exception):
    """A layer's shape failed: the trace stops there, so the code after it need not be followed."""


# positional parameters of every layer constructor, recorded from torch.nn / keras.layers (inspect.signature)
_POSITIONAL = POSITIONAL
# torch.nn.functional calls and tensor methods in a forward(): what layer each one is
_FUNCTIONAL = {"relu": "ReLU", "relu6": "ReLU6", "gelu": "GELU", "sigmoid": "Sigmoid", "tanh": "Tanh",
               "silu": "SiLU", "elu": "ELU", "leaky_relu": "LeakyReLU", "softplus": "Softplus", "mish": "Mish",
               "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "selu": "SELU", "celu": "CELU",
               "dropout": "Dropout", "dropout2d": "Dropout2d", "dropout1d": "Dropout1d", "softmax": "Softmax",
               "log_softmax": "LogSoftmax",
               **{f"max_pool{d}d": f"MaxPool{d}d" for d in (1, 2, 3)}, **{f"avg_pool{d}d": f"AvgPool{d}d" for d in (1, 2, 3)},
               **{f"adaptive_avg_pool{d}d": f"AdaptiveAvgPool{d}d" for d in (1, 2, 3)},
               **{f"adaptive_max_pool{d}d": f"AdaptiveMaxPool{d}d" for d in (1, 2, 3)}}
_FUNCTIONAL_ARGS = {**{f"MaxPool{d}d": ("kernel_size", "stride", "padding") for d in (1, 2, 3)},
                    **{f"AvgPool{d}d": ("kernel_size", "stride", "padding") for d in (1, 2, 3)},
                    **{f"Adaptive{k}Pool{d}d": ("output_size",) for k in ("Avg", "Max") for d in (1, 2, 3)},
                    "Dropout": ("p",), "Dropout2d": ("p",), "Dropout1d": ("p",), "LeakyReLU": ("negative_slope",),
                    "Softmax": ("dim",), "LogSoftmax": ("dim",), "ELU": ("alpha",)}
_SAME_TENSOR = {"contiguous", "float", "double", "half", "clone", "detach", "cpu", "cuda", "to", "type_as",
                "requires_grad_", "normalize", "dropout_"}
_KERAS_MERGE_FUNCS = {"add": "Add", "subtract": "Subtract", "multiply": "Multiply", "average": "Average",
                      "maximum": "Maximum", "minimum": "Minimum", "concatenate": "Concatenate"}
_RNNS = {"LSTM", "GRU", "RNN"}
_NOT_A_HELPER = object()
# Keras 1/2 spellings (keras/legacy/interfaces.py of Keras 2 converted them): what Keras 3 calls each. Written by
# hand: Keras 3's signatures cannot give them. A keyword is renamed only where the layer has no parameter of that name.
_OLD_KERAS_KEYWORDS = {"nb_filter": "filters", "filter_length": "kernel_size", "border_mode": "padding",
                       "subsample": "strides", "subsample_length": "strides", "init": "kernel_initializer",
                       "output_dim": "units", "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer",
                       "W_constraint": "kernel_constraint", "b_constraint": "bias_constraint", "bias": "use_bias",
                       "dim_ordering": "data_format", "pool_length": "pool_size", "stride": "strides", "p": "rate",
                       "atrous_rate": "dilation_rate", "input": "inputs", "output": "outputs"}
_OLD_KERAS_VALUES = {"tf": "channels_last", "th": "channels_first"}  # dim_ordering's values
_OLD_KERAS_CONV = {"Convolution1D": ("Conv1D", 1), "Convolution2D": ("Conv2D", 2), "Convolution3D": ("Conv3D", 3),
                   "AtrousConvolution2D": ("Conv2D", 2)}
_OLD_KERAS_REFUSED = {"Merge": "Keras 2 replaced it by layers.add / layers.concatenate (Add, Concatenate): write those",
                      "merge": "Keras 2 replaced it by layers.add / layers.concatenate (Add, Concatenate): write those",
"Deconvolution2D": "Keras 2 names it Conv2DTranspose(filters, kernel_size, strides=..., "
                                         "padding=...), without output_shape: write that",
                      "Highway": "Keras 2 removed it; Convscope does not trace it",
                      "MaxoutDense": "Keras 2 removed it; Convscope does not trace it"}
_LIBRARIES = {"nn": "torch.nn", "F": "torch.nn.functional", "torch": "torch", "keras": "keras", "layers": "keras.layers",
              "tf": "tensorflow", "models": "keras.models", "np": "numpy", "math": "math", "functional": "torch.nn.functional"}
_BUILTINS = {"range", "len", "int", "float", "round", "min", "max", "abs", "sum", "list", "tuple", "dict", "enumerate",
             "zip", "reversed", "print", "super", "isinstance", "setattr", "getattr", "hasattr", "str", "bool",
             "OrderedDict", "sorted", "any", "all", "divmod", "pow", "type", "cast"}


class Unknown:
    """A value the paste does not give: a name to ask for (``kind='name'``) or something only running the
    code could give (``kind='expr'``: a call Convscope does not follow, data loaded from files)."""

    def __init__(self, kind: str, text: str, names: tuple = (), line: int | None = None):
        self.kind, self.text, self.names, self.line = kind, text, names, line


class Ext:
    """A library object the code refers to (``nn``, ``keras.layers.Conv2D``, ``F.relu``)."""

    def __init__(self, path: str):
        self.path = path

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def __eq__(self, other) -> bool:  # `norm_layer.func == nn.InstanceNorm2d`: the same library object
        return isinstance(other, Ext) and _canonical(self.path) == _canonical(other.path)

    def __hash__(self) -> int:
        return hash(_canonical(self.path))


class Partial:
    """functools.partial(func, *args, **kwargs): called, it calls func with those first."""

    def __init__(self, func, args: list, kwargs: dict):
        self.func, self.args, self.kwargs = func, args, kwargs


class Ten:
    """A tensor: which layer made it (``ref``; −1, −2 … the model inputs) and its shape, when known."""

    def __init__(self, ref: int, shape: tuple | None, framework: str):
        self.ref, self.shape, self.framework = ref, shape, framework


class SizeRef:
    """x.size(1) while the input shape is not known."""

    def __init__(self, ten: Ten, axis: int, text: str):
        self.ten, self.axis, self.text = ten, axis, text


class ShapeOf:
    def __init__(self, ten: Ten, text: str):
        self.ten, self.text = ten, text


class Func:
    def __init__(self, node: ast.FunctionDef | ast.Lambda, scope: dict, owner: Obj | None = None):
        self.node, self.scope, self.owner = node, scope, owner


class Cls:
    def __init__(self, node: ast.ClassDef, scope: dict, attrs: dict, bases: list):
        self.node, self.scope, self.attrs, self.bases = node, scope, attrs, bases

    @property
    def name(self) -> str:
        return self.node.name

    def lookup(self, name: str):
        if name in self.attrs:
            return self.attrs[name]
        for base in self.bases:
            if isinstance(base, Cls):
                found = base.lookup(name)
                if found is not None:
                    return found
        return None


class Obj:
    """An instance of one of the paste's classes (a PyTorch block or model)."""

    def __init__(self, cls: Cls):
        self.cls, self.attrs = cls, {}


class Mod:
    """A torch.nn layer (a leaf module) or a Keras layer: its spec in the framework's words."""

    def __init__(self, spec: dict, line: int, name: str | None = None, input_shape=None):
        self.spec, self.line, self.name, self.input_shape = spec, line, name, input_shape


class Seq:
    """nn.Sequential / nn.ModuleList / nn.ModuleDict, or keras.Sequential: ordered children."""

    def __init__(self, kind: str, children: list, line: int, name: str | None = None):
        self.kind, self.children, self.line, self.name = kind, children, line, name  # children: [(key, module)]
        self.input_shape = None


class KModel:
    def __init__(self, inputs: list, outputs: list, line: int, name: str | None = None):
        self.inputs, self.outputs, self.line, self.name = inputs, outputs, line, name


class Method:
    def __init__(self, target, name: str):
        self.target, self.name = target, name


class Sample:
    """torch.randn(1, 3, 224, 224) written at the top level: the paste's own example input."""

    def __init__(self, shape: tuple):
        self.shape = shape


class Super:
    def __init__(self, obj=None):
        self.obj = obj


MODULES = (Mod, Seq, Obj)


@dataclass
class Node:
    spec: dict
    inputs: list
    name: str | None
    shape: tuple | None


def _snake(name: str) -> str:
    """Keras' default layer names: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d (keras.src.utils.naming)."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


@dataclass
class ParsedModel:
    framework: str
    layers: list[dict] = field(default_factory=list)
    names: list[str | None] = field(default_factory=list)  # torch module paths ("conv1", "layer1.0.conv1"); Keras layer names
    inputs: list[list[int]] = field(default_factory=list)  # per layer: earlier layers' indices, or -1, -2… model inputs
    input_shape: tuple | None = None  # from the code: (None, *shape) for Keras
    sources: list[tuple] = field(default_factory=list)  # shapes of model inputs after the first (Keras)
    unresolved: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    needs_shape: str | None = None  # why the input shape is needed (and not known) to follow the code
    model_name: str | None = None  # the class or variable traced
    candidates: list[str] = field(default_factory=list)  # other classes that could be the model

    def failure(self, message: str) -> str:
        return message




def _text(node: ast.AST, n: int = 60) -> str:
    try:
        return ast.unparse(node)[:n]
    except (ValueError, RecursionError, AttributeError, TypeError):
        return "…"


def _line(node) -> int:
    return getattr(node, "lineno", 0) or 0


class _Run:
    """Follows one paste. Soft failures at the top level (a training loop, a data loader) skip that statement;
    inside a model they are refusals that say what could not be followed."""

    def __init__(self, tree: ast.Module, framework: str, variables: dict[str, Any], input_shape):
        self.tree, self.fw = tree, framework
        self.variables = dict(variables)
        self.request_shape = tuple(input_shape) if input_shape else None
        self.globals: dict[str, Any] = {}
        self.bad: dict[str, str] = {}
        self.unresolved: list[str] = []
        self.notes: list[str] = []
        self.steps = 0
        self.depth = 0
        self.nodes: list[Node] = []
        self.source_shapes: list[tuple | None] = []
        self.source_text: list[str] = []
        self.paths: dict[int, str] = {}
        self.shape_failed = False
        self.needs_shape: str | None = None
        self.keras_counts: dict[str, int] = {}
        self.assigned: list[tuple[str, Any]] = []  # top-level (name, value) in order
        self.called_funcs: set[str] = set()
        self.strict = 0  # > 0 inside a call the model depends on: failures are refusals
        self.batch_known = framework == "torch" or bool(self.request_shape and self.request_shape[0] is not None)
        self.shape_why: str | None = None
        self.candidates: list[str] = []
        self.model_name: str | None = None
        self.owners: list = []  # the object whose method runs (for super())
        self.in_layer_arg = 0  # > 0 while a layer's argument is read: an unknown name there is a question
        self.example_input = None  # (module, shape) from `model(torch.randn(...))` in the paste
        self.data_names: dict[str, str] = {}  # top-level names computed from data: name -> the expression

    # ------------------------------------------------------------------ bookkeeping
    def tick(self, node=None) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise CodeError(f"the code takes more than {MAX_STEPS:,} steps to follow; Convscope follows smaller "
                            "programs (paste the model without training loops)")

    def ask(self, u: Unknown) -> None:
        for name in u.names:
            if name not in self.unresolved:
                self.unresolved.append(name)

    def number(self, v, node, where: str = ""):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and (
                abs(v) > MAX_NUMBER or (isinstance(v, float) and not math.isfinite(v))):
            label = f"{where} = " if where else ""
            raise CodeError(f"line {_line(node)}: {label}`{_text(node)}` is {'too large' if abs(v) > 1e30 else v}, "
                            "larger than Convscope reads (|x| ≤ 2^31)")
        return v

    def unknown_error(self, u: Unknown, node, what: str) -> CodeError:
        where = f" (line {u.line})" if u.line else ""
        if u.kind == "name":
            return CodeError(f"line {_line(node)}: {what} needs {', '.join(u.names)}, which the code does not define: "
                             f"give {'it' if len(u.names) == 1 else 'them'} in variables")
        return CodeError(f"line {_line(node)}: {what} depends on `{u.text}`{where}, which Convscope cannot follow "
                         "without running the code")

    # ------------------------------------------------------------------ names
    def lookup(self, name: str, scope: dict | None, node):
        if scope is not None and name in scope:
            return scope[name]
        if name in self.globals:
            return self.globals[name]
        if name in self.variables:
            return self.variables[name]
        if name in self.bad:
            raise CodeError(self.bad[name])
        if name in _BUILTINS:
            return Method(None, name)
        if name in _LIBRARIES:
            return Ext(_LIBRARIES[name])
        if name[:1].isupper() and (name in _POSITIONAL[self.fw] or name in ("Sequential", "Model", "ModuleList",
                                                                              "ModuleDict", "Input", "Functional")
                                   or self.known_layer(name)):
            return Ext(("torch.nn." if self.fw == "torch" else "keras.layers.") + name)
        if name in _KERAS_MERGE_FUNCS and self.fw == "keras":
            return Ext("keras.layers." + name)
        return Unknown("name", name, (name,), _line(node))

    def known_layer(self, name: str) -> bool:
        try:
            from ..core.trace import supported_types
            return name in supported_types(self.fw) or name in MERGES
        except Exception:  # noqa: BLE001 -- a name is a layer or not; never a failure
            return False

    # ------------------------------------------------------------------ statements
    def run_body(self, body: list[ast.stmt], scope: dict | None) -> None:
        for stmt in body:
            self.stmt(stmt, scope)

    def top(self) -> None:
        """The paste's own statements, in order; one that cannot be followed is skipped and the names it
        assigns remember why (said only if the model uses them)."""
        for stmt in self.tree.body:
            if isinstance(stmt, ast.For) and self.training_loop(stmt):
                continue
            try:
                self.stmt(stmt, None)
            except (CodeError, NeedShape, _Return, _Break, _Continue, RecursionError) as e:
                if isinstance(e, RecursionError):
                    raise CodeError("the code nests too deeply to follow") from None
                if self.steps > MAX_STEPS or len(self.nodes) > MAX_LAYERS:
                    raise
                message = str(e) if isinstance(e, CodeError) else f"line {_line(stmt)}: needs the input shape"
                for target in _targets(stmt):
                    self.bad[target] = message
                    self.globals.pop(target, None)

    def training_loop(self, stmt: ast.For) -> bool:
        """A top-level loop over data or epochs (`for x, y in loader`, `for epoch in range(100)`) builds no model:
        skipped, so it neither spends the step budget nor asks for the loader."""
        try:
            items = self.ev(stmt.iter, None)
        except (CodeError, NeedShape):
            return True
        return isinstance(items, Unknown) or (isinstance(items, (range, list, tuple)) and len(items) > 64)

    def stmt(self, stmt: ast.stmt, scope: dict | None) -> None:
        self.tick()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                if isinstance(stmt, ast.Import):
                    if alias.asname:
                        self.assign_name(alias.asname, Ext(alias.name), scope)
                    else:
                        root = alias.name.split(".")[0]
                        self.assign_name(root, Ext(root), scope)
                elif alias.name != "*" and not self.pasted(alias.asname or alias.name, stmt, scope):
                    self.assign_name(alias.asname or alias.name, Ext(f"{stmt.module or ''}.{alias.name}"), scope)
        elif isinstance(stmt, ast.FunctionDef):
            self.assign_name(stmt.name, Func(stmt, scope), scope)
        elif isinstance(stmt, ast.ClassDef):
            self.define_class(stmt, scope)
        elif isinstance(stmt, ast.Assign):
            value = self.ev(stmt.value, scope)
            for target in stmt.targets:
                self.assign(target, value, scope)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.ev(stmt.value, scope), scope)
        elif isinstance(stmt, ast.AugAssign):
            value = self.binop(stmt.op, self.ev(stmt.target, scope), self.ev(stmt.value, scope), stmt)
            self.assign(stmt.target, value, scope)
        elif isinstance(stmt, ast.Expr):
            if not (isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
                value = self.ev(stmt.value, scope)
                if scope is None and isinstance(value, (*MODULES, KModel)):  # a bare `nn.Sequential(...)`
                    label = f"{_text(stmt.value.func, 30)}(…)" if isinstance(stmt.value, ast.Call) else _text(stmt.value, 30)
                    self.assigned.append((label, value))
        elif isinstance(stmt, ast.Return):
            raise _Return(None if stmt.value is None else self.ev(stmt.value, scope))
        elif isinstance(stmt, ast.If):
            self.run_body(stmt.body if self.truth(self.ev(stmt.test, scope), stmt.test) else stmt.orelse, scope)
        elif isinstance(stmt, ast.For):
            items = self.iterate(self.ev(stmt.iter, scope), stmt.iter)
            for item in items:
                self.assign(stmt.target, item, scope)
                try:
                    self.run_body(stmt.body, scope)
                except _Break:
                    break
                except _Continue:
                    continue
            else:
                self.run_body(stmt.orelse, scope)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            self.run_body(stmt.body, scope)
        elif isinstance(stmt, ast.Try):
            self.run_body(stmt.body, scope)
            self.run_body(stmt.orelse, scope)
            self.run_body(stmt.finalbody, scope)
        elif isinstance(stmt, ast.Break):
            raise _Break()
        elif isinstance(stmt, ast.Continue):
            raise _Continue()
        elif isinstance(stmt, ast.Raise) and isinstance(stmt.exc, ast.Call) and stmt.exc.args and isinstance(
                stmt.exc.args[0], ast.Constant) and stmt.exc.args[0].value in zoo.REFUSALS:
            raise _ZooRefusal(stmt.exc.args[0].value)
        elif isinstance(stmt, ast.Raise):
            raise CodeError(f"line {stmt.lineno}: the code raises an error here (`{_text(stmt)}`)")
        elif isinstance(stmt, ast.While):
            raise CodeError(f"line {stmt.lineno}: while loops are not followed; write a for loop over a range")
        elif isinstance(stmt, (ast.Pass, ast.Assert, ast.Global, ast.Nonlocal, ast.Delete)):
            pass
        else:
            raise CodeError(f"line {_line(stmt)}: `{_text(stmt, 40)}` is not followed")

    def pasted(self, name: str, stmt: ast.ImportFrom, scope) -> bool:
        """`from pkg.tcn import TemporalConvNet` after the paste defined TemporalConvNet: the pasted one wins (the
        import's module is not read), with a note."""
        if scope is not None or not isinstance(self.globals.get(name), (Cls, Func)):
            return False
        self.notes.append(f"line {stmt.lineno}: `from {stmt.module} import {name}` would replace the pasted {name}; "
                          f"Convscope cannot read {stmt.module}, so it traces the pasted one")
        return True

    def define_class(self, stmt: ast.ClassDef, scope) -> None:
        bases = [self.ev(b, scope) for b in stmt.bases]
        cls = Cls(stmt, scope, {}, bases)
        self.assign_name(stmt.name, cls, scope)
        for item in stmt.body:
            if isinstance(item, ast.FunctionDef):
                cls.attrs[item.name] = Func(item, scope)
            elif isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
                try:
                    cls.attrs[item.targets[0].id] = self.ev(item.value, scope)
                except CodeError:
                    pass

    def assign_name(self, name: str, value, scope) -> None:
        if scope is not None:
            scope[name] = value
        elif name not in self.variables:  # what the user gives wins over the code
            if isinstance(value, Unknown) and value.kind == "expr":  # from data: a value to ask for by name
                self.data_names[name] = value.text
                value = Unknown("name", name, (name,), value.line)
            self.globals[name] = value
            self.bad.pop(name, None)
            self.assigned.append((name, value))

    def assign(self, target: ast.AST, value, scope) -> None:
        if isinstance(target, ast.Name):
            self.assign_name(target.id, value, scope)
        elif isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(value, len(target.elts), target)
            for t, v in zip(target.elts, items):
                self.assign(t, v, scope)
        elif isinstance(target, ast.Attribute):
            obj = self.ev(target.value, scope)
            if isinstance(obj, Obj):
                obj.attrs[target.attr] = value
                if isinstance(value, Seq) and value.name is None:
                    value.name = target.attr
        elif isinstance(target, ast.Subscript):
            obj = self.ev(target.value, scope)
            key = self.ev(target.slice, scope)
            if isinstance(obj, dict) and isinstance(key, (str, int)) or isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
                obj[key] = value
            elif isinstance(obj, Seq) and isinstance(key, (str, int)):
                obj.children.append((str(key), value))
        elif isinstance(target, ast.Starred):
            raise CodeError(f"line {_line(target)}: starred assignment is not followed")

    def unpack(self, value, n: int, node) -> list:
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise CodeError(f"line {_line(node)}: {len(value)} values to unpack into {n} names")
            return list(value)
        if isinstance(value, Seq):
            return [c for _, c in value.children][:n]
        if isinstance(value, ShapeOf):
            self.need_shape(f"line {_line(node)}: `{value.text}`")
        if isinstance(value, Unknown):
            return [Unknown(value.kind, f"{value.text}[{i}]", value.names, value.line) for i in range(n)]
        raise CodeError(f"line {_line(node)}: cannot unpack `{_text(node)}` into {n} names")

    def iterate(self, value, node) -> list:
        if isinstance(value, (list, tuple, str)):
            return list(value)
        if isinstance(value, dict):
            return list(value)
        if isinstance(value, range):
            if len(value) > MAX_LIST:
                raise CodeError(f"line {_line(node)}: a loop of {len(value):,} steps; Convscope follows at most {MAX_LIST:,}")
            return list(value)
        if isinstance(value, Seq):
            return [c for _, c in value.children]
        if isinstance(value, Unknown):
            if not self.strict:
                return []
            if value.kind == "name":
                self.ask(value)
                return []
            raise self.unknown_error(value, node, "this loop")
        if isinstance(value, Ten):
            raise CodeError(f"line {_line(node)}: a loop over a tensor's values is not followed")
        raise CodeError(f"line {_line(node)}: cannot loop over `{_text(node)}`")

    def truth(self, value, node) -> bool:
        if isinstance(value, Unknown):
            if not self.strict and not self.in_layer_arg:
                return False
            if value.kind == "name":
                self.ask(value)
                return False
            raise self.unknown_error(value, node, f"`if {_text(node)}`")
        if isinstance(value, (SizeRef, ShapeOf)):
            self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        if isinstance(value, Ten):
            raise CodeError(f"line {_line(node)}: `if {_text(node)}` tests a tensor's values, which only running the "
                            "model gives")
        if isinstance(value, (Mod, Seq, Obj, Ext, Func, Cls, KModel, Method)):
            return True
        return bool(value)
    # ------------------------------------------------------------------ expressions
    def ev(self, node: ast.AST, scope: dict | None):
        self.tick()
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return self.number(v, node)
            if v is None or isinstance(v, (bool, str)):
                return v
            return Unknown("expr", _text(node), (), _line(node))
        if isinstance(node, ast.Name):
            return self.lookup(node.id, scope, node)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            if len(node.elts) > MAX_ITEMS:
                raise CodeError(f"line {node.lineno}: `{_text(node, 30)}` has {len(node.elts)} items; at most {MAX_ITEMS}")
            items = []
            for e in node.elts:
                if isinstance(e, ast.Starred):
                    items += self.iterate(self.ev(e.value, scope), e)
                else:
                    items.append(self.ev(e, scope))
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            if len(node.keys) > MAX_ITEMS:
                raise CodeError(f"line {node.lineno}: a dict of {len(node.keys)} items; at most {MAX_ITEMS}")
            out = {}
            for k, v in zip(node.keys, node.values):
                if k is None:
                    value = self.ev(v, scope)
                    if isinstance(value, dict):
                        out.update(value)
                    continue
                key = self.ev(k, scope)
                if isinstance(key, (str, int, float, bool, tuple)) or key is None:
                    out[key] = self.ev(v, scope)
            return out
        if isinstance(node, ast.UnaryOp):
            v = self.ev(node.operand, scope)
            if isinstance(node.op, ast.Not):
                return not self.truth(v, node.operand)
            if isinstance(v, Unknown):
                return v
            if isinstance(v, (SizeRef, ShapeOf)):
                self.need_shape(f"line {node.lineno}: `{_text(node)}`")
            if isinstance(v, Ten):
                return v
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise CodeError(f"line {node.lineno}: a sign goes before a number, not `{_text(node.operand, 40)}`")
            return -v if isinstance(node.op, ast.USub) else v if isinstance(node.op, ast.UAdd) else ~int(v)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):  # a power tower is named whole, never computed
                try:
                    return self.binop(node.op, self.ev(node.left, scope), self.ev(node.right, scope), node)
                except CodeError as e:
                    if "2^31" not in str(e):
                        raise
                    raise CodeError(f"line {node.lineno}: `{_text(node)}` is larger than Convscope reads (|x| ≤ 2^31)") \
                        from None
            return self.binop(node.op, self.ev(node.left, scope), self.ev(node.right, scope), node)
        if isinstance(node, ast.BoolOp):
            value = None
            for operand in node.values:
                value = self.ev(operand, scope)
                t = self.truth(value, operand)
                if isinstance(node.op, ast.And) and not t or isinstance(node.op, ast.Or) and t:
                    return value
            return value
        if isinstance(node, ast.Compare):
            left = self.ev(node.left, scope)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.ev(right_node, scope)
                if not self.compare(op, left, right, node):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.ev(node.body if self.truth(self.ev(node.test, scope), node.test) else node.orelse, scope)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.ev(node.value, scope), node.attr, node)
        if isinstance(node, ast.Subscript):
            return self.subscript(self.ev(node.value, scope), node.slice, scope, node)
        if isinstance(node, ast.Slice):
            return slice(*(None if p is None else self.ev(p, scope) for p in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Call):
            return self.call_node(node, scope)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return self.comprehension(node, scope)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant):
                    parts.append(str(v.value))
                elif isinstance(v, ast.FormattedValue) and v.format_spec is None and v.conversion == -1:
                    x = self.ev(v.value, scope)
                    if not isinstance(x, (int, str)) or isinstance(x, bool):
                        return Unknown("expr", _text(node), (), node.lineno)
                    parts.append(str(x))
                else:
                    return Unknown("expr", _text(node), (), node.lineno)
            return "".join(parts)[:200]
        if isinstance(node, ast.Lambda):
            return Unknown("expr", _text(node), (), node.lineno)
        if isinstance(node, ast.Starred):
            raise CodeError(f"line {node.lineno}: `{_text(node)}` is only followed inside a call or a list")
        return Unknown("expr", _text(node), (), _line(node))

    def comprehension(self, node, scope) -> list:
        if len(node.generators) != 1:
            raise CodeError(f"line {node.lineno}: a comprehension with several `for`s is not followed")
        gen = node.generators[0]
        inner = dict(scope or {})
        out = []
        for item in self.iterate(self.ev(gen.iter, scope), gen.iter):
            self.assign(gen.target, item, inner)
            if all(self.truth(self.ev(c, inner), c) for c in gen.ifs):
                out.append(self.ev(node.elt, inner))
                if len(out) > MAX_LIST:
                    raise CodeError(f"line {node.lineno}: a list of more than {MAX_LIST:,} items")
        return out

    def compare(self, op, a, b, node) -> bool:
        for v in (a, b):
            if isinstance(v, (SizeRef, ShapeOf)):
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
            if isinstance(v, Unknown) and not isinstance(op, (ast.Is, ast.IsNot)):
                return self.truth(v, node)
            if isinstance(v, Ten) and not isinstance(op, (ast.Is, ast.IsNot)):
                raise CodeError(f"line {_line(node)}: `{_text(node)}` compares a tensor's values, which only running "
                                "the model gives")
        try:
            if isinstance(op, ast.Eq):
                return a == b
            if isinstance(op, ast.NotEq):
                return a != b
            if isinstance(op, ast.Is):
                return a is b or (a is None and b is None)
            if isinstance(op, ast.IsNot):
                return not (a is b or (a is None and b is None))
            if isinstance(op, ast.In):
                return a in b if isinstance(b, (list, tuple, dict, str)) else False
            if isinstance(op, ast.NotIn):
                return a not in b if isinstance(b, (list, tuple, dict, str)) else True
            if isinstance(op, ast.Lt):
                return a < b
            if isinstance(op, ast.LtE):
                return a <= b
            if isinstance(op, ast.Gt):
                return a > b
            if isinstance(op, ast.GtE):
                return a >= b
        except TypeError:
            pass
        raise CodeError(f"line {_line(node)}: cannot compare `{_text(node)}`")

    def binop(self, op, a, b, node):
        if isinstance(a, Ten) or isinstance(b, Ten):
            return self.tensor_binop(op, a, b, node)
        for v in (a, b):
            if isinstance(v, (SizeRef, ShapeOf)):
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        for v in (a, b):
            if isinstance(v, Unknown):
                return Unknown(v.kind, _text(node), tuple(dict.fromkeys(
                    [*(a.names if isinstance(a, Unknown) else ()), *(b.names if isinstance(b, Unknown) else ())])),
                    _line(node))
        num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
        if num(a) and num(b):
            if isinstance(op, ast.Pow):
                if b < 0 or b > 64 or (abs(a) > 1 and b * math.log2(abs(a)) > 31):
                    raise CodeError(f"line {_line(node)}: `{_text(node)}` is larger than Convscope reads (|x| ≤ 2^31)")
                return self.number(a ** b, node)
            if isinstance(op, (ast.Div, ast.FloorDiv, ast.Mod)) and b == 0:
                raise CodeError(f"line {_line(node)}: `{_text(node)}` divides by zero")
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
                   ast.FloorDiv: lambda: a // b, ast.Mod: lambda: a % b}
            if type(op) in ops:
                if isinstance(op, ast.Mult) and abs(a) * abs(b) > MAX_NUMBER:
                    raise CodeError(f"line {_line(node)}: `{_text(node)}` is larger than Convscope reads (|x| ≤ 2^31)")
                return self.number(ops[type(op)](), node)
            if isinstance(op, (ast.BitAnd, ast.BitOr, ast.LShift, ast.RShift)) and isinstance(a, int) and isinstance(b, int):
                if isinstance(op, ast.LShift) and b > 31:
                    raise CodeError(f"line {_line(node)}: `{_text(node)}` is larger than Convscope reads (|x| ≤ 2^31)")
                return self.number({ast.BitAnd: a & b, ast.BitOr: a | b}.get(type(op)) if not isinstance(
                    op, (ast.LShift, ast.RShift)) else (a << b if isinstance(op, ast.LShift) else a >> b), node)
        seqs = (list, tuple)
        if isinstance(op, ast.Add) and isinstance(a, seqs) and isinstance(b, seqs):
            if len(a) + len(b) > MAX_LIST:
                raise CodeError(f"line {_line(node)}: a list of more than {MAX_LIST:,} items")
            return type(a)([*a, *b]) if type(a) is type(b) else self.type_error(node)
        if isinstance(op, ast.Mult) and (isinstance(a, (*seqs, str)) and isinstance(b, int) and not isinstance(b, bool)
                                         or isinstance(b, (*seqs, str)) and isinstance(a, int) and not isinstance(a, bool)):
            seq, n = (a, b) if isinstance(b, int) else (b, a)
            if len(seq) * max(n, 0) > MAX_LIST:
                raise CodeError(f"line {_line(node)}: `{_text(node)}` makes more than {MAX_LIST:,} items")
            return seq * n
        if isinstance(op, ast.Add) and isinstance(a, str) and isinstance(b, str):
            return (a + b)[:1000]
        if isinstance(op, ast.Mod) and isinstance(a, str):
            return self.percent(a, b, node)
        if isinstance(op, ast.Add) and isinstance(a, Seq) and isinstance(b, Seq):
            return Seq(a.kind, a.children + b.children, a.line)
        return self.type_error(node)

    def type_error(self, node):
        raise CodeError(f"line {_line(node)}: cannot compute `{_text(node)}`: arithmetic works on numbers, and + on "
                        "tuples and lists")

    def percent(self, fmt: str, args, node) -> str:
        args = list(args) if isinstance(args, tuple) else [args]
        out, i = [], 0
        for piece in re.split(r"(%[ds%]|%\.\df)", fmt):
            if piece in ("%d", "%s") or piece.endswith("f") and piece.startswith("%"):  # %.2f: keras' model names
                kinds = (int, float) if piece.endswith("f") else (int, str)
                if i >= len(args) or not isinstance(args[i], kinds) or isinstance(args[i], bool):
                    return Unknown("expr", _text(node), (), _line(node))
                out.append(piece % args[i] if piece.endswith("f") else str(args[i]))
                i += 1
            else:
                out.append("%" if piece == "%%" else piece)
        return "".join(out)[:200]
    # ------------------------------------------------------------------ attributes and items
    def attribute(self, obj, attr: str, node):
        if isinstance(obj, Ext):
            return Ext(f"{obj.path}.{attr}")
        if isinstance(obj, Unknown):
            if obj.kind == "name":
                dotted = f"{obj.text}.{attr}"
                if dotted in self.variables:
                    return self.variables[dotted]
                return Unknown("name", dotted, (dotted,), obj.line)
            return Unknown("expr", _text(node), obj.names, obj.line)
        if isinstance(obj, Obj):
            if attr in obj.attrs:
                return obj.attrs[attr]
            found = obj.cls.lookup(attr)
            if isinstance(found, Func):
                return Func(found.node, found.scope, obj)
            if found is not None:
                return found
            if attr == "training":
                return False  # traced as model.eval()
            return Method(obj, attr)
        if isinstance(obj, Cls):
            found = obj.lookup(attr)
            if found is not None:
                return found
            return Unknown("expr", _text(node), (), _line(node))
        if isinstance(obj, Ten):
            if attr == "shape":
                return self.shape_of(obj, node)
            if attr in ("T", "mT"):
                return obj
            if attr == "is_cuda":  # traced as on a CPU: a GPU count used only to choose data-parallel is not asked
                return False
            return Method(obj, attr)
        if isinstance(obj, Mod):
            if attr in obj.spec:
                return obj.spec[attr]
            positional = _POSITIONAL[self.fw].get(obj.spec["type"], ())
            aliases = {"weight": None}
            if attr in positional or attr in aliases:
                return Unknown("expr", _text(node), (), _line(node))
            return Method(obj, attr)
        if isinstance(obj, dict) and attr in obj and not hasattr(dict, attr):  # opt given as {"nz": 100}: opt.nz
            return obj[attr]
        if isinstance(obj, Partial) and attr in ("func", "args", "keywords"):
            return {"func": obj.func, "args": tuple(obj.args), "keywords": obj.kwargs}[attr]
        if isinstance(obj, KModel) and attr in ("input", "output", "inputs", "outputs"):
            # base.output: a backbone's last tensor, to build on (Model(base.input, x) lists its layers one by one)
            many = obj.inputs if attr.startswith("input") else obj.outputs
            return list(many) if attr.endswith("s") or len(many) > 1 else many[0]
        if isinstance(obj, (list, dict, str, Seq, KModel, Super)):
            return Method(obj, attr)
        if isinstance(obj, Method) and obj.target is None and obj.name == "OrderedDict":
            return Method(None, "OrderedDict")
        return Unknown("expr", _text(node), (), _line(node))

    def shape_of(self, ten: Ten, node):
        if ten.shape is None:
            return ShapeOf(ten, _text(node))
        if ten.framework == "keras" and not self.batch_known:
            return (None, *ten.shape[1:])
        return tuple(ten.shape)

    def subscript(self, obj, slice_node, scope, node):
        if isinstance(obj, Ten):
            return self.tensor_index(obj, slice_node, scope, node)
        key = self.ev(slice_node, scope)
        if isinstance(obj, ShapeOf):
            if isinstance(key, int):
                return SizeRef(obj.ten, key, _text(node))
            self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        if isinstance(obj, Unknown):
            return Unknown(obj.kind, _text(node), obj.names, obj.line) if obj.kind == "name" else \
                Unknown("expr", _text(node), (), obj.line)
        if isinstance(key, Unknown):
            if key.kind == "name":
                self.ask(key)
            return Unknown(key.kind, _text(node), key.names, key.line)
        try:
            if isinstance(obj, Seq):
                if isinstance(key, slice):
                    return Seq(obj.kind, obj.children[key], obj.line)
                if isinstance(key, str):
                    return dict(obj.children)[key]
                return obj.children[key][1]
            if isinstance(obj, (list, tuple, str)) and isinstance(key, (slice, int)):
                return obj[key]
            if isinstance(obj, dict):
                return obj[key]
        except (KeyError, IndexError, TypeError, ValueError):
            raise CodeError(f"line {_line(node)}: `{_text(node)}`: no such item") from None
        raise CodeError(f"line {_line(node)}: cannot read `{_text(node)}`")

    # ------------------------------------------------------------------ calls
    def call_node(self, node: ast.Call, scope):
        func = self.ev(node.func, scope)
        layer = self.layer_name(func)
        args, kwargs = [], {}
        for i, a in enumerate(node.args):
            if isinstance(a, ast.Starred):
                args += self.iterate(self.ev(a.value, scope), a)
            else:
                args.append(self.arg(a, scope, layer, i, None))
        for kw in node.keywords:
            if kw.arg is None:
                value = self.ev(kw.value, scope)
                if isinstance(value, dict):
                    kwargs.update({str(k): v for k, v in value.items()})
                elif layer:
                    raise CodeError(f"line {node.lineno}: {layer}(**{_text(kw.value, 30)}) cannot be read: its keywords "
                                    "are not a dict the code writes out; write the keywords out")
                continue
            kwargs[kw.arg] = self.arg(kw.value, scope, layer, None, kw.arg)
        return self.call(func, args, kwargs, node)

    def arg(self, a, scope, layer, i, key):
        if not layer:
            return self.ev(a, scope)
        if key is None:
            positional = _POSITIONAL[self.fw].get(layer, ())
            key = positional[i] if i < len(positional) else f"argument {i + 1}"
        self.in_layer_arg += 1
        try:
            return self.ev(a, scope)
        except CodeError as e:
            message = str(e)
            if key not in message:
                message = re.sub(r"^(line \d+: )?", lambda m: f"{m.group(0)}{layer} {key}: ", message, count=1)
            raise CodeError(message) from None
        finally:
            self.in_layer_arg -= 1

    def layer_name(self, func) -> str | None:
        if isinstance(func, Ext) and func.name[:1].isupper() and func.name in _POSITIONAL[self.fw]:
            return func.name
        return None

    def call(self, func, args: list, kwargs: dict, node):
        self.tick()
        if isinstance(func, Func):
            return self.call_func(func, args, kwargs, node)
        if isinstance(func, Cls):
            return self.instantiate(func, args, kwargs, node)
        if isinstance(func, Method):
            return self.method(func, args, kwargs, node)
        if isinstance(func, Ext):
            return self.external(func, args, kwargs, node)
        if isinstance(func, Partial):
            return self.call(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, node)
        tensors = [a for a in args if isinstance(a, (Ten, list, tuple))]
        if isinstance(func, (Obj, Seq, Mod)) and args and isinstance(args[0], Sample):
            if not self.strict and self.example_input is None:  # model(torch.randn(1, 3, 224, 224)): the input
                self.example_input = (func, args[0].shape)
            return Unknown("expr", _text(node), (), _line(node))
        if isinstance(func, Obj):
            forward = func.cls.lookup("forward") or func.cls.lookup("call")
            if not isinstance(forward, Func) and _container(func.cls) == "Sequential":
                x = args[0] if args else None
                for child in func.attrs.values():
                    if isinstance(child, MODULES):
                        x = self.call(child, [x], {}, node)
                return x
            if not isinstance(forward, Func):
                raise CodeError(f"line {_line(node)}: {func.cls.name} has no forward() to follow")
            return self.call_func(Func(forward.node, forward.scope, func), args, kwargs, node)
        if isinstance(func, Mod):
            return self.apply_layer(func, args, kwargs, node)
        if isinstance(func, Seq) and func.kind == "keras":  # a Sequential used as a layer: one row, as Keras lists it
            mod = self.nested(func)
            return self.record(mod.spec, [self.tensor(args[0] if args else None, node, "Sequential")], mod.name, node)
        if isinstance(func, Seq):
            if not args:
                raise CodeError(f"line {_line(node)}: call the Sequential on a tensor")
            x = args[0]
            if not func.children and func.kind == "torch":  # nn.Sequential(): a leaf module, identity (a shortcut)
                return self.record({"type": "Sequential"}, [self.tensor(x, node, "Sequential")],
                                   self.paths.get(id(func)), node)
            for _, child in func.children:
                x = self.call(child, [x], {}, node)
            return x
        if isinstance(func, KModel):
            return self.nested_model(func, args, node)
        if isinstance(func, Unknown):
            if any(isinstance(a, Ten) for a in args) or tensors and self.strict:
                raise self.unknown_error(func, node, f"`{_text(node)}`")
            return Unknown("expr", _text(node), func.names, _line(node))
        if isinstance(func, Ten):
            raise CodeError(f"line {_line(node)}: `{_text(node)}` calls a tensor")
        return Unknown("expr", _text(node), (), _line(node))

    def call_func(self, func: Func, args, kwargs, node):
        fn = func.node
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.depth = 0
            raise CodeError(f"line {_line(node)}: calls nest more than {MAX_DEPTH} deep; Convscope follows flatter code")
        try:
            scope = dict(func.scope or {})
            params = [*fn.args.posonlyargs, *fn.args.args]
            if func.owner is not None:
                args = [func.owner, *args]
            defaults = fn.args.defaults
            first_default = len(params) - len(defaults)
            for i, p in enumerate(params):
                if i < len(args):
                    scope[p.arg] = args[i]
                elif p.arg in kwargs:
                    scope[p.arg] = kwargs.pop(p.arg)
                elif i >= first_default:
                    scope[p.arg] = self.ev(defaults[i - first_default], func.scope)
                else:
                    owner = func.owner.cls.name if func.owner is not None else None
                    label = f"{owner}({p.arg})" if owner and fn.name == "__init__" else p.arg
                    scope[p.arg] = Unknown("name", p.arg, (p.arg,), fn.lineno)
                    if owner and fn.name == "__init__":
                        self.notes.append(f"{label}: the constructor's {p.arg} has no default and the paste does "
                                          f"not create {owner} itself: give {p.arg} in variables")
            if fn.args.vararg:
                scope[fn.args.vararg.arg] = tuple(args[len(params):])
            elif len(args) > len(params):
                raise CodeError(f"line {_line(node)}: {fn.name}() takes {len(params)} arguments, got {len(args)}")
            for p, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults):
                if p.arg in kwargs:
                    scope[p.arg] = kwargs.pop(p.arg)
                elif d is not None:
                    scope[p.arg] = self.ev(d, func.scope)
                else:
                    scope[p.arg] = Unknown("name", p.arg, (p.arg,), fn.lineno)
            if fn.args.kwarg:
                scope[fn.args.kwarg.arg] = dict(kwargs)
            if isinstance(fn, ast.Lambda):
                return self.ev(fn.body, scope)
            self.strict += 1
            self.owners.append(func.owner)
            try:
                self.run_body(fn.body, scope)
            except _Return as r:
                return r.value
            finally:
                self.strict -= 1
                self.owners.pop()
            return None
        finally:
            self.depth = max(0, self.depth - 1)

    def instantiate(self, cls: Cls, args, kwargs, node):
        obj = Obj(cls)
        init = cls.lookup("__init__")
        if isinstance(init, Func):
            self.call_func(Func(init.node, init.scope, obj), args, kwargs, node)
        return obj
    # ------------------------------------------------------------------ builtins and methods
    def method(self, m: Method, args, kwargs, node):
        t, name = m.target, m.name
        if t is None:
            return self.builtin(name, args, kwargs, node)
        if isinstance(t, Ten):
            return self.tensor_method(t, name, args, kwargs, node)
        if isinstance(t, list):
            if name == "append" and args:
                if len(t) >= MAX_LIST:
                    raise CodeError(f"line {_line(node)}: a list of more than {MAX_LIST:,} items")
                t.append(args[0])
                return None
            if name in ("extend", "__iadd__") and args:
                items = self.iterate(args[0], node)
                if len(t) + len(items) > MAX_LIST:
                    raise CodeError(f"line {_line(node)}: a list of more than {MAX_LIST:,} items")
                t.extend(items)
                return None
            if name == "insert" and len(args) == 2 and isinstance(args[0], int):
                t.insert(args[0], args[1])
                return None
            if name == "pop":
                return t.pop(*[a for a in args if isinstance(a, int)]) if t else None
            if name == "index" and args:
                return t.index(args[0]) if args[0] in t else Unknown("expr", _text(node), (), _line(node))
            if name == "copy":
                return list(t)
        if isinstance(t, dict):
            if name == "items":
                return list(t.items())
            if name == "keys":
                return list(t)
            if name == "values":
                return list(t.values())
            if name == "get":
                return t.get(args[0], args[1] if len(args) > 1 else None) if args else None
            if name == "update" and args and isinstance(args[0], dict):
                t.update(args[0])
                return None
        if isinstance(t, str):
            if name == "format":
                return self.str_format(t, args, kwargs, node)
            if name in ("lower", "upper", "strip"):
                return getattr(t, name)()
            if name == "startswith" and args and isinstance(args[0], str):
                return t.startswith(args[0])
            if name == "join" and args:
                items = self.iterate(args[0], node)
                return t.join(str(i) for i in items)[:1000] if all(isinstance(i, str) for i in items) else \
                    Unknown("expr", _text(node), (), _line(node))
        if isinstance(t, Seq):
            if name in ("append", "add") and args:
                child = args[0]
                if t.kind == "keras" and isinstance(child, Ten) and child.ref >= 0:
                    raise CodeError(f"line {_line(node)}: model.add() takes a layer, not a tensor")
                t.children.append((str(len(t.children)), child))
                if t.kind == "keras" and isinstance(child, Mod) and child.input_shape and not t.children[:-1]:
                    t.input_shape = child.input_shape
                return None
            if name == "add_module" and len(args) == 2:
                t.children.append((str(args[0]), args[1]))
                return None
            if name == "extend" and args:
                for c in self.iterate(args[0], node):
                    t.children.append((str(len(t.children)), c))
                return None
            if name == "build" and t.kind == "keras" and (args or kwargs.get("input_shape")):
                shape = args[0] if args else kwargs.get("input_shape")
                if isinstance(shape, (list, tuple)) and all(v is None or isinstance(v, int) for v in shape) \
                        and None not in shape[1:]:
                    t.input_shape = tuple(shape)
                return None
            if name in ("summary", "compile", "build", "to", "cuda", "cpu", "eval", "train"):
                return t if name in ("to", "cuda", "cpu", "eval", "train") else None
            if name in ("items",):
                return list(t.children)
            if name in ("values", "children"):
                return [c for _, c in t.children]
            if name == "keys":
                return [k for k, _ in t.children]
        if isinstance(t, Obj):
            if name == "add_module" and len(args) == 2:
                t.attrs[str(args[0])] = args[1]
                return None
            if name == "register_module" and len(args) == 2:
                t.attrs[str(args[0])] = args[1]
                return None
            if name in ("to", "cuda", "cpu", "eval", "train", "float", "double"):
                return t
            if name == "register_buffer" or name == "register_parameter" or name == "apply":
                return None
            if name in _MODULE_LISTS:
                return _module_list(t, name)
            if name in ("parameters", "named_parameters"):
                return []  # weight initialisation loops: they make no layers
        if isinstance(t, Super):
            obj = t.obj
            if name == "__init__" and isinstance(obj, Obj) and args and _container(obj.cls):
                items = list(args[0].items()) if len(args) == 1 and isinstance(args[0], dict) else \
                    list(enumerate(self.iterate(args[0], node))) if _container(obj.cls) == "ModuleList" else \
                    list(enumerate(args))
                for key, child in items:
                    obj.attrs[str(key)] = child
            return None  # super().__init__(): nn.Module's own bookkeeping
        if isinstance(t, Mod) and name in ("to", "cuda", "cpu", "eval", "train"):
            return t
        return Unknown("expr", _text(node), (), _line(node))

    def is_instance(self, value, kinds, node) -> bool:
        """isinstance(m, nn.Conv2d) on what the paste built: layers by their type, blocks by their class."""
        if isinstance(kinds, (tuple, list)):
            return any(self.is_instance(value, k, node) for k in kinds)
        if isinstance(kinds, Method) and kinds.target is None and kinds.name in ("bool", "int", "float", "str", "list",
                                                                                  "tuple", "dict"):
            return type(value).__name__ == kinds.name or kinds.name == "int" and type(value) is bool
        if isinstance(kinds, Cls):
            return isinstance(value, Obj) and _subclass(value.cls, kinds)
        if not isinstance(kinds, Ext) or isinstance(value, Unknown):
            raise CodeError(f"line {_line(node)}: `{_text(node)}` tests a type Convscope cannot tell")
        name = kinds.name
        if name == "partial":
            return isinstance(value, Partial)
        if name == "Module":
            return isinstance(value, MODULES)
        if name == "Tensor":
            return isinstance(value, Ten)
        if isinstance(value, Mod):  # _ConvNd, _BatchNorm, _InstanceNorm: the bases torch's layers share
            return value.spec["type"] == name or name.startswith("_") and value.spec["type"].startswith(name[1:].rstrip("Nd"))
        if isinstance(value, Seq):
            return {"torch": "Sequential", "list": "ModuleList", "dict": "ModuleDict", "keras": "Sequential"}[value.kind] == name
        if isinstance(value, Obj):
            return _container(value.cls) == name
        return False

    def str_format(self, fmt: str, args, kwargs, node):
        def repl(m):
            key = m.group(1)
            if key == "":
                repl.i += 1
                value = args[repl.i - 1] if repl.i - 1 < len(args) else None
            elif key.isdigit():
                value = args[int(key)] if int(key) < len(args) else None
            else:
                value = kwargs.get(key)
            if not isinstance(value, (int, str)) or isinstance(value, bool):
                raise CodeError(f"line {_line(node)}: `{_text(node)}`: only numbers and strings are formatted")
            return str(value)
        repl.i = 0
        return re.sub(r"\{(\w*)\}", repl, fmt)[:200]

    def builtin(self, name, args, kwargs, node):
        unknown = [a for a in args if isinstance(a, Unknown)]
        if name == "print":
            return None
        if name == "cast" and len(args) == 2:  # typing.cast(int, v) is v
            return args[1]
        if name == "super":
            return Super(self.owners[-1] if self.owners else None)
        if name in ("int", "float", "round", "abs", "bool", "str") and args:
            v = args[0]
            if isinstance(v, Unknown):
                return v
            if isinstance(v, (SizeRef, ShapeOf)):
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
            if isinstance(v, (int, float)) and not isinstance(v, bool) or (name in ("bool", "str") and isinstance(v, (bool, str))):
                if name == "str":
                    return str(v)
                result = {"int": int, "float": float, "abs": abs, "bool": bool}.get(name, round)(v)
                return self.number(result, node)
            return Unknown("expr", _text(node), (), _line(node))
        if unknown:
            u = unknown[0]
            if name in ("range", "len", "min", "max", "sum") and u.kind == "name":
                return u
            return Unknown("expr", _text(node), u.names, _line(node))
        for a in args:
            if isinstance(a, (SizeRef, ShapeOf)):
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        try:
            if name == "range":
                if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                    raise CodeError(f"line {_line(node)}: range() takes integers, got `{_text(node)}`")
                r = range(*args)
                if len(r) > MAX_LIST:
                    raise CodeError(f"line {_line(node)}: range of {len(r):,} numbers; Convscope follows at most {MAX_LIST:,}")
                return r
            if name == "len" and args:
                v = args[0]
                if isinstance(v, Seq):
                    return len(v.children)
                if isinstance(v, (list, tuple, dict, str, range)):
                    return len(v)
                if isinstance(v, Ten) and v.shape is not None:
                    return v.shape[0]
                return Unknown("expr", _text(node), (), _line(node))
            if name in ("min", "max", "sum", "any", "all", "sorted"):
                items = self.iterate(args[0], node) if len(args) == 1 else list(args)
                if name in ("min", "max", "sum") and not all(isinstance(i, (int, float)) for i in items):
                    return Unknown("expr", _text(node), (), _line(node))
                return self.number({"min": min, "max": max, "sum": sum, "any": any, "all": all, "sorted": sorted}[name](items), node) \
                    if name in ("min", "max", "sum") else {"any": any, "all": all, "sorted": sorted}[name](items)
            if name == "divmod" and len(args) == 2 and all(isinstance(a, int) for a in args) and args[1]:
                return divmod(*args)
            if name == "pow" and len(args) == 2:
                return self.binop(ast.Pow(), args[0], args[1], node)
            if name in ("list", "tuple", "sorted"):
                items = self.iterate(args[0], node) if args else []
                return list(items) if name == "list" else tuple(items)
            if name in ("dict", "OrderedDict"):
                if args:
                    pairs = self.iterate(args[0], node) if not isinstance(args[0], dict) else list(args[0].items())
                    out = {}
                    for p in pairs:
                        if isinstance(p, (list, tuple)) and len(p) == 2:
                            out[p[0]] = p[1]
                    return {**out, **kwargs}
                return dict(kwargs)
            if name == "enumerate" and args:
                start = args[1] if len(args) > 1 else kwargs.get("start", 0)
                return [(i + start, v) for i, v in enumerate(self.iterate(args[0], node))]
            if name == "zip":
                return [tuple(t) for t in zip(*[self.iterate(a, node) for a in args])]
            if name == "reversed" and args:
                return list(reversed(self.iterate(args[0], node)))
            if name == "isinstance" and len(args) == 2:
                return self.is_instance(args[0], args[1], node)
            if name == "type" and len(args) == 1:
                return _type_of(args[0]) or Unknown("expr", _text(node), (), _line(node))
            if name == "setattr" and len(args) == 3 and isinstance(args[0], Obj) and isinstance(args[1], str):
                args[0].attrs[args[1]] = args[2]
                return None
            if name == "getattr" and len(args) >= 2 and isinstance(args[1], str):
                return self.attribute(args[0], args[1], node)
            if name == "hasattr" and len(args) == 2 and isinstance(args[0], Obj):
                return args[1] in args[0].attrs
        except (TypeError, ValueError, OverflowError):
            pass
        return Unknown("expr", _text(node), (), _line(node))
    # ------------------------------------------------------------------ library calls
    def helper(self, func: Ext, args, kwargs, node):
        """The standard library's and torch's helpers a model's code calls; _NOT_A_HELPER for anything else."""
        name, path = func.name, func.path
        if path == "typing.cast" and len(args) == 2:
            return args[1]
        if path in ("torch.cuda.is_available", "torch.backends.mps.is_available"):  # traced as on a CPU
            return False
        if name == "OrderedDict" and path.startswith("collections"):
            return self.builtin("OrderedDict", args, kwargs, node)
        if name == "partial" and path.startswith("functools") and args:
            return Partial(args[0], list(args[1:]), dict(kwargs))
        if name in ("weight_norm", "spectral_norm") and self.fw == "torch":
            return self.norm_wrapper(name, args, kwargs, node)
        return _NOT_A_HELPER

    def external(self, func: Ext, args, kwargs, node):
        name, path = func.name, func.path
        done = self.helper(func, args, kwargs, node)
        if done is not _NOT_A_HELPER:
            return done
        if zoo.is_zoo(self.fw, path):
            return self.zoo_model(name, path, args, kwargs, node)
        if self.fw == "keras":
            return self.keras_call(func, args, kwargs, node)
        if name == "Sequential":
            children = []
            if len(args) == 1 and isinstance(args[0], dict):
                children = [(str(k), v) for k, v in args[0].items()]
            else:
                children = [(str(i), a) for i, a in enumerate(args)]
            self.check_modules(children, node)
            return Seq("torch", children, _line(node))
        if name == "ModuleList":
            items = self.iterate(args[0], node) if args else []
            self.check_modules([(str(i), a) for i, a in enumerate(items)], node)
            return Seq("list", [(str(i), a) for i, a in enumerate(items)], _line(node))
        if name == "ModuleDict":
            items = args[0] if args and isinstance(args[0], dict) else dict(self.iterate(args[0], node)) if args else {}
            return Seq("dict", [(str(k), v) for k, v in items.items()], _line(node))
        if name in ("Parameter", "ParameterList"):
            return Unknown("expr", _text(node), (), _line(node))
        if name[:1].isupper() and (".nn" in path or path.count(".") == 0 or path.startswith("torch.nn")):
            return Mod(self.spec(name, args, kwargs, node), _line(node))
        tensors = [a for a in args if isinstance(a, Ten)]
        if path.startswith(("torch", "F")) or tensors or (args and isinstance(args[0], (list, tuple)) and any(
                isinstance(a, Ten) for a in args[0])):
            return self.torch_function(func, args, kwargs, node)
        if path.startswith("math.") and args and all(isinstance(a, (int, float)) for a in args) and name in (
                "floor", "ceil", "sqrt", "log2", "log", "gcd"):
            try:
                return self.number(getattr(math, name)(*args), node)
            except (TypeError, ValueError, OverflowError):
                raise CodeError(f"line {_line(node)}: `{_text(node)}` has no value") from None
        return Unknown("expr", _text(node), (), _line(node))

    def zoo_model(self, name: str, path: str, args, kwargs, node):
        """torchvision.models.resnet18(...) / keras.applications.ResNet50(...): the architecture's own definition
        (core/frameworks/zoo_*.py), followed like pasted code in a scope of its own, its factory called with
        the paste's arguments."""
        if name not in zoo.factories(self.fw):
            raise CodeError(f"line {_line(node)}: `{path}` is not a model Convscope knows; it traces "
                            f"{zoo.LIBRARY[self.fw]}'s {', '.join(zoo.factories(self.fw))}")
        scope = dict(zoo.preset(self.fw, Ext))
        self.run_body(zoo.tree(self.fw).body, scope)
        why = self.shape_why
        try:
            built = self.call(scope[name], args, kwargs, node)
            if self.shape_why is not why:  # include_top=False without input_shape: the image size is open
                self.shape_why = (f"line {_line(node)}: `{_text(node)}` leaves the image size open (no "
                                  "input_shape): give input_shape (batch first, e.g. [None, 224, 224, 3])")
            return built
        except _ZooRefusal as e:  # the architecture's own check (classes=10 with imagenet weights): said as such
            raise CodeError(f"line {_line(node)}: `{_text(node)}`: {zoo.LIBRARY[self.fw]} refuses these "
                            f"arguments: {e}") from None

    def norm_wrapper(self, name: str, args, kwargs, node):
        """torch.nn.utils.weight_norm / spectral_norm(module): the same layer, its weight reparametrised (weight_norm
        adds a gain g along ``dim``: weight_g and weight_v replace weight); the tracer counts the parameters."""
        module = args[0] if args else kwargs.get("module")
        if not isinstance(module, Mod):
            raise CodeError(f"line {_line(node)}: {name}() wraps a torch.nn layer here, got `{_text(node)}`")
        keys = ("name", "dim") if name == "weight_norm" else ("name", "n_power_iterations", "eps", "dim")
        given = {**dict(zip(keys, args[1:])), **{k: v for k, v in kwargs.items() if k != "module"}}
        if given.get("name", "weight") != "weight":
            raise CodeError(f"line {_line(node)}: {name}(name={given['name']!r}) is not followed; Convscope follows "
                            "the weight's")
        wrap = {"dim": self.plain(given.get("dim", 0), node, f"{name} dim")} if name == "weight_norm" else {}
        return Mod({**module.spec, name: wrap}, module.line, module.name, module.input_shape)

    def check_modules(self, children, node):
        for key, child in children:
            if isinstance(child, Unknown) and child.kind == "expr":
                raise self.unknown_error(child, node, f"the Sequential's item {key}")

    def spec(self, name: str, args, kwargs, node) -> dict:
        """A constructor call -> the spec in the framework's own words (tuples as lists)."""
        if self.fw == "keras" and name in KERAS_ALIASES:
            name = KERAS_ALIASES[name]
        positional = _POSITIONAL[self.fw].get(name)
        spec: dict[str, Any] = {"type": name}
        if positional is None:
            if args:  # positional arguments of a layer Convscope does not know: the trace names it
                return spec
            positional = ()
        if len(args) > len(positional):
            raise CodeError(f"line {_line(node)}: {name} takes at most {len(positional)} positional arguments "
                            f"here ({', '.join(positional) or 'none'}); name the others")
        for key, value in [*zip(positional, args), *kwargs.items()]:
            if no_effect(key) and isinstance(value, (Unknown, Ext, Method, Func, Cls, Obj)):
                continue  # keras.regularizers.l2(1e-4), device=…, dtype=torch.float32: the shapes do not change
            if key == "activation" and isinstance(value, Ext):  # activation=tf.nn.relu, keras.activations.relu
                value = value.name
            spec[key] = self.plain(value, node, f"{name} {key}")
        return spec

    def plain(self, value, node, where: str):
        """A value a spec can hold: numbers, strings, booleans, None, lists of them; a layer inside a wrapper."""
        if isinstance(value, Unknown):
            if value.kind == "name":
                self.ask(value)
                return None
            raise CodeError(f"line {_line(node)}: cannot read {where} = `{value.text}`: only running the code would "
                            "give it; write the value there (a number, a tuple, a string), or a name whose value you "
                            "give in variables")
        if isinstance(value, (SizeRef, ShapeOf)):
            self.need_shape(f"line {_line(node)}: `{value.text}`")
        if isinstance(value, (list, tuple)):
            if len(value) > MAX_ITEMS:
                raise CodeError(f"line {_line(node)}: {where} has {len(value)} items; at most {MAX_ITEMS}")
            return [self.plain(v, node, where) for v in value]
        if isinstance(value, Mod):
            return value.spec
        if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
            return value
        if isinstance(value, range) and len(value) <= MAX_ITEMS:
            return list(value)
        kind = {Ten: "a tensor", Obj: "a block", Seq: "a Sequential", Func: "a function", Ext: "a library name"}
        raise CodeError(f"line {_line(node)}: cannot read {where} = `{_text(node)}`: it is "
                        f"{kind.get(type(value), 'not a plain value')}; write a number, a tuple, a string or a name")

    # ------------------------------------------------------------------ tensors
    def record(self, spec: dict, ins: list[Ten], name: str | None, node) -> Ten:
        if len(self.nodes) >= MAX_LAYERS:
            raise CodeError(f"more than {MAX_LAYERS} layers; Convscope traces at most {MAX_LAYERS}")
        shapes = [t.shape for t in ins]
        shape = None
        if all(s is not None for s in shapes) and shapes:
            try:
                step = merge_step(self.fw, spec, shapes) if spec.get("type") in MERGES else \
                    layer_step(self.fw, spec, shapes[0])
                shape = tuple(step.shape)
                if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape):
                    shape, self.shape_failed = None, True
            except (SpecError, ArithmeticError, TypeError, ValueError, KeyError, IndexError):
                self.shape_failed = True
        self.nodes.append(Node(spec, [t.ref for t in ins], name, shape))
        return Ten(len(self.nodes) - 1, shape, self.fw)

    def need_shape(self, why: str):
        if self.shape_failed:
            raise _Stop()
        raise NeedShape(why)

    def apply_layer(self, mod: Mod, args, kwargs, node):
        if not args:
            raise CodeError(f"line {_line(node)}: {mod.spec['type']} is called without an input")
        x = args[0]
        if self.fw == "keras" and isinstance(x, (list, tuple)) and mod.spec["type"] in MERGES:
            ins = [self.tensor(t, node, mod.spec["type"]) for t in x]
        else:
            ins = [self.tensor(x, node, mod.spec["type"])]
        name = mod.name if self.fw == "keras" else self.paths.get(id(mod))
        out = self.record(mod.spec, ins, name, node)
        if self.fw == "torch" and mod.spec["type"] in _RNNS:
            return (out, Unknown("expr", f"the hidden state of {mod.spec['type']} (line {mod.line})", (), mod.line))
        return out

    def tensor(self, x, node, what: str) -> Ten:
        if isinstance(x, Ten):
            return x
        if isinstance(x, Unknown):
            raise self.unknown_error(x, node, f"the input of {what}")
        if isinstance(x, tuple) and x and isinstance(x[0], Ten):
            raise CodeError(f"line {_line(node)}: {what} receives a tuple (`{_text(node)}`); pick one tensor, e.g. "
                            "`out, _ = self.lstm(x)`")
        raise CodeError(f"line {_line(node)}: {what} needs a tensor, got `{_text(node)}`")

    def op(self, spec: dict, ins: list, node) -> Ten:
        return self.record(spec, [self.tensor(t, node, spec["type"]) for t in ins], None, node)

    def torch_function(self, func: Ext, args, kwargs, node):
        name = func.name
        if name in ("cat", "concat", "concatenate", "stack", "hstack"):
            items = list(args[0]) if args and isinstance(args[0], (list, tuple)) else []
            dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis", 0))
            return self.op({"type": "stack" if name == "stack" else "cat", "dim": self.size_value(dim, node)}, items, node)
        if name in ("add", "sub", "mul", "subtract", "multiply") and len(args) >= 2:
            return self.tensor_binop({"add": ast.Add(), "sub": ast.Sub(), "subtract": ast.Sub()}.get(name, ast.Mult()),
                                     args[0], args[1], node)
        x = args[0] if args else kwargs.get("input")
        if name in ("tensor", "as_tensor") and args and not isinstance(args[0], Ten):  # sizes held in a tensor
            v = args[0]
            return v[0] if isinstance(v, list) and len(v) == 1 else v
        if name in ("randn", "rand", "zeros", "ones", "empty", "randint"):
            sizes = args[2] if name == "randint" and len(args) > 2 else kwargs.get("size") if name == "randint" else \
                (args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args)
            if isinstance(sizes, (list, tuple)) and sizes and all(
                    isinstance(n, int) and not isinstance(n, bool) and 0 < n <= MAX_NUMBER for n in sizes):
                return Sample(tuple(sizes))
        if name in ("randn", "rand", "zeros", "ones", "empty", "tensor", "from_numpy", "randint", "arange"):
            return Unknown("expr", _text(node), (), _line(node))
        if not isinstance(x, Ten):
            return Unknown("expr", _text(node), (), _line(node))
        if name in ("flatten",):
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            return self.op({"type": "Flatten", "start_dim": start, **({"end_dim": end} if end != -1 else {})}, [x], node)
        if name in ("interpolate", "upsample", "upsample_nearest", "upsample_bilinear"):
            keys = ("size", "scale_factor", "mode", "align_corners")
            spec = {"type": "interpolate", **{k: self.plain(v, node, f"F.{name} {k}") for k, v in zip(keys, args[1:])}}
            for k, v in kwargs.items():
                if k in keys or k in ("recompute_scale_factor", "antialias"):
                    spec[k] = self.plain(v, node, f"F.{name} {k}")
            return self.op(spec, [x], node)
        if name == "pad":
            pad = args[1] if len(args) > 1 else kwargs.get("pad")
            return self.op({"type": "pad", "pad": self.plain(pad, node, "F.pad pad")}, [x], node)
        if name in ("reshape", "view"):
            return self.tensor_method(x, "reshape", args[1:], kwargs, node)
        if name in ("permute", "transpose", "unsqueeze", "squeeze", "mean", "sum", "amax", "relu", "sigmoid", "tanh",
                    "softmax", "log_softmax"):
            return self.tensor_method(x, name, args[1:], kwargs, node)
        if name in _FUNCTIONAL:
            layer = _FUNCTIONAL[name]
            spec = {"type": layer}
            for key, arg in zip(_FUNCTIONAL_ARGS.get(layer, ()), args[1:]):
                spec[key] = self.plain(self.size_value(arg, node), node, f"{name} {key}")
            for k, v in kwargs.items():
                if k not in ("inplace", "training", "input", "dtype", "_stacklevel"):
                    spec[k] = self.plain(self.size_value(v, node), node, f"{name} {k}")
            return self.op(spec, [x], node)
        if name in ("normalize", "dropout_", "clone", "detach", "clamp", "abs", "exp", "log", "sqrt", "square",
                    "neg", "sign", "randn_like", "rand_like", "zeros_like", "ones_like", "empty_like", "full_like",
                    "clip", "pow", "rsqrt", "reciprocal", "erf"):
            return x  # elementwise: the shape stays
        raise CodeError(f"line {_line(node)}: `{_text(node)}`: {func.path} on a tensor is not followed; Convscope "
                        "follows layers, torch.cat/stack/flatten, + and *, F.* activations, pooling, pad and "
                        "interpolate, and view/reshape/permute")

    def size_value(self, v, node):
        """A size written from a shape: known once the input shape is known."""
        if isinstance(v, (SizeRef, ShapeOf)):
            self.need_shape(f"line {_line(node)}: `{v.text}`")
        if isinstance(v, (list, tuple)):
            return type(v)(self.size_value(e, node) for e in v)
        return v
    def tensor_method(self, x: Ten, name: str, args, kwargs, node):
        if name == "size":
            if x.shape is None:
                return SizeRef(x, args[0], _text(node)) if args and isinstance(args[0], int) else ShapeOf(x, _text(node))
            shape = self.shape_of(x, node)
            return shape[args[0]] if args and isinstance(args[0], int) and -len(shape) <= args[0] < len(shape) else shape
        if name in ("dim", "ndimension", "numel"):
            if x.shape is None:
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
            return len(x.shape) if name != "numel" else math.prod(x.shape)
        if name in ("view", "reshape"):
            sizes = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
            out = []
            for v in sizes:
                if isinstance(v, SizeRef) and v.ten is x and x.shape is None:
                    out.append(f"size({v.axis})")
                else:
                    out.append(self.plain(self.size_value(v, node), node, f"x.{name}"))
            return self.op({"type": "view", "shape": out}, [x], node)
        if name == "flatten":
            start = args[0] if args else kwargs.get("start_dim", 0)
            end = args[1] if len(args) > 1 else kwargs.get("end_dim", -1)
            return self.op({"type": "Flatten", "start_dim": start, **({"end_dim": end} if end != -1 else {})}, [x], node)
        if name == "permute":
            dims = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
            return self.op({"type": "permute", "dims": dims}, [x], node)
        if name in ("transpose", "swapaxes"):
            return self.op({"type": "transpose", "dim0": args[0], "dim1": args[1]}, [x], node)
        if name == "unsqueeze":
            return self.op({"type": "unsqueeze", "dim": args[0] if args else kwargs.get("dim")}, [x], node)
        if name == "squeeze":
            return self.op({"type": "squeeze", "dim": args[0] if args else kwargs.get("dim")}, [x], node)
        if name in ("mean", "sum", "amax"):
            dim = args[0] if args else kwargs.get("dim")
            keep = args[1] if len(args) > 1 else kwargs.get("keepdim", False)
            return self.op({"type": name, "dim": self.plain(dim, node, f"x.{name} dim"), "keepdim": keep}, [x], node)
        if name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "relu_", "sigmoid_"):
            layer = _FUNCTIONAL[name.rstrip("_")]
            spec = {"type": layer}
            dim = args[0] if args else kwargs.get("dim")
            if layer in ("Softmax", "LogSoftmax") and dim is not None:
                spec["dim"] = dim
            return self.op(spec, [x], node)
        if name in ("add", "mul", "sub", "add_", "mul_") and args:
            op = ast.Add() if name.startswith("add") else ast.Sub() if name == "sub" else ast.Mult()
            return self.tensor_binop(op, x, args[0], node)
        if name in _SAME_TENSOR:
            return x
        if name in ("view_as", "reshape_as", "expand_as") and args and isinstance(args[0], Ten):
            if args[0].shape is None:
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
            return self.op({"type": "view", "shape": list(args[0].shape)}, [x], node)
        raise CodeError(f"line {_line(node)}: `{_text(node)}`: the tensor method .{name}() is not followed; "
                        "Convscope follows view/reshape/flatten/permute/transpose/(un)squeeze/mean/sum/size")

    def tensor_binop(self, op, a, b, node):
        if isinstance(a, Ten) and isinstance(b, Ten):
            kind = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul"}.get(type(op))
            if kind is None:
                raise CodeError(f"line {_line(node)}: `{_text(node)}` between two tensors is not followed (+, - and * are)")
            return self.op({"type": kind}, [a, b], node)
        return a if isinstance(a, Ten) else b  # a number (or a learned scale) times a tensor: the shape stays

    def tensor_index(self, x: Ten, slice_node, scope, node):
        items = slice_node.elts if isinstance(slice_node, ast.Tuple) else [slice_node]
        picks = []
        for item in items:
            if isinstance(item, ast.Slice):
                parts = [None if p is None else self.ev(p, scope) for p in (item.lower, item.upper, item.step)]
                if all(p is None for p in parts):
                    picks.append(None)
                else:
                    parts = [self.plain(self.size_value(p, node), node, "a slice") for p in parts]
                    picks.append({"slice": parts})
            elif isinstance(item, ast.Constant) and item.value is Ellipsis:
                raise CodeError(f"line {_line(node)}: `{_text(node)}`: indexing with ... is not followed")
            else:
                value = self.size_value(self.ev(item, scope), node)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise CodeError(f"line {_line(node)}: `{_text(node)}`: tensors are indexed here by integers and "
                                    "slices only")
                picks.append(value)
        return self.op({"type": "index", "picks": picks}, [x], node)

    # ------------------------------------------------------------------ Keras
    def keras_name(self, spec: dict, given) -> str:
        if isinstance(given, str):
            return given
        base = _snake(spec["type"])
        n = self.keras_counts.get(base, 0)
        self.keras_counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def keras_call(self, func: Ext, args, kwargs, node):
        name = func.name
        name, args, kwargs = self.old_keras(name, args, kwargs, node)
        if name == "Sequential":
            items = self.iterate(args[0], node) if args else self.iterate(kwargs.get("layers", []), node)
            seq = Seq("keras", [], _line(node), kwargs.get("name") if isinstance(kwargs.get("name"), str) else None)
            for item in items:
                self.method(Method(seq, "add"), [item], {}, node)
            return seq
        if name in ("Model", "Functional"):
            inputs = args[0] if args else kwargs.get("inputs")
            outputs = args[1] if len(args) > 1 else kwargs.get("outputs")
            as_list = lambda v: list(v.values()) if isinstance(v, dict) else list(v) if isinstance(v, (list, tuple)) else [v]
            for t in [*as_list(inputs), *as_list(outputs)]:
                self.tensor(t, node, "Model")
            return KModel(as_list(inputs), as_list(outputs), _line(node), kwargs.get("name"))
        if name == "Input":
            return self.keras_input(args, kwargs, node)
        if name in _KERAS_MERGE_FUNCS or name.lower() in _KERAS_MERGE_FUNCS and not name[:1].isupper():
            merge = _KERAS_MERGE_FUNCS[name.lower()]
            items = args[0] if args else kwargs.get("inputs", [])
            spec = {"type": merge, **({"axis": self.plain(kwargs["axis"], node, "axis")} if "axis" in kwargs else {})}
            layer = Mod(spec, _line(node), self.keras_name(spec, kwargs.get("name")))
            return self.apply_layer(layer, [list(items)], {}, node)
        if name[:1].isupper():
            input_shape = None
            raw = dict(kwargs)
            for key in ("input_shape", "batch_input_shape", "shape"):
                if key in raw and (key != "shape" or name == "InputLayer"):
                    shape = raw.pop(key)
                    input_shape = self.input_shape_value(shape, key, node, name)
                    if key == "batch_input_shape" and input_shape:
                        input_shape = tuple(input_shape)
                    elif input_shape is not None:
                        input_shape = (raw.get("batch_size"), *input_shape)
            if name == "InputLayer":
                return Mod({"type": "InputLayer"}, _line(node), None, input_shape or "unknown")
            spec = self.spec(name, args, {k: v for k, v in raw.items() if k not in ("name",)}, node)
            if "layer" in spec and isinstance(spec["layer"], dict):
                spec["layer"] = dict(spec["layer"])
            return Mod(spec, _line(node), self.keras_name(spec, raw.get("name")), input_shape)
        tensors = [a for a in args if isinstance(a, Ten)]
        if tensors:
            raise CodeError(f"line {_line(node)}: `{_text(node)}`: {func.path} on a tensor is not followed; "
                            "Convscope follows Keras layers (layers.Reshape, layers.Add, …)")
        return Unknown("expr", _text(node), (), _line(node))

    def old_keras(self, name: str, args, kwargs, node):
        """Keras 1/2 spellings read as the Keras 3 layer, with a note naming the modern word; what has no modern
        reading is refused, named."""
        if name in _OLD_KERAS_REFUSED:
            raise CodeError(f"line {_line(node)}: {name}(...) is Keras 1: {_OLD_KERAS_REFUSED[name]}")
        modern = _OLD_KERAS_CONV.get(name)
        if modern and len(args) > 2 and all(isinstance(a, int) for a in args[1:modern[1] + 1]):
            kernel = tuple(args[1:modern[1] + 1])  # Convolution2D(32, 3, 3): nb_filter, nb_row, nb_col
            self.old_note(f"{name}({', '.join(map(str, args[:modern[1] + 1]))})", f"{modern[0]}({args[0]}, {kernel})",
                          " (Keras 3 would read the sizes after the first as strides)")
            name, args = modern[0], [args[0], kernel, *args[modern[1] + 1:]]
        words = [k for k in ("nb_row", "nb_col", "kernel_dim1", "kernel_dim2", "kernel_dim3") if k in kwargs]
        if words:  # Keras 1 kernel sizes by keyword
            kwargs = {**kwargs, "kernel_size": tuple(kwargs[k] for k in words)}
            kwargs = {k: v for k, v in kwargs.items() if k not in words}
            self.old_note("/".join(words), "kernel_size")
        signature = _POSITIONAL["keras"].get(KERAS_ALIASES.get(name, name), ())
        if "input_dim" in kwargs and "input_dim" not in signature:  # Dense(64, input_dim=20): Keras 2's first layer
            kwargs = {**{k: v for k, v in kwargs.items() if k != "input_dim"}, "input_shape": (kwargs["input_dim"],)}
        out = {}
        for key, value in kwargs.items():
            new = _OLD_KERAS_KEYWORDS.get(key) if key not in signature else None
            if new and (name not in ("Model", "Functional") or key in ("input", "output")):
                self.old_note(key, new)
                key, value = new, _OLD_KERAS_VALUES.get(value, value) if isinstance(value, str) else value
            out[key] = value
        return name, args, out

    def old_note(self, old: str, new: str, why: str = "") -> None:
        note = f"{old} is Keras 1/2's spelling: read as {new}, in Keras 3's words{why}"
        if note not in self.notes:
            self.notes.append(note)

    def input_shape_value(self, shape, key, node, name):
        """An input shape from the code; None when it must come from the request (data, an open length)."""
        if isinstance(shape, (SizeRef, ShapeOf, Unknown)) or shape is None or isinstance(shape, (list, tuple)) and any(
                isinstance(v, (SizeRef, ShapeOf, Unknown)) for v in shape):  # shape=(x_train.shape[1], ...)
            self.shape_why = (f"line {_line(node)}: {name}({key}={_arg_text(node, key, 0)}) comes from data or "
                              "code Convscope does not run: give input_shape (batch first, e.g. [None, 28, 28, 1])")
            return None
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)
        if not isinstance(shape, (list, tuple)) or not all(v is None or isinstance(v, int) for v in shape):
            raise CodeError(f"line {_line(node)}: {name} needs {key}=(...) with sizes, got `{_text(node)}`")
        if None in shape:
            self.shape_why = (f"line {_line(node)}: {name} {key}={tuple(shape)} leaves a size open: give input_shape "
                              "with every size (batch first, e.g. [None, 200])")
            return None
        return tuple(shape)

    def keras_input(self, args, kwargs, node):
        shape = args[0] if args else kwargs.get("shape")
        given = self.input_shape_value(shape, "shape", node, "Input")
        k = len(self.source_shapes)
        batch = kwargs.get("batch_size")
        full = None if given is None else (batch if isinstance(batch, int) else None, *given)
        if k == 0 and self.request_shape is not None:
            if given is None and shape is not None:
                self.notes.append(f"line {_line(node)}: the Input's shape `{_arg_text(node, 'shape', 0)}` comes from "
                                  f"data: traced with the given input_shape {list(self.request_shape)}")
            full = self.request_shape
        if k == 0:
            self.batch_known = full is not None and full[0] is not None
        self.source_shapes.append(full)
        self.source_text.append(_text(node))
        concrete = None if full is None else (1 if full[0] is None else full[0], *full[1:])
        return Ten(-1 - k, concrete, "keras")
    # ------------------------------------------------------------------ the model
    def module_paths(self, root) -> dict[int, str]:
        """Attribute paths as torch's named_modules() gives them: registration order, each module once."""
        paths: dict[int, str] = {id(root): ""}
        stack = [(root, "")]
        while stack:
            module, prefix = stack.pop()
            kids = []
            if isinstance(module, Obj):
                kids = [(k, v) for k, v in module.attrs.items() if isinstance(v, MODULES)]
            elif isinstance(module, Seq):
                kids = [(k, v) for k, v in module.children if isinstance(v, MODULES)]
            for key, child in reversed(kids):
                if id(child) in paths:
                    continue
                paths[id(child)] = f"{prefix}{key}"
                stack.append((child, f"{prefix}{key}."))
        return paths

    def torch_root(self, choose: str | None):
        """The model to trace: the one the request names, else the one the paste builds last (an assignment or a
        bare expression), else the last public factory with its defaults, else the class no other class uses."""
        classes = [(n, v) for n, v in self.globals.items() if isinstance(v, Cls) and v.lookup("forward")]
        factories = self.factories()
        self.candidates = [*(f"{n}()" for n, _ in factories), *(n for n, _ in classes)]
        if choose:
            return self.chosen(choose)
        for name in ("model", "net"):
            if name in self.bad:
                raise CodeError(self.bad[name])
            if isinstance(self.globals.get(name), MODULES):
                return self.globals[name], name
        for name, value in reversed(self.assigned):
            if isinstance(value, MODULES) and self.stands(name, value):
                return value, name
        for name, func in reversed(factories):
            built = self.call_func(func, [], {}, self.tree)
            if isinstance(built, MODULES):
                if len(factories) > 1 or _defaulted(func):
                    self.defaults_note(f"{name}()", "the last public factory function", [f"{n}()" for n, _ in factories])
                return built, f"{name}()"
        return self.unused_class(classes)

    def unused_class(self, classes):
        used = set()
        for name, _cls in classes:
            for other, ocls in self.globals.items():
                if other != name and isinstance(ocls, (Cls, Func)) and any(
                        isinstance(n, ast.Name) and n.id == name for n in ast.walk(ocls.node)):
                    used.add(name)
        top = [(n, c) for n, c in classes if n not in used] or classes
        if not top:
            raise self.no_model()
        name, cls = top[-1]
        kwargs = self.constructor_variables(cls)
        init = cls.lookup("__init__")
        if len(top) > 1 or isinstance(init, Func) and _defaulted(init, set(kwargs)):  # Net() with nothing to choose: no note
            self.defaults_note(f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
                               "the last class no other class uses" if len(top) > 1 else "the model class",
                               [n for n, _ in top])
        return self.instantiate(cls, [], kwargs, self.tree), name

    def defaults_note(self, built: str, why: str, candidates: list[str]) -> None:
        """Never a silent guess: the paste builds no model itself, so the trace says what it built and how."""
        others = [c for c in candidates if c != built.split("(")[0] and c != built]
        self.notes.append(f"the paste builds no model itself: traced {built}, {why}, with the defaults its code "
                          "gives" + (f"; the paste defines several models ({', '.join(others)}): choose another with "
                                     "model" if others else f"; give model (e.g. \"{built.split('(')[0]}(...)\" with the "
                                     "arguments you mean) to build it otherwise"))

    def factories(self) -> list[tuple[str, Func]]:
        """Public top-level functions that build one of the paste's models and need no argument (resnet18())."""
        models = {n for n, v in self.globals.items() if isinstance(v, (Cls, Func))}
        out = []
        for name, value in self.globals.items():
            if not isinstance(value, Func) or name.startswith("_") or not isinstance(value.node, ast.FunctionDef):
                continue
            a = value.node.args
            if len(a.defaults) < len(a.posonlyargs) + len(a.args) or any(d is None for d in a.kw_defaults):
                continue  # an argument without a default: a helper, not a factory
            calls = {n.func.id for n in ast.walk(value.node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            returns = any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(value.node))
            if calls & models and returns:  # test() that builds a net and prints it returns nothing
                out.append((name, value))
        return out

    def built(self, text: str):
        """What a call the request writes (`resnet18()`) builds, followed like the paste's own code; None when the
        text is no call."""
        try:
            expr = ast.parse(text, mode="eval").body if len(text) <= 100 else None
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            expr = None
        return self.ev(expr, None) if isinstance(expr, ast.Call) else None

    def chosen(self, choose: str):
        """The request's model: a class or a variable by name, a factory by name (called with its defaults), or a
        call written out (`resnet18()`, `Net(num_classes=10)`), followed like the paste's own code."""
        value = self.globals.get(choose)
        if isinstance(value, Cls):
            return self.instantiate(value, [], self.constructor_variables(value), self.tree), choose
        if isinstance(value, MODULES):
            return value, choose
        if isinstance(value, Func):
            choose = f"{choose}()"
        built = self.built(choose)
        if isinstance(built, MODULES):
            return built, choose
        raise CodeError(f"model: {choose!r} is not a class, a factory or a model in the code; choose one of "
                        f"{', '.join(self.candidates) or 'none'}")

    def stands(self, name: str, value) -> bool:
        """A top-level name still holds the model assigned to it; a bare expression (`nn.Sequential(...)`, its
        text as the name) always does."""
        if name.isidentifier():
            return self.globals.get(name) is value
        return True

    def constructor_variables(self, cls: Cls) -> dict:
        """The model class is built by the paste without arguments: variables give its constructor's."""
        init = cls.lookup("__init__")
        if not isinstance(init, Func):
            return {}
        a = init.node.args
        return {p.arg: self.variables[p.arg] for p in [*a.args, *a.kwonlyargs] if p.arg in self.variables}

    def torch_model(self, choose):
        self.strict += 1
        root, label = self.torch_root(choose)
        self.model_name = label
        self.paths = self.module_paths(root)
        self.nodes, self.shape_failed = [], False
        shape = None
        if self.request_shape is not None:
            shape = tuple(self.request_shape)
            if shape[0] is None:  # an unknown batch: traced with 1, shown as None (as trace() does)
                shape, self.batch_known = (1, *shape[1:]), False
        elif self.example_input is not None and self.example_input[0] is root:
            shape = self.example_shape = self.example_input[1]
        x = Ten(-1, shape, "torch")
        try:
            self.call(root, [x], {}, self.tree)
        except NeedShape as e:
            self.needs_shape = (f"{e}: forward() uses a tensor's size there, so Convscope follows it once it knows "
                                "the input: give input_shape (batch first)")
        except _Stop:
            pass

    def keras_model(self, choose):
        self.strict += 1
        model, label = None, None
        if choose:
            value = self.globals.get(choose)
            if isinstance(value, Func):
                value = self.call_func(value, [], {}, self.tree)
            elif value is None:  # get_model((160, 160), 3): a call written out
                value = self.built(choose)
            if not isinstance(value, (KModel, Seq)):
                raise CodeError(f"model: {choose!r} is not a model in the code")
            model, label = value, choose
        if model is None and "model" in self.bad:
            raise CodeError(self.bad["model"])
        if model is None and isinstance(self.globals.get("model"), (KModel, Seq)):
            model, label = self.globals["model"], "model"
        if model is None:
            for name, value in reversed(self.assigned):
                if isinstance(value, (KModel, Seq)) and self.stands(name, value):
                    model, label = value, name
                    break
        if model is None and not self.nodes:
            called = {n.func.id for n in ast.walk(self.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            for name, value in reversed(list(self.globals.items())):
                if isinstance(value, Func) and name not in called and any(
                        isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute)) and
                        (getattr(n.func, "id", None) or getattr(n.func, "attr", None)) in ("Model", "Sequential", "Input")
                        for n in ast.walk(value.node)):
                    result = self.call_func(value, [], {}, self.tree)
                    if isinstance(result, (KModel, Seq)):
                        model, label = result, f"{name}()"
                        break
        self.model_name = label
        if isinstance(model, Seq):
            return self.keras_sequential(model)
        if isinstance(model, KModel):
            return self.keras_functional(model)
        if self.nodes:
            return  # the functional API without keras.Model(...): every layer called
        raise self.no_model()

    def no_model(self) -> CodeError:
        """Why nothing traceable was found, in the words that help: a library model, a subclassed Keras model."""
        for name in ("model", "net", *[n for n, _ in reversed(self.assigned)]):
            if name in self.data_names:
                return CodeError(f"`{name} = {self.data_names[name]}` builds the model inside a library Convscope does "
                                 "not read: paste the model's own code (its classes or layers)")
            value = self.globals.get(name)
            if isinstance(value, Obj) and self.fw == "keras":
                return CodeError(f"{name} is a {value.cls.name}, a subclassed Keras model (call() written by hand): "
                                 "Convscope follows Sequential and functional Keras models; write it with "
                                 "keras.Input(...) and layers called on tensors")
        if self.bad:
            return CodeError(next(reversed(self.bad.values())))
        return CodeError("found no model: Convscope reads Keras Sequential([...]) / model.add(...) / functional "
                         "layers, and PyTorch nn.Sequential(...) or an nn.Module class")

    def keras_sequential(self, seq: Seq) -> None:
        shape, mods = seq.input_shape, []
        for _, child in seq.children:
            if isinstance(child, Mod) and child.spec["type"] == "InputLayer":
                shape = None if child.input_shape == "unknown" else child.input_shape
            elif isinstance(child, Ten) and child.ref < 0:
                shape = self.source_shapes[-1 - child.ref]
            elif isinstance(child, Mod):
                if not mods and child.input_shape:
                    shape = child.input_shape
                mods.append(child)
            elif isinstance(child, Seq) and child.kind == "keras":
                mods.append(self.nested(child))
            elif isinstance(child, Unknown):
                raise self.unknown_error(child, self.tree, "the Sequential model")
            else:
                raise CodeError(f"line {seq.line}: the Sequential holds something that is not a layer")
        if self.request_shape is not None:
            shape = self.request_shape
        self.nodes, self.source_shapes, self.shape_failed = [], [shape], False
        concrete = None if shape is None else (1 if shape[0] is None else shape[0], *shape[1:])
        self.batch_known = shape is not None and shape[0] is not None
        x = Ten(-1, concrete, "keras")
        for mod in mods:
            x = self.record(mod.spec, [x], mod.name, self.tree)

    def nested_model(self, model: KModel, args, node):
        """A functional model called on a tensor, as Keras lists it: one row, its layers' graph inside (a chain,
        or branches and merges: a keras.applications backbone)."""
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise CodeError(f"line {_line(node)}: a Keras model with several inputs or outputs called inside another "
                            "is not followed; build the outer model from its layers")
        start, keep, stack = model.inputs[0].ref, set(), [model.outputs[0].ref]
        while stack:
            ref = stack.pop()
            if ref < 0 or ref in keep:
                if ref < 0 and ref != start:
                    raise CodeError(f"line {_line(node)}: the Keras model called here does not start at its own Input")
                continue
            keep.add(ref)
            stack += self.nodes[ref].inputs
        order = sorted(keep)
        local = {old: i for i, old in enumerate(order)}
        graph = [[self.nodes[old].spec, [local.get(r, -1) for r in self.nodes[old].inputs]] for old in order]
        spec = {"type": "Functional", "graph": graph}
        return self.record(spec, [self.tensor(args[0] if args else None, node, "the model")],
                           model.name if isinstance(model.name, str) else self.keras_name(spec, None), node)

    def nested(self, seq: Seq) -> Mod:
        specs = []
        for _, child in seq.children:
            if isinstance(child, Mod) and child.spec["type"] != "InputLayer":
                specs.append(child.spec)
            elif isinstance(child, Seq):
                specs.append(self.nested(child).spec)
        spec = {"type": "Sequential", "layers": specs}
        return Mod(spec, seq.line, seq.name or self.keras_name(spec, None))

    def keras_functional(self, model: KModel) -> None:
        keep, stack = set(), [t.ref for t in model.outputs]
        while stack:
            ref = stack.pop()
            if ref < 0 or ref in keep:
                continue
            keep.add(ref)
            stack += self.nodes[ref].inputs
        sources = [t.ref for t in model.inputs]
        order = sorted(keep)
        new = {old: i for i, old in enumerate(order)}
        remap = {ref: -1 - k for k, ref in enumerate(sources)}
        nodes = []
        for old in order:
            n = self.nodes[old]
            ins = []
            for r in n.inputs:
                if r >= 0:
                    ins.append(new[r])
                else:
                    if r not in remap:
                        remap[r] = -1 - len(remap)
                        sources.append(r)
                    ins.append(remap[r])
            nodes.append(Node(n.spec, ins, n.name, n.shape))
        self.source_shapes = [self.source_shapes[-1 - r] for r in sources]
        self.nodes = nodes


_MODULE_LISTS = ("children", "named_children", "modules", "named_modules", "items", "values", "keys")


def _module_list(obj: Obj, how: str) -> list:
    """A block's modules, as torch lists them: children() / items() the direct ones in registration order (a
    ModuleDict's items() are its children), modules() every one below it too, the block first."""
    kids = [(k, v) for k, v in obj.attrs.items() if isinstance(v, MODULES)]
    if how in ("modules", "named_modules"):
        out, stack, seen = [], [("", obj)], set()
        while stack and len(out) < MAX_LIST:
            path, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append((path, m))
            inner = m.attrs.items() if isinstance(m, Obj) else m.children if isinstance(m, Seq) else ()
            stack += reversed([(f"{path}.{k}".lstrip("."), v) for k, v in inner if isinstance(v, MODULES)])
        kids = out
    if how in ("children", "values", "modules"):
        return [v for _, v in kids]
    return [k for k, _ in kids] if how == "keys" else list(kids)


def _defaulted(func: Func, given: set = frozenset()) -> bool:
    """The function has parameters whose defaults the call leaves to it (the caller chose none of them)."""
    a = func.node.args
    params = [p.arg for p in a.args[len(a.args) - len(a.defaults):]]
    params += [p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
    return any(p not in given for p in params)


def _subclass(cls: Cls, kind: Cls, depth: int = 0) -> bool:
    return cls is kind or depth < 10 and any(isinstance(b, Cls) and _subclass(b, kind, depth + 1) for b in cls.bases)


def _canonical(path: str) -> str:
    """torch.nn.modules.conv.Conv2d and torch.nn.Conv2d are one class."""
    return re.sub(r"^torch\.nn\.modules\.\w+\.", "torch.nn.", path)


def _type_of(value):
    """type(x) for what the interpreter holds: a layer's class, a block's class, partial, a builtin's name."""
    if isinstance(value, Partial):
        return Ext("functools.partial")
    if isinstance(value, Mod):
        return Ext(f"torch.nn.{value.spec['type']}")
    if isinstance(value, Obj):
        return value.cls
    for kind in (bool, int, float, str, list, tuple, dict):
        if type(value) is kind:
            return Method(None, kind.__name__)
    return None


def _container(cls: Cls, depth: int = 0) -> str | None:
    """'Sequential' / 'ModuleList' / 'ModuleDict' when a class of the paste extends one (torchvision's ConvBNReLU,
    DenseNet's _DenseBlock)."""
    for base in cls.bases:
        if isinstance(base, Ext) and base.name in ("Sequential", "ModuleList", "ModuleDict"):
            return base.name
        if isinstance(base, Cls) and depth < 10:
            found = _container(base, depth + 1)
            if found:
                return found
    return None


def _arg_text(node, key: str, index: int) -> str:
    """The source of a call's argument, by keyword or position.

    >>> _arg_text(ast.parse("Input(shape=(x.shape[1], 3))").body[0].value, "shape", 0)
    '(x.shape[1], 3)'
    """
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg == key:
                return _text(kw.value)
        if len(node.args) > index:
            return _text(node.args[index])
    return "…"


def _targets(stmt: ast.stmt) -> list[str]:
    out = []
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(
        stmt, (ast.AugAssign, ast.AnnAssign, ast.For)) else []
    for t in targets:
        for n in ast.walk(t):
            if isinstance(n, ast.Name):
                out.append(n.id)
    return out


def _given(name: str, value, depth: int = 0):
    """A value given in ``variables``: any JSON value (numbers, strings, booleans, null, lists, objects), bounded
    like the code's own values.

    >>> _given("class_names", ["cat", "dog"])
    ['cat', 'dog']
    >>> _given("opt", {"nz": 100, "sizes": [1, 2]})
    {'nz': 100, 'sizes': [1, 2]}
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if abs(value) > MAX_NUMBER or (isinstance(value, float) and not math.isfinite(value)):
            raise CodeError(f"variables: {name} = {value} is larger than Convscope reads (|x| ≤ 2^31)")
        return value
    if isinstance(value, str):
        if len(value) > 1000:
            raise CodeError(f"variables: {name} is a string of {len(value):,} characters; at most 1,000")
        return value
    if depth >= 4:
        raise CodeError(f"variables: {name} nests lists or objects more than 4 deep; give flatter values")
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_LIST:
            raise CodeError(f"variables: {name} has {len(value):,} items; at most {MAX_LIST:,}")
        return type(value)(_given(f"{name}[{i}]", v, depth + 1) for i, v in enumerate(value))
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise CodeError(f"variables: {name} has {len(value)} keys; at most {MAX_ITEMS}")
        return {str(k): _given(f"{name}.{k}", v, depth + 1) for k, v in value.items()}
    raise CodeError(f"variables: {name} must be a number, a string, a boolean, null, a list or an object; "
                    f"got {type(value).__name__}")


def detect_framework(code: str) -> str | None:
    torch_marks = ("import torch", "from torch", "nn.Module", "nn.Sequential", "nn.Conv", "nn.Linear")
    keras_marks = ("keras", "tensorflow", "layers.", "Sequential(", "model.add(")
    t = sum(code.count(m) for m in torch_marks)
    k = sum(code.count(m) for m in keras_marks) - code.count("nn.Sequential(")
    if t == k == 0:
        return None
    return "torch" if t >= k else "keras"


def parse_model(code: str, framework: str | None = None, variables: dict[str, Any] | None = None,
                input_shape: tuple | list | None = None, model: str | None = None) -> ParsedModel:
    """The layers a forward pass runs, in order, as specs in the framework's own words, with where each
    one's input comes from. ``input_shape`` (batch first) lets sizes read from tensors be followed;
    ``model`` picks the class (or variable, or function) to trace when the paste holds several."""
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
    run = _Run(tree, framework, {str(k): _given(str(k), v) for k, v in (variables or {}).items()}, input_shape)
    try:
        run.top()
        run.torch_model(model) if framework == "torch" else run.keras_model(model)
    except RecursionError:
        raise CodeError("the code nests too deeply to follow") from None
    except CodeError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError, ZeroDivisionError) as e:
        # a construct this reader does not expect: say so rather than fail the request
        raise CodeError(f"Convscope could not follow this code ({type(e).__name__}: {str(e)[:80]}); "
                        "simplify the model's code around the layers") from None
    except NeedShape as e:
        run.needs_shape = f"{e}: this needs the input shape: give input_shape (batch first)"
    except _Stop:
        pass
    except (_Return, _Break, _Continue):
        raise CodeError("return, break or continue outside a function or loop") from None
    if not run.nodes:
        if run.needs_shape:
            raise CodeError(run.needs_shape)
        raise CodeError("found no model: Convscope reads Keras Sequential([...]) / model.add(...) / functional "
                        "layers, and PyTorch nn.Sequential(...) or an nn.Module class")
    parsed = ParsedModel(framework, [n.spec for n in run.nodes], [n.name for n in run.nodes],
                         [list(n.inputs) for n in run.nodes])
    parsed.unresolved = list(run.unresolved)
    for name in parsed.unresolved:
        if name in run.data_names:
            run.notes.append(f"{name} is computed from data (`{run.data_names[name]}`), which Convscope does not run: "
                             f"give its value in variables")
    parsed.notes = [n for n in run.notes if not n.split(":")[0].endswith(")") or any(
        f"({u})" in n for u in run.unresolved)]
    parsed.model_name, parsed.candidates = run.model_name, getattr(run, "candidates", [])
    if framework == "keras":
        shapes = run.source_shapes or [None]
        parsed.input_shape = shapes[0]
        if input_shape is not None:
            parsed.input_shape = tuple(input_shape)
        parsed.sources = [s for s in shapes[1:]]
        if parsed.input_shape is None or any(s is None for s in parsed.sources):
            parsed.needs_shape = getattr(run, "shape_why", None)
    if run.needs_shape and not parsed.needs_shape:
        parsed.needs_shape = run.needs_shape
    if framework == "torch" and input_shape is None and getattr(run, "example_shape", None):
        parsed.input_shape = run.example_shape
        parsed.notes.append(f"the input shape {list(run.example_shape)} is the one the code feeds the model "
                            "(torch.randn(...)); give input_shape to trace another")
    return parsed
