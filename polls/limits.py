"""Rate limits (Flask-Limiter), their values read from configuration."""
from flask import current_app, request

from polls.extensions import limiter
from polls.voters import address_key


def _ballot_key() -> str:
    """Per client address per poll, so one poll's flood does not block another."""
    return f"{address_key()}:{(request.view_args or {}).get('slug', '')}"


# One shared counter for the form and the JSON API: switching paths gains nothing.
ballot_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_BALLOT"], scope="ballot", key_func=_ballot_key
)

# Every login POST counts: a limit that counted only failures (deduct_when) is
# checked before the response exists, so a burst of parallel guesses would pass.
login_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN"], scope="login", methods=["POST"]
)
