"""Read-only result widgets that other sites may frame, and oEmbed discovery."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, jsonify, render_template, request, url_for

from polls.queries import poll_or_404
from polls.results import poll_results
from polls.security import allow_framing

bp = Blueprint("embed", __name__)

WIDGET_HEIGHT = 360
WIDGET_WIDTH = 480


@bp.get("/embed/<slug>")
@allow_framing
def widget(slug: str):
    poll = poll_or_404(slug)
    top = request.args.get("top", default=5, type=int)
    top = max(1, min(top or 5, 50))
    return render_template("embed/widget.html", poll=poll, results=poll_results(poll), top=top)


def _slug_from_poll_url(url: str) -> str:
    """The slug of one of our /p/<slug> or /p/<slug>/results URLs, else 404."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1" (an unclosed IPv6 host)
        parts = None
    segments = [s for s in parts.path.split("/") if s] if parts else []
    ours = (
        parts is not None
        and parts.scheme in ("http", "https")
        and len(segments) in (2, 3)
        and segments[0] == "p"
        and segments[2:] in ([], ["results"])
    )
    if not ours:
        abort(404, description="That URL is not a KissPoll poll or results page.")
    if parts.netloc != request.host:
        abort(404, description="That URL belongs to another site.")
    return segments[1]


@bp.get("/oembed")
@allow_framing
def oembed():
    """oEmbed 1.0 `rich` response: the HTML is an iframe of the widget."""
    if request.args.get("format", "json") != "json":
        abort(501, description="Only format=json is supported.")
    url = request.args.get("url", "")
    if not url:
        abort(400, description="The url parameter is required.")
    poll = poll_or_404(_slug_from_poll_url(url))
    width = _bounded(request.args.get("maxwidth", type=int), WIDGET_WIDTH)
    height = _bounded(request.args.get("maxheight", type=int), WIDGET_HEIGHT)
    src = url_for("embed.widget", slug=poll.slug, _external=True)
    html = render_template("embed/iframe.html", src=src, title=poll.title, width=width, height=height)
    return jsonify(
        version="1.0",
        type="rich",
        provider_name="KissPoll",
        provider_url=url_for("public.index", _external=True),
        title=poll.title,
        html=html,
        width=width,
        height=height,
        cache_age=300,
    )


def _bounded(limit: int | None, default: int) -> int:
    return max(100, min(default, limit)) if limit else default
