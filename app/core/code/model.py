"""Model assembly: which model the paste builds, its layers in order, and parse_model."""
from __future__ import annotations

import ast
import re
from typing import Any

from ..frameworks import SpecError
from ..trace import layer_step
from .evaluator import Evaluator
from .keras_calls import KerasCalls
from .torch_calls import TorchCalls
from .values import (
    _PARSE_LOCK,
    MAX_CHARS,
    MAX_NODES,
    MODULES,
    Cls,
    CodeError,
    Func,
    KModel,
    Mod,
    NeedShape,
    Node,
    Obj,
    Parameter,
    ParsedModel,
    Seq,
    Ten,
    Unknown,
    _Break,
    _Continue,
    _defaulted,
    _given,
    _line,
    _Return,
    _Stop,
)


class _Run(Evaluator, TorchCalls, KerasCalls):
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

    # ------------------------------------------------------------------ the model
    def module_paths(self, root) -> tuple[dict[int, str], list]:
        """Attribute paths as torch's named_modules() gives them: registration order, each module once; and the
        modules themselves (the model first)."""
        paths: dict[int, str] = {id(root): ""}
        modules, stack = [root], [(root, "")]
        while stack:
            module, prefix = stack.pop()
            kids = []
            if isinstance(module, Obj):
                kids = [(k, v) for k, v in module.attrs.items() if isinstance(v, MODULES)]
            elif isinstance(module, Seq):
                kids = [(k, v) for k, v in module.children if isinstance(v, MODULES)]
            found = []
            for key, child in reversed(kids):
                if id(child) in paths:
                    continue
                paths[id(child)] = f"{prefix}{key}"
                found.append(child)
                stack.append((child, f"{prefix}{key}."))
            modules += reversed(found)  # siblings in registration order
        return paths, modules

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
            loss = isinstance(value, Mod) and str(value.spec.get("type", "")).endswith("Loss")  # criterion = ...
            if isinstance(value, MODULES) and not loss and self.stands(name, value):
                return value, name
        for name, func in reversed(factories):
            built = self.call_func(func, [], {}, self.tree)
            if isinstance(built, MODULES):
                if len(factories) > 1 or _defaulted(func):
                    self.defaults_note(f"{name}()", "the last public factory function",
                                       [f"{n}()" for n, _ in factories])
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
        # Net() with nothing to choose: no note
        if len(top) > 1 or isinstance(init, Func) and _defaulted(init, set(kwargs)):
            self.defaults_note(f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
                               "the last class no other class uses" if len(top) > 1 else "the model class",
                               [n for n, _ in top])
        return self.instantiate(cls, [], kwargs, self.tree), name

    def defaults_note(self, built: str, why: str, candidates: list[str]) -> None:
        """Never a silent guess: the paste builds no model itself, so the trace says what it built and how."""
        others = [c for c in candidates if c != built.split("(")[0] and c != built]
        how = f"; the paste defines several models ({', '.join(others)}): choose another with model" if others else \
            f"; give model (e.g. \"{built.split('(')[0]}(...)\" with the arguments you mean) to build it otherwise"
        self.notes.append(f"the paste builds no model itself: traced {built}, {why}, with the defaults its code "
                          "gives" + how)

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
            calls = {n.func.id for n in ast.walk(value.node)
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
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
        self.paths, self.modules = self.module_paths(root)
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
        else:
            self.uncounted = self.uncounted_params()

    def uncounted_params(self) -> list[tuple[str, int | None]]:
        """What model.parameters() holds that no row counts, each named with its size where the code fixes it: a
        module with weights that forward() never calls (``self.head`` kept for later), and an nn.Parameter the
        model owns itself (a class token, a scale)."""
        called = {n.name for n in self.nodes}
        uncalled = [(f"`{path}` ({m.spec.get('type')})", weights_alone(m.spec)) for m in self.modules
                    if isinstance(m, Mod) and (path := self.paths.get(id(m))) not in called
                    and not _weightless(str(m.spec.get("type", "")))]
        owned = [(f"`{'.'.join(p for p in (self.paths.get(id(m), ''), key) if p)}` (`{value.text}`)", value.numel)
                 for m in self.modules if isinstance(m, Obj)
                 for key, value in m.attrs.items() if isinstance(value, Parameter)]
        return uncalled + owned

    def keras_model(self, choose):
        """The Keras model to trace: the one the request names, `model`, the last one assigned, else the last
        function that builds one (called with its defaults); then its layers as rows."""
        self.strict += 1
        model, label = self.keras_chosen(choose) if choose else (None, None)
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
            model, label = self.keras_builder()
        self.model_name = label
        if isinstance(model, Seq):
            return self.keras_sequential(model)
        if isinstance(model, KModel):
            return self.keras_functional(model)
        if self.nodes:
            return  # the functional API without keras.Model(...): every layer called
        raise self.no_model()

    def keras_chosen(self, choose: str):
        value = self.globals.get(choose)
        if isinstance(value, Func):
            value = self.call_func(value, [], {}, self.tree)
        elif value is None:  # get_model((160, 160), 3): a call written out
            value = self.built(choose)
        if not isinstance(value, (KModel, Seq)):
            raise CodeError(f"model: {choose!r} is not a model in the code")
        return value, choose

    def keras_builder(self):
        """The last function no code calls that builds a model (Model / Sequential / Input inside), called."""
        called = {n.func.id for n in ast.walk(self.tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        builds = ("Model", "Sequential", "Input")
        for name, value in reversed(list(self.globals.items())):
            if isinstance(value, Func) and name not in called and any(
                    isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute)) and
                    (getattr(n.func, "id", None) or getattr(n.func, "attr", None)) in builds
                    for n in ast.walk(value.node)):
                result = self.call_func(value, [], {}, self.tree)
                if isinstance(result, (KModel, Seq)):
                    return result, f"{name}()"
        return None, None

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
            elif isinstance(child, KModel):  # Sequential([ResNet50(include_top=False, ...), Dense(2)])
                if not mods:
                    shape = self.source_shapes[-1 - child.inputs[0].ref] if child.inputs[0].ref < 0 else None
                spec = self.graph_spec(child, self.tree)
                mods.append(Mod(spec, seq.line, child.name if isinstance(child.name, str) else
                                self.keras_name(spec, None)))
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
        spec = self.graph_spec(model, node)
        return self.record(spec, [self.tensor(args[0] if args else None, node, "the model")],
                           model.name if isinstance(model.name, str) else self.keras_name(spec, None), node)

    def graph_spec(self, model: KModel, node) -> dict:
        """A functional model as one layer's spec: its layers in order, each with where its inputs come from
        (``_inputs``: earlier layers' indices, -1 the model's input)."""
        if len(model.inputs) != 1 or len(model.outputs) != 1:
            raise CodeError(f"line {_line(node)}: a Keras model with several inputs or outputs used inside another "
                            "is not followed; build the outer model from its layers")
        start, keep, stack = model.inputs[0].ref, set(), [model.outputs[0].ref]
        while stack:
            ref = stack.pop()
            if ref < 0 or ref in keep:
                if ref < 0 and ref != start:
                    raise CodeError(f"line {_line(node)}: the Keras model used here does not start at its own Input")
                continue
            keep.add(ref)
            stack += self.nodes[ref].inputs
        order = sorted(keep)
        local = {old: i for i, old in enumerate(order)}
        return {"type": "Functional", "layers": [{**self.nodes[old].spec, "_inputs": [local.get(r, -1) for r in
                                                                                   self.nodes[old].inputs]}
                                                  for old in order]}

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



_PROBES = ((), (8,), (8, 8), (8, 8, 8), (64, 64))  # spatial sizes tried after (1, channels) for weights_alone


def weights_alone(spec: dict) -> int | None:
    """A torch.nn module's parameter count where its own arguments fix it (Linear's in_features, a conv's
    in_channels, a norm's num_features), read through the trace's layer_step on the first small input it takes;
    None where the count would depend on an input it was never given.

    >>> weights_alone({"type": "Linear", "in_features": 8, "out_features": 10})
    90
    >>> weights_alone({"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 11})
    2912
    >>> weights_alone({"type": "Embedding", "num_embeddings": 100, "embedding_dim": 16})
    1600
    >>> weights_alone({"type": "LSTM", "input_size": 16, "hidden_size": 32})  # 4·32·(16 + 32) + 2·4·32
    6400
    >>> weights_alone({"type": "Linear", "in_features": None, "out_features": 10}) is None
    True
    """
    channels = next((spec[k] for k in ("in_features", "in_channels", "num_features", "num_channels", "input_size")
                     if k in spec), None)
    probes = [(1, 8)] if "num_embeddings" in spec else []  # an Embedding reads indices: any shape
    if isinstance(channels, int) and not isinstance(channels, bool) and channels > 0:
        probes += [(1, channels, *size) for size in _PROBES] + [(1, 1, channels)]  # the last: an RNN's (L, N, H)
    for shape in probes:
        try:
            return layer_step("torch", spec, shape).params
        except (SpecError, TypeError, ValueError, KeyError, IndexError, ZeroDivisionError):
            continue
    return None


_WEIGHTLESS = re.compile(r"\w*(?<!P)ReLU\d*|S?ELU|CELU|GELU|SiLU|GLU|Sigmoid|Tanh\w*|Soft\w+|Log\w+|Hard\w+|Mish|"
                         r"Threshold|\w*Dropout\w*|\w*Pool\w*|Identity|Flatten|Unflatten|Upsample\w*|Pixel\w*|"
                         r"ChannelShuffle|\w*Pad\dd")


def _weightless(module_type: str) -> bool:
    """A torch.nn module type that owns no parameters whatever its arguments (activations, pooling, dropout,
    reshapes, padding): not worth naming when forward() leaves it uncalled.

    >>> [_weightless(t) for t in ("ReLU", "LeakyReLU", "PReLU", "SiLU", "Dropout2d", "AdaptiveAvgPool2d", "ZeroPad2d")]
    [True, True, False, True, True, True, True]
    >>> [_weightless(t) for t in ("Linear", "Conv2d", "BatchNorm2d", "LayerNorm", "Embedding", "LSTM", "GroupNorm")]
    [False, False, False, False, False, False, False]
    """
    return bool(_WEIGHTLESS.fullmatch(module_type))


def detect_framework(code: str) -> str | None:
    """Which framework a paste is written for, from the words it uses (None when it uses neither's).

    >>> [detect_framework(c) for c in ("import torch.nn as nn", "model.add(layers.Dense(3))", "x = 1")]
    ['torch', 'keras', None]
    """
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
    ``model`` picks the class (or variable, or function) to trace when the paste holds several.

    >>> m = parse_model("import torch.nn as nn\\nmodel = nn.Sequential(nn.Conv1d(16, 32, 5), nn.ReLU())")
    >>> [layer["type"] for layer in m.layers], m.names
    (['Conv1d', 'ReLU'], ['0', '1'])
    """
    tree = _read(code)
    framework = framework or detect_framework(code)
    if framework not in ("torch", "keras"):
        raise CodeError("cannot tell whether this is PyTorch or Keras code: choose the framework")
    run = _Run(tree, framework, {str(k): _given(str(k), v) for k, v in (variables or {}).items()}, input_shape)
    _follow(run, framework, model)
    if not run.nodes:
        if run.needs_shape:
            raise CodeError(run.needs_shape)
        raise CodeError("found no model: Convscope reads Keras Sequential([...]) / model.add(...) / functional "
                        "layers, and PyTorch nn.Sequential(...) or an nn.Module class")
    return _parsed(run, framework, input_shape)


def _read(code: str) -> ast.Module:
    """The paste's syntax tree, bounded before and while it is read: characters, the parser's own limits, nodes."""
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
    return tree


def _follow(run: _Run, framework: str, model: str | None) -> None:
    """The paste's statements, then the model it builds; what cannot be followed is a CodeError, never a crash."""
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


def _parsed(run: _Run, framework: str, input_shape) -> ParsedModel:
    """What the run found, as the answer: layers, names, inputs, the names still to ask for, notes, shapes."""
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
    if getattr(run, "uncounted", None):
        named = [f"{what}: {n:,}" if n is not None else f"{what}: its size is not worked out here"
                 for what, n in run.uncounted]
        parsed.notes.append("the total counts the parameters of the layers forward() calls; PyTorch's "
                            "sum(p.numel() for p in model.parameters()) also counts those no row shows: "
                            + "; ".join(named))
    if framework == "torch" and input_shape is None and getattr(run, "example_shape", None):
        parsed.input_shape = run.example_shape
        parsed.notes.append(f"the input shape {list(run.example_shape)} is the one the code feeds the model "
                            "(torch.randn(...)); give input_shape to trace another")
    return parsed
