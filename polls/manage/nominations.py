"""Fans' suggested scenes on the desk: grouped by drama; merge duplicates, accept into the scenes, decline."""
from flask import abort, flash, render_template
from flask_login import current_user, login_required

from polls.extensions import db
from polls.forms import ConfirmForm
from polls.forms.nominations import AcceptNominationForm, MergeNominationForm
from polls.manage import bp
from polls.manage.access import MAX_DB_ID, owned_poll_or_404, see_other
from polls.models import Nomination, Poll
from polls.nominations import (
    DecisionRefused, accept, decided_nominations, decline, default_title, describe, group_nominations, merge,
    pending_nominations,
)


def _owned_nomination_or_404(poll: Poll, nid: int) -> Nomination:
    nomination = db.session.get(Nomination, nid) if nid <= MAX_DB_ID else None
    if nomination is None or nomination.poll_id != poll.id:
        abort(404, description="That suggestion is not in this poll.")
    return nomination


def render_nominations_page(poll: Poll, *, failed: tuple[int, object] | None = None, status: int = 200):
    """The suggestions page; ``failed`` is (nomination id, its form that did not validate)."""
    groups = group_nominations(poll)
    pending = [suggestion.nomination for group in groups for suggestion in group.suggestions]
    forms = {n.id: {"accept": AcceptNominationForm(formdata=None, poll=poll, title=default_title(n)),
                    "merge": MergeNominationForm(formdata=None, nomination=n, pending=pending)} for n in pending}
    if failed is not None and failed[0] in forms:
        nid, form = failed
        forms[nid]["accept" if isinstance(form, AcceptNominationForm) else "merge"] = form
    return render_template(
        "manage/nominations.html", poll=poll, groups=groups, forms=forms, decided=decided_nominations(poll),
        confirm_form=ConfirmForm(formdata=None), zone=current_user.timezone,
    ), status


@bp.get("/polls/<slug>/nominations")
@login_required
def nominations(slug: str):
    poll = owned_poll_or_404(slug)
    if poll.parent is not None:  # suggestions are the whole poll's
        return see_other("manage.nominations", slug=poll.parent.slug)
    return render_nominations_page(poll)


@bp.post("/polls/<slug>/nominations/<int:nid>/accept")
@login_required
def accept_nomination(slug: str, nid: int):
    poll = owned_poll_or_404(slug)
    nomination = _owned_nomination_or_404(poll, nid)
    form = AcceptNominationForm(poll=poll)
    if not form.validate_on_submit():
        return render_nominations_page(poll, failed=(nomination.id, form), status=400)
    target = form.target(poll)
    try:
        candidate = accept(nomination, target, form.title.data)
    except DecisionRefused as refused:
        flash(str(refused), "error")
    else:
        where = f" in “{target.title}”" if target is not poll else ""
        flash(f"Added “{candidate.title}” to the scenes{where}.", "success")
    return see_other("manage.nominations", slug=poll.slug)


@bp.post("/polls/<slug>/nominations/<int:nid>/decline")
@login_required
def decline_nomination(slug: str, nid: int):
    poll = owned_poll_or_404(slug)
    nomination = _owned_nomination_or_404(poll, nid)
    if not ConfirmForm().validate_on_submit():
        return render_nominations_page(poll, status=400)
    try:
        fans = decline(nomination)
    except DecisionRefused as refused:
        flash(str(refused), "error")
    else:
        flash(f"Declined “{describe(nomination)}”" + (f" ({fans} fans)." if fans > 1 else "."), "success")
    return see_other("manage.nominations", slug=poll.slug)


@bp.post("/polls/<slug>/nominations/<int:nid>/merge")
@login_required
def merge_nomination(slug: str, nid: int):
    poll = owned_poll_or_404(slug)
    nomination = _owned_nomination_or_404(poll, nid)
    form = MergeNominationForm(nomination=nomination, pending=pending_nominations(poll))
    if not form.validate_on_submit():
        return render_nominations_page(poll, failed=(nomination.id, form), status=400)
    try:
        target = merge(nomination, _owned_nomination_or_404(poll, form.into.data))
    except DecisionRefused as refused:
        flash(str(refused), "error")
    else:
        flash(f"Merged: “{describe(nomination)}” now counts for “{describe(target)}”.", "success")
    return see_other("manage.nominations", slug=poll.slug)
