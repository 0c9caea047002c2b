"""The language switch, and the template helpers that show a page in its language.

``GET /language/<code>?next=<path>`` keeps the fan's choice in the ``lang``
cookie (which polls.i18n.select_locale reads) and goes back to ``next``, a path
of this site.
"""
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, current_app, redirect, request, url_for
from flask_babel import gettext, ngettext
from werkzeug.exceptions import HTTPException

from polls.i18n import (COOKIE, LANGUAGES, current_language, localized_results, scene_title,
                        vary_on_negotiated_language)
from polls.manage.access import safe_next
from polls.results import METHOD_NAMES

# Each language named in itself, as the switch shows it.
LANGUAGE_NAMES = {"en": "English", "ko": "한국어"}
COOKIE_MAX_AGE = 365 * 24 * 3600

bp = Blueprint("language", __name__)


@bp.get("/language/<code>")
def choose(code: str):
    """Remember the fan's language and go back (303) to a page of this site. A GET that only
    sets a preference, like a link, needs no CSRF token: nothing else changes."""
    if code not in LANGUAGES:
        abort(404, description=gettext("KissPoll speaks English and Korean; that language is not one of them yet."))
    response = redirect(safe_next(request.args.get("next")) or url_for("public.index"), code=303)
    # Secure as the session cookie is (over HTTPS, or when SESSION_COOKIE_SECURE says so).
    response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                        secure=current_app.session_interface.get_cookie_secure(current_app))
    response.headers["Cache-Control"] = "no-store"
    return response


def language_switch() -> list[dict]:
    """The switch's links (templates/base.html): each language, the URL that chooses it and
    comes back to this page, and whether it is the page's language."""
    # Back to this page without its ?lang=, which would otherwise outrank the choice. A page
    # that answered a POST (the review step, a refused form) comes back as its GET page, or
    # the poll's page, or the front page: a GET of a POST-only path would be a 405.
    query = urlencode([(key, value) for key, value in request.args.items(multi=True) if key != "lang"])
    here = request.path + ("?" + query if query else "")
    if request.method != "GET" and not _answers_get(request.path):
        slug = (request.view_args or {}).get("slug")
        here = url_for("public.poll_page", slug=slug) if slug else url_for("public.index")
    current = current_language()
    return [{"code": code, "name": LANGUAGE_NAMES[code], "current": code == current,
             "url": url_for("language.choose", code=code, next=here)} for code in LANGUAGES]


def _answers_get(path: str) -> bool:
    try:
        current_app.url_map.bind_to_environ(request.environ).match(path, method="GET")
    except HTTPException:
        return False
    return True


def method_label(results: dict) -> str:
    """The counting method in words, in the page's language (the cached results keep
    only the English ``method_name``)."""
    if current_language() == "en":
        return results["method_name"]
    name = gettext(METHOD_NAMES.get(results["method"], results["method"]))
    seats = results.get("seats")
    if results["method"] != "stv":
        return name
    if not seats:
        return gettext("%(method)s, every scene over the share of votes needed wins", method=name)
    return ngettext("%(method)s, %(num)s seat", "%(method)s, %(num)s seats", seats, method=name)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.after_request(vary_on_negotiated_language)
    for helper in (scene_title, current_language, language_switch, method_label, localized_results):
        app.add_template_global(helper)
