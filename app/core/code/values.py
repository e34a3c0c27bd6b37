"""The parser's values and limits: what a name can hold while the paste is followed, and small helpers."""
from __future__ import annotations

import ast
import math
import re
import threading
from dataclasses import dataclass, field

from ..frameworks.signatures import POSITIONAL

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
               **{f"max_pool{d}d": f"MaxPool{d}d" for d in (1, 2, 3)},
               **{f"avg_pool{d}d": f"AvgPool{d}d" for d in (1, 2, 3)},
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
                       "output_dim": "units", "W_regularizer": "kernel_regularizer",
                       "b_regularizer": "bias_regularizer",
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
_LIBRARIES = {"nn": "torch.nn", "F": "torch.nn.functional", "torch": "torch", "keras": "keras",
              "layers": "keras.layers", "tf": "tensorflow", "models": "keras.models", "np": "numpy", "math": "math",
              "functional": "torch.nn.functional"}
_BUILTINS = {"range", "len", "int", "float", "round", "min", "max", "abs", "sum", "list", "tuple", "dict", "enumerate",
             "zip", "reversed", "print", "super", "isinstance", "setattr", "getattr", "hasattr", "str", "bool",
             "OrderedDict", "sorted", "any", "all", "divmod", "pow", "type", "cast"}


class Unknown:
    """A value the paste does not give: a name to ask for (``kind='name'``) or something only running the
    code could give (``kind='expr'``: a call Convscope does not follow, data loaded from files)."""

    def __init__(self, kind: str, text: str, names: tuple = (), line: int | None = None):
        self.kind, self.text, self.names, self.line = kind, text, names, line


class Parameter(Unknown):
    """nn.Parameter(...): a tensor the model owns itself, which forward() may read; ``numel``: its size, where the
    code gives its shape (``nn.Parameter(torch.zeros(1, 1, 768))``)."""

    def __init__(self, text: str, line: int | None, numel: int | None):
        super().__init__("expr", text, (), line)
        self.numel = numel


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
    # torch module paths ("conv1", "layer1.0.conv1"); Keras layer names
    names: list[str | None] = field(default_factory=list)
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



_NO_SHAPE_ATTRS = {"trainable", "requires_grad"}  # attributes whose assignment changes no shape
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

