"""Fan-facing pages: the poll list, the ballot (works without JavaScript), results."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from polls.ballots import BallotRejected, ballot_by_receipt, cast_ballot, find_ballot, ranked_candidates
from polls.forms import ballot_form_for, ranking_from_form
from polls.friction import HONEYPOT_FIELD
from polls.leaderboards import hall_of_fame, year_boards
from polls.lifecycle import ballot_boxes
from polls.limits import ballot_limit
from polls.models import Poll
from polls.queries import may_see_results, poll_or_404, public_polls
from polls.results import poll_results
from polls.security import allow_clip_frames
from polls.voters import current_voter_token, voter_hash, voter_token_from_request

bp = Blueprint("public", __name__)
# Pages that differ by browser (its ballot's ranking): no shared cache may keep them.
PER_BROWSER = {"Cache-Control": "private, no-store", "Vary": "Cookie"}
STANDINGS_SHOWN = 5


def standings_preview(poll: Poll) -> dict | None:
    """The top of the live standings for the page a fan sees after voting (None when the
    host keeps them hidden; a poll with categories links to its results page instead)."""
    if not may_see_results(poll) or poll.categories:
        return None
    results = poll_results(poll)
    by_id = {c.id: c for c in poll.candidates}
    return {"total": results["total_ballots"], "closed": poll.status == "closed",
            "top": [(row["place"], by_id[row["id"]]) for row in results["leaderboard"][:STANDINGS_SHOWN]
                    if row["id"] in by_id]}


def share_links(poll: Poll) -> dict:
    """Plain links that share the poll page (no third-party script on any page)."""
    root = poll.parent or poll
    return {"url": url_for("public.poll_page", slug=root.slug, _external=True), "title": root.title}


def render_ballot_page(poll: Poll, form, status: int = 200, error: str | None = None, headers=None):
    token = current_voter_token()
    boxes = ballot_boxes(poll)
    existing = {box.id: find_ballot(box, token) for box in boxes}
    voted = all(existing.values())
    # Any ballot cast puts its receipt on the page: no shared cache may keep it then.
    private = PER_BROWSER if any(existing.values()) else {}
    allow_clip_frames()
    return render_template("public/poll.html", poll=poll, form=form, boxes=boxes, existing=existing,
                           error=error, standings=standings_preview(poll) if voted else None,
                           share=share_links(poll)), status, (headers or {}) | private


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


def rankings_from_form(poll: Poll, form) -> list[tuple[Poll, list[int]]]:
    """(ballot box, candidate ids best first) for each box the fan ranked, every one read
    before any is used, so a mistake in one category stops them all."""
    rankings = [(box, ranking_from_form(box, form)) for box in ballot_boxes(poll)]
    rankings = [(box, ranking) for box, ranking in rankings if ranking]
    if not rankings:
        raise BallotRejected(422, "empty_ranking", gettext("Rank at least one scene.") if not poll.categories
                             else gettext("Rank at least one scene in one of the categories."))
    return rankings


@bp.post("/p/<slug>/review")
def review_ballot(slug: str):
    """The review step of the plain form: the ballot as it will be cast, with buttons to
    cast it or change it. Nothing is stored here."""
    poll = poll_or_404(slug)
    form = ballot_form_for(poll)
    try:
        if not form.validate_on_submit():
            raise BallotRejected(400, "invalid_form", gettext("That ballot could not be read; please pick ranks again."))
        if "change" in request.form or not poll.is_open:
            return render_ballot_page(poll, form)
        rankings = rankings_from_form(poll, form)
    except BallotRejected as rejected:
        return render_ballot_page(poll, form, rejected.status, rejected.message)
    by_id = {c.id: c for box, _ in rankings for c in box.candidates}
    return render_template("public/review.html", poll=poll, form=form,
                           rankings=[(box, [by_id[cid] for cid in ranking]) for box, ranking in rankings])


def cast_category_ballots(poll: Poll, form) -> list[tuple[str, str]]:
    """One ballot per category the fan ranked; (message, flash kind) for each.

    Raises BallotRejected when none is cast.

    Every ranking is read before any is stored, so a mistake in one category
    casts nothing.  A category that refuses its ballot (already voted, the
    database busy) is reported and the others still count; only when every
    one refuses is the visit's answer an error.
    """
    token = current_voter_token()
    rankings = rankings_from_form(poll, form)
    messages, refusals = [], []
    for box, ranking in rankings:
        try:
            ballot = cast_ballot(box, ranking, token, honeypot=form[HONEYPOT_FIELD].data)
        except BallotRejected as rejected:
            if rejected.code == "rejected":  # the honeypot: a bot's visit, refused as a whole
                raise
            refusals.append(rejected)
            messages.append((gettext("%(category)s: %(message)s", category=box.title, message=rejected.message),
                             "error"))
        else:
            messages.append((gettext("%(category)s: your ballot is in. Receipt: %(receipt)s", category=box.title,
                                     receipt=ballot.receipt), "success"))
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
            raise BallotRejected(400, "invalid_form", gettext("That ballot could not be read; please pick ranks again."))
        if poll.categories:
            for message, kind in cast_category_ballots(poll, form):
                flash(message, kind)
            return redirect(url_for("public.poll_page", slug=poll.slug), code=303)
        ballot = cast_ballot(poll, ranking_from_form(poll, form), current_voter_token(),
                             invite=form.invite.data if poll.invite_only else None,
                             honeypot=form[HONEYPOT_FIELD].data)
    except BallotRejected as rejected:
        return render_ballot_page(poll, form, rejected.status, rejected.message, rejected.headers)
    flash(gettext("Your ballot is in. Receipt: %(receipt)s", receipt=ballot.receipt), "success")
    return redirect(url_for("public.receipt_page", slug=poll.slug, code=ballot.receipt), code=303)


@bp.get("/p/<slug>/receipt/<code>")
def receipt_page(slug: str, code: str):
    """Anyone holding the code can check the ballot is counted; only its own browser sees the ranking."""
    poll = poll_or_404(slug)
    ballot = ballot_by_receipt(poll, code)
    if ballot is None:
        abort(404, description=gettext("No ballot in this poll has that receipt. Check the code and try again."))
    token = voter_token_from_request()
    ranking = ranked_candidates(poll, ballot) if token and voter_hash(token) == ballot.voter_hash else None
    return render_template("public/receipt.html", poll=poll, ballot=ballot, ranking=ranking,
                           standings=standings_preview(poll), share=share_links(poll)), 200, PER_BROWSER


@bp.get("/p/<slug>/my-ballot")
def my_ballot(slug: str):
    """This browser's ballots in the poll (one per category), with their rankings."""
    poll = poll_or_404(slug)
    token = voter_token_from_request()
    ballots = [(box, ballot, ranked_candidates(box, ballot))
               for box in ballot_boxes(poll) if token and (ballot := find_ballot(box, token))]
    return render_template("public/my_ballot.html", poll=poll, ballots=ballots,
                           standings=standings_preview(poll) if ballots else None,
                           share=share_links(poll)), 200, PER_BROWSER


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
