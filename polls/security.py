"""Response headers and cookie flags.

Every response carries a Content-Security-Policy. Framing is denied
(``X-Frame-Options: DENY`` and ``frame-ancestors 'none'``) everywhere except
the views marked ``allow_framing`` (the widgets and oEmbed), which any site may frame.
A page that shows the ballot's scene cards (``allow_clip_frames``) may also frame the clip
players of polls.clips (loaded when a fan clicks); elsewhere frame-src falls back to
default-src 'self'.
Inline styles are refused except those a view allows by hash (``allow_inline_styles``). Over
HTTPS (directly, or as ProxyFix reports it behind TRUSTED_PROXY_HOPS proxies)
responses add Strict-Transport-Security and the session cookie is Secure, as
the voter cookie is (polls.voters); over plain http in development neither is.
"""
from flask import Flask, current_app, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from polls.clips import PLAYER_ORIGINS

_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'{styles}; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}{frames}"
)
# One year; no includeSubDomains: a host's other subdomains are not ours to promise.
HSTS = "max-age=31536000"


def allow_clip_frames() -> None:
    """Let this response frame the clip players (its page shows the scene cards' clips),
    whichever view renders the ballot: the poll page, a refused vote, a refused suggestion."""
    g.clip_frames = True


def allow_framing(view):
    """Mark a view as embeddable in any site's iframe."""
    view.allow_framing = True
    return view


def without_session(view):
    """Mark a view whose responses never save the session: no Set-Cookie and no Vary: Cookie,
    so a shared cache may keep them (a view that still reads the login, e.g. for a draft's
    picture, must then say Cache-Control: no-store itself)."""
    view.without_session = True
    return view


def allow_inline_styles(sources: tuple[str, ...]) -> None:
    """Let this response carry the inline <style> elements with these CSP hashes
    (e.g. a widget's accent colour, see polls.widgets.csp_hash)."""
    g.csp_style_sources = sources


def _marked(mark: str) -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, mark, False))


def _is_frameable() -> bool:
    return _marked("allow_framing")


def add_security_headers(response):
    frameable = _is_frameable()
    styles = "".join(" " + source for source in g.get("csp_style_sources", ()))
    frames = "; frame-src " + " ".join(PLAYER_ORIGINS) if g.get("clip_frames") else ""
    response.headers["Content-Security-Policy"] = _POLICY.format(
        ancestors="*" if frameable else "'none'", styles=styles, frames=frames
    )
    if frameable:
        response.headers.pop("X-Frame-Options", None)
        if response.status_code >= 400:
            # Error pages carry the site's chrome (a logged-in host's too), and frameable
            # views never say Vary: Cookie (SessionInterface): no cache may keep them.
            response.headers["Cache-Control"] = "no-store"
    else:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if request.is_secure:
        # Sent only over HTTPS: browsers ignore it over http, and a development
        # server on http://localhost must not be pinned to https.
        response.headers["Strict-Transport-Security"] = HSTS
    return response


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, also Secure whenever the request came over HTTPS.

    SESSION_COOKIE_SECURE alone is static: it would either leak the session
    cookie to http in production or break logins over http in development.

    Frameable views (the widgets, oEmbed) never save it: they are the same for every
    reader, so they must neither set a cookie nor say ``Vary: Cookie`` (which Flask adds
    once anything, e.g. Flask-Login, has looked at the session) to a CDN.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = super().get_cookie_secure(app)
        return configured or (has_request_context() and request.is_secure)

    def save_session(self, app: Flask, session, response) -> None:
        if has_request_context() and (_is_frameable() or _marked("without_session")):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(add_security_headers)
