"""The poll list, new polls, a poll's settings and its life (draft, open, closed)."""
from flask import flash, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from polls.embed import share_links
from polls.extensions import db
from polls.forms import CandidateForm, ConfirmForm, PollForm, PollSettingsForm, StatusForm
from polls.integrity import record
from polls.manage import bp
from polls.manage.access import ballot_count, owned_poll_or_404, see_other, unique_slug
from polls.models import Ballot, Poll

# action -> (required current status, new status)
TRANSITIONS = {"open": ("draft", "open"), "close": ("open", "closed"), "reopen": ("closed", "open")}
PAST_TENSE = {"open": "opened", "close": "closed", "reopen": "reopened"}
MIN_CANDIDATES_TO_OPEN = 2


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


