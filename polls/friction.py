"""Bot friction that costs fans nothing: a honeypot field and the time since the page was rendered.

The time needs no extra field: Flask-WTF's CSRF token, which every ballot
must carry (form field or ``X-CSRFToken`` header), is signed together with
the moment the page was rendered.  A ballot sent sooner than
``BALLOT_MIN_SECONDS`` after that is still counted (a fan who already knew
their ranking, a script of the host's own) but flagged for the host's
integrity report, where a burst of them can be quarantined.
"""
import time

from flask import current_app, request
from itsdangerous import BadData, URLSafeTimedSerializer

# A field people never see (hidden by CSS, skipped by keyboard and screen
# readers, no autofill) but form-filling bots do.
HONEYPOT_FIELD = "website"


def honeypot_filled(value) -> bool:
    return bool(value) and (not isinstance(value, str) or bool(value.strip()))


def _submitted_csrf_token() -> str | None:
    token = request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token")
    return token or request.form.get("csrf_token")


def seconds_since_render() -> float | None:
    """Seconds since the page that issued this request's CSRF token was rendered, if known."""
    token = _submitted_csrf_token()
    if not token:
        return None
    secret = current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
    try:
        _, signed_at = URLSafeTimedSerializer(secret, salt="wtf-csrf-token").loads(
            token, return_timestamp=True
        )
    except BadData:
        return None
    return time.time() - signed_at.timestamp()


def sent_too_fast() -> bool:
    """True when the ballot came sooner after the page than BALLOT_MIN_SECONDS (or from no page)."""
    age = seconds_since_render()
    return age is None or age < current_app.config["BALLOT_MIN_SECONDS"]
