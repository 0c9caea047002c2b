"""The poll list, new polls, a poll's settings, schedule, categories and its life."""
from flask import flash, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from polls.categories import CategoryRefused, add_category, remove_category
from polls.embed import share_links
from polls.extensions import db
from polls.forms import CandidateForm, CategoryForm, ConfirmForm, PollForm, PollSettingsForm, StatusForm
from polls.forms.desk import NewCategoryForm, ScheduleForm
from polls.integrity import record
from polls.lifecycle import STATUS_LABELS, TransitionRefused, change_status as move, not_ready_to_open, sync_categories
from polls.manage import bp
from polls.manage.access import owned_poll_or_404, see_other, unique_slug
from polls.models import Ballot, Poll, utcnow
from polls.queries import ballot_count

STATUS_DONE = {"nominations": "Nominations are open: fans can suggest scenes.", "open": "Voting is open.",
               "closed": "Voting is closed."}


def settings_form_for(poll: Poll, formdata=None):
    """A category's form (name and counting) or a poll's (everything); filled from the poll on GET."""
    cls = CategoryForm if poll.parent_id is not None else PollSettingsForm
    return cls() if formdata else cls.for_poll(poll)


def render_poll_page(poll: Poll, *, settings=None, new_candidate=None, schedule=None, new_category=None,
                     status: int = 200):
    """The poll desk: its life, schedule, categories, scenes, sharing and settings."""
    zone = current_user.timezone
    return render_template(
        "manage/poll_edit.html",
        poll=poll,
        form=settings or settings_form_for(poll),
        candidate_form=new_candidate or CandidateForm(formdata=None, poll=poll),
        status_form=StatusForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        schedule_form=schedule or ScheduleForm.for_poll(poll, zone),
        category_form=new_category or NewCategoryForm(formdata=None),
        zone=zone,
        now=utcnow(),
        not_ready=not_ready_to_open(poll),
        status_labels=STATUS_LABELS,
        ballots=ballot_count(poll),
        share=share_links(poll, request.args),
    ), status


@bp.get("/")
@login_required
def dashboard():
    polls = list(db.session.scalars(
        select(Poll).where(Poll.host_id == current_user.id, Poll.parent_id.is_(None)).order_by(Poll.created_at.desc())
    ))
    ids = [p.id for poll in polls for p in [poll, *poll.categories]]
    counts = dict(db.session.execute(
        select(Ballot.poll_id, func.count()).where(Ballot.poll_id.in_(ids)).group_by(Ballot.poll_id)
    ).all()) if ids else {}
    totals = {poll.id: sum(counts.get(p.id, 0) for p in [poll, *poll.categories]) for poll in polls}
    return render_template("manage/dashboard.html", polls=polls, counts=totals, status_labels=STATUS_LABELS)


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
            flash(f"Poll created as a draft at /p/{poll.slug}. Add at least two scenes (or categories), "
                  "then open it.", "success")
            return see_other("manage.edit_poll", slug=poll.slug)
    status = 400 if request.method == "POST" else 200
    return render_template("manage/poll_new.html", form=form), status


@bp.route("/polls/<slug>", methods=["GET", "POST"])
@login_required
def edit_poll(slug: str):
    poll = owned_poll_or_404(slug)
    if request.method == "GET":
        return render_poll_page(poll)
    form = settings_form_for(poll, formdata=True)
    if not form.validate_on_submit():
        return render_poll_page(poll, settings=form, status=400)
    if isinstance(form, PollSettingsForm) and form.invite_only.data and poll.categories:
        form.invite_only.errors = ["Closed-list polls cannot have categories yet."]
        return render_poll_page(poll, settings=form, status=400)
    was_invite_only = poll.invite_only
    form.fill(poll)
    if poll.invite_only != was_invite_only:
        record(poll, current_user, "invite_only", "closed list on" if poll.invite_only else "closed list off")
    sync_categories(poll)
    db.session.commit()
    flash("Category saved." if poll.parent_id else "Poll settings saved.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


@bp.post("/polls/<slug>/status")
@login_required
def change_status(slug: str):
    poll = owned_poll_or_404(slug)
    form = StatusForm()
    if not form.validate_on_submit():
        flash("Unknown action.", "error")
        return render_poll_page(poll, status=400)
    try:
        moved = move(poll, form.action.data)
    except TransitionRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
    else:
        db.session.commit()
        flash(STATUS_DONE[moved.status] + moved.note, "success")
    return see_other("manage.edit_poll", slug=poll.slug)


@bp.post("/polls/<slug>/schedule")
@login_required
def schedule(slug: str):
    poll = owned_poll_or_404(slug)
    form = ScheduleForm()
    if poll.parent_id is not None:
        flash("A category opens and closes with its poll; set the times on the poll's desk.", "error")
        return render_poll_page(poll, status=400)
    if not form.validate_on_submit():
        return render_poll_page(poll, schedule=form, status=400)
    poll.opens_at, poll.closes_at = form.times_in_utc(current_user.timezone)
    sync_categories(poll)
    db.session.commit()
    flash("Schedule saved." if poll.opens_at or poll.closes_at else "Schedule cleared.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


@bp.post("/polls/<slug>/categories")
@login_required
def new_category(slug: str):
    poll = owned_poll_or_404(slug)
    form = NewCategoryForm()
    if not form.validate_on_submit():
        return render_poll_page(poll, new_category=form, status=400)
    try:
        category = add_category(poll, form.title.data)
        db.session.commit()
    except CategoryRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")  # a category's own desk has no category form to mark
        return render_poll_page(owned_poll_or_404(slug), new_category=form, status=400)
    except IntegrityError:  # two categories added at once took the same address
        db.session.rollback()
        form.title.errors = ["That category could not be added just now; try again."]
        return render_poll_page(owned_poll_or_404(slug), new_category=form, status=400)
    flash(f"Added the category “{category.title}”. Add its scenes on its own desk page.", "success")
    return see_other("manage.edit_poll", slug=poll.slug)


@bp.post("/polls/<slug>/remove-category")
@login_required
def delete_category(slug: str):
    category = owned_poll_or_404(slug)
    parent = category.parent
    if parent is None or not ConfirmForm().validate_on_submit():
        flash("Only a category can be removed this way.", "error")
        return render_poll_page(category, status=400)
    try:
        remove_category(category)
    except CategoryRefused as refused:
        db.session.rollback()
        flash(str(refused), "error")
        return see_other("manage.edit_poll", slug=slug)
    db.session.commit()
    flash(f"Removed the category “{category.title}”.", "success")
    return see_other("manage.edit_poll", slug=parent.slug)
