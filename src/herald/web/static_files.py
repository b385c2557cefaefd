"""The UI's scripts (web/static/*.js, such as tables.js that every page loads), served from memory.

Each file is read once when the router is built: no disk read per request, and a name that is not
one of them is a plain 404 (no path is ever joined from the URL). They hold nothing personal, so
browsers may cache them for a few minutes. herald.css keeps its own route in web/__init__.py.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, HTTPException, Response

from herald.app import Herald

MEDIA_TYPES = {".js": "text/javascript"}
CACHING = {"Cache-Control": "public, max-age=300"}


def _bundle() -> dict[str, tuple[bytes, str]]:
    """Every script of web/static by name, with its media type."""
    found: dict[str, tuple[bytes, str]] = {}
    for entry in files("herald.web").joinpath("static").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1] if "." in entry.name else ""
        if entry.is_file() and suffix in MEDIA_TYPES:
            found[entry.name] = (entry.read_bytes(), MEDIA_TYPES[suffix])
    return found


def router(herald: Herald) -> APIRouter:
    del herald  # the same signature as the UI's other routers; static files need nothing of it
    static = APIRouter(include_in_schema=False)
    bundle = _bundle()

    @static.get("/static/{name}")
    async def serve(name: str) -> Response:  # async on purpose: bytes read once at start, no I/O here
        if name not in bundle:
            raise HTTPException(status_code=404, detail=f"No static file {name!r}.")
        body, media_type = bundle[name]
        return Response(body, media_type=media_type, headers=CACHING)

    return static
