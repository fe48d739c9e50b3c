"""The API's interactive documentation (`/api/docs`), served with its own assets.

FastAPI's default page loads Swagger UI from a CDN, so it stays blank on a till with no
internet. The Swagger UI files come with the `swagger-ui-py` package and are served here
from the package directory; no request leaves the server.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_URL = "/api/docs"
ASSETS_URL = f"{DOCS_URL}/assets"
ASSETS = Path(str(files("swagger_ui") / "static"))  # a plain directory in the wheel


def add_docs(api: FastAPI, openapi_url: str) -> None:
    """Serve Swagger UI at DOCS_URL for `openapi_url`, every asset from this server."""
    api.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

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
