"""The poll builder: add, edit, reorder and remove a poll's scenes, import them
from a CSV file, and copy them from another of the host's polls.

The list of scenes is what fans' ballots rank, so once a poll has ballots no
scene can be added or removed, and the order is frozen when it breaks ties.
"""
from flask import abort, current_app, flash, render_template, request
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from polls.candidates_csv import MAX_ROWS, CandidatesCSVError, Problem, read_candidates_csv
from polls.extensions import csrf, db
from polls.forms import CandidateForm, ConfirmForm
from polls.forms.builder import CopyCandidatesForm, ImportCandidatesForm, MoveForm, scenes_from_csv
from polls.lifecycle import MIN_CANDIDATES_TO_OPEN
from polls.manage import bp
from polls.manage.access import form_with_upload, owned_candidate_or_404, owned_poll_or_404, see_other
from polls.manage.desk import render_poll_page
from polls.manage.exports import uploaded_text
from polls.models import Candidate, Poll
from polls.queries import ballot_count
from polls.results import rule_override
from polls.tally import Rules
from polls.thumbnails import copy_thumbnail, megabytes

# Problems listed on the import page; the rest are only counted.
MAX_PROBLEMS_SHOWN = 200
# Titles named in the "skipped" message of a copy.
MAX_TITLES_NAMED = 10
# What a copied scene takes from its original: everything but its identity, poll and place.
COPIED_COLUMNS = tuple(column.key for column in Candidate.__table__.columns
                       if column.key not in ("id", "poll_id", "position", "thumbnail_digest"))


def builder_closed(poll: Poll, doing: str) -> str | None:
    """Why scenes cannot be ``doing`` ("added", "removed") in this poll now, or None."""
    if poll.categories:
        return "This poll is split into categories and holds no scenes of its own: add scenes to each category."
    if ballot_count(poll):
        return f"Fans have already voted, so scenes can no longer be {doing}: it would change what their ballots mean."
    return None


@bp.app_template_global()
def ties_follow_order(poll: Poll) -> bool:
    """Whether the order of the poll's scenes breaks its ties (so ballots freeze the order)."""
    return rule_override(poll, "tiebreakMode", Rules.tiebreakMode) == "useCandidateOrder"


def next_position(poll: Poll) -> int:
    return max((c.position for c in poll.candidates), default=-1) + 1


def scenes_in_order(poll: Poll) -> list[Candidate]:
    """The poll's scenes in ballot order, read afresh and locked until commit (on PostgreSQL),
    so that two moves at once cannot interleave their renumbering."""
    rows = db.session.scalars(
        select(Candidate).where(Candidate.poll_id == poll.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    return sorted(rows, key=lambda c: (c.position, c.id))


def move_scene(poll: Poll, candidate: Candidate, step: int) -> bool:
    """Move ``candidate`` ``step`` places (-1 is up) and number the scenes 0..n-1 (not
    committed); False, changing nothing, when it is already at that end."""
    order = scenes_in_order(poll)
    here = order.index(candidate)
    there = here + step
    if not 0 <= there < len(order):
        return False
    order[here], order[there] = order[there], order[here]
    for position, scene in enumerate(order):
        scene.position = position
    return True


def copy_sources(poll: Poll) -> list[Poll]:
    """The host's other polls and categories that have scenes, latest year first."""
    polls = db.session.scalars(
        select(Poll).where(Poll.host_id == poll.host_id, Poll.id != poll.id)
        .options(selectinload(Poll.candidates), selectinload(Poll.parent))
    )
    return sorted((p for p in polls if p.candidates), key=lambda p: (p.year or 0, p.created_at, p.id), reverse=True)


def default_source(poll: Poll, sources: list[Poll]) -> Poll | None:
    """Last year's poll: the latest year before this poll's, else the newest poll."""
    earlier = (s for s in sources if poll.year and s.year and s.year < poll.year)
    return next(earlier, None) or max(sources, key=lambda s: (s.created_at, s.id), default=None)


def copy_scenes(poll: Poll, scenes: list[Candidate]) -> tuple[int, list[str]]:
    """Copy ``scenes`` to the end of ``poll`` (not committed): how many were copied,
    and the titles skipped because the poll already has a scene by that name."""
    taken = {c.title.lower() for c in poll.candidates}
    position = next_position(poll)
    copied, skipped = 0, []
    for scene in scenes:
        if scene.title.lower() in taken:
            skipped.append(scene.title)
            continue
        taken.add(scene.title.lower())
        copy = Candidate(position=position + copied, **{name: getattr(scene, name) for name in COPIED_COLUMNS})
        copy_thumbnail(scene, copy)  # the picture row with its digest, never a digest without one
        poll.candidates.append(copy)
        copied += 1
    return copied, skipped


def quoted_titles(titles: list[str]) -> str:
    named = ", ".join(f"“{title}”" for title in titles[:MAX_TITLES_NAMED])
    more = len(titles) - MAX_TITLES_NAMED
    return f"{named} and {more} more" if more > 0 else named


def scene_count(n: int) -> str:
    return f"{n} scene{'' if n == 1 else 's'}"


def refuse(message: str, poll: Poll):
    flash(message, "error")
    return see_other("manage.edit_poll", slug=poll.slug)


def posted_scene_form(poll: Poll, candidate: Candidate | None = None) -> tuple[CandidateForm, int]:
    """The scene form as posted, with a thumbnail picture perhaps, and the status its page takes
    if it is shown again: 413 when the body is over the limit (the form is then empty, as
    nothing was read), else 400. CSRFError when its token is wrong (see form_with_upload).

    Only these routes, and only for the poll's owner (call this after the ownership check),
    read bodies over MAX_CONTENT_LENGTH: by THUMBNAIL_UPLOAD_MAX_BYTES, room for the picture."""
    config = current_app.config
    form = form_with_upload(lambda: CandidateForm(poll=poll, candidate=candidate),
                            config["MAX_CONTENT_LENGTH"] + config["THUMBNAIL_UPLOAD_MAX_BYTES"])
    if form is None:
        form = CandidateForm(formdata=None, poll=poll, candidate=candidate)
        form.thumbnail.errors = [f"That upload is over {megabytes(config['THUMBNAIL_UPLOAD_MAX_BYTES'])}, "
                                 "so nothing was saved: choose a smaller picture and fill in the form again."]
        return form, 413
    return form, 400


@bp.post("/polls/<slug>/candidates")
@csrf.exempt  # posted_scene_form checks the token itself, once the owner is known and the body limit raised
@login_required
def add_candidate(slug: str):
    poll = owned_poll_or_404(slug)
    if refused := builder_closed(poll, "added"):
        return refuse(refused, poll)
    form, status = posted_scene_form(poll)
    if status == 413 or not form.validate_on_submit():
        return render_poll_page(poll, new_candidate=form, status=status)
    candidate = Candidate(position=next_position(poll))
    form.fill(candidate)
    poll.candidates.append(candidate)
    try:
        db.session.commit()
    except IntegrityError:  # same title added twice at once
        db.session.rollback()
        poll = owned_poll_or_404(slug)
        form.title.errors = [f"This poll already has a scene called “{form.title.data}”."]
        return render_poll_page(poll, new_candidate=form, status=400)
    flash(f"Added “{candidate.title}”.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


@bp.route("/polls/<slug>/candidates/<int:cid>", methods=["GET", "POST"])
@csrf.exempt  # posted_scene_form checks the token itself, once the owner is known and the body limit raised
@login_required
def edit_candidate(slug: str, cid: int):
    poll = owned_poll_or_404(slug)
    candidate = owned_candidate_or_404(poll, cid)
    if request.method == "GET":
        form, status = CandidateForm(poll=poll, candidate=candidate), 200
    else:
        form, status = posted_scene_form(poll, candidate)
    if status != 413 and form.validate_on_submit():
        form.fill(candidate)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.title.errors = [f"This poll already has a scene called “{form.title.data}”."]
        else:
            flash(f"Saved “{candidate.title}”.", "success")
            return see_other("manage.edit_poll", slug=poll.slug)
    return render_template("manage/candidate_edit.html", poll=poll, candidate=candidate, form=form), status


@bp.post("/polls/<slug>/candidates/<int:cid>/move")
@login_required
def move_candidate(slug: str, cid: int):
    poll = owned_poll_or_404(slug)
    candidate = owned_candidate_or_404(poll, cid)
    form = MoveForm()
    if not form.validate_on_submit():
        flash(" ".join(form.direction.errors) or "Move a scene up or down.", "error")
        return render_poll_page(poll, status=400)
    if ties_follow_order(poll) and ballot_count(poll):
        flash("Fans have already voted and ties are broken by the order of the scenes, so the order can no "
              "longer change: it could change who wins a tie.", "error")
    elif move_scene(poll, candidate, form.step):
        db.session.commit()
        flash(f"Moved “{candidate.title}” {form.direction.data}.", "success")
    else:
        flash(f"“{candidate.title}” is already {'first' if form.step < 0 else 'last'}.", "info")
    return see_other("manage.edit_poll", slug=poll.slug, _anchor=f"scene-{candidate.id}")


@bp.post("/polls/<slug>/candidates/<int:cid>/delete")
@login_required
def delete_candidate(slug: str, cid: int):
    poll = owned_poll_or_404(slug)
    candidate = owned_candidate_or_404(poll, cid)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_poll_page(poll, status=400)
    if refused := builder_closed(poll, "removed"):
        flash(refused, "error")
    elif poll.is_open and len(poll.candidates) <= MIN_CANDIDATES_TO_OPEN:
        flash(f"An open poll needs at least {MIN_CANDIDATES_TO_OPEN} scenes; close it first or add another.", "error")
    else:
        title = candidate.title
        poll.candidates.remove(candidate)
        db.session.commit()
        flash(f"Removed “{title}”.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


# --- import from a CSV file ------------------------------------------------------------

def upload_limit_kb() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"] // 1024


def render_import_page(poll: Poll, form: ImportCandidatesForm, *, problems=(), closed: str | None = None,
                       status: int = 200):
    return render_template(
        "manage/candidates_import.html", poll=poll, form=form, problems=problems, closed=closed,
        shown=MAX_PROBLEMS_SHOWN, max_rows=MAX_ROWS, limit_kb=upload_limit_kb(),
    ), status


@bp.route("/polls/<slug>/candidates/import", methods=["GET", "POST"])
@csrf.exempt  # the form checks its token itself, so that a body over the size limit still gets this page
@login_required
def import_candidates(slug: str):
    poll = owned_poll_or_404(slug)
    if request.method == "GET":
        return render_import_page(poll, ImportCandidatesForm(), closed=builder_closed(poll, "added"))
    form = form_with_upload(ImportCandidatesForm)
    if form is None:
        return render_import_page(poll, ImportCandidatesForm(formdata=None), status=413, problems=[Problem(
            None, "", f"That is more than {upload_limit_kb()} KB, the most one import takes: "
                      "split the file and import the parts one after the other.")])
    if not form.validate_on_submit():
        return render_import_page(poll, form, status=400)
    if refused := builder_closed(poll, "added"):
        return refuse(refused, poll)
    try:
        parsed = read_candidates_csv(uploaded_text(form.file.data).getvalue() if form.file.data else form.text.data)
    except CandidatesCSVError as error:
        return render_import_page(poll, form, problems=error.problems, status=400)
    except ValueError as error:  # the upload is not UTF-8
        return render_import_page(poll, form, problems=[Problem(None, "", str(error))], status=400)
    new_scenes, problems = scenes_from_csv(poll, parsed, next_position(poll))
    if problems:
        return render_import_page(poll, form, problems=problems, status=400)
    poll.candidates.extend(new_scenes)
    try:
        db.session.commit()
    except IntegrityError:  # a scene by one of these titles was added meanwhile
        db.session.rollback()
        return render_import_page(owned_poll_or_404(slug), form, status=400, problems=[Problem(
            None, "", "A scene with one of these titles was added to the poll just now, so nothing was "
                      "imported. Import the file again to see which.")])
    flash(f"Imported {scene_count(len(new_scenes))}.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


# --- copy from another poll ----------------------------------------------------------

def render_copy_page(poll: Poll, form: CopyCandidatesForm, *, closed: str | None = None, status: int = 200):
    taken = {c.title.lower() for c in poll.candidates}  # marked on the list: they will be skipped
    return render_template("manage/candidates_copy.html", poll=poll, form=form, taken=taken, closed=closed), status


@bp.route("/polls/<slug>/candidates/copy", methods=["GET", "POST"])
@login_required
def copy_candidates(slug: str):
    poll = owned_poll_or_404(slug)
    closed = builder_closed(poll, "added")
    if closed and request.method == "POST":
        return refuse(closed, poll)
    sources = [] if closed else copy_sources(poll)
    if request.method == "GET":
        asked = request.args.get("source", type=int)
        source = default_source(poll, sources) if asked is None else next((s for s in sources if s.id == asked), None)
        if asked is not None and source is None and not closed:
            abort(404, description="You have no other poll with scenes at that number.")
        return render_copy_page(poll, CopyCandidatesForm.offering(sources, source), closed=closed)
    form = CopyCandidatesForm(sources=sources)
    if not form.validate_on_submit():
        return render_copy_page(poll, form, status=400)
    source = form.chosen
    copied, skipped = copy_scenes(poll, form.picked_scenes())
    try:
        db.session.commit()
    except IntegrityError:  # a scene by one of these titles was added meanwhile
        db.session.rollback()
        flash("A scene with one of these titles was added to the poll just now, so nothing was copied. "
              "Try again.", "error")
        return see_other("manage.copy_candidates", slug=slug, source=source.id)
    skipped_note = f" Skipped, as this poll already has them: {quoted_titles(skipped)}." if skipped else ""
    if copied:
        flash(f"Copied {scene_count(copied)} from “{source.title}”.{skipped_note}", "success")
    else:
        flash(f"Nothing was copied.{skipped_note}", "info")
    return see_other("manage.edit_poll", slug=poll.slug)
