"""Settings, all read from environment variables (see README "Configuration")."""
import os


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {value!r}") from exc


PRODUCTION = os.environ.get("KISSPOLL_ENV", "development") == "production"


def _env_list(name: str) -> list[str] | None:
    items = [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]
    return items or None


class Config:
    """Production and `make run` settings."""

    TESTING = False
    PRODUCTION = PRODUCTION
    # Host names this site answers to (Flask checks the Host header); set it in
    # production so absolute URLs (oEmbed, embed snippets) can't be pointed elsewhere.
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS")
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    REDIS_URL = os.environ.get("REDIS_URL") or None
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)
    # Whether anyone may make a host account at /manage/signup (else only `flask polls create-host`).
    # Closed by default in production: a stranger's polls would show on the site-wide pages.
    SIGNUP_OPEN = (os.environ.get("SIGNUP_OPEN", "").strip().lower() or ("0" if PRODUCTION else "1")) not in (
        "0", "false", "no")

    # Rate limits (Flask-Limiter syntax). Generous enough for a household,
    # dorm or office sharing one address; tight enough to slow a script.
    # Ballots per address in one poll, per address across all polls, and for
    # one poll from everyone together (a ceiling on a flood that hops addresses).
    RATELIMIT_BALLOT = os.environ.get("RATELIMIT_BALLOT", "30 per minute; 300 per hour")
    RATELIMIT_BALLOT_ADDRESS = os.environ.get("RATELIMIT_BALLOT_ADDRESS", "60 per minute; 600 per hour")
    RATELIMIT_BALLOT_POLL = os.environ.get("RATELIMIT_BALLOT_POLL", "6000 per minute")
    # Fans' scene suggestions, the same three ways (one per browser is the database's rule anyway).
    RATELIMIT_NOMINATION = os.environ.get("RATELIMIT_NOMINATION", "10 per minute; 50 per hour")
    RATELIMIT_NOMINATION_ADDRESS = os.environ.get("RATELIMIT_NOMINATION_ADDRESS", "20 per minute; 100 per hour")
    RATELIMIT_NOMINATION_POLL = os.environ.get("RATELIMIT_NOMINATION_POLL", "600 per minute")
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10 per minute; 50 per hour")
    # Failed logins naming one account, from any address (and wrong current passwords on its account page).
    RATELIMIT_LOGIN_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_ACCOUNT", "10 per hour")
    RATELIMIT_SIGNUP = os.environ.get("RATELIMIT_SIGNUP", "5 per hour")
    RATELIMIT_STRATEGY = os.environ.get("RATELIMIT_STRATEGY", "moving-window")
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True

    # Ballots sent sooner than this after the page was rendered are flagged for the host.
    BALLOT_MIN_SECONDS = _env_int("BALLOT_MIN_SECONDS", 3)
    # Integrity report: ballots within one minute that make a burst, by kind.
    BURST_FROM_ADDRESS = _env_int("BURST_FROM_ADDRESS", 10)
    BURST_FROM_NETWORK = _env_int("BURST_FROM_NETWORK", 25)
    BURST_SAME_RANKING = _env_int("BURST_SAME_RANKING", 25)
    BURST_TOO_FAST = _env_int("BURST_TOO_FAST", 25)

    # Widgets: how long a process serves its rendered copy before asking Redis whether
    # the poll changed, and the longest it keeps one at all (see polls.widgets).
    WIDGET_FRESH_SECONDS = _env_int("WIDGET_FRESH_SECONDS", 2)
    WIDGET_MAX_AGE = _env_int("WIDGET_MAX_AGE", 60)
    # How often each process looks for polls whose scheduled opening or closing time
    # has come (ballots stop at the closing time itself whatever this says).
    SCHEDULE_CHECK_SECONDS = _env_int("SCHEDULE_CHECK_SECONDS", 5)

    # Werkzeug's default, slow on purpose (not an environment setting: the tests alone, which
    # make hundreds of hosts, use a quick one).
    PASSWORD_HASH_METHOD = "scrypt"

    WTF_CSRF_TIME_LIMIT = None  # a fan may read the clips for hours before voting
    MAX_CONTENT_LENGTH = 64 * 1024
    # The desk's ballot import alone takes bigger bodies: a fan meeting's paper ballots.
    BALLOT_IMPORT_MAX_BYTES = _env_int("BALLOT_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
    # ... and so do the desk's scene forms, for a thumbnail picture (re-encoded to a small WebP),
    # which Pillow opens only up to this many pixels (a decompression bomb is refused unread).
    THUMBNAIL_UPLOAD_MAX_BYTES = _env_int("THUMBNAIL_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
    THUMBNAIL_MAX_PIXELS = _env_int("THUMBNAIL_MAX_PIXELS", 40_000_000)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1" if PRODUCTION else "") == "1"
    VOTER_COOKIE_NAME = "kp_voter"
    VOTER_COOKIE_MAX_AGE = 400 * 24 * 3600  # browsers cap cookie lifetime at 400 days


class TestConfig(Config):
    """Settings for pytest: same code paths, real services given by fixtures."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
