"""Fans suggest a missing scene while nominations are open: the form post (no JavaScript needed) and the
JSON API, with the ballot's rate limits counted on their own."""
from dataclasses import dataclass

from flask import Blueprint, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext
from flask_limiter import RateLimitExceeded

from polls.api import read_json_body
from polls.errors import error_response, handle_rate_limited, retry_after_seconds, wants_json
from polls.forms import ballot_form_for
from polls.forms.nominations import NominationForm
from polls.friction import HONEYPOT_FIELD
from polls.lifecycle import ballot_boxes
from polls.limits import nomination_limit
from polls.models import Nomination, Poll
from polls.nominations import (
    NominationRejected, describe, find_nomination, nomination_json, refuse_unless_taking, submit_nomination,
    top_poll,
)
from polls.public import render_ballot_page
from polls.queries import poll_or_404
from polls.voters import current_voter_token

bp = Blueprint("nominate", __name__)


@dataclass(frozen=True)
class NominationPanel:
    """What the poll page's "suggest a missing scene" part shows (templates/public/_nominate.html)."""

    form: NominationForm
    mine: Nomination | None
    mine_text: str
    # The lists already on the ballot (the poll's, or each category's), so fans need not re-suggest them.
    boxes: list[Poll]


@bp.app_template_global()
def nomination_panel(poll: Poll) -> NominationPanel:
    top = top_poll(poll)
    mine = find_nomination(top, current_voter_token())
    # After a refused post the fan gets their own text back, with the marked fields.
    form = g.get("nomination_form") or NominationForm(formdata=None)
    return NominationPanel(form=form, mine=mine, mine_text=describe(mine) if mine else "", boxes=ballot_boxes(top))


def _refused_page(poll: Poll, form: NominationForm, rejected: NominationRejected):
    flash(rejected.message, "error")
    g.nomination_form = form
    return render_ballot_page(poll, ballot_form_for(poll), rejected.status, headers=rejected.headers)


@bp.post("/p/<slug>/nominate")
@nomination_limit
def suggest(slug: str):
    poll = poll_or_404(slug)
    form = NominationForm()
    try:
        refuse_unless_taking(poll)
        if not form.validate_on_submit():
            raise NominationRejected(400, "invalid_form", gettext("Please check the marked fields."))
        submit_nomination(poll, form.suggestion(), current_voter_token(), honeypot=form[HONEYPOT_FIELD].data)
    except NominationRejected as rejected:
        return _refused_page(poll, form, rejected)
    flash(gettext("Thanks! The host will review your suggestion."), "success")
    return redirect(url_for("public.poll_page", slug=poll.slug), code=303)


@bp.post("/api/v1/polls/<slug>/nominations")
@nomination_limit
def suggest_json(slug: str):
    poll = poll_or_404(slug)
    body = read_json_body()
    try:
        if not isinstance(body, dict):
            raise NominationRejected(400, "invalid_json", gettext('Send a JSON object like %(example)s.', example=(
                '{"drama": "Kill Me, Heal Me", "episode": "10", "scene": "the piggyback kiss", "why": "..."}')))
        nomination = submit_nomination(poll, body, current_voter_token(), honeypot=body.get(HONEYPOT_FIELD))
    except NominationRejected as rejected:
        return error_response(rejected.status, rejected.code, rejected.message, rejected.headers)
    return jsonify(nomination=nomination_json(nomination)), 201


@bp.errorhandler(RateLimitExceeded)
def rate_limited(exc: RateLimitExceeded):
    """429 with Retry-After as everywhere; on the form path the poll page comes back with the fan's text."""
    if wants_json():
        return handle_rate_limited(exc)
    rejected = NominationRejected(429, "too_many_requests", gettext(
        "Too many suggestions from your address just now: please wait a little and try again."),
        {"Retry-After": str(retry_after_seconds())})
    return _refused_page(poll_or_404(request.view_args["slug"]), NominationForm(), rejected)
