"""The spm-api command: serve the API, migrate its database, seed demo data, manage
organisations, people, their roles and API tokens, import costs, usage and KPI
measurements, pull measurements from their sources, deliver engagement requests,
export stakeholder reports, list plugins and export the schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from spm_api import __version__
from spm_api.db import migrations
from spm_api.db.base import utcnow
from spm_api.db.engine import create_session_factory, engine_from_settings
from spm_api.failures import Unavailable, database_failure, ensure_port_free
from spm_api.plugins.host import PluginHost
from spm_api.plugins.manager import PluginLoadError
from spm_api.settings import Settings, get_settings
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.errors import DomainError

#: Exit statuses, the same for every command.
EXIT_OK = 0
#: An unexpected failure: a bug, reported in one line with SPM_DEBUG=true for details.
EXIT_FAILED = 1
#: Refused: bad arguments, input the rules reject (each problem printed with its code),
#: a plugin that fails to load, a configuration that cannot work.
EXIT_REFUSED = 2
#: Unavailable: the database, the event bus or the port cannot be reached or used.
EXIT_UNAVAILABLE = 3

EPILOG = f"""\
exit status: {EXIT_OK} done; {EXIT_FAILED} unexpected failure; {EXIT_REFUSED} refused (bad \
arguments or input, each problem printed as "error [CODE]: ..."); {EXIT_UNAVAILABLE} the \
database, event bus or port is unavailable.
settings come from SPM_* environment variables (SPM_DATABASE_URL, default \
sqlite+aiosqlite:///./spm.db); see README.md."""


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option that takes a value shows its default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.nargs == 0 or action.default in (None, argparse.SUPPRESS):
            return action.help  # a flag, or nothing to show
        return super()._get_help_string(action)


class _Refused(Exception):
    """A refusal already worded for the user (exit status 2)."""


def _load_plugins() -> PluginHost:
    settings = get_settings()
    return PluginHost.from_settings(settings)


def _run_in_session(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``work(session)`` in one transaction against the configured database."""

    async def go() -> Any:
        engine = engine_from_settings(get_settings())
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _serve(args: argparse.Namespace) -> None:
    import os

    import uvicorn

    from spm_api import preflight
    from spm_api.graphql.core.persisted import ManifestError, PersistedOperations

    settings = get_settings()
    try:  # one line here rather than a traceback from each of uvicorn's workers
        PersistedOperations.from_settings(settings)
    except ManifestError as error:
        raise _Refused(f"error [CONFIGURATION]: {error}") from None
    if args.workers > 1 and settings.event_bus_url().startswith("memory"):
        raise _Refused(
            "error [CONFIGURATION]: the memory event bus reaches only its own process; with "
            "--workers above 1 set SPM_EVENT_BUS=postgres (with a PostgreSQL database) or "
            "SPM_EVENT_BUS=redis, or subscribers miss the other workers' changes")
    ensure_port_free(args.host, args.port)
    if args.demo:
        migrations.upgrade()
        _print_demo(_seed_demo(args.services, once=True), json_output=False)
        os.environ["SPM_DEMO_MODE"] = "true"  # read by the server process(es) it starts
        get_settings.cache_clear()
    asyncio.run(preflight.check_database(settings.database_url,
                                         pgbouncer=settings.database_pgbouncer))
    asyncio.run(preflight.check_event_bus(settings))
    if args.demo:
        print(f"GraphiQL: http://{args.host}:{args.port}/graphql (opens with the demo "
              "portfolio manager's token)", flush=True)
    from spm_api.observability import logs

    with _metrics_directory(args.workers):
        uvicorn.run("spm_api.asgi:app", host=args.host, port=args.port, workers=args.workers,
                    log_level=args.log_level, **uvicorn_options(settings),
                    log_config=logs.uvicorn_log_config(settings.log_format, args.log_level)
                    or uvicorn.config.LOGGING_CONFIG,
                    access_log=settings.log_format != "json",
                    timeout_graceful_shutdown=settings.shutdown_timeout_seconds)


@contextlib.contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """With more than one worker, prometheus-client's multi-process mode: the workers
    write their values under PROMETHEUS_MULTIPROC_DIR (a fresh directory unless one is
    set, removed when the server ends) and a scrape of any one reads them all."""
    import os
    import shutil
    import tempfile

    from spm_api.observability.metrics import MULTIPROCESS_DIR

    if workers <= 1 or os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    directory = tempfile.mkdtemp(prefix="spm-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory  # inherited by the workers uvicorn starts
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR]
        shutil.rmtree(directory, ignore_errors=True)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the API's WebSockets (the tests' and benchmarks' servers too)."""
    from spm_api.web.websocket_protocol import IMPORT_PATH

    return {
        # uvicorn's default implementation, holding less per open connection.
        "ws": IMPORT_PATH,
        "ws_per_message_deflate": settings.ws_per_message_deflate,
        # Refused by the protocol itself (1009) before a larger message is buffered.
        "ws_max_size": settings.max_ws_message_bytes,
    }


def _outbox_run(args: argparse.Namespace) -> None:
    """The engagement delivery worker on its own (set SPM_OUTBOX_IN_SERVER=false on the
    API processes then): ``--once`` delivers what is due and exits."""
    from spm_api.domain.sourcing import outbox
    from spm_api.plugins.host import PluginHost

    settings = get_settings()
    plugins = PluginHost.from_settings(settings)

    async def go() -> None:
        engine = engine_from_settings(settings)
        sessions = create_session_factory(engine)
        try:
            if args.once:
                attempted = await outbox.run_once(sessions, plugins,
                                                  outbox.Policy.of(settings))
                print(f"attempted {attempted} engagement deliveries")
            else:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for signal_number in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signal_number, stop.set)
                await outbox.run_forever(sessions, plugins, settings, stop)
        finally:
            await engine.dispose()
            plugins.close()

    asyncio.run(go())


def _db_upgrade(args: argparse.Namespace) -> None:
    migrations.upgrade(revision=args.revision)
    print(f"database at {args.revision}")


def _seed_demo(services: int, once: bool) -> dict[str, Any]:
    from spm_api.demo import seed_demo

    plugins = _load_plugins()
    try:
        result: dict[str, Any] = _run_in_session(
            lambda session: seed_demo(session, plugins, services=services, once=once))
    finally:
        plugins.close()
    return result


def _print_demo(result: dict[str, Any], json_output: bool) -> None:
    if json_output:
        print(json.dumps(result, indent=2))
        return
    print(result["message"])
    for person in result["people"]:
        if "token" in person:
            print(f"  {', '.join(person['roles']):<40} {person['email']:<32} {person['token']}")
    sys.stdout.flush()


def _demo(args: argparse.Namespace) -> None:
    _print_demo(_seed_demo(args.services, once=args.once), json_output=args.json)


def _demo_tokens(args: argparse.Namespace) -> None:
    from spm_api.demo import reissue_tokens

    _print_demo(_run_in_session(reissue_tokens), json_output=args.json)


def _org_create(args: argparse.Namespace) -> None:
    from spm_api.domain.tenancy import create_organisation

    organisation = _run_in_session(
        lambda session: create_organisation(session, args.name, args.slug)
    )
    print(f"organisation {organisation.slug} created (id {organisation.id})")


def _person_create(args: argparse.Namespace) -> None:
    from spm_api.domain.tenancy import create_person, find_organisation
    from spm_api.domain.tokens import issue_token

    async def work(session: Any) -> dict[str, Any]:
        organisation = await find_organisation(session, args.org)
        person = await create_person(session, organisation.id, args.name, args.email, args.role)
        token = await issue_token(session, person.id, label="cli")
        return {
            "organisation": organisation.slug,
            "id": person.id,
            "name": person.name,
            "email": person.email,
            "roles": sorted(role.value for role in set(args.role)),
            "token": token,
        }

    created = _run_in_session(work)
    if args.json:
        print(json.dumps(created, indent=2))
    else:
        print(f"{created['email']} ({', '.join(created['roles'])}) token: {created['token']}")


def _as_operator(org: str, work: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    """Run ``work(session, actor)`` in one transaction as the operator: an admin of the
    organisation ``org`` (``Actor.operator``), held to the same rules as one."""
    from spm_api.domain.actor import Actor
    from spm_api.domain.tenancy import find_organisation

    async def go(session: Any) -> Any:
        organisation = await find_organisation(session, org)
        return await work(session, Actor.operator(organisation.id))

    return _run_in_session(go)


def _describe_person(person: Any, roles: list[Any]) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "email": person.email,
            "roles": sorted(role.value for role in roles),
            "active": person.deactivated_at is None}


def _print_person(person: dict[str, Any]) -> None:
    state = "" if person["active"] else " [deactivated]"
    print(f"{person['email']:<32} {person['name']:<32} {', '.join(person['roles'])}{state}")


def _person_change(args: argparse.Namespace) -> None:
    """grant, revoke-role, deactivate and reactivate: one command on one person."""
    from spm_api.domain import reads
    from spm_api.domain.access import directory, people

    async def work(session: Any, actor: Any) -> dict[str, Any]:
        person = await directory.person_by_email(session, actor.organisation_id, args.email)
        if args.person_command == "grant":
            await people.grant_role(session, actor, person.id, args.role)
        elif args.person_command == "revoke-role":
            await people.revoke_role(session, actor, person.id, args.role)
        elif args.person_command == "deactivate":
            await people.deactivate_person(session, actor, person.id)
        else:
            await people.reactivate_person(session, actor, person.id)
        [roles] = await reads.roles_of(session, actor.organisation_id, [person.id])
        return _describe_person(person, roles)

    _print_person(_as_operator(args.org, work))


def _person_list(args: argparse.Namespace) -> None:
    from spm_api.domain import reads
    from spm_api.domain.access import directory

    async def work(session: Any, actor: Any) -> list[dict[str, Any]]:
        listing = directory.people(actor, search=args.search, roles=args.role or (),
                                   include_deactivated=args.all)
        found = await listing.fetch(session, 0, None)
        roles = await reads.roles_of(session, actor.organisation_id, [p.id for p in found])
        return [_describe_person(person, held) for person, held in zip(found, roles,
                                                                          strict=True)]

    listed = _as_operator(args.org, work)
    if args.json:
        print(json.dumps(listed, indent=2))
        return
    for person in listed:
        _print_person(person)


def _describe_token(token: Any, email: str) -> dict[str, Any]:
    from spm_api.domain.access.tokens import status_of

    def instant(value: Any) -> str | None:
        return None if value is None else value.isoformat()

    return {"id": token.id, "name": token.label, "person": email,
            "status": status_of(token).value, "created_at": instant(token.created_at),
            "expires_at": instant(token.expires_at), "rotated_at": instant(token.rotated_at),
            "revoked_at": instant(token.revoked_at)}


def _print_token(token: dict[str, Any], secret: str | None = None) -> None:
    expiry = f"expires {token['expires_at']}" if token["expires_at"] else "no expiry"
    print(f"token {token['id']} {token['name']!r} of {token['person']}: {token['status']}, "
          f"{expiry}")
    if secret is not None:
        print(f"secret (shown only now): {secret}")


def _show_token(args: argparse.Namespace, token: dict[str, Any], secret: str | None) -> None:
    if args.json:
        print(json.dumps(token if secret is None else {**token, "secret": secret}, indent=2))
    else:
        _print_token(token, secret)


def _token_create(args: argparse.Namespace) -> None:
    from spm_api.domain.access import directory, tokens

    async def work(session: Any, actor: Any) -> tuple[dict[str, Any], str]:
        person = await directory.person_by_email(session, actor.organisation_id, args.email)
        expires_at = args.expires_at
        if args.expires_in_days is not None:
            expires_at = utcnow() + timedelta(days=args.expires_in_days)
        token, secret = await tokens.create_token(
            session, actor, person_id=person.id, name=args.name, expires_at=expires_at)
        return _describe_token(token, person.email), secret

    _show_token(args, *_as_operator(args.org, work))


def _token_list(args: argparse.Namespace) -> None:
    from spm_api.domain.access import directory, tokens

    async def work(session: Any, actor: Any) -> list[dict[str, Any]]:
        person = await directory.person_by_email(session, actor.organisation_id, args.email)
        listed = await tokens.tokens_of(actor, person.id).fetch(session, 0, None)
        return [_describe_token(token, person.email) for token in listed]

    described: list[dict[str, Any]] = _as_operator(args.org, work)
    if args.json:
        print(json.dumps(described, indent=2))
        return
    for token in described:
        _print_token(token)


def _token_change(args: argparse.Namespace) -> None:
    """token rotate and token revoke."""
    from spm_api.domain import reads
    from spm_api.domain.access import tokens
    from spm_api.models import Person

    async def work(session: Any, actor: Any) -> tuple[dict[str, Any], str | None]:
        secret: str | None = None
        if args.token_command == "rotate":
            token, secret = await tokens.rotate_token(session, actor, args.id)
        else:
            token = await tokens.revoke_token(session, actor, args.id)
        owner = await reads.load_owned(session, Person, actor.organisation_id,
                                       token.person_id, "id")
        return _describe_token(token, owner.email), secret

    _show_token(args, *_as_operator(args.org, work))


def _plugins_list(args: argparse.Namespace) -> None:
    plugins = _load_plugins()
    try:
        listed: list[dict[str, Any]] = [
            {"name": info.name, "version": info.version, "builtin": info.builtin,
             "hooks": list(info.hooks),
             "registers": _registered_by(plugins, info.name)}
            for info in plugins.describe()
        ]
    finally:
        plugins.close()
    if args.json:
        print(json.dumps(listed, indent=2))
        return
    for entry in listed:
        origin = "built-in" if entry["builtin"] else "installed"
        print(f"{entry['name']} {entry['version']} ({origin})")
        print(f"  hooks: {', '.join(entry['hooks']) or 'none'}")
        for kind, names in entry["registers"].items():
            print(f"  {kind}: {', '.join(names)}")


def _registered_by(plugins: PluginHost, plugin: str) -> dict[str, list[str]]:
    """What ``plugin`` registered, by registry; registries it left empty are omitted."""
    found = {registry.family.plural: sorted(name for name, item in registry.items()
                                            if item.plugin == plugin)
             for registry in sorted(plugins.registries(), key=lambda r: r.family.plural)}
    return {kind: names for kind, names in found.items() if names}


def _secrets_generate_key(_args: argparse.Namespace) -> None:
    from spm_api.db.secrets import generate_key

    print(generate_key())


def _secrets_rotate(_args: argparse.Namespace) -> None:
    from spm_api.db.secrets import SecretsUnavailable
    from spm_api.domain.sourcing.contractors import reseal_contractor_settings

    try:
        count = _run_in_session(reseal_contractor_settings)
    except SecretsUnavailable as error:
        raise _Refused(f"error [SECRETS]: {error}") from None
    print(f"resealed the settings of {count} contractor(s) under the first key of "
          "SPM_SECRET_KEYS; the other keys may now be dropped")


def _export_schema(args: argparse.Namespace) -> None:
    from spm_api.graphql.schema import schema_sdl

    sdl = schema_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)
        print(f"schema written to {args.output}")


def _read_import_file(file: str) -> str:
    """The text of ``file`` (``-`` is stdin): UTF-8, a byte-order mark tolerated, and
    any line ending read as a newline so line numbers count physical lines."""
    import io

    if file == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig").read()
    return Path(file).read_text(encoding="utf-8-sig")


def _import(args: argparse.Namespace) -> None:
    """Import cost entries or usage records from a CSV file, all or nothing."""
    import csv

    from spm_api.domain.finance.imports import import_costs, import_usage
    from spm_api.domain.stewardship.imports import import_measurements
    from spm_api.domain.tenancy import find_organisation

    importer, what = {"costs": (import_costs, "cost entries"),
                      "usage": (import_usage, "usage records"),
                      "measurements": (import_measurements, "measurements")
                      }[args.import_command]
    shown = "stdin" if args.file == "-" else args.file
    try:
        text = _read_import_file(args.file)
    except OSError as error:
        raise _Refused(f"error [VALIDATION]: cannot read {shown}: "
                       f"{error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise _Refused(f"error [VALIDATION]: {shown} is not UTF-8 text (byte "
                       f"{error.start + 1} is {error.object[error.start]:#04x})") from None
    source = "csv:stdin" if args.file == "-" else f"csv:{Path(args.file).name}"

    async def work(session: Any) -> int:
        organisation = await find_organisation(session, args.org)
        count: int = await importer(session, organisation.id, text, source)
        return count

    try:
        count = _run_in_session(work)  # one transaction: rolled back on any error
    except csv.Error as error:
        raise _Refused(f"error [VALIDATION]: {shown} is not readable as CSV: {error}") from None
    print(f"imported {count} {what} from {shown}")


def _measurements_pull(args: argparse.Namespace) -> None:
    """Ask the measurement sources for the values of the KPIs that name them: read, then
    ask outside any transaction, then record (``stewardship.pulls``)."""
    from spm_api.domain.stewardship.pulls import pull
    from spm_api.domain.tenancy import find_organisation

    settings = get_settings()
    plugins = PluginHost.from_settings(settings)

    async def go() -> list[Any]:
        engine = engine_from_settings(settings)
        try:
            async with create_session_factory(engine)() as session:
                organisation_id = (await find_organisation(session, args.org)).id
                pulled: list[Any] = await pull(session, plugins, organisation_id)
                await session.commit()
                return pulled
        finally:
            await engine.dispose()
            plugins.close()

    pulled = asyncio.run(go())
    for one in pulled:
        outcome = f"recorded {one.value}" if one.error is None else f"no value: {one.error}"
        print(f"KPI {one.kpi_id} from {one.source}: {outcome}")
    failed = sum(1 for one in pulled if one.error is not None)
    print(f"pulled {len(pulled) - failed} of {len(pulled)} KPIs with a source")


def _service_id(raw: str) -> int:
    """A service's database id, or the global id the API shows (``Service.id``)."""
    from spm_api.graphql.core.ids import database_id, row_id

    found = row_id(raw) if raw.isdigit() else database_id(raw, "Service")
    if found is None:
        raise _Refused(f"error [VALIDATION]: {raw!r} is neither a service's number nor its "
                       "id in the API")
    return found


def _report_service(args: argparse.Namespace) -> None:
    """Print (or write) one stakeholder report of a service as Markdown or JSON."""
    from spm_api.domain.reporting.markdown import render
    from spm_api.domain.reporting.reports import exported, report_of
    from spm_api.domain.tenancy import find_organisation

    service_id = _service_id(args.id)

    async def work(session: Any) -> dict[str, Any]:
        organisation = await find_organisation(session, args.org)
        report = await report_of(session, organisation.id, service_id, args.sequence)
        return exported(report.id, report.content)

    content = _run_in_session(work)
    if args.format == "json":
        text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
    else:
        text = render(content) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"stakeholder report {content['sequence']} of {content['service']['name']!r} "
              f"written to {args.output}")


def _instant(text: str) -> datetime:
    """An ISO 8601 instant (``Z`` for UTC accepted); the time zone is checked later, with
    the rest of the request."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant such as 2027-01-31T00:00:00Z") from None


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spm-api", description=__doc__, epilog=EPILOG,
                                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(parent: Any, name: str, summary: str, description: str | None = None
                ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = parent.add_parser(
            name, help=summary, description=description or summary, epilog=EPILOG,
            formatter_class=_HelpFormatter)
        return sub

    serve = command(commands, "serve", "run the HTTP and GraphQL server",
                    "Run the API: GraphQL and GraphiQL at /graphql, subscriptions over "
                    "WebSocket at /graphql, /healthz, /readyz and /metrics. Checks first that "
                    "the port is free, the database reachable and migrated, and the event bus "
                    "up. SIGTERM stops it gracefully (docs/operations.md).")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes; above 1 needs SPM_EVENT_BUS=postgres or redis")
    serve.add_argument("--log-level", default="info",
                       choices=["critical", "error", "warning", "info", "debug", "trace"],
                       help="uvicorn's log level")
    serve.add_argument("--demo", action="store_true",
                       help="migrate, seed the demo organisation once (printing its tokens "
                            "when it is created) and serve GraphiQL ready to run with the "
                            "demo portfolio manager's token; for trying the API, never in "
                            "production")
    serve.add_argument("--services", type=int, default=40,
                       help="with --demo: how many services a new demo organisation gets")
    serve.set_defaults(handler=_serve)

    db = command(commands, "db", "the database schema").add_subparsers(
        dest="db_command", required=True, metavar="COMMAND")
    upgrade = command(db, "upgrade", "apply the Alembic migrations to SPM_DATABASE_URL")
    upgrade.add_argument("revision", nargs="?", default="head",
                         help="the revision to reach")
    upgrade.set_defaults(handler=_db_upgrade)

    demo = command(commands, "demo", "create a demo organisation with people and services",
                   "Create the demo organisation: a person in every role, services in every "
                   "stage, customers, budgets, costs, usage and statements; print each "
                   "person's token.")
    demo.add_argument("--services", type=int, default=40, help="how many services to create")
    demo.add_argument("--once", action="store_true",
                      help="if the demo organisation exists, leave it as it is (its tokens "
                           "were printed when it was created)")
    demo.add_argument("--json", action="store_true", help="print people, roles and tokens as JSON")
    demo.set_defaults(handler=_demo)
    demo_commands = demo.add_subparsers(dest="demo_command", required=False, metavar="[tokens]")
    demo_tokens = command(demo_commands, "tokens",
                          "issue new tokens for the demo people, revoking the printed ones")
    demo_tokens.add_argument("--json", action="store_true", help="print them as JSON")
    demo_tokens.set_defaults(handler=_demo_tokens)

    org = command(commands, "org", "organisations (tenants)").add_subparsers(
        dest="org_command", required=True, metavar="COMMAND")
    org_create = command(org, "create", "create an organisation")
    org_create.add_argument("--name", required=True, help="its display name")
    org_create.add_argument("--slug", required=True,
                            help="its short unique name, used by --org elsewhere")
    org_create.set_defaults(handler=_org_create)

    person = command(commands, "person", "people: create, list, grant and revoke roles, "
                     "deactivate and reactivate").add_subparsers(
        dest="person_command", required=True, metavar="COMMAND")
    person_create = command(person, "create", "create a person and print a token")
    person_create.add_argument("--org", required=True, help="organisation slug")
    person_create.add_argument("--name", required=True, help="the person's name")
    person_create.add_argument("--email", required=True,
                               help="the person's email, unique in the organisation")
    person_create.add_argument("--role", action="append", type=Role, required=True,
                               choices=list(Role), help="a role; repeat for several")
    person_create.add_argument("--json", action="store_true", help="print the result as JSON")
    person_create.set_defaults(handler=_person_create)

    person_list = command(person, "list", "the organisation's people, their roles and "
                          "whether they are active", "List the organisation's people by "
                          "name, with their roles; --search matches a part of the name or "
                          "e-mail address in any case.")
    person_list.add_argument("--org", required=True, help="organisation slug")
    person_list.add_argument("--search", help="a part of the name or e-mail address")
    person_list.add_argument("--role", action="append", type=Role, choices=list(Role),
                             help="only people holding this role; repeat for several")
    person_list.add_argument("--all", action="store_true",
                             help="deactivated people too")
    person_list.add_argument("--json", action="store_true", help="print the list as JSON")
    person_list.set_defaults(handler=_person_list)
    for name, summary, with_role in (
            ("grant", "give a person a role (one they hold is no change)", True),
            ("revoke-role", "take a role from a person; the last active admin keeps ADMIN "
                            "(LAST_ADMIN) and everyone keeps one role", True),
            ("deactivate", "refuse every token of a person from the next request on, until "
                           "reactivated; not the last active admin (LAST_ADMIN)", False),
            ("reactivate", "let a deactivated person's unrevoked, unexpired tokens "
                           "authenticate again", False)):
        changed = command(person, name, summary)
        changed.add_argument("--org", required=True, help="organisation slug")
        changed.add_argument("--email", required=True, help="the person's e-mail address")
        if with_role:
            changed.add_argument("--role", type=Role, required=True, choices=list(Role),
                                 help="the role")
        changed.set_defaults(handler=_person_change)

    token = command(commands, "token", "API tokens: created with a name and an optional "
                    "expiry, listed, rotated and revoked").add_subparsers(
        dest="token_command", required=True, metavar="COMMAND")
    token_create = command(token, "create", "create a token for a person and print its "
                           "secret, shown only this once")
    token_create.add_argument("--org", required=True, help="organisation slug")
    token_create.add_argument("--email", required=True, help="the person's e-mail address")
    token_create.add_argument("--name", required=True, help="what the token is for")
    expiry = token_create.add_mutually_exclusive_group()
    expiry.add_argument("--expires-at", type=_instant, metavar="INSTANT",
                        help="when it stops authenticating, ISO 8601 with a time zone "
                             "(2027-01-31T00:00:00Z); without either option: never")
    expiry.add_argument("--expires-in-days", type=_positive, metavar="DAYS",
                        help="or: that many days from now")
    token_create.add_argument("--json", action="store_true", help="print it as JSON")
    token_create.set_defaults(handler=_token_create)
    token_list = command(token, "list", "a person's tokens, newest first: their metadata, "
                         "never a secret")
    token_list.add_argument("--org", required=True, help="organisation slug")
    token_list.add_argument("--email", required=True, help="the person's e-mail address")
    token_list.add_argument("--json", action="store_true", help="print the list as JSON")
    token_list.set_defaults(handler=_token_list)
    for name, summary in (("rotate", "give a token a new secret, printed only this once; "
                                     "the old one is refused from the next request on"),
                          ("revoke", "refuse a token from the next request on, for good")):
        changed = command(token, name, summary)
        changed.add_argument("--org", required=True, help="organisation slug")
        changed.add_argument("--id", type=_positive, required=True,
                             help="the token's id, as token list shows it")
        changed.add_argument("--json", action="store_true", help="print it as JSON")
        changed.set_defaults(handler=_token_change)

    plugins = command(commands, "plugins", "installed plugins").add_subparsers(
        dest="plugins_command", required=True, metavar="COMMAND")
    plugins_list = command(
        plugins, "list", "each loaded plugin, its version, its hooks and what it registers")
    plugins_list.add_argument("--json", action="store_true", help="print the list as JSON")
    plugins_list.set_defaults(handler=_plugins_list)

    outbox = command(commands, "outbox", "engagement requests to contractors"
                     ).add_subparsers(dest="outbox_command", required=True, metavar="COMMAND")
    outbox_run = command(outbox, "run", "deliver due engagement requests, with retries")
    outbox_run.add_argument("--once", action="store_true",
                            help="deliver what is due now and exit")
    outbox_run.set_defaults(handler=_outbox_run)

    imports = command(commands, "import", "import cost entries, usage or KPI measurements "
                      "from CSV").add_subparsers(dest="import_command", required=True,
                                                 metavar="KIND")
    for kind, columns in (("costs", "service,date,category,amount[,currency,description]"),
                          ("usage", "customer,service,period,quantity,unit"),
                          ("measurements", "service,kpi,value and period or at[,source]")):
        imported = command(
            imports, kind, f"import {kind} from a CSV file with the columns {columns}",
            f"Import {kind} from a CSV file with the columns {columns}. Every row is "
            "checked and nothing is imported unless all are good; each bad row is "
            "reported with its line.")
        imported.add_argument("file", metavar="FILE", help="a UTF-8 CSV file; - reads stdin")
        imported.add_argument("--org", required=True, help="organisation slug")
        imported.set_defaults(handler=_import)

    measurements = command(commands, "measurements", "KPI measurements"
                           ).add_subparsers(dest="measurements_command", required=True,
                                            metavar="COMMAND")
    measurements_pull = command(
        measurements, "pull", "pull the values of the KPIs that name a measurement source",
        "Ask each measurement source plugin for the current value of the organisation's "
        "KPIs that name it (outside any transaction) and record what they answer; a "
        "source that fails leaves its KPIs UNKNOWN with the reason.")
    measurements_pull.add_argument("--org", required=True, help="organisation slug")
    measurements_pull.set_defaults(handler=_measurements_pull)

    report = command(commands, "report", "export stakeholder reports"
                     ).add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    report_service = command(
        report, "service", "print a service's stakeholder report as Markdown or JSON",
        "Print the newest stakeholder report of a service (or the one numbered --sequence) "
        "as it was issued (issueStakeholderReport): the baseline and the service then, the "
        "deviations, the KPIs with their health, the stakeholders and their affirmations. "
        "Markdown and JSON say the same.")
    report_service.add_argument("id", metavar="ID",
                                help="the service: its number, or its id in the API")
    report_service.add_argument("--org", required=True, help="organisation slug")
    report_service.add_argument("--format", choices=["md", "json"], default="md",
                                help="Markdown for people, JSON for programs")
    report_service.add_argument("--sequence", type=int, default=None,
                                help="the report's number in the service's series (default: "
                                     "the newest)")
    report_service.add_argument("--output", "-o", default="-",
                                help="file to write; - prints it")
    report_service.set_defaults(handler=_report_service)

    secrets = command(commands, "secrets", "the key contractor settings are sealed with"
                      ).add_subparsers(dest="secrets_command", required=True, metavar="COMMAND")
    command(secrets, "generate-key", "print a new key for SPM_SECRET_KEYS"
            ).set_defaults(handler=_secrets_generate_key)
    command(secrets, "rotate",
            "seal every contractor's settings again with the first key of SPM_SECRET_KEYS "
            "(put the new key first, keep the old ones after it until this is done)"
            ).set_defaults(handler=_secrets_rotate)

    export = command(commands, "export-schema", "print or write the GraphQL schema (SDL)")
    export.add_argument("--output", "-o", default="-", help="file to write; - prints it")
    export.set_defaults(handler=_export_schema)
    return parser


def _ignore_answers_to_a_closed_loop(hook: threading.ExceptHookArgs) -> None:
    """aiosqlite's worker thread may answer after a failed connection's event loop has
    ended (``asyncio.run`` returned with the one-line error already printed); its
    "Event loop is closed" traceback would be a second, misleading report."""
    if isinstance(hook.exc_value, RuntimeError) and "Event loop is closed" in str(
            hook.exc_value):
        return
    threading.__excepthook__(hook)


def main(argv: Sequence[str] | None = None) -> int:
    threading.excepthook = _ignore_answers_to_a_closed_loop
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except DomainError as error:
        for problem in error.problems:
            print(f"error [{problem.code.value}]: {problem.message}", file=sys.stderr)
        return EXIT_REFUSED
    except PluginLoadError as error:
        print(f"error [PLUGIN_ERROR]: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except _Refused as refusal:
        print(refusal, file=sys.stderr)
        return EXIT_REFUSED
    except Unavailable as unavailable:
        print(f"error [UNAVAILABLE]: {unavailable}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return EXIT_OK
    except Exception as error:  # one line, not a traceback; SPM_DEBUG shows it
        failure = database_failure(error, get_settings().database_url)
        if failure is not None:
            print(f"error [UNAVAILABLE]: {failure}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        if get_settings().debug:
            raise
        print(f"error [INTERNAL]: {type(error).__name__}: {error} (set SPM_DEBUG=true to see "
              "where)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
