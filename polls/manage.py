"""The host's desk: login, poll builder, opening and closing polls.

Every poll route loads its poll through `owned_poll_or_404`, so a host can
only see and change their own polls; another host's poll is a plain 404.
"""
from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from polls.embed import share_links
from polls.extensions import db, login_manager
from polls.forms import (
    FIRST_YEAR, LAST_YEAR, RESERVED_SLUGS, CandidateForm, ConfirmForm, InviteForm, LoginForm, PollForm,
    PollSettingsForm, QuarantineForm, StatusForm, slugify,
)
from polls.integrity import (
    add_invite_codes, integrity_report, invite_codes, invite_counts, parse_minute, quarantine_burst, record,
    release_quarantine,
)
from polls.limits import login_limit
from polls.models import Ballot, Candidate, Host, Poll, Quarantine

bp = Blueprint("manage", __name__, url_prefix="/manage")

login_manager.login_view = "manage.login"
login_manager.login_message = "Log in to manage your polls."
login_manager.login_message_category = "error"

MAX_DB_ID = 2**63 - 1
_DUMMY_HASH = generate_password_hash("not a real password")
# action -> (required current status, new status)
TRANSITIONS = {"open": ("draft", "open"), "close": ("open", "closed"), "reopen": ("closed", "open")}
PAST_TENSE = {"open": "opened", "close": "closed", "reopen": "reopened"}
MIN_CANDIDATES_TO_OPEN = 2


@login_manager.user_loader
def load_host(host_id: str) -> Host | None:
    return db.session.get(Host, int(host_id)) if host_id.isdigit() and int(host_id) <= MAX_DB_ID else None


# --- helpers -------------------------------------------------------------------


def owned_poll_or_404(slug: str) -> Poll:
    """The current host's poll with this slug; 404 if missing *or* someone else's."""
    poll = db.session.scalar(select(Poll).where(Poll.slug == slug, Poll.host_id == current_user.id))
    if poll is None:
        abort(404, description="You have no poll with that address.")
    return poll


def owned_candidate_or_404(poll: Poll, cid: int) -> Candidate:
    candidate = db.session.get(Candidate, cid) if cid <= MAX_DB_ID else None
    if candidate is None or candidate.poll_id != poll.id:
        abort(404, description="That scene is not in this poll.")
    return candidate


def ballot_count(poll: Poll) -> int:
    return db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)) or 0


def unique_slug(title: str, year: int | None) -> str:
    """A free slug made from the title (or 'poll-YEAR' when the title has no Latin letters)."""
    base = slugify(title)
    if len(base) < 3 or base in RESERVED_SLUGS:
        base = f"poll-{year}" if year else "poll"
    taken = set(db.session.scalars(select(Poll.slug).where(Poll.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken or slug in RESERVED_SLUGS:
        slug, n = f"{base}-{n}", n + 1
    return slug


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after login, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
        return None
    return target if not parts.scheme and not parts.netloc else None


def see_other(endpoint: str, **values):
    return redirect(url_for(endpoint, **values), code=303)


def render_poll_page(poll: Poll, *, settings=None, new_candidate=None, status: int = 200):
    """The poll editor: settings, scenes, the add-scene form and the status buttons."""
    settings = settings or PollSettingsForm.for_poll(poll)
    new_candidate = new_candidate or CandidateForm(formdata=None, poll=poll)
    return render_template(
        "manage/poll_edit.html",
        poll=poll,
        form=settings,
        candidate_form=new_candidate,
        status_form=StatusForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        ballots=ballot_count(poll),
        share=share_links(poll, request.args),
    ), status


# --- session -------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@login_limit
def login():
    form = LoginForm()
    if request.method == "GET":
        return render_template("manage/login.html", form=form)
    if form.validate_on_submit():
        host = db.session.scalar(select(Host).where(Host.email == form.email.data.lower()))
        if host is None:
            check_password_hash(_DUMMY_HASH, form.password.data)  # same work either way: no email probing
        elif host.check_password(form.password.data):
            login_user(host, remember=False)
            return redirect(safe_next(request.args.get("next")) or url_for("manage.dashboard"), code=303)
        flash("Wrong email or password.", "error")
    return render_template("manage/login.html", form=form), 400


@bp.post("/logout")
def logout():
    logout_user()
    return see_other("public.index")


# --- polls ---------------------------------------------------------------------


@bp.get("/")
@login_required
def dashboard():
    polls = list(
        db.session.scalars(select(Poll).where(Poll.host_id == current_user.id).order_by(Poll.created_at.desc()))
    )
    counts = dict(
        db.session.execute(
            select(Ballot.poll_id, func.count())
            .where(Ballot.poll_id.in_([poll.id for poll in polls]))
            .group_by(Ballot.poll_id)
        ).all()
    ) if polls else {}
    return render_template("manage/dashboard.html", polls=polls, counts=counts)


@bp.route("/polls/new", methods=["GET", "POST"])
@login_required
def new_poll():
    form = PollForm()
    if form.validate_on_submit():
        poll = Poll(host_id=current_user.id, status="draft")
        form.fill(poll)
        poll.slug = form.slug.data or unique_slug(form.title.data, form.year.data)
        db.session.add(poll)
        try:
            db.session.commit()
        except IntegrityError:  # someone took the slug between the check and the insert
            db.session.rollback()
            form.slug.errors = [*form.slug.errors, f"The slug “{poll.slug}” is already taken; pick another."]
        else:
            flash(f"Poll created as a draft at /p/{poll.slug}. Add at least two scenes, then open it.", "success")
            return see_other("manage.edit_poll", slug=poll.slug)
    status = 400 if request.method == "POST" else 200
    return render_template("manage/poll_new.html", form=form), status


@bp.route("/polls/<slug>", methods=["GET", "POST"])
@login_required
def edit_poll(slug: str):
    poll = owned_poll_or_404(slug)
    if request.method == "GET":
        return render_poll_page(poll)
    form = PollSettingsForm()
    if not form.validate_on_submit():
        return render_poll_page(poll, settings=form, status=400)
    was_invite_only = poll.invite_only
    form.fill(poll)
    if poll.invite_only != was_invite_only:
        record(poll, current_user, "invite_only", "closed list on" if poll.invite_only else "closed list off")
    db.session.commit()
    flash("Poll settings saved.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


@bp.post("/polls/<slug>/status")
@login_required
def change_status(slug: str):
    poll = owned_poll_or_404(slug)
    form = StatusForm()
    if not form.validate_on_submit():
        flash("Unknown action.", "error")
        return render_poll_page(poll, status=400)
    required, new_status = TRANSITIONS[form.action.data]
    if poll.status != required:
        flash(f"This poll is {poll.status}, so it cannot be {PAST_TENSE[form.action.data]}.", "error")
    elif new_status == "open" and len(poll.candidates) < MIN_CANDIDATES_TO_OPEN:
        flash(f"Add at least {MIN_CANDIDATES_TO_OPEN} scenes before opening the poll.", "error")
    else:
        poll.status = new_status
        db.session.commit()
        flash("Voting is open." if new_status == "open" else "Voting is closed.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


# --- candidates (scenes) ----------------------------------------------------------


@bp.post("/polls/<slug>/candidates")
@login_required
def add_candidate(slug: str):
    poll = owned_poll_or_404(slug)
    if ballot_count(poll):
        flash("Fans have already voted, so scenes can no longer be added: it would change what their ballots mean.", "error")
        return see_other("manage.edit_poll", slug=poll.slug)
    form = CandidateForm(poll=poll)
    if not form.validate_on_submit():
        return render_poll_page(poll, new_candidate=form, status=400)
    candidate = Candidate(position=max((c.position for c in poll.candidates), default=-1) + 1)
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
@login_required
def edit_candidate(slug: str, cid: int):
    poll = owned_poll_or_404(slug)
    candidate = owned_candidate_or_404(poll, cid)
    form = CandidateForm(poll=poll, candidate=candidate)
    if form.validate_on_submit():
        form.fill(candidate)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.title.errors = [f"This poll already has a scene called “{form.title.data}”."]
        else:
            flash(f"Saved “{candidate.title}”.", "success")
            return see_other("manage.edit_poll", slug=poll.slug)
    status = 400 if request.method == "POST" else 200
    return render_template("manage/candidate_edit.html", poll=poll, candidate=candidate, form=form), status


@bp.post("/polls/<slug>/candidates/<int:cid>/delete")
@login_required
def delete_candidate(slug: str, cid: int):
    poll = owned_poll_or_404(slug)
    candidate = owned_candidate_or_404(poll, cid)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_poll_page(poll, status=400)
    if ballot_count(poll):
        flash("Fans have already voted, so scenes can no longer be removed: it would change what their ballots mean.", "error")
    elif poll.is_open and len(poll.candidates) <= MIN_CANDIDATES_TO_OPEN:
        flash(f"An open poll needs at least {MIN_CANDIDATES_TO_OPEN} scenes; close it first or add another.", "error")
    else:
        title = candidate.title
        poll.candidates.remove(candidate)
        db.session.commit()
        flash(f"Removed “{title}”.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


# --- the ballot box: integrity report, quarantine, invite codes --------------------


def render_integrity_page(poll: Poll, status: int = 200):
    try:
        day = date.fromisoformat(request.args["day"]) if request.args.get("day") else None
    except ValueError:
        day = date.min
    if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
        abort(404, description="Pick a day like 2026-12-01.")
    return render_template(
        "manage/integrity.html", poll=poll, report=integrity_report(poll, day),
        quarantine_form=QuarantineForm(formdata=None), confirm_form=ConfirmForm(formdata=None),
    ), status


@bp.get("/polls/<slug>/integrity")
@login_required
def integrity(slug: str):
    return render_integrity_page(owned_poll_or_404(slug))


@bp.post("/polls/<slug>/integrity/quarantine")
@login_required
def quarantine(slug: str):
    poll = owned_poll_or_404(slug)
    form = QuarantineForm()
    if not form.validate_on_submit():
        flash("That burst could not be read; reload the report and try again.", "error")
        return render_integrity_page(poll, status=400)
    held, count = quarantine_burst(poll, current_user, form.kind.data, form.key.data,
                                   parse_minute(form.start.data), parse_minute(form.end.data))
    if held is None:
        flash("None of those ballots is still in the count: nothing changed.", "error")
    else:
        flash(f"{count} ballots {held.reason} are held out of the count.", "success")
    return see_other("manage.integrity", slug=poll.slug)


@bp.post("/polls/<slug>/quarantines/<int:qid>/release")
@login_required
def release(slug: str, qid: int):
    poll = owned_poll_or_404(slug)
    held = db.session.get(Quarantine, qid) if qid <= MAX_DB_ID else None
    if held is None or held.poll_id != poll.id:
        abort(404, description="That quarantine is not in this poll.")
    if not ConfirmForm().validate_on_submit():
        return render_integrity_page(poll, status=400)
    released = release_quarantine(poll, current_user, held)
    if released is None:
        flash("Those ballots were already released.", "error")
    else:
        flash(f"{released} ballots count again.", "success")
    return see_other("manage.integrity", slug=poll.slug)


@bp.route("/polls/<slug>/invites", methods=["GET", "POST"])
@login_required
def invites(slug: str):
    poll = owned_poll_or_404(slug)
    form = InviteForm()
    new_codes: list[str] = []
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            new_codes = add_invite_codes(poll, current_user, form.how_many.data)
        else:
            status = 400
    made, used = invite_counts(poll)
    return render_template("manage/invites.html", poll=poll, form=form, new_codes=new_codes,
                           made=made, used=used, codes=invite_codes(poll)), status


@bp.get("/polls/<slug>/invites.csv")
@login_required
def invites_csv(slug: str):
    poll = owned_poll_or_404(slug)
    rows = ["code,used"] + [f"{c.code},{'yes' if c.used_at else 'no'}" for c in invite_codes(poll)]
    return Response("\r\n".join(rows) + "\r\n", mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{poll.slug}-invites.csv"'})
