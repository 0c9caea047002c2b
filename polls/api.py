"""JSON API v1: poll description, ballot casting, results."""
from flask import Blueprint, jsonify, request, url_for

from polls.ballots import BallotRejected, cast_ballot
from polls.errors import error_response
from polls.friction import HONEYPOT_FIELD
from polls.limits import ballot_limit
from polls.queries import ballot_box_or_404, poll_or_404
from polls.results import poll_results
from polls.voters import current_voter_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def poll_json(poll) -> dict:
    return {
        "slug": poll.slug,
        "title": poll.title,
        "year": poll.year,
        "description": poll.description,
        "status": poll.status,
        "method": poll.method,
        "max_ranks": poll.rank_limit,
        "candidates": [candidate.as_json() for candidate in poll.candidates],
    }


def read_json_body():
    """The request's JSON, or None when it is not JSON (too deeply nested counts as not JSON)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


@bp.get("/polls/<slug>")
def poll_detail(slug: str):
    return jsonify(poll_json(poll_or_404(slug)))


@bp.post("/polls/<slug>/ballots")
@ballot_limit
def cast(slug: str):
    poll = ballot_box_or_404(slug)
    body = read_json_body()
    try:
        if not isinstance(body, dict) or "ranking" not in body:
            raise BallotRejected(
                400, "invalid_json", 'Send a JSON object like {"ranking": [3, 1, 2]}.'
            )
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
    # method and seats are the ones the count used (a fallback if the stored rules cannot be).
    return jsonify({"slug": poll.slug, "status": poll.status, **poll_results(poll)})
