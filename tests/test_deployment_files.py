"""The Dockerfile and docker-compose.yml agree with each other and with the repository.

No Docker engine is needed: the files are parsed and checked for what a deployer relies on.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"

SERVICES = ("postgres", "redis", "migrate", "api", "api-2")
#: The API processes; they must share a cross-process event bus.
API_SERVICES = ("api", "api-2")
APP_PORT = 8000


# --- helpers -------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile as ``(INSTRUCTION, arguments)`` pairs, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        pending += line
        keyword, _, arguments = pending.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "Dockerfile ends with a dangling line continuation"
    return instructions


def _arguments(instruction: str) -> list[str]:
    """Every argument list of one instruction, e.g. all ``EXPOSE`` lines."""
    return [arguments for keyword, arguments in _instructions() if keyword == instruction]


def _exec_form(arguments: str) -> list[str]:
    """Parse an exec-form (JSON array) instruction; shell form is rejected."""
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), f"expected exec form (JSON array), got {arguments!r}"
    assert all(isinstance(item, str) for item in parsed)
    return parsed


def _without_flags(words: list[str]) -> list[str]:
    return [word for word in words if not word.startswith("--")]


def _env() -> dict[str, str]:
    """Variables set by ``ENV`` (``KEY=value`` form, several per line allowed)."""
    env: dict[str, str] = {}
    for arguments in _arguments("ENV"):
        words = shlex.split(arguments)
        if words and "=" not in words[0]:  # legacy ``ENV KEY value`` form
            env[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            env[key] = value
    return env


def _workdir() -> PurePosixPath:
    workdirs = _arguments("WORKDIR")
    assert workdirs, "Dockerfile sets no WORKDIR"
    return PurePosixPath(workdirs[-1])


def _copies() -> dict[str, PurePosixPath]:
    """Each ``COPY`` source (relative to the build context) mapped to its path in the image."""
    workdir = _workdir()
    copied: dict[str, PurePosixPath] = {}
    for arguments in _arguments("COPY"):
        if arguments.startswith("["):
            words = _exec_form(arguments)
        else:
            words = _without_flags(shlex.split(arguments))
        assert not any(word.startswith("--from") for word in words), "multi-stage COPY"
        *sources, destination = words
        assert sources, f"COPY without a source: {arguments!r}"
        target = workdir / destination
        if len(sources) > 1:
            assert destination.endswith("/"), f"COPY of several files needs a dir: {arguments!r}"
        for source in sources:
            name = source.rstrip("/")
            is_directory = (ROOT / name).is_dir()
            # A directory's contents land in the destination; a file lands inside a
            # destination ending in "/", otherwise it becomes the destination.
            if is_directory or not destination.endswith("/"):
                copied[name] = target
            else:
                copied[name] = target / PurePosixPath(name).name
    return copied


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def _service(name: str) -> dict[str, Any]:
    services = _compose()["services"]
    assert name in services, f"docker-compose.yml has no {name!r} service"
    service = services[name]
    assert isinstance(service, dict)
    return service


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.partition("=") for item in environment)
        return {key: value for key, _, value in pairs}
    return {str(key): str(value) for key, value in environment.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """``depends_on`` as ``{service: condition}`` (short syntax means ``service_started``)."""
    depends_on = service.get("depends_on") or {}
    if isinstance(depends_on, list):
        return {name: "service_started" for name in depends_on}
    return {
        name: (spec or {}).get("condition", "service_started") for name, spec in depends_on.items()
    }


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def _option(words: list[str], option: str) -> str | None:
    for index, word in enumerate(words):
        if word == option and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(option + "="):
            return word.partition("=")[2]
    return None


def _pyproject() -> dict[str, Any]:
    with PYPROJECT.open("rb") as file:
        return tomllib.load(file)


def _cmd() -> list[str]:
    commands = _arguments("CMD")
    assert commands, "Dockerfile has no CMD"
    return _exec_form(commands[-1])


# --- docker-compose.yml -------------------------------------------------------------------


def test_compose_uses_the_compose_spec_without_version_key() -> None:
    assert "version" not in _compose()


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_exists(name: str) -> None:
    _service(name)


def test_postgres_has_a_healthcheck() -> None:
    healthcheck = _service("postgres").get("healthcheck")
    assert healthcheck, "postgres needs a healthcheck for depends_on: service_healthy"
    test = healthcheck["test"]
    text = test if isinstance(test, str) else " ".join(test)
    assert "pg_isready" in text


def test_redis_has_a_healthcheck() -> None:
    healthcheck = _service("redis").get("healthcheck")
    assert healthcheck, "redis needs a healthcheck for depends_on: service_healthy"


def test_migrate_runs_the_migrations_once_postgres_is_healthy() -> None:
    migrate = _service("migrate")
    assert _command(migrate)[:3] == ["spm-api", "db", "upgrade"]
    assert _depends_on(migrate).get("postgres") == "service_healthy"
    assert str(migrate.get("restart", "no")) == "no", "a one-shot job must not restart"


def test_api_waits_for_migrations_and_backing_services() -> None:
    depends_on = _depends_on(_service("api"))
    assert depends_on.get("migrate") == "service_completed_successfully"
    assert depends_on.get("postgres") == "service_healthy"
    assert depends_on.get("redis") == "service_healthy"


def test_every_depends_on_target_is_a_defined_service() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for target in _depends_on(service):
            assert target in services, f"{name} depends on undefined service {target!r}"


@pytest.mark.parametrize("condition_service", ["postgres", "redis"])
def test_service_healthy_targets_have_healthchecks(condition_service: str) -> None:
    services = _compose()["services"]
    for service in services.values():
        if _depends_on(service).get(condition_service) == "service_healthy":
            assert services[condition_service].get("healthcheck")


def test_api_and_migrate_share_a_database_url_pointing_at_postgres() -> None:
    api_url = _environment(_service("api")).get("SPM_DATABASE_URL")
    migrate_url = _environment(_service("migrate")).get("SPM_DATABASE_URL")
    assert api_url, "api has no SPM_DATABASE_URL"
    assert api_url == migrate_url, "api and migrate must use the same database"

    url = urlsplit(api_url)
    postgres_env = _environment(_service("postgres"))
    assert url.scheme == "postgresql+asyncpg"
    assert url.hostname == "postgres"
    assert url.port in (None, 5432)
    assert url.username == postgres_env["POSTGRES_USER"]
    assert url.password == postgres_env["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == postgres_env["POSTGRES_DB"]


def test_api_redis_url_points_at_the_redis_service() -> None:
    redis_url = _environment(_service("api")).get("SPM_REDIS_URL")
    assert redis_url, "api has no SPM_REDIS_URL"
    url = urlsplit(redis_url)
    assert url.scheme == "redis"
    assert url.hostname == "redis"


def _ports(name: str) -> list[tuple[int, int]]:
    """``(published, target)`` of each port mapping of a service."""
    found = []
    for port in _service(name).get("ports", []):
        if isinstance(port, dict):
            found.append((int(port["published"]), int(port["target"])))
        else:
            published, target = str(port).split("/")[0].split(":")[-2:]
            found.append((int(published), int(target)))
    return found


@pytest.mark.parametrize("name", API_SERVICES)
def test_api_publishes_the_app_port(name: str) -> None:
    assert APP_PORT in {target for _, target in _ports(name)}


def test_the_api_processes_are_reachable_on_different_host_ports() -> None:
    published = [port for name in API_SERVICES for port, _ in _ports(name)]
    assert len(published) == len(set(published)) == len(API_SERVICES)


@pytest.mark.parametrize("name", API_SERVICES)
def test_api_processes_serve_with_the_same_settings_on_a_shared_event_bus(name: str) -> None:
    service = _service(name)
    assert _command(service)[:2] == ["spm-api", "serve"]
    environment = _environment(service)
    assert environment == _environment(_service("api"))
    # The memory bus would keep each process's changes to itself.
    assert environment.get("SPM_EVENT_BUS") in {"redis", "postgres"}
    assert _depends_on(service) == _depends_on(_service("api"))


def test_api_and_migrate_build_the_repository_image() -> None:
    for name in ("api", "migrate"):
        build = _service(name).get("build")
        context = build.get("context", ".") if isinstance(build, dict) else build
        assert context == ".", f"{name} must build the Dockerfile at the repository root"


def test_named_volumes_are_declared() -> None:
    declared = set((_compose().get("volumes") or {}).keys())
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} uses undeclared volume {source!r}"


# --- Dockerfile -----------------------------------------------------------------------------


def test_dockerfile_uses_python_311_slim() -> None:
    assert _arguments("FROM")[0].split()[0] == "python:3.11-slim"


def test_dockerfile_exposes_the_app_port() -> None:
    exposed = {word.split("/")[0] for line in _arguments("EXPOSE") for word in line.split()}
    assert str(APP_PORT) in exposed


def test_dockerfile_cmd_serves_on_all_interfaces() -> None:
    cmd = _cmd()
    assert cmd[:2] == ["spm-api", "serve"]
    assert _option(cmd, "--host") == "0.0.0.0"
    assert _option(cmd, "--port") == str(APP_PORT)


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = _arguments("USER")
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_healthcheck_probes_the_health_endpoint() -> None:
    healthchecks = _arguments("HEALTHCHECK")
    assert healthchecks, "Dockerfile has no HEALTHCHECK"
    text = healthchecks[-1]
    assert "urllib" in text
    assert f"http://127.0.0.1:{APP_PORT}/health" in text


def test_dockerfile_installs_the_postgres_extra() -> None:
    installs = [line for line in _arguments("RUN") if "pip install" in line]
    assert any(".[postgres]" in line for line in installs), "asyncpg comes from .[postgres]"


@pytest.mark.parametrize("source", sorted(_copies()))
def test_every_copied_path_exists(source: str) -> None:
    assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"


def test_copies_what_pip_install_needs() -> None:
    copied = _copies()
    project = _pyproject()["project"]
    assert "pyproject.toml" in copied
    assert "spm_api" in copied
    readme = project.get("readme")
    if isinstance(readme, str):
        assert readme in copied, f"pyproject's readme {readme} must be in the image"


def test_no_copied_path_is_excluded_by_dockerignore() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith(("#", "!"))
    ]
    for source in _copies():
        parts = PurePosixPath(source).parts
        prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        for pattern in patterns:
            pattern = pattern.rstrip("/").removeprefix("./")
            for prefix in prefixes:
                assert not fnmatch.fnmatchcase(prefix, pattern), (
                    f".dockerignore pattern {pattern!r} excludes copied path {source!r}"
                )


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    patterns = set(DOCKERIGNORE.read_text().split())
    for expected in (".git", ".venv", "spm.db"):
        assert expected in patterns


def test_console_script_is_declared_in_pyproject() -> None:
    scripts = _pyproject()["project"].get("scripts", {})
    assert _cmd()[0] in scripts, "the Dockerfile's CMD needs the console script"
    assert _command(_service("migrate"))[0] in scripts
    module, _, function = scripts["spm-api"].partition(":")
    assert function, "console script entry point needs module:function"
    module_path = ROOT.joinpath(*module.split("."))
    assert module_path.with_suffix(".py").is_file() or (module_path / "__init__.py").is_file()


def test_alembic_dir_is_a_copied_directory() -> None:
    alembic_dir = _env().get("SPM_ALEMBIC_DIR")
    assert alembic_dir, "Dockerfile must set SPM_ALEMBIC_DIR (the installed package can't find it)"
    copied = _copies()
    sources = [source for source, target in copied.items() if str(target) == alembic_dir]
    assert sources, f"SPM_ALEMBIC_DIR={alembic_dir} is not where the Dockerfile copies anything"
    assert all((ROOT / source / "env.py").is_file() for source in sources)
    # spm_api.db.migrations reads alembic.ini next to the scripts directory.
    expected_ini = PurePosixPath(alembic_dir).parent / "alembic.ini"
    assert copied.get("alembic.ini") == expected_ini


def test_dockerfile_sets_unbuffered_output() -> None:
    assert _env().get("PYTHONUNBUFFERED") == "1"


def test_every_api_process_and_the_migration_get_the_hosts_secret_keys() -> None:
    # Sealed contractor settings must open on every process, and the migration that
    # seals existing rows needs the same key: one value, passed through from the host.
    for name in ("migrate", *API_SERVICES):
        assert _environment(_service(name)).get("SPM_SECRET_KEYS") == "${SPM_SECRET_KEYS:-}"
