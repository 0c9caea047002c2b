"""Response headers: a Content-Security-Policy everywhere, framing only where allowed."""
from flask import Flask, current_app, request

_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)


def allow_framing(view):
    """Mark a view as embeddable in any site's iframe (the embed routes only)."""
    view.allow_framing = True
    return view


def _is_frameable() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "allow_framing", False))


def add_security_headers(response):
    frameable = _is_frameable()
    response.headers["Content-Security-Policy"] = _POLICY.format(
        ancestors="*" if frameable else "'none'"
    )
    if not frameable:
        response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
