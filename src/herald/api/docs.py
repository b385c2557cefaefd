"""The interactive API docs at /docs, served whole by herald: Swagger UI's files come from a package, not a CDN.

herald often runs on a bank's closed network, where a page that loads its script from the
internet is a blank page (and a third party's script on a page that can hold a token).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Response
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from herald.errors import NotFoundError

ASSETS = "/docs/assets"
_TYPES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon-32x32.png": "image/png"}


def _dist() -> Path:
    # The swagger-ui-py package ships Swagger UI's dist files; found without importing it (it imports
    # web frameworks herald does not use).
    spec = importlib.util.find_spec("swagger_ui")
    assert spec is not None and spec.submodule_search_locations, "swagger-ui-py is a dependency of herald"
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def router(app: FastAPI) -> APIRouter:
    docs = APIRouter(include_in_schema=False)
    dist = _dist()
    assets = {name: (dist / name).read_bytes() for name in _TYPES}

    @docs.get("/docs")
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    @docs.get(ASSETS + "/{name}")
    def asset(name: Annotated[str, PathParam(max_length=40)]) -> Response:
        if name not in assets:
            raise NotFoundError(f"No docs asset {name!r}.")
        return Response(assets[name], media_type=_TYPES[name], headers={"Cache-Control": "public, max-age=86400"})

    return docs
