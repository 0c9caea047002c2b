"""Rate limits (Flask-Limiter, moving window on Redis), their values read from configuration."""
from flask import current_app, request
from flask_login import current_user

from polls.extensions import limiter
from polls.forms.accounts import normalise_email
from polls.voters import address_key, network_key


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


_nominations_per_address_in_poll = limiter.shared_limit(
    _limit("RATELIMIT_NOMINATION"), scope="nomination", key_func=_address_in_poll
)
_nominations_per_address = limiter.shared_limit(
    _limit("RATELIMIT_NOMINATION_ADDRESS"), scope="nomination-address", key_func=address_key
)
_nominations_per_poll = limiter.shared_limit(
    _limit("RATELIMIT_NOMINATION_POLL"), scope="nomination-poll", key_func=_poll_slug
)


def nomination_limit(view):
    """The ballot limits' three counterparts for scene suggestions (their own counters)."""
    return _nominations_per_poll(_nominations_per_address(_nominations_per_address_in_poll(view)))


# Every login POST counts: a limit that counted only failures (deduct_when) is
# checked before the response exists, so a burst of parallel guesses would pass.
login_limit = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_LOGIN"], scope="login", methods=["POST"]
)


def _refused(response) -> bool:
    """A login or password check that failed (the desk's forms answer 400)."""
    return response.status_code == 400


def _submitted_email() -> str:
    return normalise_email(request.form.get("email", ""))


def _account_from_network() -> str:
    # Per network as well as per account: hopping addresses within a network cannot lift the
    # ceiling, and a stranger's guesses lock only their own network out, never the host's.
    return f"{_submitted_email()}:{network_key()}"


# Counts only failures (a host's own logins never use it up), while login_limit above
# still counts every try per address.
login_account_limit = limiter.shared_limit(
    _limit("RATELIMIT_LOGIN_ACCOUNT"), scope="login-account", key_func=_account_from_network, methods=["POST"],
    deduct_when=_refused, exempt_when=lambda: not _submitted_email(),
    error_message="Too many failed logins for this account. Wait a while, then log in again.",
)
# The account page's current-password check is a password oracle too: the same ceiling, per host.
password_check_limit = limiter.shared_limit(
    _limit("RATELIMIT_LOGIN_ACCOUNT"), scope="password-check", key_func=lambda: str(current_user.id),
    methods=["POST"], deduct_when=_refused,
    error_message="Too many wrong passwords. Wait a while, then try again.",
)

# Per client address, sign-up form posts (only while sign-up is open: closed, it is a plain 404).
signup_limit = limiter.shared_limit(
    _limit("RATELIMIT_SIGNUP"), scope="signup", methods=["POST"],
    exempt_when=lambda: not current_app.config["SIGNUP_OPEN"],
    error_message="Too many sign-ups from your address. Try again later.",
)
