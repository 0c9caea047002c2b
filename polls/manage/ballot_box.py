"""The ballot box: the integrity report, quarantines and invite codes."""
from datetime import date

from flask import Response, abort, flash, render_template, request
from flask_login import current_user, login_required

from polls.extensions import db
from polls.forms import FIRST_YEAR, LAST_YEAR, ConfirmForm, InviteForm, QuarantineForm
from polls.integrity import (
    add_invite_codes, integrity_report, invite_codes, invite_counts, parse_minute, quarantine_burst,
    release_quarantine,
)
from polls.manage import bp
from polls.manage.access import MAX_DB_ID, owned_poll_or_404, see_other
from polls.models import Poll, Quarantine



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


def closed_list_or_404(slug: str) -> Poll:
    """The poll whose invite codes these are: a category has none (closed lists are whole polls)."""
    poll = owned_poll_or_404(slug)
    if poll.parent_id is not None:
        abort(404, description="A category has no invite codes of its own; closed lists are whole polls.")
    return poll


@bp.route("/polls/<slug>/invites", methods=["GET", "POST"])
@login_required
def invites(slug: str):
    poll = closed_list_or_404(slug)
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
    poll = closed_list_or_404(slug)
    rows = ["code,used"] + [f"{c.code},{'yes' if c.used_at else 'no'}" for c in invite_codes(poll)]
    return Response("\r\n".join(rows) + "\r\n", mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{poll.slug}-invites.csv"'})
