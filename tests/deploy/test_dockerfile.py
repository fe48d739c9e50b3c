"""The container recipe, checked without a container engine (none runs on this machine).

The Dockerfile is parsed, its build context rebuilt from exactly what it copies, and that
context built into a wheel that must hold the templates, migrations and default program;
the image's entrypoint, command, ports, health check and database URL are checked against
the CLI, the settings and the API they rely on.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from bot.cli import parser
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    joined: list[str] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in joined]


def values(name: str) -> list[str]:
    return [args for instruction, args in instructions() if instruction == name]


def exec_form(args: str) -> list[str]:
    """A JSON-array instruction argument (exec form), which gets signals directly."""
    parsed = json.loads(args)
    assert isinstance(parsed, list), f"not exec form: {args}"
    return [str(part) for part in parsed]


def env() -> dict[str, str]:
    """Every ENV key=value of the image."""
    found: dict[str, str] = {}
    for args in values("ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            found[key] = value
    return found


def copied_sources() -> list[str]:
    return [src for args in values("COPY") for src in shlex.split(args)[:-1]]


def ignored(path: str) -> bool:
    patterns = [
        p.strip()
        for p in (ROOT / ".dockerignore").read_text().splitlines()
        if p.strip() and not p.startswith("#")
    ]
    return any(fnmatch.fnmatch(path, pattern) for pattern in patterns)


def test_every_copied_path_exists_and_is_not_ignored() -> None:
    for source in copied_sources():
        assert (ROOT / source).exists(), source
        assert not ignored(source), f"{source} is excluded by .dockerignore"


def test_the_copied_context_builds_a_complete_package(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for source in copied_sources():
        target = context / source
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / source, target)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(context),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "domain/default_program.toml" in names
    assert "messages/en/balance.j2" in names
    assert "messages/es/balance.j2" in names
    assert any(n.startswith("storage/migrations/versions/") for n in names)
    assert "storage/migrations/env.py" in names


def test_entrypoint_and_command_are_the_cli() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    (entrypoint,) = values("ENTRYPOINT")
    (command,) = values("CMD")
    assert exec_form(entrypoint) == ["loyalty-bot"]
    assert "loyalty-bot" in scripts
    args = parser().parse_args(exec_form(command))
    assert args.command == "run"
    assert values("STOPSIGNAL") == ["SIGTERM"]


def test_the_image_settings_are_valid_and_listen_on_the_exposed_ports(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key, value in env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)  # no .env, as in the image's WORKDIR
    settings = load_settings()
    assert settings.database_url.startswith("sqlite+aiosqlite:////data/")
    assert '"/data"' in values("VOLUME")[0]
    exposed = {int(port) for args in values("EXPOSE") for port in args.split()}
    assert {settings.api_port, settings.webhook_port} <= exposed
    assert settings.api_host == settings.webhook_host == "0.0.0.0"


def test_the_health_check_asks_a_route_the_api_serves() -> None:
    from bot.api.app import create_api
    from domain.program_file import default_program_path, load_program

    (check,) = values("HEALTHCHECK")
    url = next(part for part in check.split("'") if part.startswith("http://"))
    port, path = url.removeprefix("http://127.0.0.1:").split("/", 1)
    assert "API_PORT" not in env()  # so the API listens on the default port
    assert int(port) == Settings().api_port
    api = create_api(
        lambda: None,
        lambda: None,  # type: ignore[arg-type, return-value]
        load_program(default_program_path()),
        lambda: None,
    )  # type: ignore
    paths = {getattr(route, "path", None) for route in api.routes}
    assert f"/{path}" in paths
