"""Keras: layers (and Keras 1/2 spellings), Input, and models: Sequential, functional, nested."""
from __future__ import annotations

from ..frameworks.signatures import KERAS_ALIASES
from .values import (
    _KERAS_MERGE_FUNCS,
    _OLD_KERAS_CONV,
    _OLD_KERAS_KEYWORDS,
    _OLD_KERAS_REFUSED,
    _OLD_KERAS_VALUES,
    _POSITIONAL,
    CodeError,
    Ext,
    KModel,
    Method,
    Mod,
    Seq,
    ShapeOf,
    SizeRef,
    Ten,
    Unknown,
    _arg_text,
    _line,
    _snake,
    _text,
)


class KerasCalls:
    """Keras layers, old Keras spellings, Input, and Keras models (Sequential, functional, nested)."""

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
            as_list = lambda v: list(v.values()) if isinstance(v, dict) else \
                list(v) if isinstance(v, (list, tuple)) else [v]
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
        dims = {"Conv2D": 2, "Conv3D": 3}.get(name, 0)
        if dims and len(args) > dims and all(type(a) is int for a in args[1:dims + 1]) and "strides" not in kwargs:
            self.keras2_sizes(name, args[:dims + 1], node)
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

    def keras2_sizes(self, name: str, args: list, node) -> None:
        """Conv2D(32, 3, 3): traced as Keras 3 reads it (strides=3; Conv3D's fourth number is padding), with a note:
        Keras 2 read it as Keras 1's nb_row, nb_col (kernel (3, 3), stride 1), and answers people find write it so."""
        call, kernel = f"{name}({', '.join(map(str, args))})", tuple(args[1:])
        third = "the numbers after the kernel size as strides and padding" if name == "Conv3D" else \
            f"the third number as strides={args[2]}"
        self.notes.append(f"line {_line(node)}: {call}: Keras 3 reads {third}, and so does this trace; Keras 2 read "
                          f"{call} as Keras 1's sizes (nb_row, nb_col…): kernel_size={kernel}, stride 1. If the code "
                          f"was written for Keras 2, write {name}({args[0]}, {kernel})")

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
