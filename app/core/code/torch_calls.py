"""PyTorch: torch.nn layers and helpers, the zoos' factories, and what tensors do in forward()."""
from __future__ import annotations

import ast
import math
from typing import Any

from ..frameworks import zoo
from ..frameworks.common import SpecError
from ..frameworks.signatures import KERAS_ALIASES, no_effect
from ..trace import MERGES, layer_step, merge_step
from .values import (
    _FUNCTIONAL,
    _FUNCTIONAL_ARGS,
    _NOT_A_HELPER,
    _POSITIONAL,
    _RNNS,
    _SAME_TENSOR,
    MAX_ITEMS,
    MAX_LAYERS,
    MAX_NUMBER,
    Cls,
    CodeError,
    Ext,
    Func,
    Method,
    Mod,
    NeedShape,
    Node,
    Obj,
    Parameter,
    Partial,
    Sample,
    Seq,
    ShapeOf,
    SizeRef,
    Ten,
    Unknown,
    _line,
    _Stop,
    _text,
    _ZooRefusal,
)


class TorchCalls:
    """Library calls (torch.nn layers, helpers, the zoos) and what tensors do in forward()."""

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
        if path == "torch.hub.load" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str) and (
                args[0].split(":")[0] == "pytorch/vision"):  # the hub's pytorch/vision entries are torchvision.models'
            return self.zoo_model(args[1], f"torchvision.models.{args[1]}", list(args[2:]), kwargs, node)
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
        if path.startswith("math.") and args and all(isinstance(a, (int, float)) for a in args) and name in (
                "floor", "ceil", "sqrt", "log2", "log", "gcd"):  # in either framework's code
            try:
                return self.number(getattr(math, name)(*args), node)
            except (TypeError, ValueError, OverflowError):
                raise CodeError(f"line {_line(node)}: `{_text(node)}` has no value") from None
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
            sample = args[0] if name == "Parameter" and args else None  # torch.zeros(1, 8): its shape is known
            return Parameter(_text(node), _line(node), math.prod(sample.shape) if isinstance(sample, Sample) else None)
        if name[:1].isupper() and (".nn" in path or path.count(".") == 0 or path.startswith("torch.nn")):
            return Mod(self.spec(name, args, kwargs, node), _line(node))
        tensors = [a for a in args if isinstance(a, Ten)]
        if path.startswith(("torch", "F")) or tensors or (args and isinstance(args[0], (list, tuple)) and any(
                isinstance(a, Ten) for a in args[0])):
            return self.torch_function(func, args, kwargs, node)
        return Unknown("expr", _text(node), (), _line(node))

    def zoo_model(self, name: str, path: str, args, kwargs, node):
        """torchvision.models.resnet18(...) / keras.applications.ResNet50(...): the architecture's own definition
        (core/frameworks/zoo_*.py), followed like pasted code in a scope of its own, its factory called with
        the paste's arguments."""
        if name == "preprocess_input" and args and isinstance(args[0], Ten):
            return args[0]  # scales values, keeps the shape; Keras lists its operations as no layer
        if name not in zoo.factories(self.fw):
            raise CodeError(f"line {_line(node)}: `{path}` is not a model Convscope knows; it traces "
                            f"{zoo.LIBRARY[self.fw]}'s {', '.join(zoo.factories(self.fw))}")
        scope = dict(zoo.preset(self.fw, Ext))
        self.run_body(zoo.tree(self.fw).body, scope)
        why, n_notes = self.shape_why, len(self.notes)
        open_size = (f"line {_line(node)}: `{_text(node, 120)}` leaves the image size open (no input_shape): give "
                     "input_shape (batch first, e.g. [None, 224, 224, 3])")
        try:
            try:
                built = self.call(scope[name], args, kwargs, node)
            except NeedShape:  # the architecture reads the open size (MobileNetV3's paddings): ask for it, as above
                if self.shape_why is why:
                    raise
                self.shape_why = open_size
                raise _Stop() from None
            if self.shape_why is not why:  # include_top=False without input_shape: the image size is open
                self.shape_why = open_size
            if len(self.notes) > n_notes:  # said in the paste's words, not the zoo source's
                del self.notes[n_notes:]
                self.notes.append(f"line {_line(node)}: `{_text(node, 120)}` leaves the image size open: traced with "
                                  f"the given input_shape {list(self.request_shape or ())}")
            return built
        except _ZooRefusal as e:  # the architecture's own check (classes=10 with imagenet weights): said as such
            if str(e).startswith("Convscope"):  # what the zoo source says Convscope cannot trace
                raise CodeError(f"line {_line(node)}: `{_text(node, 120)}`: {e}") from None
            raise CodeError(f"line {_line(node)}: `{_text(node, 120)}`: {zoo.LIBRARY[self.fw]} refuses these "
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
            kind = "stack" if name == "stack" else "cat"
            return self.op({"type": kind, "dim": self.size_value(dim, node)}, items, node)
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
        return self.torch_on_tensor(func, x, args, kwargs, node)

    def torch_on_tensor(self, func: Ext, x: Ten, args, kwargs, node):
        """torch.* / F.* on a tensor: flatten, interpolate, pad, reshape, permute…, F's activations and pooling
        (one row each), elementwise functions (the shape stays)."""
        name = func.name
        if name in ("flatten",):
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            return self.op({"type": "Flatten", "start_dim": start, **({"end_dim": end} if end != -1 else {})}, [x],
                           node)
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
                axis = args and isinstance(args[0], int)
                return SizeRef(x, args[0], _text(node)) if axis else ShapeOf(x, _text(node))
            shape = self.shape_of(x, node)
            axis = args and isinstance(args[0], int) and -len(shape) <= args[0] < len(shape)
            return shape[args[0]] if axis else shape
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
            return self.op({"type": "Flatten", "start_dim": start, **({"end_dim": end} if end != -1 else {})}, [x],
                           node)
        if name == "permute":
            dims = list(args[0]) if len(args) == 1 and isinstance(args[0], (list, tuple)) else list(args)
            return self.op({"type": "permute", "dims": dims}, [x], node)
        if name in ("transpose", "swapaxes"):
            return self.op({"type": "transpose", "dim0": args[0], "dim1": args[1]}, [x], node)
        if name == "unsqueeze":
            return self.op({"type": "unsqueeze", "dim": args[0] if args else kwargs.get("dim")}, [x], node)
        if name == "squeeze":
            return self.op({"type": "squeeze", "dim": args[0] if args else kwargs.get("dim")}, [x], node)
        return self.tensor_values(x, name, args, kwargs, node)

    def tensor_values(self, x: Ten, name: str, args, kwargs, node):
        """The tensor methods that compute: reductions, activations, arithmetic; those that keep the tensor."""
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
        if name == "chunk" and args:
            return self.chunk(x, args[0], args[1] if len(args) > 1 else kwargs.get("dim", 0), node)
        if name in ("view_as", "reshape_as", "expand_as") and args and isinstance(args[0], Ten):
            if args[0].shape is None:
                self.need_shape(f"line {_line(node)}: `{_text(node)}`")
            return self.op({"type": "view", "shape": list(args[0].shape)}, [x], node)
        raise CodeError(f"line {_line(node)}: `{_text(node)}`: the tensor method .{name}() is not followed; "
                        "Convscope follows view/reshape/flatten/permute/transpose/(un)squeeze/mean/sum/size")

    def chunk(self, x: Ten, chunks, dim, node):
        """x.chunk(n, dim): as torch splits, pieces of ceil(size / n) along dim (the last one may be shorter, and
        fewer than n when they run out), each an index (a slice) of x."""
        if x.shape is None:
            self.need_shape(f"line {_line(node)}: `{_text(node)}`")
        if not (isinstance(chunks, int) and isinstance(dim, int)) or chunks < 1 or not -len(x.shape) <= dim < len(
                x.shape):
            raise CodeError(f"line {_line(node)}: `{_text(node)}`: chunk takes a positive number of chunks and an "
                            f"axis of the tensor {list(x.shape)}")
        dim, size = dim % len(x.shape), x.shape[dim]
        step = max(1, -(-size // chunks))
        return tuple(self.op({"type": "index", "picks": [None] * dim + [{"slice": [start, start + step, None]}]}, [x],
                             node) for start in range(0, size, step))

    def tensor_binop(self, op, a, b, node):
        if isinstance(a, Ten) and isinstance(b, Ten):
            kind = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul"}.get(type(op))
            if kind is None:
                raise CodeError(f"line {_line(node)}: `{_text(node)}` between two tensors is not followed "
                                "(+, - and * are)")
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
