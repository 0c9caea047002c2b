"""The poll builder: add, edit and remove a poll's scenes."""
from flask import flash, render_template, request
from flask_login import login_required
from sqlalchemy.exc import IntegrityError

from polls.extensions import db
from polls.forms import CandidateForm, ConfirmForm
from polls.manage import bp
from polls.manage.access import ballot_count, owned_candidate_or_404, owned_poll_or_404, see_other
from polls.manage.desk import MIN_CANDIDATES_TO_OPEN, render_poll_page
from polls.models import Candidate



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


