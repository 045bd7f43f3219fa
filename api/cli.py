"""The `registry` command: serve the API, load the demo, issue tokens, and administer the store."""

from __future__ import annotations

import contextlib
import sys
from typing import Annotated, Any, NoReturn

import typer

from api.bootstrap import storage_env
from api.settings import ConfigurationError, Settings
from security.tokens import TOKEN_ROLES, TokenError, TokenIssuer

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
demo_cli = typer.Typer(no_args_is_help=True, help="The demo dataset shipped with the registry.")
cli.add_typer(demo_cli, name="demo")
projections_cli = typer.Typer(no_args_is_help=True, help="Read models built from the event log.")
cli.add_typer(projections_cli, name="projections")
keys_cli = typer.Typer(no_args_is_help=True, help="Master key rotation and key backups.")
cli.add_typer(keys_cli, name="keys")
export_cli = typer.Typer(no_args_is_help=True, help="Exports of the read models.")
cli.add_typer(export_cli, name="export")
erase_cli = typer.Typer(no_args_is_help=True, help="Erasure of personal data (crypto-shredding).")
cli.add_typer(erase_cli, name="erase")


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:
        _fail(f"configuration: {error}")


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def _issuer(settings: Settings) -> TokenIssuer:
    return TokenIssuer.from_key_file(
        settings.signing_key_file, settings.token_issuer, settings.token_audience
    )


@cli.command()
def token(
    role: Annotated[str, typer.Option(help=f"one of {', '.join(TOKEN_ROLES)}")],
    org: Annotated[str | None, typer.Option(help="partner id (partner tokens only)")] = None,
    subject: Annotated[str | None, typer.Option(help="the user's stable id")] = None,
    ttl: Annotated[str, typer.Option(help="lifetime such as 30m, 8h, 2d")] = "8h",
) -> None:
    """Print a bearer token signed by the local key (embedded default)."""
    settings = _settings()
    try:
        typer.echo(_issuer(settings).issue(role, subject=subject, organisation_id=org, ttl=ttl))
    except TokenError as error:
        _fail(str(error))


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    from api.runtime import build_http_app

    settings = _settings()
    try:
        app = build_http_app(settings)
    except ConfigurationError as error:
        _fail(str(error))
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the shipped demo dataset through the application's commands (twice adds nothing)."""
    from api.demo_data import load_demo
    from api.runtime import build_registry

    registry = build_registry(_settings())
    try:
        report = load_demo(registry, progress=lambda line: typer.echo(f"  {line}"))
    finally:
        registry.close()
    typer.echo(
        f"demo: added {report.partners} partners, {report.contacts} contacts, "
        f"{report.engagements} engagements, {report.follow_ups} follow-ups, "
        f"{report.risk_assessments} risk assessments, {report.decisions} decisions "
        f"(log position {report.last_position})"
    )


@cli.command()
def dev() -> None:
    """What `make run` does: development key, demo data, one token per role, then serve."""
    import uvicorn

    from api.app import create_app
    from api.demo_data import demo_id, load_demo
    from api.runtime import build_registry, token_verifier
    from api.settings import DEV_MASTER_KEY_FILE

    settings = _settings()
    if settings.env == "production":
        _fail("`registry dev` is for development; use `registry serve` in production")
    new_key = settings.master_key is None and settings.master_key_file is None
    if new_key and not DEV_MASTER_KEY_FILE.exists():
        typer.echo(
            f"Created a development master key in {DEV_MASTER_KEY_FILE} (keep it: it decrypts var/)"
        )
    elif new_key:
        typer.echo(f"Using the development master key in {DEV_MASTER_KEY_FILE}")
    registry = build_registry(settings)
    report = load_demo(registry)
    typer.echo(f"Demo data: {report.added} records added (log position {report.last_position})")
    issuer = _issuer(settings)
    partner = demo_id("partner", "jwpn")
    typer.echo("\nOne token per role (valid 8 hours; `registry token --help` for more):")
    for role in TOKEN_ROLES:
        org = str(partner) if role == "partner" else None
        token_text = issuer.issue(role, subject=f"demo-{role}", organisation_id=org)
        label = f"{role} (Juba Women's Peace Network)" if org else role
        typer.echo(f"\n  {label}:\n  {token_text}")
    url = f"http://{settings.host}:{settings.port}"
    typer.echo(
        f"\nServing the registry on {url}: GraphQL at {url}/graphql, "
        f"timeline pages at {url}/ui (sign in with a token above)\n"
    )
    app = create_app(settings, token_verifier(settings), registry)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


@projections_cli.command("rebuild")
def projections_rebuild() -> None:
    """Drop every view and rebuild it from the whole log, with a progress bar.

    Stop the server or worker that follows the log first.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from api.runtime import build_registry
    from projections.rebuild import rebuild_all

    registry = build_registry(_settings())
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ) as bar:
            task = bar.add_task("rebuilding views", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=max(total, done))

            replayed = rebuild_all(app=registry, progress=advance)
    finally:
        registry.close()
    typer.echo(f"rebuilt every view from {replayed} events")


@projections_cli.command("run")
def projections_run() -> None:
    """Follow the log and keep the views current (the worker of a PostgreSQL deployment)."""
    import signal

    from api.runtime import build_registry, ledger_keeper
    from projections.follower import ViewFollower

    settings = _settings()
    registry = build_registry(settings)
    follower = ViewFollower(registry)
    keeper = ledger_keeper(settings).start()
    signal.signal(signal.SIGTERM, lambda *_: follower.stop())
    typer.echo(
        f"projection worker following the log from position {follower.position}; "
        "keeping the views and the audit ledger current"
    )
    try:
        follower.run_forever()
    except KeyboardInterrupt:
        follower.stop()
    finally:
        keeper.stop()
        registry.close()


@keys_cli.command("rotate")
def keys_rotate(
    new_key_file: Annotated[
        typer.FileText,
        typer.Option("--new-key-file", help="file holding the new base64 master key"),
    ],
) -> None:
    """Re-wrap every data and person key under a new master key; no event is rewritten.

    The current master key comes from REGISTRY_MASTER_KEY / REGISTRY_MASTER_KEY_FILE; afterwards
    configure the new one there and restart every process.
    """
    from api.bootstrap import library_env
    from security.keys import decode_master_key, master_key_id, open_key_store

    settings = _settings()
    old = settings.master_key_bytes()
    new = decode_master_key(new_key_file.read().strip(), "--new-key-file")
    store = open_key_store(library_env(settings), master=old)
    try:
        count = store.rotate(old, new)
    finally:
        store.close()
    typer.echo(
        f"re-wrapped {count} keys from master {master_key_id(old)} to {master_key_id(new)}; "
        "now set REGISTRY_MASTER_KEY(_FILE) to the new key and restart every process"
    )


@keys_cli.command("export")
def keys_export(
    to: Annotated[str, typer.Option("--to", help="file to write (wrapped keys only, mode 0600)")],
) -> None:
    """Back up every wrapped key (useless without the master key)."""
    from pathlib import Path

    from api.bootstrap import library_env
    from security.keys import open_key_store

    store = open_key_store(library_env(_settings()))
    try:
        count = store.export_keys(Path(to))
    finally:
        store.close()
    typer.echo(f"exported {count} wrapped keys to {to}")


@keys_cli.command("import")
def keys_import(
    path: Annotated[str, typer.Argument(help="a file written by `registry keys export`")],
) -> None:
    """Restore missing wrapped keys from a backup; destroyed keys stay destroyed."""
    from pathlib import Path

    from api.bootstrap import library_env
    from security.keys import open_key_store

    store = open_key_store(library_env(_settings()))
    try:
        report = store.import_keys(Path(path))
    finally:
        store.close()
    typer.echo(f"imported {report.imported} keys, skipped {report.skipped} already present")


@erase_cli.command("person")
def erase_person(
    person_id: Annotated[str, typer.Argument(help="the person's id")],
    reason: Annotated[str, typer.Option("--reason", help="why (recorded with the erasure)")],
    subject: Annotated[str, typer.Option(help="the administrator's id")] = "cli-administrator",
) -> None:
    """Erase a person's data: record PersonalDataErased, then destroy their key."""
    from uuid import UUID

    from api.runtime import build_registry
    from domain.actors import ADMIN, Actor, acting_as
    from domain.errors import RegistryError

    try:
        person = UUID(person_id)
    except ValueError:
        _fail(f"{person_id!r} is not a person id (a UUID)")
    registry = build_registry(_settings())
    try:
        with acting_as(Actor(subject, ADMIN)):
            recorded = registry.erase_personal_data(person, reason)
    except RegistryError as error:
        _fail(f"{error.code}: {error.message}")
    finally:
        registry.close()
    typer.echo(f"erased the personal data of person {person} (log position {recorded.position})")


@cli.command()
def checkpoint(
    out: Annotated[
        str | None, typer.Option("--out", help="write the signed checkpoint here")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="export every stored checkpoint (JSON lines)")
    ] = False,
) -> None:
    """Integrate the log into the ledger and print (or export) the signed checkpoint."""
    import json
    from pathlib import Path

    from api.runtime import audit_ledger

    settings = _settings()
    with audit_ledger(settings) as ledger:
        ledger.integrate()
        if all_:
            text = "".join(
                json.dumps(
                    {"tree_size": c.tree_size, "root_hash": c.root_hash.hex(), "note": c.note}
                )
                + "\n"
                for c in ledger.checkpoints()
            )
        else:
            text = ledger.checkpoint().note
        public_key = ledger.signer.verifier_key() if ledger.signer else ""
    if out is None:
        typer.echo(text, nl=False)
    else:
        Path(out).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")
    typer.echo(f"verifier key: {public_key}", err=True)


@cli.command()
def verify(
    checkpoint_file: Annotated[
        str | None,
        typer.Option("--checkpoint", help="a checkpoint exported earlier (detects rollback)"),
    ] = None,
) -> None:
    """Recompute the Merkle tree from the stored events; exit 1 naming the first bad event."""
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from api.runtime import ledger_signer
    from security.ledger import verify_store

    settings = _settings()
    text = Path(checkpoint_file).read_text(encoding="utf-8") if checkpoint_file else None
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("verifying the ledger", total=None)
        result = verify_store(
            storage_env(settings.database_url),
            text,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            public_key=ledger_signer(settings).verifier_key(),
        )
    typer.echo(result.summary())
    if not result.ok:
        raise typer.Exit(1)


@cli.command("verify-proof")
def verify_proof_command(
    public_key: Annotated[str, typer.Option("--public-key", help="the ledger's verifier key")],
    checkpoint_file: Annotated[str, typer.Option("--checkpoint", help="signed checkpoint file")],
    proof_file: Annotated[str, typer.Option("--proof", help="inclusion or consistency proof JSON")],
    old_checkpoint: Annotated[
        str | None, typer.Option(help="for a consistency proof: the older checkpoint file")
    ] = None,
) -> None:
    """Check a proof offline against a signed checkpoint: no database needed."""
    from pathlib import Path

    from security.ledger import verify_proof

    key = Path(public_key).read_text().strip() if Path(public_key).is_file() else public_key
    check = verify_proof(
        key,
        Path(checkpoint_file).read_text(encoding="utf-8"),
        Path(proof_file).read_text(encoding="utf-8"),
        old_checkpoint_text=Path(old_checkpoint).read_text(encoding="utf-8")
        if old_checkpoint
        else None,
    )
    typer.echo(check.message)
    if not check.ok:
        raise typer.Exit(1)


def _catch_up_views(registry: Any) -> None:
    """Bring the views up to the log before a read from the command line.

    When a server or worker is projecting at the same moment, its batch and ours cannot both
    commit (the tracking position is unique), so losing that race is harmless.
    """
    from eventsourcing.persistence import IntegrityError

    from projections.follower import project_pending
    from projections.projection import RegistryProjection
    from projections.store import ViewStore

    store = ViewStore.for_application(registry)
    store.create_table()
    with contextlib.suppress(IntegrityError):
        project_pending(registry, RegistryProjection(store))


@export_cli.command("timeline")
def export_timeline_command(
    partner: Annotated[str, typer.Option("--partner", help="partner id (uuid or global id)")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    out: Annotated[str | None, typer.Option("--out", help="file to write (default stdout)")] = None,
    role: Annotated[
        str, typer.Option(help="role to read as (field rules apply)")
    ] = "human_rights_officer",
    subject: Annotated[
        str | None, typer.Option(help="who reads (recorded in the access log)")
    ] = None,
) -> None:
    """Export one partner's timeline (UTF-8; ISO dates with their precision)."""
    import getpass
    from pathlib import Path

    from api.exports import export_timeline, partner_uuid
    from api.runtime import build_registry
    from domain.actors import Actor
    from domain.errors import RegistryError

    if fmt not in ("csv", "json"):
        _fail(f"--format must be csv or json, not {fmt!r}")
    if role == "partner":
        _fail("export as a partner through the API with a partner token")
    registry = build_registry(_settings())
    try:
        actor = Actor(subject or f"cli-{getpass.getuser()}", role)
        _catch_up_views(registry)
        text = export_timeline(
            registry, actor, partner_uuid(partner), "csv" if fmt == "csv" else "json"
        )
    except (RegistryError, ValueError) as error:
        _fail(str(error))
    finally:
        registry.close()
    if out is None:
        typer.echo(text, nl=False)
    else:
        Path(out).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


def main() -> None:
    """Console-script entry point."""
    try:
        cli()
    except ConfigurationError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        sys.exit(2)
