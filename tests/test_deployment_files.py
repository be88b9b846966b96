"""The Dockerfile and docker-compose.yml agree with each other and with the repository.

No Docker engine is needed: the files are parsed and checked for what a deployer relies on.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from spm_api.cli import build_parser
from spm_api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"

PROXY_CONFIG = ROOT / "deploy" / "nginx.conf"
PLUGINS_DIR = ROOT / "plugins"
SETTINGS_MODULE = ROOT / "spm_api" / "settings.py"

SERVICES = ("postgres", "redis", "migrate", "api", "api-2", "proxy")
#: The API processes; they must share a cross-process event bus.
API_SERVICES = ("api", "api-2")
APP_PORT = 8000
#: Root's user names and ids: the image must not run as either.
ROOT_USERS = ("root", "0")
#: nginx's config syntax: quoted strings, block and directive punctuation, words.
NGINX_TOKEN = re.compile(r""""[^"]*"|'[^']*'|[{};]|[^\s{};]+""")


# --- helpers -------------------------------------------------------------------------------


def _stages() -> list[tuple[str, list[tuple[str, str]]]]:
    """The Dockerfile's stages as ``(name, [(INSTRUCTION, arguments)])``, continuation
    lines joined; ``ARG`` lines before the first ``FROM`` are left out."""
    stages: list[tuple[str, list[tuple[str, str]]]] = []
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
        keyword, arguments = keyword.upper(), arguments.strip()
        pending = ""
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(
                len(stages))
            stages.append((name, []))
        if stages:
            stages[-1][1].append((keyword, arguments))
    assert not pending, "Dockerfile ends with a dangling line continuation"
    assert stages, "Dockerfile has no FROM"
    return stages


def _instructions(stage: str | None = None) -> list[tuple[str, str]]:
    """One stage's instructions (the final one, which is the image, by default)."""
    stages = _stages()
    if stage is None:
        return stages[-1][1]
    found = dict(stages)
    assert stage in found, f"Dockerfile has no stage {stage!r}"
    return found[stage]


def _build_stage() -> str:
    """The stage the final one takes its wheels from."""
    final = " ".join(arguments for keyword, arguments in _instructions() if keyword == "RUN")
    names = [name for name, _ in _stages()[:-1] if f"from={name}" in final]
    assert names, "the final stage installs nothing built in an earlier stage"
    return names[0]


def _arguments(instruction: str, stage: str | None = None) -> list[str]:
    """Every argument list of one instruction in a stage, e.g. all ``EXPOSE`` lines."""
    return [arguments for keyword, arguments in _instructions(stage) if keyword == instruction]


def _exec_form(arguments: str) -> list[str]:
    """Parse an exec-form (JSON array) instruction; shell form is rejected."""
    parsed = json.loads(arguments)
    assert isinstance(parsed, list), f"expected exec form (JSON array), got {arguments!r}"
    assert all(isinstance(item, str) for item in parsed)
    return parsed


def _without_flags(words: list[str]) -> list[str]:
    return [word for word in words if not word.startswith("--")]


def _env(stage: str | None = None) -> dict[str, str]:
    """Variables set by ``ENV`` (``KEY=value`` form, several per line allowed)."""
    env: dict[str, str] = {}
    for arguments in _arguments("ENV", stage):
        words = shlex.split(arguments)
        if words and "=" not in words[0]:  # legacy ``ENV KEY value`` form
            env[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            env[key] = value
    return env


def _build_args(stage: str) -> dict[str, str]:
    """``ARG`` defaults of a stage (an ``ARG`` without one maps to ``""``)."""
    found: dict[str, str] = {}
    for arguments in _arguments("ARG", stage):
        name, _, default = arguments.partition("=")
        found[name] = shlex.split(default)[0] if default else ""
    return found


def _workdir(stage: str | None = None) -> PurePosixPath:
    workdirs = _arguments("WORKDIR", stage)
    assert workdirs, "Dockerfile sets no WORKDIR"
    return PurePosixPath(workdirs[-1])


def _copies(stage: str | None = None) -> dict[str, PurePosixPath]:
    """Each ``COPY`` source (relative to the build context) mapped to its path in the
    stage's file system."""
    workdir = _workdir(stage)
    copied: dict[str, PurePosixPath] = {}
    for arguments in _arguments("COPY", stage):
        words = _exec_form(arguments) if arguments.startswith("[") else shlex.split(arguments)
        if any(word.startswith("--from") for word in words):
            continue  # from another stage, not from the build context
        words = _without_flags(words)
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


def _all_copies() -> list[str]:
    return sorted({source for name, _ in _stages() for source in _copies(name)})


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


def test_the_api_replicas_are_reached_through_the_proxy_only() -> None:
    for name in API_SERVICES:
        assert _ports(name) == [], f"{name} publishes a port: clients go through the proxy"
        assert APP_PORT in {int(str(port)) for port in _service(name).get("expose", [])}
    published = {published for published, _ in _ports("proxy")}
    assert published == {APP_PORT}, "the stack answers where a single API would"


@pytest.mark.parametrize("name", API_SERVICES)
def test_api_processes_serve_with_the_same_settings_on_a_shared_event_bus(name: str) -> None:
    service = _service(name)
    assert _command(service)[:2] == ["spm-api", "serve"]
    assert _option(_command(service), "--port") == str(APP_PORT)
    environment = _environment(service)
    assert environment == _environment(_service("api"))
    # The memory bus would keep each process's changes to itself.
    assert environment.get("SPM_EVENT_BUS") in {"redis", "postgres"}
    assert _depends_on(service) == _depends_on(_service("api"))


def test_api_and_migrate_build_the_repository_image() -> None:
    for name in ("migrate", *API_SERVICES):
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


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_a_healthcheck(name: str) -> None:
    healthcheck = _service(name).get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    if healthcheck.get("disable"):
        # Only a one-shot job, whose dependents wait for it to exit successfully.
        assert str(_service(name).get("restart", "no")) == "no"
        waiting = [_depends_on(service).get(name) for service in _compose()["services"].values()]
        assert {condition for condition in waiting if condition} == {
            "service_completed_successfully"}
        return
    test = healthcheck["test"]
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), test
    assert healthcheck.get("interval") and healthcheck.get("retries")


@pytest.mark.parametrize("name", API_SERVICES)
def test_api_healthcheck_probes_readiness_on_the_app_port(name: str) -> None:
    text = " ".join(_service(name)["healthcheck"]["test"])
    assert f"http://127.0.0.1:{APP_PORT}/readyz" in text


def test_every_replica_waits_for_the_migration_job() -> None:
    for name in API_SERVICES:
        assert _depends_on(_service(name)).get("migrate") == "service_completed_successfully"


def test_the_migration_command_is_a_cli_command() -> None:
    command = _command(_service("migrate"))
    arguments = build_parser().parse_args(command[1:])
    assert (arguments.command, arguments.db_command) == ("db", "upgrade")
    assert arguments.handler.__name__ == "_db_upgrade"
    for name in API_SERVICES:
        assert build_parser().parse_args(_command(_service(name))[1:]).command == "serve"


def _settings_read_outside_the_model() -> str:
    """Source text of the package, for ``SPM_`` variables read directly (the keys)."""
    return "\n".join(path.read_text() for path in (ROOT / "spm_api").rglob("*.py"))


@pytest.mark.parametrize("name", ("migrate", *API_SERVICES))
def test_every_spm_variable_in_compose_is_a_setting(name: str) -> None:
    prefix = Settings.model_config.get("env_prefix", "")
    fields = {f"{prefix}{field}".upper() for field in Settings.model_fields}
    source = _settings_read_outside_the_model()
    for variable in _environment(_service(name)):
        assert variable.startswith(prefix), f"{name} sets {variable}, which no setting reads"
        assert variable in fields or f'"{variable}"' in source, (
            f"{name} sets {variable}: not in spm_api/settings.py nor read elsewhere")


# --- the reverse proxy (nginx) --------------------------------------------------------------


def _proxy_config_mount() -> tuple[Path, str]:
    """The proxy's config file in the repository and where it is mounted."""
    for volume in _service("proxy").get("volumes", []):
        source, target = (volume["source"], volume["target"]) if isinstance(volume, dict) \
            else volume.split(":")[:2]
        if target.endswith(".conf"):
            return (ROOT / source).resolve(), target
    raise AssertionError("the proxy mounts no config file")


def _nginx_directives() -> list[tuple[tuple[str, ...], list[str]]]:
    """Each directive of the proxy's config with the blocks around it:
    ``(("http", "upstream spm_api"), ["server", "api:8000", ...])``."""
    text = "\n".join(line.split("#", 1)[0] for line in PROXY_CONFIG.read_text().splitlines())
    found: list[tuple[tuple[str, ...], list[str]]] = []
    blocks: list[str] = []
    words: list[str] = []
    for match in NGINX_TOKEN.finditer(text):
        token = match.group()
        if token == "{":
            blocks.append(" ".join(words))
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            blocks.pop()
        elif token == ";":
            found.append((tuple(blocks), words))
            words = []
        else:
            words.append(token.strip("\"'") if token[0] in "\"'" else token)
    assert not blocks and not words, "unbalanced braces in the proxy config"
    return found


def _in_block(prefix: str) -> list[list[str]]:
    return [words for blocks, words in _nginx_directives()
            if any(block.startswith(prefix) for block in blocks)]


def test_the_proxy_mounts_the_repositorys_config() -> None:
    source, target = _proxy_config_mount()
    assert source == PROXY_CONFIG.resolve()
    assert target == "/etc/nginx/nginx.conf"
    assert _service("proxy")["image"].split(":")[0] == "nginx"


def test_the_proxy_balances_the_api_services_on_the_app_port() -> None:
    upstreams: dict[str, list[str]] = {}
    for blocks, words in _nginx_directives():
        upstream = next((block for block in blocks if block.startswith("upstream ")), None)
        if upstream is not None and words[0] == "server":
            upstreams.setdefault(upstream.split()[1], []).append(words[1])
    assert len(upstreams) == 1, upstreams
    (name, servers), = upstreams.items()
    assert sorted(servers) == sorted(f"{service}:{APP_PORT}" for service in API_SERVICES)
    passes = [words for words in _in_block("location") if words[0] == "proxy_pass"]
    assert passes and all(words[1] == f"http://{name}" for words in passes)


def test_the_proxy_passes_websocket_upgrades() -> None:
    location = _in_block("location /")
    directives = {tuple(words[:2]): words[2:] for words in location
                  if words[0] == "proxy_set_header"}
    assert ["proxy_http_version", "1.1"] in location, "WebSocket needs HTTP/1.1 upstream"
    assert directives[("proxy_set_header", "Upgrade")] == ["$http_upgrade"]
    connection = directives[("proxy_set_header", "Connection")]
    # A variable mapped from $http_upgrade: "upgrade" for a handshake, else keep-alive.
    assert connection[0].startswith("$")
    variable = connection[0]
    maps = [block for blocks, _ in _nginx_directives() for block in blocks
            if block.startswith("map ")]
    assert f"map $http_upgrade {variable}" in maps
    mapped = {tuple(words) for blocks, words in _nginx_directives()
              if f"map $http_upgrade {variable}" in blocks}
    assert ("default", "upgrade") in mapped
    timeout = next(words[1] for words in location if words[0] == "proxy_read_timeout")
    assert timeout.endswith(("h", "m")), "subscriptions outlive nginx's 60 s default"


def test_the_proxy_healthcheck_asks_the_port_it_listens_on() -> None:
    listens = [words[1] for words in _in_block("server") if words[0] == "listen"]
    assert listens, "the proxy listens nowhere"
    port = int(listens[0].split(":")[-1])
    assert {target for _, target in _ports("proxy")} == {port}
    test = " ".join(_service("proxy")["healthcheck"]["test"])
    # The location that answers 200 by itself, not by asking a replica.
    paths = [blocks[-1].split()[-1] for blocks, words in _nginx_directives()
             if blocks and blocks[-1].startswith("location") and words[:2] == ["return", "200"]]
    assert paths, "the proxy has no health location of its own"
    assert any(f"http://127.0.0.1:{port}{path}" in test for path in paths), test


def test_the_proxy_starts_once_the_replicas_are_ready() -> None:
    depends_on = _depends_on(_service("proxy"))
    assert {name: depends_on.get(name) for name in API_SERVICES} == {
        name: "service_healthy" for name in API_SERVICES}


# --- Dockerfile -----------------------------------------------------------------------------


def test_every_stage_uses_python_311_slim() -> None:
    for name, instructions in _stages():
        base = next(arguments for keyword, arguments in instructions if keyword == "FROM")
        assert base.split()[0] == "python:3.11-slim", name


def test_dockerfile_is_multi_stage_with_wheels_built_apart() -> None:
    assert len(_stages()) >= 2
    build = _build_stage()
    assert any("pip wheel" in line for line in _arguments("RUN", build))
    installs = [line for line in _arguments("RUN") if "pip install" in line]
    assert installs, "the final stage installs nothing"
    for line in installs:
        assert "--no-index" in line, "the image installs the built wheels, nothing else"
        assert "--no-cache-dir" in line, "pip's cache must not stay in the image"
        assert f"from={build}" in line


def test_the_final_stage_has_no_build_tools() -> None:
    final = " ".join(_arguments("RUN"))
    for tool in ("gcc", "build-essential", "libc6-dev", "apt-get install"):
        assert tool not in final, f"the image installs {tool}"


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
    user, _, group = users[-1].partition(":")
    assert user not in ROOT_USERS and group not in ROOT_USERS
    # The user exists: created in this stage with that id (or name).
    created = " ".join(line for line in _arguments("RUN") if "useradd" in line)
    assert f"--uid {user}" in created or created.rstrip().endswith(f" {user}"), created


def test_dockerfile_healthcheck_probes_readiness() -> None:
    healthchecks = _arguments("HEALTHCHECK")
    assert healthchecks, "Dockerfile has no HEALTHCHECK"
    text = healthchecks[-1]
    assert "urllib" in text
    assert f"http://127.0.0.1:{APP_PORT}/readyz" in text


def test_the_extras_build_argument_installs_the_postgres_extra() -> None:
    build = _build_stage()
    extras = _build_args(build).get("EXTRAS", "")
    declared = set(_pyproject()["project"]["optional-dependencies"])
    assert "postgres" in extras.split(","), "asyncpg comes from .[postgres]"
    assert set(extras.split(",")) <= declared
    assert any(".[${EXTRAS}]" in line for line in _arguments("RUN", build))


def _example_plugins() -> set[str]:
    return {path.parent.name for path in PLUGINS_DIR.glob("*/pyproject.toml")}


def test_the_plugins_build_argument_defaults_to_the_example_plugins() -> None:
    build = _build_stage()
    plugins = _build_args(build).get("PLUGINS")
    assert plugins is not None, "the build stage takes no PLUGINS argument"
    names = plugins.split()
    assert names and len(names) == len(set(names))
    for name in names:
        assert (PLUGINS_DIR / name / "pyproject.toml").is_file(), f"no plugin at plugins/{name}"
    assert set(names) == _example_plugins()
    # Each is built from its directory, and an unknown name fails the build.
    wheel = " ".join(line for line in _arguments("RUN", build) if "pip wheel" in line)
    assert "${PLUGINS}" in wheel and "./plugins/${plugin}" in wheel
    assert 'test -f "plugins/${plugin}/pyproject.toml"' in wheel


def test_compose_builds_with_the_dockerfiles_default_plugins() -> None:
    default = _build_args(_build_stage())["PLUGINS"]
    for name in ("migrate", *API_SERVICES):
        args = _service(name)["build"].get("args", {})
        assert args.get("PLUGINS") in (None, f"${{PLUGINS:-{default}}}")


@pytest.mark.parametrize("source", _all_copies())
def test_every_copied_path_exists(source: str) -> None:
    assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"


def test_the_wheels_are_built_from_what_pip_needs() -> None:
    copied = _copies(_build_stage())
    project = _pyproject()["project"]
    assert "pyproject.toml" in copied
    assert "spm_api" in copied
    assert "plugins" in copied
    readme = project.get("readme")
    if isinstance(readme, str):
        assert readme in copied, f"pyproject's readme {readme} must be in the build stage"


def test_no_copied_path_is_excluded_by_dockerignore() -> None:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith(("#", "!"))
    ]
    for source in _all_copies():
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
