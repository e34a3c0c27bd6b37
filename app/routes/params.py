"""Reading a view's state from its query string: a pydantic model whose bounds are the controls' bounds."""
from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
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
