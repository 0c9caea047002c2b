"""Fan-facing pages: the poll list, the ballot (works without JavaScript), results."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for

from polls.ballots import BallotRejected, ballot_by_receipt, cast_ballot, find_ballot, ranked_candidates
from polls.forms import ballot_form_for, ranking_from_form
from polls.friction import HONEYPOT_FIELD
from polls.leaderboards import hall_of_fame, year_boards
from polls.lifecycle import ballot_boxes
from polls.limits import ballot_limit
from polls.models import Poll
from polls.queries import may_see_results, poll_or_404, public_polls
from polls.results import poll_results
from polls.voters import current_voter_token, voter_hash, voter_token_from_request

bp = Blueprint("public", __name__)


def render_ballot_page(poll: Poll, form, status: int = 200, error: str | None = None, headers=None):
    token = current_voter_token()
    boxes = ballot_boxes(poll)
    existing = {box.id: find_ballot(box, token) for box in boxes}
    return render_template("public/poll.html", poll=poll, form=form, boxes=boxes, existing=existing,
                           error=error), status, headers or {}


@bp.get("/")
def index():
    return render_template(
        "public/index.html", open_polls=public_polls("open"), closed_polls=public_polls("closed", 10),
        nominating=public_polls("nominations", 10),
    )


@bp.get("/p/<slug>")
def poll_page(slug: str):
    poll = poll_or_404(slug)
    return render_ballot_page(poll, ballot_form_for(poll))


def cast_category_ballots(poll: Poll, form) -> list[tuple[str, str]]:
    """One ballot per category the fan ranked; (message, flash kind) for each.

    Raises BallotRejected when none is cast.

    Every ranking is read before any is stored, so a mistake in one category
    casts nothing.  A category that refuses its ballot (already voted, the
    database busy) is reported and the others still count; only when every
    one refuses is the visit's answer an error.
    """
    token = current_voter_token()
    rankings = [(box, ranking_from_form(box, form)) for box in poll.categories]
    rankings = [(box, ranking) for box, ranking in rankings if ranking]
    if not rankings:
        raise BallotRejected(422, "empty_ranking", "Rank at least one scene in one of the categories.")
    messages, refusals = [], []
    for box, ranking in rankings:
        try:
            ballot = cast_ballot(box, ranking, token, honeypot=form[HONEYPOT_FIELD].data)
        except BallotRejected as rejected:
            if rejected.code == "rejected":  # the honeypot: a bot's visit, refused as a whole
                raise
            refusals.append(rejected)
            messages.append((f"{box.title}: {rejected.message}", "error"))
        else:
            messages.append((f"{box.title}: your ballot is in. Receipt: {ballot.receipt}", "success"))
    if len(refusals) == len(rankings):
        raise refusals[0]
    return messages


@bp.post("/p/<slug>")
@ballot_limit
def cast_form_ballot(slug: str):
    poll = poll_or_404(slug)
    form = ballot_form_for(poll)
    try:
        if not form.validate_on_submit():
            raise BallotRejected(400, "invalid_form", "That ballot could not be read; please pick ranks again.")
        if poll.categories:
            for message, kind in cast_category_ballots(poll, form):
                flash(message, kind)
            return redirect(url_for("public.poll_page", slug=poll.slug), code=303)
        ballot = cast_ballot(poll, ranking_from_form(poll, form), current_voter_token(),
                             invite=form.invite.data if poll.invite_only else None,
                             honeypot=form[HONEYPOT_FIELD].data)
    except BallotRejected as rejected:
        return render_ballot_page(poll, form, rejected.status, rejected.message, rejected.headers)
    flash(f"Your ballot is in. Receipt: {ballot.receipt}", "success")
    return redirect(url_for("public.receipt_page", slug=poll.slug, code=ballot.receipt), code=303)


@bp.get("/p/<slug>/receipt/<code>")
def receipt_page(slug: str, code: str):
    """Anyone holding the code can check the ballot is counted; only its own browser sees the ranking."""
    poll = poll_or_404(slug)
    ballot = ballot_by_receipt(poll, code)
    if ballot is None:
        abort(404, description="No ballot in this poll has that receipt. Check the code and try again.")
    token = voter_token_from_request()
    ranking = ranked_candidates(poll, ballot) if token and voter_hash(token) == ballot.voter_hash else None
    # The page differs by browser (the ranking): no shared cache may keep it.
    return render_template("public/receipt.html", poll=poll, ballot=ballot, ranking=ranking,
                           show_results=may_see_results(poll)), 200, {
        "Cache-Control": "private, no-store", "Vary": "Cookie"}


@bp.get("/p/<slug>/results")
def results_page(slug: str):
    poll = poll_or_404(slug)
    if not may_see_results(poll):
        return render_template("public/results_hidden.html", poll=poll), 403
    if poll.categories:
        boards = [(box, poll_results(box)) for box in poll.categories]
        return render_template("public/category_results.html", poll=poll, boards=boards)
    return render_template("public/results.html", poll=poll, results=poll_results(poll),
                           private=not poll.results_public)


@bp.get("/leaderboard/<int(max=9999):year>")
def year_leaderboard(year: int):
    return render_template("public/leaderboard.html", year=year, boards=year_boards(year),
                           hall=hall_of_fame(before=year))


@bp.get("/leaderboard")
def hall_of_fame_page():
    return render_template("public/hall_of_fame.html", hall=hall_of_fame())
