"""Reading a view's state from its query string: a pydantic model whose bounds are the controls' bounds."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError, create_model
from starlette.datastructures import QueryParams

from ..core.shapes import csv

M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], raw: dict, errors: list[str]) -> M:
    """The state from raw values; each refused field is named in ``errors`` (with its value) and
    falls back to its default."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        bad = {str(e["loc"][0]) if e["loc"] else "query" for e in exc.errors()}
        errors += [f"{e['loc'][0] if e['loc'] else 'query'}: {e['msg']}, got {e.get('input')!r}" for e in exc.errors()]
        return model.model_validate({k: v for k, v in raw.items() if k not in bad})


@cache
def defaults(model: type[BaseModel]) -> dict[str, Any]:
    """Each field's default, per state model (pydantic's ``model_fields`` costs ~2 us a read since 2.11, and a
    page reads it a few dozen times)."""
    return {name: field.default for name, field in model.model_fields.items()}


def parse_query(model: type[M], query: QueryParams) -> tuple[M, list[str]]:
    """The state from a query string's fields, plus one message per refused field."""
    errors: list[str] = []
    return validated(model, {k: v for k, v in query.items() if k in model.model_fields}, errors), errors


def ints(values: list[str]) -> tuple[int, ...] | str:
    """'3' or '3,2' or several values -> ints; the raw text back when it is not that."""
    parts = [p for v in values for p in v.split(",") if p.strip() != ""]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return ",".join(values)



def read_type(query, types: dict[str, tuple[str, dict]], refusal: str, raw: dict, errors: list[str]) -> str:
    """The framework and what the layer's class name says, read the same way by every view.

    ``types`` maps each class name the view draws to (its framework, the state fields it sets): the name
    decides the framework unless ``framework`` says otherwise (Conv2d is PyTorch's, Conv2D Keras'), and a
    name in other case is still known (conv2d: PyTorch's first). ``refusal`` says what the view draws, with
    ``{!r}`` where the name given goes; a name it does not know, or a framework that is neither, is refused in
    words. Returns the framework.

    >>> types = {"Conv2d": ("torch", {"dims": 2}), "Conv2D": ("keras", {"dims": 2})}
    >>> raw, errors = {}, []
    >>> read_type({"type": "Conv2D"}, types, "type: Conv2d or Conv2D, got {!r}", raw, errors), raw, errors
    ('keras', {'dims': 2, 'framework': 'keras'}, [])
    >>> read_type({"type": "Dense", "framework": "jax"}, types, "type: Conv2d or Conv2D, got {!r}", raw, errors)
    'torch'
    >>> errors
    ["type: Conv2d or Conv2D, got 'Dense'", "framework: must be 'torch' or 'keras', got 'jax'"]
    """
    framework, name = query.get("framework"), query.get("type")
    implied = None
    if name:
        lower = {}
        for known, entry in types.items():
            lower.setdefault(known.lower(), entry)
        entry = types.get(name) or lower.get(name.lower())
        if entry is None:
            errors.append(refusal.format(name))
        else:
            implied, fields = entry
            raw.update(fields)
    if framework is not None and framework not in ("torch", "keras"):
        errors.append(f"framework: must be 'torch' or 'keras', got {framework!r}")
        framework = None
    raw["framework"] = framework = framework or implied or "torch"
    return framework


def read_input_shape(text: str, framework: str, ranks: tuple[int, ...], given: object, errors: list[str], *,
                     name: str = "in_channels") -> tuple[int, int, tuple[int, ...]] | None:
    """``input_shape`` in the framework's layout — PyTorch (N, C, *size), Keras (N, *size, C) — as
    (batch, channels, size). None, with the reason in ``errors``, when it is not ``ranks`` integers. A
    channel count ``given`` beside it (under ``name``) that disagrees is named; the input's own wins, as
    the framework would refuse the other.

    >>> read_input_shape("2,5,5,3", "keras", (4,), None, [])
    (2, 3, (5, 5))
    >>> errors = []; read_input_shape("1,4,6", "torch", (3,), 2, errors), errors
    ((1, 4, (6,)), ['in_channels: 2 disagrees with input_shape [1, 4, 6], whose channel axis holds 4 (PyTorch \
would refuse the input); showing 4'])
    >>> errors = []; read_input_shape("4,3", "torch", (3, 4), None, errors), errors
    (None, ["input_shape: expected (N, C, L) or (N, C, H, W) as comma-separated integers, got '4,3'"])
    """
    shape = ints([text])
    if not isinstance(shape, tuple) or len(shape) not in ranks:
        sizes = {3: "L", 4: "H, W", 5: "D, H, W"}
        layouts = [f"(N, C, {sizes[r]})" if framework == "torch" else f"(N, {sizes[r]}, C)" for r in ranks]
        errors.append(f"input_shape: expected {' or '.join(layouts)} as comma-separated integers, got {text!r}")
        return None
    channels, size = (shape[1], shape[2:]) if framework == "torch" else (shape[-1], shape[1:-1])
    if given is not None and str(given) != str(channels):
        errors.append(f"{name}: {given} disagrees with input_shape {list(shape)}, whose channel axis holds {channels} "
                      f"(PyTorch would refuse the input); showing {channels}")
    return shape[0], channels, size


def input_shape_words(framework: str) -> dict[str, str]:
    """How a refusal names the fields read from ``input_shape``: by their place in it (read_input_shape's)."""
    torch = framework == "torch"
    return {"batch": "input_shape[0] (batch)", "channels": f"input_shape[{1 if torch else -1}] (channels)",
            "size": f"input_shape[{'2:' if torch else '1:-1'}] (size)"}


def in_url_words(errors: list[str], said: dict[str, str]) -> list[str]:
    """Each refusal named by the word the URL used (read_knobs' ``said``), not the state's field: a student who
    typed ``kernel_size=9`` reads ``kernel_size: …``.

    >>> in_url_words(["kernel: needs 1 to 7, got '9'", "seed: must be 0 to 9999"], {"kernel": "kernel_size"})
    ["kernel_size: needs 1 to 7, got '9'", 'seed: must be 0 to 9999']
    """
    named = []
    for message in errors:
        field, colon, rest = message.partition(": ")
        named.append(f"{said[field]}: {rest}" if colon and said.get(field, field) != field else message)
    return named


def per_axis(key: str, values: tuple[int, ...], dims: int, lo: int, hi: int, errors: list[str],
             why: str = "") -> tuple[int, ...] | None:
    """A setting the framework takes per axis (an int or a tuple): one value means every axis.
    None, with the reason in ``errors`` (field, value, what works), when it is not ``dims`` numbers from lo to hi.

    >>> per_axis("stride", (2,), 2, 1, 4, [])
    (2, 2)
    >>> errors = []; per_axis("stride", (1, 9), 2, 1, 4, errors), errors
    (None, ["stride: needs 1 or 2 numbers (one per axis) from 1 to 4, got '1,9'"])
    """
    given = csv(values)
    if len(values) == 1:
        values = values * dims
    if len(values) == dims and all(lo <= v <= hi for v in values):
        return tuple(values)
    counts = "1 number" if dims == 1 else f"1 or {dims} numbers (one per axis)"
    errors.append(f"{key}: needs {counts} from {lo} to {hi}{f' ({why})' if why else ''}, got {given!r}")
    return None


def said_once(values: tuple | list) -> object:
    """One value when every axis has it (as people write stride=2), else the list (stride=(1, 2)).

    >>> said_once((2, 2)), said_once((1, 2))
    (2, [1, 2])
    """
    if isinstance(values, str):  # padding='same': already one value
        return values
    return values[0] if len(set(values)) == 1 else list(values)


# ---------------------------------------------------------------- knobs, declared once per view

@dataclass(frozen=True)
class Knob:
    """One setting of a view, declared once. Each view's ``KNOBS`` table (in the order the framework's
    constructor takes them) is read by: ``read_knobs`` (the URL in either framework's words, or the
    form's), ``check_axes`` (per-axis values, with messages naming the field, the value and what works),
    ``layer_words`` (the layer's keywords: its spec, its code and its canonical URL), ``view_options``
    (the rest of the URL), ``switch_axes`` (the dimension switch), ``controls`` (the knob strip),
    ``bounds_of`` (the state model's bounds) and the tests' tables."""

    field: str  # the state's field; also the name the form sends
    type: Any = None  # the field's type, on the knob that declares it (None: another knob or the view declares it)
    default: Any = None  # the field's default (on the knob that declares it)
    torch: str | None = None  # PyTorch's keyword (in the URL and the layer); None: not a layer keyword there
    keras: str | None = None  # Keras' keyword
    also: tuple[str, ...] = ()  # more names read from a URL
    only: str | None = None  # "torch" or "keras": the framework that has it (None: both)
    bounds: tuple[int, int] | dict[int, tuple[int, int]] | None = None  # per axis if per_axis; by dims if a dict
    why: str = ""  # why those bounds
    per_axis: bool = False  # the framework takes a tuple: one value means every axis
    start: int | dict[int, int] | None = None  # per axis: the value when not given (default: the model's)
    fill: str | None = None  # per axis: 'default' on an axis takes this knob's value there (pooling's stride)
    listed: bool = False  # per axis: written as a list even when every axis has it (kernel_size=3,3)
    option: bool = False  # a view option, not a layer keyword: in the URL when not at its default (or when written)
    reset: bool = False  # back to its default when the framework or the dimensions switch (the step)
    has: Callable[[Any], bool] | None = None  # which layers have it: its control and its keyword
    written: Callable[[Any], bool] | None = None  # when its keyword is written (default: has it, and not None)
    read: Callable[[list[str], QueryParams], object] | None = None  # the URL's values -> the raw value
    widget: str | None = None  # number, decimal, slider, select, bool, fixed, slot (the view's own), None: none
    label: str | Callable[[Any], str] | None = None  # the control's label (default: the framework's word)
    group: str = "Layer"  # the knob strip's fieldset ("": none, a flat form)
    options: Callable[[Any, int], list] | tuple = ()  # a select's values or (value, text) pairs (state, axis)
    top: Callable[[Any], int] | None = None  # a number's maximum when it depends on the state (f < filters)
    step: int | None = None  # a slider's step (/image's size moves by 16 pixels)
    value: Callable[[Any], object] | None = None  # what the URL writes when it is not the field as it is
    note: str = ""  # a fixed knob's note (markup written by the view, never from a request)

    def word(self, framework: str) -> str | None:
        return self.torch if framework == "torch" else self.keras

    def range(self, dims: int) -> tuple[int, int]:
        return self.bounds[dims] if isinstance(self.bounds, dict) else self.bounds

    def shows(self, state) -> bool:
        return self.only in (None, state.framework) and (self.has is None or self.has(state))


def word(values: list[str], query=None) -> str:
    """A knob's reader for a word (padding='same'): the last value given, as the framework spells it."""
    return values[-1].strip().lower()


def numbers_or_word(values: list[str], query=None) -> tuple[int, ...] | str:
    """A knob's reader for a setting that is numbers per axis or a word (PyTorch's padding=(1, 2), Keras' 'same')."""
    value = ints(values)
    return value.strip().lower() if isinstance(value, str) else value


def state_model(name: str, knobs: tuple[Knob, ...], base: type[M]) -> type[M]:
    """The view's state model, generated from its knob table: ``base`` (the fields no knob sets, such as
    ``framework``, and the properties) with one field per knob that declares a type, with its default and,
    unless it is per axis (``check_axes`` checks those), its bounds.

    >>> class Base(BaseModel):
    ...     framework: str = "torch"
    >>> S = state_model("S", (Knob("seed", type=int, default=0, bounds=(0, 9)),), Base)
    >>> errors = []; S().seed, validated(S, {"seed": 10}, errors).seed, errors
    (0, 0, ['seed: Input should be less than or equal to 9, got 10'])
    """
    bounds, fields = bounds_of(knobs), {}
    for k in knobs:
        if k.type is not None and k.field not in fields:
            ranged = k.field in bounds and not k.per_axis
            fields[k.field] = (k.type, Field(k.default, ge=bounds[k.field][0], le=bounds[k.field][1]) if ranged
                               else k.default)
    return create_model(name, __base__=base, __module__=base.__module__, __doc__=base.__doc__, **fields)


def bounds_of(knobs: tuple[Knob, ...]) -> dict[str, tuple[int, int]]:
    """Each bounded knob's range (the widest over dimensions), for the state model and the tests."""
    out = {}
    for k in knobs:
        if k.bounds is not None:
            ranges = list(k.bounds.values()) if isinstance(k.bounds, dict) else [k.bounds]
            out[k.field] = (min(r[0] for r in ranges), max(r[1] for r in ranges))
    return out


def read_knobs(knobs: tuple[Knob, ...], query: QueryParams, framework: str, raw: dict,
               said: dict | None = None) -> None:
    """Every knob's value the URL gives, under any of its names (the framework's word, an alias or the
    form's name), into ``raw`` for the state model. A knob of the other framework only is read too when
    this one has no knob for the field, so the state model or the framework refuses it by name.
    ``said`` (if given) records the name each value came under, for messages in the URL's words."""
    mine = [k for k in knobs if k.only in (None, framework)]
    own = {id(k) for k in mine}  # by identity: comparing Knobs field by field cost ~300 comparisons a request
    for k in mine + [k for k in knobs if id(k) not in own]:
        if id(k) not in own and k.field in raw:
            continue  # the other framework's word, read only when this one's was not given (and then refused)
        for name in dict.fromkeys(n for n in (k.torch, k.keras, *k.also, k.field) if n):
            if name in query:
                values = query.getlist(name)
                raw[k.field] = (k.read(values, query) if k.read else ints(values) if k.per_axis else query[name])
                if said is not None:
                    said[k.field] = name


def check_axes(knobs: tuple[Knob, ...], state, raw: dict, errors: list[str]) -> dict:
    """Per-axis knobs as ``state.dims`` numbers in their bounds: the fixes for the state model. A knob
    not given takes its start value on every axis; a refused one too, with the reason in ``errors``.
    'default' on an axis of a knob that fills from another takes that knob's value there."""
    fixes = {}
    for k in knobs:
        if not k.per_axis or k.only not in (None, state.framework):
            continue
        lo, hi = k.range(state.dims)
        default = defaults(type(state))[k.field]
        start = k.start[state.dims] if isinstance(k.start, dict) else k.start
        start = default[0] if start is None and isinstance(default, tuple) else start
        fallback = None if start is None else (min(start, hi),) * state.dims  # None: pooling's stride not given
        value = getattr(state, k.field) if k.field in raw else fallback
        if isinstance(value, tuple) and k.fill and "default" in value:
            filled = fixes.get(k.fill, getattr(state, k.fill))  # checked first: the table's order
            value = tuple(filled[a] if v == "default" and a < len(filled) else v
                          for a, v in enumerate(value * state.dims if len(value) == 1 else value))
        if isinstance(value, tuple):
            fixes[k.field] = per_axis(k.field, value, state.dims, lo, hi, errors, k.why) or fallback
    return fixes


def layer_words(knobs: tuple[Knob, ...], state) -> dict[str, object]:
    """The layer's keywords in the framework's words, in the constructor's order; a per-axis value said
    once when every axis has it."""
    spec = {}
    for k in knobs:
        word = k.word(state.framework)
        if k.option or not word or k.only not in (None, state.framework):
            continue
        value = k.value(state) if k.value else getattr(state, k.field)
        if not (k.written(state) if k.written else (k.has is None or k.has(state)) and value is not None):
            continue
        spec[word] = list(value) if k.listed else said_once(value) if k.per_axis and value is not None else value
    return spec


def view_options(knobs: tuple[Knob, ...], state) -> dict[str, object]:
    """The view's options for the URL: those not at their defaults (or whose ``written`` says so)."""
    default = defaults(type(state))
    return {k.field: k.value(state) if k.value else getattr(state, k.field) for k in knobs
            if k.option and k.only in (None, state.framework)
            and (k.written(state) if k.written else getattr(state, k.field) != default[k.field])}


def url_words(spec: dict) -> dict[str, object]:
    """Values as the URL writes them: lists comma-separated, booleans lower case, decimals never rounded."""
    return {k: csv(v) if isinstance(v, (list, tuple)) else str(v).lower() if isinstance(v, bool)
            else f"{v:.15g}" if isinstance(v, float) else v for k, v in spec.items()}


def switch_axes(knobs: tuple[Knob, ...], state, dims: int) -> dict:
    """Per-axis values carried to ``dims`` axes (the last axis repeated, kept in bounds) and the reset knobs
    back to their defaults: the fixes for a framework or dimension switch."""
    default = defaults(type(state))
    update = {k.field: default[k.field] for k in knobs if k.reset}
    for k in knobs if dims != state.dims else ():
        value = getattr(state, k.field) if k.per_axis else None
        if isinstance(value, tuple):
            lo, hi = k.range(dims)
            update[k.field] = tuple(min(max(v, lo), hi) for v in (value + (value[-1],) * dims)[:dims])
    return update


class Later:
    """An iterable computed when first iterated: the knob strip (``controls``) is drawn on whole pages only,
    never in a knob move's fragment, so a fragment does not build it.

    >>> calls = []
    >>> later = Later(lambda: calls.append(1) or [1, 2])
    >>> len(calls), list(later), list(later), len(calls)
    (0, [1, 2], [1, 2], 1)
    """

    def __init__(self, make) -> None:
        self._make, self._value = make, None

    def __iter__(self):
        if self._value is None:
            self._value = self._make()
        return iter(self._value)


def controls(knobs: tuple[Knob, ...], state, axes: list[str]) -> Later:
    """strip_controls, computed when the template draws the strip."""
    return Later(lambda: strip_controls(knobs, state, axes))


def strip_controls(knobs: tuple[Knob, ...], state, axes: list[str]) -> list[tuple[str, list[dict]]]:
    """The knob strip: per fieldset, each control the state's layer has (one per axis for a per-axis
    knob), with its id, the name the form sends, its label, value and range."""
    groups: dict[str, list[dict]] = {}
    for k in knobs:
        if not k.widget or not k.shows(state):
            continue
        label = k.label(state) if callable(k.label) else k.label or k.word(state.framework) or k.field
        value = getattr(state, k.field)
        lo, hi = k.range(len(axes)) if k.bounds else (None, None)
        hi = k.top(state) if k.top else hi
        split = k.per_axis  # one control per axis; a word (padding='same') shows on every axis
        for i, axis in enumerate(axes if split else [None]):
            v = (value[i] if isinstance(value, tuple) else value) if split else value
            groups.setdefault(k.group, []).append({
                "widget": k.widget, "id": f"{k.field}-{i}" if split else k.field, "name": k.field,
                "label": label.format(axis=axis) if "{axis}" in label
                else f"{label} ({axis})" if split and len(axes) > 1 else label,
                "value": v, "min": lo, "max": hi, "step": k.step,
                "options": k.options(state, i) if callable(k.options) else k.options, "note": k.note})
    return list(groups.items())
