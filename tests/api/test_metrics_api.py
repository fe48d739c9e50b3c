"""`GET /api/v1/metrics`: the report's JSON over the API, behind the `reports` scope."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest

from bot.api.metrics_schemas import MetricsOut
from bot.cli import main
from domain.metrics import as_json
from domain.program import Program
from domain.services.metrics import program_metrics
from storage.database import Database
from storage.uow import SqlUnitOfWork
from tests.api.conftest import api_client, bearer
from tests.integration.test_cli import in_thread
from tests.integration.test_metrics import seed

PERIOD = {"since": "2026-02-01", "until": "2026-03-01"}


async def test_the_figures_are_the_reports_json(
    client: httpx.AsyncClient, tokens: dict[str, str], database: Database, program: Program
) -> None:
    await seed(database)
    answer = await client.get("/api/v1/metrics", params=PERIOD, headers=bearer(tokens["reports"]))
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    figures = await program_metrics(
        SqlUnitOfWork(database, read_only=True), program, date(2026, 2, 1), date(2026, 3, 1)
    )
    assert shown == as_json(figures)  # what `report --format json` prints
    assert (shown["revenue"], shown["purchases"]) == ("135.00", 4)  # as in test_metrics
    assert shown["members"]["new"] == 2
    MetricsOut.model_validate(shown)  # the documented model has every field, and no other
    admin = await client.get("/api/v1/metrics", params=PERIOD, headers=bearer(tokens["admin"]))
    assert admin.json() == shown


async def test_the_default_period_is_the_30_days_before_today(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    answer = await client.get("/api/v1/metrics", headers=bearer(tokens["reports"]))
    assert answer.status_code == 200, answer.text
    # NOW is 2026-03-02 15:30 UTC, 10:30 in New York.
    assert (answer.json()["since"], answer.json()["until"]) == ("2026-01-31", "2026-03-02")
    until_only = await client.get(
        "/api/v1/metrics", params={"until": "2026-02-10"}, headers=bearer(tokens["reports"])
    )
    assert until_only.json()["since"] == "2026-01-11"


async def test_a_token_is_needed_with_the_reports_scope(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    missing = await client.get("/api/v1/metrics", params=PERIOD)
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    for scope in ("purchases", "members", "vouchers"):
        refused = await client.get("/api/v1/metrics", params=PERIOD, headers=bearer(tokens[scope]))
        assert refused.status_code == 403
        assert refused.json() == {
            "error": "forbidden",
            "detail": "this token lacks the 'reports' scope",
        }


async def test_bad_dates_are_refused_naming_the_parameter(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    for params, start in (
        ({"since": "2026-02-30"}, "since: "),
        ({"until": "yesterday"}, "until: "),
        ({"since": "2026-03-01", "until": "2026-03-01"}, "since: "),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "since: "),
        ({"since": "2026-02-01\u0000"}, "since: "),
        ({"until": "9" * 40}, "until: "),
        ({"since": "0001-01-01"}, "since: "),
        ({"since": "2026-01-01", "until": "9999-12-31"}, "until: "),
    ):
        answer = await client.get(
            "/api/v1/metrics", params=params, headers=bearer(tokens["reports"])
        )
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["error"] == "invalid"
        assert answer.json()["detail"].startswith(start), answer.json()


async def test_the_openapi_documents_the_answer_and_the_scope(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    route = document["paths"]["/api/v1/metrics"]["get"]
    assert route["x-scope"] == "reports"
    assert route["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MetricsOut"
    }
    assert {"since", "until"} <= {p["name"] for p in route["parameters"]}
    assert "points" in document["components"]["schemas"]["MetricsOut"]["properties"]


def test_a_reports_token_from_the_cli_reads_the_metrics(
    tmp_path: Path,
    program: Program,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/reports.db"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["api-token", "create", "office", "--scope", "reports"]) == 0
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    statuses: list[int] = []

    async def call() -> None:
        database = Database(url)
        try:
            async with api_client(database, program) as http:
                for path in ("/api/v1/metrics", "/api/v1/members/K7M2Q9XR"):
                    statuses.append((await http.get(path, headers=bearer(secret))).status_code)
        finally:
            await database.dispose()

    in_thread(call())
    assert statuses == [200, 403]  # reports, and nothing else
