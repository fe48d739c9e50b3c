"""The API's interactive documentation (`/api/docs`), served with its own assets.

FastAPI's default page loads Swagger UI from a CDN, so it stays blank on a till with no
internet. The Swagger UI files come with the `swagger-ui-py` package and are served here
from the package directory; no request leaves the server.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_URL = "/api/docs"
ASSETS_URL = f"{DOCS_URL}/assets"


def assets() -> Path:
    """swagger-ui-py's static files, a plain directory in the wheel, found without importing
    the package, which imports PyYAML and its own page renderer (about 1 MB)."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed")
    return Path(spec.submodule_search_locations[0]) / "static"


def add_docs(api: FastAPI, openapi_url: str) -> None:
    """Serve Swagger UI at DOCS_URL for `openapi_url`, every asset from this server."""
    api.mount(ASSETS_URL, StaticFiles(directory=assets()), name="docs-assets")

    @api.get(DOCS_URL, include_in_schema=False)
    async def docs() -> HTMLResponse:
        """Swagger UI over the OpenAPI document; validatorUrl off (it calls swagger.io)."""
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{api.title} - docs",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )
