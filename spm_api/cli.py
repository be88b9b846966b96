"""The ``spm-api`` command: serve, migrate, seed demo data, manage tenants, list plugins,
export the schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spm_api.db import migrations
from spm_api.db.engine import create_engine, create_session_factory
from spm_api.plugins.host import PluginHost, Registered
from spm_api.plugins.manager import PluginLoadError
from spm_api.settings import get_settings
from spm_api.vocabulary.enums import Role
from spm_api.vocabulary.errors import DomainError


def _load_plugins() -> PluginHost:
    settings = get_settings()
    return PluginHost.load(settings.allowed_plugins(), settings.plugin_timeout)


def _run_in_session(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``work(session)`` in one transaction against the configured database."""

    async def go() -> Any:
        engine = create_engine(get_settings().database_url)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.workers > 1 and get_settings().event_bus_url().startswith("memory"):
        raise SystemExit(
            "error [CONFIGURATION]: the memory event bus reaches only its own process; with "
            "--workers above 1 set SPM_EVENT_BUS=postgres (with a PostgreSQL database) or "
            "SPM_EVENT_BUS=redis, or subscribers miss the other workers' changes")
    uvicorn.run(
        "spm_api.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )


def _outbox_run(args: argparse.Namespace) -> None:
    """The engagement delivery worker on its own (set SPM_OUTBOX_IN_SERVER=false on the
    API processes then): ``--once`` delivers what is due and exits."""
    from spm_api.domain.sourcing import outbox
    from spm_api.plugins.host import PluginHost

    settings = get_settings()
    plugins = PluginHost.load(settings.allowed_plugins(), settings.plugin_timeout)

    async def go() -> None:
        engine = create_engine(settings.database_url)
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


def _demo(args: argparse.Namespace) -> None:
    from spm_api.demo import seed_demo

    plugins = _load_plugins()
    try:
        result = _run_in_session(
            lambda session: seed_demo(session, plugins, services=args.services, once=args.once)
        )
    finally:
        plugins.close()
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(result["message"])
    for person in result["people"]:
        print(f"  {', '.join(person['roles']):<40} {person['email']:<32} {person['token']}")


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
    registries: dict[str, Mapping[str, Registered[Any]]] = {
        "approval rules": plugins.approval_rules,
        "charging models": plugins.charging_models,
        "contractor integrations": plugins.contractor_integrations,
        "scoring models": plugins.scoring_models,
    }
    found = {kind: sorted(name for name, item in registry.items() if item.plugin == plugin)
             for kind, registry in registries.items()}
    return {kind: names for kind, names in found.items() if names}


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
    from spm_api.domain.tenancy import find_organisation

    importer, what = ((import_costs, "cost entries") if args.import_command == "costs"
                      else (import_usage, "usage records"))
    shown = "stdin" if args.file == "-" else args.file
    try:
        text = _read_import_file(args.file)
    except OSError as error:
        print(f"error [VALIDATION]: cannot read {shown}: {error.strerror or error}",
              file=sys.stderr)
        raise SystemExit(1) from None
    except UnicodeDecodeError as error:
        print(f"error [VALIDATION]: {shown} is not UTF-8 text (byte {error.start + 1} is "
              f"{error.object[error.start]:#04x})", file=sys.stderr)
        raise SystemExit(1) from None
    source = "csv:stdin" if args.file == "-" else f"csv:{Path(args.file).name}"

    async def work(session: Any) -> int:
        organisation = await find_organisation(session, args.org)
        count: int = await importer(session, organisation.id, text, source)
        return count

    try:
        count = _run_in_session(work)  # one transaction: rolled back on any error
    except DomainError as error:
        for problem in error.problems:
            print(f"error [{problem.code.value}]: {problem.message}", file=sys.stderr)
        raise SystemExit(1) from None
    except csv.Error as error:
        print(f"error [VALIDATION]: {shown} is not readable as CSV: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"imported {count} {what} from {shown}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spm-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP/GraphQL server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    upgrade = db.add_parser("upgrade", help="apply the Alembic migrations")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_db_upgrade)

    demo = commands.add_parser("demo", help="create a demo organisation with people and services")
    demo.add_argument("--services", type=int, default=40, help="how many services to create")
    demo.add_argument("--once", action="store_true",
                      help="if the demo exists, only issue fresh tokens")
    demo.add_argument("--json", action="store_true", help="print people, roles and tokens as JSON")
    demo.set_defaults(handler=_demo)

    org = commands.add_parser("org", help="organisations").add_subparsers(
        dest="org_command", required=True
    )
    org_create = org.add_parser("create", help="create an organisation")
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--slug", required=True)
    org_create.set_defaults(handler=_org_create)

    person = commands.add_parser("person", help="people").add_subparsers(
        dest="person_command", required=True
    )
    person_create = person.add_parser("create", help="create a person and print a token")
    person_create.add_argument("--org", required=True, help="organisation slug")
    person_create.add_argument("--name", required=True)
    person_create.add_argument("--email", required=True)
    person_create.add_argument("--role", action="append", type=Role, required=True,
                               choices=list(Role), help="repeat for several roles")
    person_create.add_argument("--json", action="store_true")
    person_create.set_defaults(handler=_person_create)

    plugins = commands.add_parser("plugins", help="plugins").add_subparsers(
        dest="plugins_command", required=True
    )
    plugins_list = plugins.add_parser(
        "list", help="each loaded plugin, its version, its hooks and what it registers")
    plugins_list.add_argument("--json", action="store_true")
    plugins_list.set_defaults(handler=_plugins_list)

    outbox = commands.add_parser("outbox", help="engagement requests to contractors"
                                 ).add_subparsers(dest="outbox_command", required=True)
    outbox_run = outbox.add_parser("run", help="deliver due engagement requests, with retries")
    outbox_run.add_argument("--once", action="store_true",
                            help="deliver what is due now and exit")
    outbox_run.set_defaults(handler=_outbox_run)

    imports = commands.add_parser(
        "import", help="import cost entries or usage from CSV").add_subparsers(
        dest="import_command", required=True
    )
    for kind, columns in (("costs", "service,date,category,amount[,currency,description]"),
                          ("usage", "customer,service,period,quantity,unit")):
        command = imports.add_parser(
            kind, help=f"import {kind} from a CSV file with the columns {columns}; "
                       "every row is checked and nothing is imported unless all are good")
        command.add_argument("file", metavar="FILE", help="a UTF-8 CSV file; - reads stdin")
        command.add_argument("--org", required=True, help="organisation slug")
        command.set_defaults(handler=_import)

    export = commands.add_parser("export-schema", help="print or write the GraphQL schema (SDL)")
    export.add_argument("--output", "-o", default="-")
    export.set_defaults(handler=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except DomainError as error:
        for problem in error.problems:
            print(f"error [{problem.code.value}]: {problem.message}", file=sys.stderr)
        return 2
    except PluginLoadError as error:
        print(f"error [PLUGIN_ERROR]: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
