"""`/docs`: the OpenAPI schema in Swagger UI, served from npm (no CDN, no inline script)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from ..templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(request: Request):
    return templates.TemplateResponse(request, "docs.html", {})
