"""Reading a view's state from its query string: a pydantic model whose bounds are the controls' bounds."""
from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams

M = TypeVar("M", bound=BaseModel)


def parse_query(model: type[M], query: QueryParams) -> tuple[M, list[str]]:
    """The state, plus one message per refused field (that field falls back to its default)."""
    data = {k: v for k, v in query.items() if k in model.model_fields}
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors, bad = [], set()
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "query"
            bad.add(field)
            errors.append(f"{field}: {err['msg']}, got {err.get('input')!r}")
        return model.model_validate({k: v for k, v in data.items() if k not in bad}), errors
