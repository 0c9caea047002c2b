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

# Only failed attempts count (a successful login redirects with 303), so a host
# who mistypes once is not locked out, while guessing a password is slowed.
login_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN"],
    scope="login",
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 303,
)
