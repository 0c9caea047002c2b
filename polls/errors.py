"""Error responses: JSON `{"error", "message"}` for the API, a friendly page elsewhere."""
import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

JSON_PREFIXES = ("/api/", "/oembed")


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    """One error, as JSON for API paths and as an HTML page for everything else."""
    if wants_json():
        response = jsonify(error=code, message=message)
    else:
        response = render_template("errors/error.html", status=status, message=message)
    return response, status, headers or {}


def _code_for(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def handle_http_exception(exc: HTTPException):
    headers = dict(exc.get_response().headers)
    headers.pop("Content-Type", None)
    headers.pop("Content-Length", None)
    return error_response(exc.code or 500, _code_for(exc), exc.description or exc.name, headers)


def handle_csrf_error(exc: CSRFError):
    return error_response(
        403, "csrf_failed", f"{exc.description} Reload the page and try again."
    )


def handle_untrusted_host(exc: SecurityError):
    """A Host header outside TRUSTED_HOSTS: no URL can be built for it, so no page either."""
    return exc.description, 400, {"Content-Type": "text/plain; charset=utf-8"}


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    logging.getLogger("polls").exception("unhandled error")
    return error_response(500, "internal_error", InternalServerError.description)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
