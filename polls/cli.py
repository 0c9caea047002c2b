"""`flask --app app polls ...`: database set-up, demo data, hosts, counting."""
import json

import click
from flask import Flask
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import select

from polls.extensions import db
from polls.models import Host, Poll

polls_cli = AppGroup("polls", help="KissPoll administration.")


@polls_cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema in place (keeps existing ballots)."""
    upgrade()
    click.echo("database is up to date")


@polls_cli.command("demo")
def demo() -> None:
    """Load the demo polls (safe to run again)."""
    from polls.demo import load_demo

    for line in load_demo():
        click.echo(line)


@polls_cli.command("create-host")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_host(email: str, password: str) -> None:
    """Create a host account, or reset its password if it exists."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.ClickException(f"{email!r} is not an email address")
    if len(password) < 8:
        raise click.ClickException("the password must have at least 8 characters")
    host = db.session.scalar(select(Host).where(Host.email == email))
    created = host is None
    if created:
        host = Host(email=email)
        db.session.add(host)
    host.set_password(password)
    db.session.commit()
    click.echo(f"{'created' if created else 'updated password for'} host {email}")


@polls_cli.command("tally")
@click.argument("slug")
def tally(slug: str) -> None:
    """Count a poll's ballots and print the report as JSON."""
    from polls.results import poll_results

    poll = db.session.scalar(select(Poll).where(Poll.slug == slug))
    if poll is None:
        raise click.ClickException(f"no poll with slug {slug!r}")
    click.echo(json.dumps(poll_results(poll), indent=2, ensure_ascii=False))


def init_app(app: Flask) -> None:
    app.cli.add_command(polls_cli)
