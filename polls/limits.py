"""Rate limits (Flask-Limiter, moving window on Redis), their values read from configuration."""
from flask import current_app, request

from polls.extensions import limiter
from polls.voters import address_key


def _poll_slug() -> str:
    return (request.view_args or {}).get("slug", "")


def _address_in_poll() -> str:
    """Per client address per poll, so one poll's flood does not block another."""
    return f"{address_key()}:{_poll_slug()}"


def _limit(setting: str):
    return lambda: current_app.config[setting]


# Shared counters for the form and the JSON API: switching paths gains nothing.
_per_address_in_poll = limiter.shared_limit(
    _limit("RATELIMIT_BALLOT"), scope="ballot", key_func=_address_in_poll
)
_per_address = limiter.shared_limit(
    _limit("RATELIMIT_BALLOT_ADDRESS"), scope="ballot-address", key_func=address_key
)
_per_poll = limiter.shared_limit(_limit("RATELIMIT_BALLOT_POLL"), scope="ballot-poll", key_func=_poll_slug)


def ballot_limit(view):
    """All three ballot limits: address in this poll, address in any poll, this poll overall."""
    return _per_poll(_per_address(_per_address_in_poll(view)))


# Every login POST counts: a limit that counted only failures (deduct_when) is
# checked before the response exists, so a burst of parallel guesses would pass.
login_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN"], scope="login", methods=["POST"]
)
