"""/api/docs in headless Chromium: Swagger UI renders the API from this server's own files,
with no request to another site (the fixture fails the test on any)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.web.conftest import WIDTHS


def test_the_api_docs_render_offline(live, new_page):
    page = new_page(width=WIDTHS["desktop"])
    page.goto(live.url + "/api/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Loyalty merchant API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/purchases" in path for path in paths)
