"""/api/docs: Swagger UI with every asset served by the API itself, none from another site."""

from __future__ import annotations

import re

from tests.api.conftest import api_client


async def test_the_docs_page_loads_only_local_assets(database, program) -> None:
    async with api_client(database, program) as http:
        page = await http.get("/api/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources, page.text
        assert all(s.startswith("/api/docs/assets/") for s in sources), sources
        assert "https://" not in page.text
        assert '"validatorUrl": null' in page.text
        for source in sources:
            asset = await http.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 1000
        script = await http.get("/api/docs/assets/swagger-ui-bundle.js")
        assert "javascript" in script.headers["content-type"]


async def test_the_openapi_document_is_still_public(database, program) -> None:
    async with api_client(database, program) as http:
        answer = await http.get("/api/v1/openapi.json")
        assert answer.status_code == 200
        assert "/api/docs" not in answer.json()["paths"]
