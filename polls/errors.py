"""Error responses: JSON `{"error", "message"}` for the API, a friendly page elsewhere."""
import logging
import time

from flask import Flask, abort, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from polls.extensions import limiter
from polls.i18n import N_

JSON_PREFIXES = ("/api/", "/oembed")
RETRY_AFTER_FALLBACK = 60
# Werkzeug's own descriptions are English server-speak; these replace them (translated). A view's
# own description (abort(404, description=...)) is shown as the view wrote it.
GENERIC_MESSAGES = {
    400: N_("The request could not be read. Check the address or the form and try again."),
    403: N_("You don't have access to this page."),
    404: N_("There is nothing at this address. Check the link, or start again from the polls."),
    405: N_("This address does not take that kind of request."),
    413: N_("That was more than KissPoll takes in one go."),
    500: N_("Something broke on our side. Please try again in a moment."),
}


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    """One error, as JSON for API paths and as an HTML page for everything else."""
    if wants_json():
        response = jsonify(error=code, message=message)
    elif request_ctx.url_adapter is None:
        # The Host header could not even be matched (e.g. a DNS label over 63 characters):
        # no URL can be built, so no page either.
        return message, status, {**(headers or {}), "Content-Type": "text/plain; charset=utf-8"}
    else:
        response = render_template("errors/error.html", status=status, message=message)
    return response, status, headers or {}


def _code_for(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def handle_http_exception(exc: HTTPException):
    headers = dict(exc.get_response().headers)
    headers.pop("Content-Type", None)
    headers.pop("Content-Length", None)
    status = exc.code or 500
    message = exc.description
    if not message or message == type(exc).description:
        message = gettext(GENERIC_MESSAGES[status]) if status in GENERIC_MESSAGES else exc.name
    return error_response(status, _code_for(exc), message, headers)


def handle_csrf_error(_exc: CSRFError):
    # Flask-WTF's reason ("The CSRF token has expired.") is English and says nothing a fan can act on.
    return error_response(403, "csrf_failed", gettext(
        "This form has expired or did not come from this page. Reload the page and try again."))


def retry_after_seconds() -> int:
    """When the breached limit lets the client in again (asked of the limiter only on a 429,
    so ordinary responses cost no extra round trip to Redis for rate-limit headers)."""
    try:
        reset_at = limiter.current_limit.reset_at
    except Exception:  # noqa: BLE001 - storage down or no limit: a minute is a fair answer
        return RETRY_AFTER_FALLBACK
    return max(1, int(reset_at - time.time()))


def handle_rate_limited(exc: RateLimitExceeded):
    # A limit's own error_message (the desk's) is kept; without one the description is only
    # the limit itself ("10 per 1 minute"), so fans get a sentence instead.
    message = exc.description if exc.limit.error_message else gettext(
        "Too many tries from your address just now. Please wait a little and try again.")
    return error_response(429, "too_many_requests", message, {"Retry-After": str(retry_after_seconds())})


def handle_untrusted_host(exc: SecurityError):
    """A Host header outside TRUSTED_HOSTS: no URL can be built for it, so no page either."""
    return exc.description, 400, {"Content-Type": "text/plain; charset=utf-8"}


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    logging.getLogger("polls").exception("unhandled error")
    return error_response(500, "internal_error", gettext(GENERIC_MESSAGES[500]))


def refuse_nul_in_url(endpoint, values) -> None:
    """A NUL in a path names nothing here (and PostgreSQL text cannot hold one): 404, not a 500."""
    if values and any(isinstance(value, str) and "\x00" in value for value in values.values()):
        abort(404)


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(refuse_nul_in_url)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
