"""Fan-facing pages: the poll list, the ballot (works without JavaScript), results."""
from flask import Blueprint, abort, flash, redirect, render_template, url_for

from polls.ballots import BallotRejected, ballot_by_receipt, cast_ballot, find_ballot, ranked_candidates
from polls.forms import ballot_form_for, ranking_from_form
from polls.friction import HONEYPOT_FIELD
from polls.limits import ballot_limit
from polls.queries import poll_or_404, public_polls, polls_of_year
from polls.results import poll_results
from polls.voters import current_voter_token, voter_hash, voter_token_from_request

bp = Blueprint("public", __name__)


@bp.get("/")
def index():
    return render_template(
        "public/index.html", open_polls=public_polls("open"), closed_polls=public_polls("closed", 10)
    )


@bp.get("/p/<slug>")
def poll_page(slug: str):
    poll = poll_or_404(slug)
    token = current_voter_token()
    existing = find_ballot(poll, token)
    return render_template(
        "public/poll.html", poll=poll, form=ballot_form_for(poll), existing=existing
    )


@bp.post("/p/<slug>")
@ballot_limit
def cast_form_ballot(slug: str):
    poll = poll_or_404(slug)
    form = ballot_form_for(poll)
    try:
        if not form.validate_on_submit():
            raise BallotRejected(400, "invalid_form", "That ballot could not be read; please pick ranks again.")
        ballot = cast_ballot(poll, ranking_from_form(poll, form), current_voter_token(),
                             invite=form.invite.data if poll.invite_only else None,
                             honeypot=form[HONEYPOT_FIELD].data)
    except BallotRejected as rejected:
        existing = find_ballot(poll, current_voter_token()) if rejected.code == "already_voted" else None
        return (
            render_template("public/poll.html", poll=poll, form=form, existing=existing, error=rejected.message),
            rejected.status,
            rejected.headers,
        )
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
    return render_template("public/receipt.html", poll=poll, ballot=ballot, ranking=ranking), 200, {
        "Cache-Control": "private, no-store", "Vary": "Cookie"}


@bp.get("/p/<slug>/results")
def results_page(slug: str):
    poll = poll_or_404(slug)
    return render_template("public/results.html", poll=poll, results=poll_results(poll))


@bp.get("/leaderboard/<int(max=9999):year>")
def year_leaderboard(year: int):
    polls = polls_of_year(year)
    boards = [(poll, poll_results(poll)) for poll in polls]
    return render_template("public/leaderboard.html", year=year, boards=boards)
