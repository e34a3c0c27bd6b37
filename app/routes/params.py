"""Reading a view's state from its query string: a pydantic model whose bounds are the controls' bounds."""
from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import QueryParams

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


def within(default, bounds: tuple[int, int]):
    """A state field whose bounds are the view's declared bounds (BOUNDS: one copy, used by the
    model, the controls and the tests)."""
    return Field(default, ge=bounds[0], le=bounds[1])


def per_axis(key: str, values: tuple[int, ...], dims: int, lo: int, hi: int, errors: list[str]) -> tuple[int, ...] | None:
    """A setting the framework takes per axis (an int or a tuple): one value means every axis.
    None, with the reason in ``errors`` (field, value, what works), when it is not ``dims`` numbers from lo to hi.

    >>> per_axis("stride", (2,), 2, 1, 4, [])
    (2, 2)
    >>> errors = []; per_axis("stride", (1, 9), 2, 1, 4, errors), errors
    (None, ["stride: needs 1 or 2 numbers (one per axis) from 1 to 4, got '1,9'"])
    """
    given = ",".join(map(str, values))
    if len(values) == 1:
        values = values * dims
    if len(values) == dims and all(lo <= v <= hi for v in values):
        return tuple(values)
    counts = "1 number" if dims == 1 else f"1 or {dims} numbers (one per axis)"
    errors.append(f"{key}: needs {counts} from {lo} to {hi}, got {given!r}")
    return None


def said_once(values: tuple | list) -> object:
    """One value when every axis has it (as people write stride=2), else the list (stride=(1, 2)).

    >>> said_once((2, 2)), said_once((1, 2))
    (2, [1, 2])
    """
    if isinstance(values, str):  # padding='same': already one value
        return values
    return values[0] if len(set(values)) == 1 else list(values)
