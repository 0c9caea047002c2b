"""Exports and imports: the results and the anonymised ballots to download, and
ballots collected elsewhere (paper ballots at a fan meeting) to add.

Every file is an attachment for the poll's owner alone, never kept by a cache
(``Cache-Control: private, no-store``).  A poll split into categories holds no
ballots of its own: its exports page lists each category's files instead, and
its own file addresses send the host back there.
"""
import csv
import io
import json
import logging
import shlex

from flask import Response, current_app, flash, render_template, request, stream_with_context
from flask_login import login_required
from sqlalchemy.exc import OperationalError
from werkzeug.utils import secure_filename

from polls.extensions import csrf, db
from polls.forms.exports import ImportBallotsForm
from polls.lifecycle import ballot_boxes
from polls.manage import bp
from polls.manage.access import form_with_upload, owned_poll_or_404, see_other
from polls.models import Poll
from polls.queries import ballot_count, excluded_ballots
from polls.results import poll_results
from polls.transfer import (
    ImportRejected, engine_report, import_ballots as store_ballots, iter_ballots_csv, results_csv, rules_config,
    tally_command,
)

log = logging.getLogger(__name__)

# Rejected rows listed on the import page; the rest are only counted.
MAX_REJECTIONS_SHOWN = 200
# Ballots one upload may add: the request must end well inside a worker's timeout
# (SQLite stores about a million a half-minute); more go through `flask polls import-ballots`.
DESK_IMPORT_MAX_BALLOTS = 200_000
# Scenes in the import page's example rows.
EXAMPLE_RANKS = 3


def file_name(poll: Poll, what: str) -> str:
    """A download's file name from the slug, e.g. ``best-kiss-2014-ballots.csv``."""
    return secure_filename(f"{poll.slug}-{what}")


def attachment(body, poll: Poll, what: str, mimetype: str) -> Response:
    """A download of ``body`` (text, or chunks of it) for the owner's eyes only."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(poll, what)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def export_panel(box: Poll) -> dict:
    """What the exports page shows of a poll that holds ballots: its counts, whether
    its count needs a rules file, and the command that counts the downloads."""
    options, config = tally_command(box)
    if config is not None:
        options += ["--rules", file_name(box, "rules.json")]
    held_out = sum(entry["ballots"] for entry in excluded_ballots(box))
    return {
        "poll": box,
        "counted": ballot_count(box) - held_out,
        "held_out": held_out,
        "rules_file": config is not None,
        "command": shlex.join(["python", "-m", "polls.tally", file_name(box, "ballots.csv"), *options]),
    }


@stream_with_context
def streamed_ballots_csv(poll_id: int):
    """The ballots export, read while the response is sent.  By then the view's
    session has been closed with its request (stream_with_context pushes the
    contexts again, with a new session), so the poll is loaded anew."""
    yield from iter_ballots_csv(db.session.get(Poll, poll_id))


def by_category(poll: Poll):
    """The answer to a file address of a poll split into categories."""
    flash(f"“{poll.title}” is counted by category: each category has its own files.", "error")
    return see_other("manage.exports", slug=poll.slug)


@bp.get("/polls/<slug>/exports")
@login_required
def exports(slug: str):
    poll = owned_poll_or_404(slug)
    return render_template("manage/exports.html", poll=poll, panels=[export_panel(box) for box in ballot_boxes(poll)])


@bp.get("/polls/<slug>/results.csv")
@login_required
def results_csv_file(slug: str):
    poll = owned_poll_or_404(slug)
    if poll.categories:
        return by_category(poll)
    return attachment(results_csv(poll, poll_results(poll)), poll, "results.csv", "text/csv")


@bp.get("/polls/<slug>/results.json")
@login_required
def results_json_file(slug: str):
    poll = owned_poll_or_404(slug)
    if poll.categories:
        return by_category(poll)
    try:
        report = engine_report(poll)
    except ValueError as error:  # e.g. no scenes yet
        flash(f"The counting engine cannot count this poll yet: {error}.", "error")
        return see_other("manage.exports", slug=poll.slug)
    # As `python -m polls.tally --json` prints it.
    return attachment(json.dumps(report, indent=2, ensure_ascii=False) + "\n", poll, "results.json",
                      "application/json")


@bp.get("/polls/<slug>/ballots.csv")
@login_required
def ballots_csv_file(slug: str):
    poll = owned_poll_or_404(slug)
    if poll.categories:
        return by_category(poll)
    return attachment(streamed_ballots_csv(poll.id), poll, "ballots.csv", "text/csv")


@bp.get("/polls/<slug>/rules.json")
@login_required
def rules_json_file(slug: str):
    poll = owned_poll_or_404(slug)
    if poll.categories:
        return by_category(poll)
    # As `flask polls export-ballots --rules-out` writes it; offered on the page only when
    # the count needs it, but a poll without a tie rule of its own has a valid one too.
    return attachment(json.dumps(rules_config(poll), ensure_ascii=False, indent=2), poll, "rules.json",
                      "application/json")


# --- import --------------------------------------------------------------------

def example_csv(poll: Poll) -> str:
    """A small counting CSV made of the poll's own scenes, for the import page ("" without scenes)."""
    titles = [c.title for c in poll.candidates[:EXAMPLE_RANKS]]
    if not titles:
        return ""
    width = len(titles)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([
        ["count", *(f"rank{i}" for i in range(1, width + 1))],
        ["12", *titles],
        ["3", *reversed(titles)],
        ["1", titles[-1]] + [""] * (width - 1),
    ])
    return buffer.getvalue()


def uploaded_text(upload) -> io.StringIO:
    """The uploaded file as text named after the file (for the reader's messages);
    ValueError when it is not UTF-8."""
    name = (upload.filename or "the file")[:100]
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8” "
                         "(Excel: Save As › CSV UTF-8; Google Sheets: Download › CSV).") from None
    source = io.StringIO(text, newline="")  # the csv module reads line breaks inside quotes itself
    source.name = name
    return source


def upload_limit() -> str:
    """BALLOT_IMPORT_MAX_BYTES in words, e.g. "5 MB"."""
    return f"{current_app.config['BALLOT_IMPORT_MAX_BYTES'] / (1024 * 1024):.3g} MB"


def render_import_page(poll: Poll, form: ImportBallotsForm, *, rejected: ImportRejected | None = None,
                       problem: str | None = None, status: int = 200):
    return render_template(
        "manage/ballots_import.html", poll=poll, form=form, rejected=rejected, problem=problem,
        shown=MAX_REJECTIONS_SHOWN, example=example_csv(poll), max_ballots=DESK_IMPORT_MAX_BALLOTS,
        upload_limit=upload_limit(),
    ), status


@bp.route("/polls/<slug>/ballots/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its token itself, once the owner is known and the body limit raised
@login_required
def import_ballots(slug: str):
    poll = owned_poll_or_404(slug)
    if poll.categories:
        return by_category(poll)
    if request.method == "GET":
        return render_import_page(poll, ImportBallotsForm())
    form = form_with_upload(ImportBallotsForm, current_app.config["BALLOT_IMPORT_MAX_BYTES"])
    if form is None:
        return render_import_page(poll, ImportBallotsForm(formdata=None), status=413, problem=(
            f"That file is too big to import here (at most {upload_limit()}). "
            "Split it into smaller files, or import it on the server with flask polls import-ballots."))
    if not form.validate_on_submit():
        return render_import_page(poll, form, status=400)
    try:
        imported = store_ballots(poll, uploaded_text(form.ballots.data), max_ballots=DESK_IMPORT_MAX_BALLOTS)
    except ImportRejected as rejected:
        return render_import_page(poll, form, rejected=rejected, status=400)
    except ValueError as error:  # not a counting CSV: empty, no rank columns, a bad count...
        return render_import_page(poll, form, problem=" ".join(str(error).splitlines()), status=400)
    except OSError as error:
        return render_import_page(poll, form, problem=f"The file could not be read ({error.strerror or error}).",
                                  status=400)
    except OperationalError as error:  # SQLite's busy timeout ran out behind another long write
        log.warning("poll %r: ballot import not stored, the database is busy (%s)", poll.slug, error)
        return render_import_page(poll, form, status=503, problem=(
            "The database is too busy right now, and nothing was imported. Try again in a minute."))
    if not imported:
        return render_import_page(poll, form, status=400, problem=(
            "That file holds no ballots (every count is 0), so nothing was imported."))
    flash(f"Imported {imported} ballot{'' if imported == 1 else 's'}.", "success")
    return see_other("manage.exports", slug=poll.slug)
