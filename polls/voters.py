"""Who is voting: a random per-browser token and keyed hashes of it and of the address.

The browser keeps a signed random token in a long-lived HttpOnly cookie. The
server stores only an HMAC of it, so a database dump cannot be replayed as
cookies, and it never stores a client address in clear (rate-limit keys are
HMACs of the address too).
"""
import hashlib
import hmac
import ipaddress
import secrets

from flask import current_app, g, request, session
from itsdangerous import BadSignature, URLSafeSerializer


def _keyed_hash(purpose: str, value: str) -> str:
    key = f"{current_app.config['SECRET_KEY']}:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="kissPoll-voter")


def voter_token_from_request() -> str | None:
    """The browser's voter token if its cookie is present and correctly signed."""
    raw = request.cookies.get(current_app.config["VOTER_COOKIE_NAME"])
    if not raw:
        return None
    try:
        token = _serializer().loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) and len(token) == 43 else None


def new_voter_token() -> str:
    return secrets.token_urlsafe(32)


def set_voter_cookie(response, token: str) -> None:
    """Give the browser its (long-lived, HttpOnly, SameSite=Lax) voter cookie."""
    cfg = current_app.config
    response.set_cookie(
        cfg["VOTER_COOKIE_NAME"],
        _serializer().dumps(token),
        max_age=cfg["VOTER_COOKIE_MAX_AGE"],
        httponly=True,
        samesite="Lax",
        # The session cookie's own rule (polls.security): Secure over HTTPS or when configured.
        secure=current_app.session_interface.get_cookie_secure(current_app),
    )


def voter_hash(token: str) -> str:
    return _keyed_hash("voter", token)


def _client_ip() -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client address (ProxyFix has already applied TRUSTED_PROXY_HOPS), IPv4-mapped IPv6 as IPv4."""
    try:
        ip = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return None
    return ip.ipv4_mapped or ip if ip.version == 6 else ip


def address_key() -> str:
    """Rate-limit key for the client address: a keyed hash, never the address itself."""
    ip = _client_ip()
    return _keyed_hash("address", str(ip) if ip else request.remote_addr or "unknown")[:32]


def network_key() -> str:
    """Keyed hash of the client's network: its /24 for IPv4, its /48 for IPv6."""
    ip = _client_ip()
    if ip is None:
        return _keyed_hash("network", request.remote_addr or "unknown")[:32]
    prefix = 24 if ip.version == 4 else 48
    return _keyed_hash("network", str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False)))[:32]


def session_key() -> str | None:
    """Keyed hash of this browser session's CSRF secret: ballots sent from one page session share it."""
    secret = session.get("csrf_token")
    return _keyed_hash("session", secret)[:32] if isinstance(secret, str) else None


def current_voter_token() -> str:
    """The browser's voter token, minting one (sent back as a cookie) if it has none."""
    token = voter_token_from_request()
    if token is None:
        token = g.get("new_voter_token") or new_voter_token()
        g.new_voter_token = token
    return token


def send_new_voter_cookie(response):
    """after_request: give a browser that just got a token its cookie."""
    token = g.pop("new_voter_token", None)
    if token is not None:
        set_voter_cookie(response, token)
    return response
