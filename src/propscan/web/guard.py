"""Who may use the server: the token, the served host names, same-origin writes and security headers.

``Guard`` is one ASGI middleware in front of the whole app. For every HTTP request it

1. refuses a ``Host`` header that is not one of the served names (400), so a page on another
   site cannot reach a loopback server through DNS rebinding;
2. refuses a state-changing request (POST, DELETE, ...) whose ``Origin`` or ``Referer`` is another
   site (403), so a cross-origin form cannot submit to ``/analyze`` or delete analyses;
3. with a token, refuses requests that bring neither ``Authorization: Bearer TOKEN`` nor the
   session cookie the login form sets: 401 JSON under ``/api/``, a redirect to the login form for
   pages. ``/healthz``, ``/api/techniques``, the login form, static files and the API docs stay
   open; ``public_read`` opens every GET as well;
4. adds the security headers to every response, JSON and ``/docs`` included.

The token is never put in a URL (so access logs cannot show it); the cookie holds an HMAC of it,
not the token itself, and every comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
SESSION_COOKIE = "propscan_session"
SESSION_MAX_AGE = 30 * 24 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/healthz", "/api/techniques", "/login", "/docs", "/docs/openapi.json", "/openapi.json",
                        "/favicon.ico"})
OPEN_PREFIXES = ("/static/", "/docs-assets/")
# The pages run only the app's own script and styles; /docs runs the self-hosted Swagger UI, whose
# styles and icons are inline (style attributes, data: images). Nothing is loaded from elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


@dataclass(frozen=True)
class Access:
    """Who may do what.

    ``token``: the secret that API clients send as a Bearer token and the login form turns into a
    cookie; None leaves the app open. ``public_read``: GET requests need no token. ``allowed_hosts``:
    the names the ``Host`` header may carry (without port); None does not check it, for an app
    embedded behind something that does. ``trusted_origins``: names besides the page's own origin
    that may send state-changing requests (the ``--allowed-host`` names).
    """

    token: str | None = None
    public_read: bool = False
    allowed_hosts: frozenset[str] | None = None
    trusted_origins: frozenset[str] = frozenset()

    def session_value(self) -> str:
        """What the session cookie holds: an HMAC of the token, so the cookie never carries the token."""
        assert self.token is not None
        return hmac.new(self.token.encode(), b"propscan session cookie", hashlib.sha256).hexdigest()

    def token_matches(self, candidate: str) -> bool:
        return self.token is not None and hmac.compare_digest(candidate.encode(), self.token.encode())


def host_name(value: str | None) -> str | None:
    """The name in a ``Host`` header or netloc, lowercase, without port or brackets: ``[::1]:80`` → ``::1``."""
    if not value:
        return None
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else None
    name = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
    return name.rstrip(".") or None


def is_loopback(host: str) -> bool:
    """Whether binding to ``host`` keeps the server on this machine."""
    name = host_name(host) if host.startswith("[") else host.strip().lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def served_hosts(bound_host: str, extra: tuple[str, ...] | list[str] = ()) -> frozenset[str]:
    """The names a request may address: the loopback names, the bound address, and ``extra``."""
    names = set(LOOPBACK_NAMES)
    bound = host_name(bound_host) if bound_host.startswith("[") else bound_host.strip().lower()
    if bound not in WILDCARD_HOSTS:
        names.add(bound)
    names.update(n for n in (host_name(e) for e in extra) if n)
    return frozenset(names)


class Guard:
    """The ASGI middleware that applies an ``Access`` to every HTTP request (see the module doc)."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                   *(h for h in SECURITY_HEADERS if h[0] not in present)]}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # A bug: answer in the API's shape (with the headers), then let the server log it.
            if not started:
                await JSONResponse({"error": "internal error"}, status_code=500)(scope, receive, send_with_headers)
            raise

    def _refusal(self, scope: Scope) -> Response | None:
        access = self.access
        headers = Headers(scope=scope)
        method = scope["method"]
        path = scope["path"]
        host = headers.get("host", "")
        if access.allowed_hosts is not None and host_name(host) not in access.allowed_hosts:
            return JSONResponse({"error": f"this server does not answer to the host name {host_name(host)!r}; "
                                          "start it with --allowed-host NAME to serve that name"}, status_code=400)
        if method not in SAFE_METHODS and not self._same_origin(headers, host):
            return JSONResponse({"error": "cross-origin request refused: the Origin or Referer is not this "
                                          "server"}, status_code=403)
        if access.token is None or path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
            return None
        if access.public_read and method in SAFE_METHODS:
            return None
        if self._authorized(headers):
            return None
        if path.startswith("/api/"):
            return JSONResponse({"error": "this server needs a token: send the header "
                                          "'Authorization: Bearer TOKEN'"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
        if method not in SAFE_METHODS:
            target = "/"
        return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)

    def _authorized(self, headers: Headers) -> bool:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.access.token_matches(credentials.strip()):
            return True
        cookie = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        return cookie is not None and hmac.compare_digest(cookie.encode(), self.access.session_value().encode())

    def _same_origin(self, headers: Headers, host: str) -> bool:
        """No Origin or Referer (not a browser), or one naming this server or a trusted name."""
        claimed = headers.get("origin") or headers.get("referer")
        if claimed is None:
            return True
        try:
            parts = urlsplit(claimed)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https"):
            return False  # Origin "null": a sandboxed frame, a file:// page, a privacy redirect
        if host and parts.netloc.lower() == host.strip().lower():
            return True
        return host_name(parts.netloc) in self.access.trusted_origins


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this server, never another site (``//evil``, ``https:``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target
