"""The `registry` command: serve the API, load the demo, issue tokens, and administer the store."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from api.settings import ConfigurationError, Settings
from security.tokens import TOKEN_ROLES, TokenError, TokenIssuer

cli = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
demo_cli = typer.Typer(no_args_is_help=True, help="The demo dataset shipped with the registry.")
cli.add_typer(demo_cli, name="demo")


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as error:
        _fail(f"configuration: {error}")


def _fail(message: str, code: int = 2) -> typer.Exit:
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
        typer.echo(f"Created a development master key in {DEV_MASTER_KEY_FILE} (keep it: it decrypts var/)")
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
    typer.echo(f"\nServing the registry on {url}  (GraphQL at {url}/graphql)\n")
    app = create_app(settings, token_verifier(settings), registry)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


def main() -> None:
    """Console-script entry point."""
    try:
        cli()
    except ConfigurationError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        sys.exit(2)
