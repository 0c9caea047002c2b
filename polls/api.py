"""JSON API v1: poll description, ballot casting, results."""
from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from polls.ballots import BallotRejected, cast_ballot
from polls.errors import error_response
from polls.extensions import db
from polls.friction import HONEYPOT_FIELD
from polls.limits import ballot_limit
from polls.models import Poll
from polls.queries import ballot_box_or_404, may_see_results, poll_or_404
from polls.results import poll_results
from polls.voters import current_voter_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _utc(moment) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def poll_json(poll: Poll) -> dict:
    """The poll as the API describes it; a poll with categories lists each as a poll of its own."""
    described = {
        "slug": poll.slug,
        "title": poll.title,
        "year": poll.year,
        "description": poll.description,
        "status": poll.status,
        "accepting_ballots": poll.is_open,
        "opens_at": _utc(poll.opens_at),
        "closes_at": _utc(poll.closes_at),
        "results_visibility": poll.results_visibility,
        "method": poll.method,
        "max_ranks": poll.rank_limit,
        "candidates": [candidate.as_json() for candidate in poll.candidates],
    }
    if poll.parent is not None:
        described["parent"] = poll.parent.slug
    else:
        described["categories"] = [poll_json(category) for category in poll.categories]
    return described


def read_json_body():
    """The request's JSON, or None when it is not JSON (too deeply nested counts as not JSON)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


@bp.get("/polls/<slug>")
def poll_detail(slug: str):
    return jsonify(poll_json(poll_or_404(slug)))


def _refuse_category_parent(poll) -> None:
    categories = list(db.session.scalars(select(Poll.slug).where(Poll.parent_id == poll.id).order_by(Poll.position)))
    if categories:
        raise BallotRejected(422, "has_categories", gettext(
            "This poll has categories: send each category's ranking to /api/v1/polls/<category>/ballots, "
            "with <category> one of: %(categories)s", categories=", ".join(categories)))


@bp.post("/polls/<slug>/ballots")
@ballot_limit
def cast(slug: str):
    poll = ballot_box_or_404(slug)
    body = read_json_body()
    try:
        if not isinstance(body, dict) or "ranking" not in body:
            raise BallotRejected(
                400, "invalid_json", gettext('Send a JSON object like %(example)s.', example='{"ranking": [3, 1, 2]}')
            )
        if not poll.candidate_ids:
            _refuse_category_parent(poll)
        ballot = cast_ballot(poll, body["ranking"], current_voter_token(),
                             invite=body.get("invite"), honeypot=body.get(HONEYPOT_FIELD))
    except BallotRejected as rejected:
        return error_response(rejected.status, rejected.code, rejected.message, rejected.headers)
    return (
        jsonify(
            receipt=ballot.receipt,
            ranking=ballot.ranking,
            results_url=url_for("public.results_page", slug=poll.slug),
            receipt_url=url_for("public.receipt_page", slug=poll.slug, code=ballot.receipt),
        ),
        201,
    )


@bp.get("/polls/<slug>/results")
def results(slug: str):
    poll = poll_or_404(slug)
    if not may_see_results(poll):
        return error_response(403, "results_hidden", gettext("The host has not made these results public yet."))
    if poll.categories:
        return jsonify({"slug": poll.slug, "status": poll.status, "categories": [
            {"slug": box.slug, "title": box.title, **poll_results(box)} for box in poll.categories]})
    # method and seats are the ones the count used (a fallback if the stored rules cannot be).
    return jsonify({"slug": poll.slug, "status": poll.status, **poll_results(poll)})
