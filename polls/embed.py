"""Read-only result widgets that any site may frame, their SVG images, and oEmbed.

``/embed/<slug>`` is an HTML page (for an iframe) and ``/embed/<slug>.svg`` the
chart alone (for an <img>); both take the options of ``polls.widgets`` in the
query string.  Neither reads or sets cookies, so they work in a sandboxed
iframe with third-party cookies blocked; both are cached per process
(``polls.widgets``), sent gzip-compressed to browsers that take it, with an
ETag (304 on ``If-None-Match``) and a short public ``Cache-Control`` that
lets a CDN share them.
"""
from dataclasses import replace
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from polls import charts
from polls.i18n import localized_results
from polls.models import Poll
from polls.queries import poll_or_404, public_poll_id_or_404
from polls.results import METHOD_NAMES, poll_results, results_version
from polls.security import allow_framing, allow_inline_styles
from polls.widgets import (DEFAULT_ACCENT, ENVIRON_BODY, ENVIRON_ENTRY, InvalidOption, RenderedWidget,
                           WidgetCache, WidgetOptions, csp_hash, widget_options, with_round)

bp = Blueprint("embed", __name__)
CACHE = "kisspoll.widgets"

# Browsers revalidate after a few seconds (cheap: 304); a CDN may serve a copy as
# long, and a stale one for a little longer while it fetches the new one.
CACHE_CONTROL = "public, max-age=5, s-maxage=5, stale-while-revalidate=30"
WIDGET_HEIGHT = 360  # the advertised size, before the widget sizes itself
WIDGET_WIDTH = 480  # as wide as the charts grow (static/css/widget.css)


@bp.record_once
def _keep_widgets_per_app(state) -> None:
    state.app.extensions[CACHE] = WidgetCache()


def _options_or_400(args) -> WidgetOptions:
    try:
        return widget_options(args)
    except InvalidOption as error:
        abort(400, description=str(error))


def chart_for(options: WidgetOptions, results: dict, closed: bool):
    """The chart of the widget's view (polls.charts)."""
    if options.view == "bars":
        return charts.round_chart(results, options.round, options.inactive)
    if options.view == "flow":
        return charts.flow_chart(results, options.inactive)
    if options.view == "badge":
        return charts.badge_chart(results, closed)
    return charts.board_chart(results, options.top)


def _render(slug: str, options: WidgetOptions, kind: str) -> RenderedWidget:
    # The version first, then the poll and its ballots: an edit or ballot committed in
    # between is then filed under a version it has already moved past (polls.results).
    version = results_version(public_poll_id_or_404(slug))
    poll = poll_or_404(slug)
    if poll.categories:
        abort(404, description="This poll has categories; each has its own widget: "
              + ", ".join(f"/embed/{category.slug}" for category in poll.categories))
    if not poll.results_public:
        # Not the host's own view either: a widget is for the blog's readers.
        abort(403, description="The host shows these results when voting closes."
              if poll.results_visibility == "closed" else "The host will announce these results.")
    # Counted by English titles; drawn with the scenes' titles in the widget's language.
    results = localized_results(poll_results(poll), poll.candidates)
    closed = poll.status == "closed"
    chart = chart_for(options, results, closed)
    theme = options.svg_theme if kind == "svg" else ("light" if options.theme == "auto" else options.theme)
    context = dict(chart=chart, palette=charts.palette_for(theme, options.accent), title=poll.title,
                   standalone=kind == "svg")
    if kind == "svg":
        body = render_template(f"embed/svg/{options.view}.svg", **context)
        return RenderedWidget(body.encode(), "image/svg+xml", poll.id, version)
    accent_style = f":root[data-theme]{{--accent:{options.accent}}}" if options.accent else ""
    rounds = len(results["rounds"]) if options.view == "bars" else 0
    body = render_template(
        "embed/widget.html", poll=poll, results=results, options=options, closed=closed,
        method_names=METHOD_NAMES, accent_style=accent_style, svg=f"embed/svg/{options.view}.svg",
        round_links=[(n, with_round(options, n).query()) for n in range(1, rounds + 1)], **context)
    return RenderedWidget(body.encode(), "text/html", poll.id, version,
                          (csp_hash(accent_style),) if accent_style else ())


def _serve(slug: str, kind: str):
    options = _options_or_400(request.args)
    # Never one host's page for another, should a page ever carry absolute URLs.
    key = (kind, slug, options, request.host, request.scheme)
    config = current_app.config
    cache = current_app.extensions[CACHE]
    entry = cache.get(key, fresh_seconds=config["WIDGET_FRESH_SECONDS"], max_age=config["WIDGET_MAX_AGE"],
                      current_version=results_version)
    if entry is None:
        with force_locale(options.lang):  # the option as parsed, whatever its spelling
            entry = cache.put(key, _render(slug, options, kind))
    allow_inline_styles(entry.style_sources)
    compressed = request.accept_encodings.quality("gzip") > 0
    body = entry.gzipped if compressed else entry.body
    response = current_app.response_class(body, mimetype=entry.mimetype)
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
        response.set_etag(entry.etag + "-gzip")  # each encoding is its own representation
    else:
        response.set_etag(entry.etag)
    request.environ[ENVIRON_ENTRY], request.environ[ENVIRON_BODY] = entry, body  # for WidgetFastPath
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = CACHE_CONTROL
    # The widget script revalidates from a sandboxed frame, whose origin is opaque.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.get("/embed/<slug>")
@allow_framing
def widget(slug: str):
    return _serve(slug, "html")


@bp.get("/embed/<slug>.svg")
@allow_framing
def widget_svg(slug: str):
    return _serve(slug, "svg")


def _poll_url_parts(url: str) -> tuple[str, MultiDict]:
    """The slug and query of one of our /p/<slug> or /p/<slug>/results URLs, else 404."""
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
    return segments[1], MultiDict(parse_qsl(parts.query))  # .get: the first, as on /embed


@bp.get("/oembed")
@allow_framing
def oembed():
    """oEmbed 1.0 `rich` response: the HTML is an iframe of the widget (with the
    widget options found in the pasted URL's query) and the optional resize script."""
    if request.args.get("format", "json") != "json":
        abort(501, description="Only format=json is supported.")
    url = request.args.get("url", "")
    if not url:
        abort(400, description="The url parameter is required.")
    slug, query = _poll_url_parts(url)
    poll = poll_or_404(slug)
    options = _options_or_400(query)
    width = _bounded(request.args.get("maxwidth", type=int), WIDGET_WIDTH)
    height = _bounded(request.args.get("maxheight", type=int), WIDGET_HEIGHT)
    html = iframe_snippet(poll, options, width, height)
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


def iframe_snippet(poll: Poll, options: WidgetOptions, width: int = WIDGET_WIDTH,
                   height: int = WIDGET_HEIGHT) -> str:
    """The HTML a host pastes (and oEmbed returns): the widget's iframe and the resize script."""
    return render_template(
        "embed/iframe.html", title=poll.title, width=width, height=height,
        src=url_for("embed.widget", slug=poll.slug, _external=True, **options.query()),
        script=url_for("static", filename="js/embed.js", _external=True))


def share_links(poll: Poll, args) -> dict:
    """What the host's "Share & embed" panel offers for the widget chosen by ``args``
    (bad options fall back to the defaults, with the reason)."""
    try:
        options, problem = widget_options(args), None
    except InvalidOption as error:
        options, problem = WidgetOptions(), str(error)
    if options.accent == DEFAULT_ACCENT:
        # A colour picker always sends a colour: its starting one means "the theme's own".
        options = replace(options, accent=None)
    query = options.query()
    poll_url = url_for("public.poll_page", slug=poll.slug, _external=True, **query)
    return {
        "options": options,
        "problem": problem,
        "default_accent": DEFAULT_ACCENT,
        "iframe": iframe_snippet(poll, options),
        "widget_url": url_for("embed.widget", slug=poll.slug, **query),
        "poll_url": poll_url,
        "oembed_url": url_for("embed.oembed", url=poll_url, format="json", _external=True),
        "image_url": url_for("embed.widget_svg", slug=poll.slug, _external=True, **query),
    }


def _bounded(limit: int | None, default: int) -> int:
    """The default size, or the consumer's maximum when that is smaller (oEmbed: never more)."""
    return min(default, limit) if limit and limit > 0 else default
