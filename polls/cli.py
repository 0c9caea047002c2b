"""`flask --app app polls ...`: database set-up, demo data, hosts, counting, ballot files."""
import io
import json
import os
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from flask_migrate import upgrade
from sqlalchemy import select

from polls.extensions import db
from polls.forms.accounts import MIN_PASSWORD_LENGTH
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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
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

    click.echo(json.dumps(poll_results(_poll_or_fail(slug)), indent=2, ensure_ascii=False))


# Rejected rows listed before the summary line; the rest are only counted.
MAX_REJECTIONS_SHOWN = 50


def _poll_or_fail(slug: str) -> Poll:
    from polls.transfer import find_poll

    poll = find_poll(slug)
    if poll is None:
        raise click.ClickException(f"no poll with slug {slug!r}")
    if poll.categories:  # its ballots are its categories'
        slugs = ", ".join(category.slug for category in poll.categories)
        raise click.ClickException(f"{slug!r} is counted by category; use a category's slug: {slugs}")
    return poll


@polls_cli.command("export-ballots")
@click.argument("slug")
@click.option("--rules-out", "rules_out", metavar="RULES.json", type=click.Path(dir_okay=False, writable=True),
              help="Also write the rules file that python -m polls.tally needs for this poll's settings.")
def export_ballots(slug: str, rules_out: str | None) -> None:
    """Print a poll's ballots, anonymised, as a counting CSV (`python -m polls.tally` reads it)."""
    from polls.transfer import iter_ballots_csv, tally_command

    poll = _poll_or_fail(slug)
    options, config = tally_command(poll)
    if config is not None:
        if rules_out:
            try:
                with open(rules_out, "w", encoding="utf-8") as stream:
                    json.dump(config, stream, ensure_ascii=False, indent=2)
            except OSError as error:
                raise click.ClickException(f"cannot write {rules_out}: {error.strerror}") from None
        options += ["--rules", rules_out or "RULES.json"]
    if options:
        # A hint on stderr, so that stdout is the CSV alone.
        hint = " ".join(["python -m polls.tally FILE", *options])
        if config is not None and not rules_out:
            hint += " (export again with --rules-out RULES.json to get that file)"
        click.echo(f"count it as the results page does: {hint}", err=True)
    out = sys.stdout.buffer
    try:
        for chunk in iter_ballots_csv(poll):
            out.write(chunk.encode("utf-8"))
        out.flush()
    except BrokenPipeError:
        # The reader went away (`| head`); say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


@polls_cli.command("import-ballots")
@click.argument("slug")
@click.argument("file", metavar="FILE")
def import_ballots(slug: str, file: str) -> None:
    """Add the ballots in a counting CSV (FILE, or - for standard input) to a poll, all or nothing."""
    from polls.transfer import ImportRejected, import_ballots as load

    poll = _poll_or_fail(slug)
    if file == "-":
        name = "<stdin>"
        source = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    else:
        name = source = file
    try:
        imported = load(poll, source)
    except ImportRejected as rejected:
        for line, why in rejected.rejected[:MAX_REJECTIONS_SHOWN]:
            click.echo(f"{name} line {line}: {why}", err=True)
        hidden = len(rejected.rejected) - MAX_REJECTIONS_SHOWN
        if hidden > 0:
            click.echo(f"... and {hidden} more rejected rows", err=True)
        raise click.ClickException(str(rejected)) from None
    except OSError as error:
        raise click.ClickException(f"{name}: {error.strerror or error}") from None
    except ValueError as error:
        raise click.ClickException(" ".join(str(error).splitlines())) from None
    click.echo(f"imported {imported} ballots into {poll.slug!r}")


def init_app(app: Flask) -> None:
    app.cli.add_command(polls_cli)
