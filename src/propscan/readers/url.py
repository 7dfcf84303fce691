"""Safe fetching of web pages: one article from an ``http`` or ``https`` URL.

A URL is user input that makes this machine open connections, so every hop is checked:
- the host is resolved here and every address it resolves to must be public (not loopback, private,
  link-local, multicast, reserved, unspecified...), unless ``allow_private``;
- the connection goes to the very address that was checked (the URL's host is replaced by it, with
  the real name kept in the ``Host`` header and, for https, in TLS SNI and certificate checks), so a
  second DNS answer cannot point it elsewhere (DNS rebinding);
- redirects are followed by hand, each one checked the same way, at most ``MAX_REDIRECTS``;
- only ``text/html`` and ``text/plain`` are read, within a timeout and a byte cap enforced while
  streaming; proxies from the environment are not used, since they would connect on our behalf.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from propscan.document import Article, Source
from propscan.errors import PropscanError
from propscan.readers.text import DEFAULT_MAX_BYTES

DEFAULT_TIMEOUT = 15.0
MAX_REDIRECTS = 5
ACCEPTED_TYPES = ("text/html", "text/plain")
USER_AGENT = "propscan/0.1 (+https://github.com/propscan/propscan)"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressCheck = Callable[[IPAddress], str | None]


def non_public_kind(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address ("loopback", "private"...), or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                       ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                       ("reserved", ip.is_reserved), ("private", ip.is_private)):
        if flag:
            return kind
    return None if ip.is_global else "non-public"


def allow_any(ip: IPAddress) -> str | None:
    return None


def resolve_checked(host: str, port: int, check: AddressCheck, *, source: str) -> IPAddress:
    """The address to connect to for ``host``: every address it resolves to must pass ``check``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise PropscanError(f"cannot resolve the host {host}", source=source) from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))
    if not addresses:
        raise PropscanError(f"cannot resolve the host {host}", source=source)
    for ip in addresses:
        kind = check(ip)
        if kind:
            shown = host if host == str(ip) else f"{host} ({ip})"
            raise PropscanError(f"refused: {shown} is a {kind} address, not a public one "
                                "(use --allow-private to read it anyway)", source=source)
    return addresses[0]


@dataclass
class FetchedPage:
    url: str
    content_type: str
    charset: str | None
    body: bytes


def fetch(url: str, *, check: AddressCheck, max_bytes: int = DEFAULT_MAX_BYTES,
          timeout: float = DEFAULT_TIMEOUT, max_redirects: int = MAX_REDIRECTS) -> FetchedPage:
    """Fetch ``url``, checking every hop's addresses with ``check`` (None = allowed, else the reason)."""
    import httpx

    deadline = time.monotonic() + timeout
    current = url
    with httpx.Client(trust_env=False, follow_redirects=False, timeout=timeout) as client:
        for hop in range(max_redirects + 1):
            try:
                target = httpx.URL(current)
            except (httpx.InvalidURL, TypeError):
                raise PropscanError("not a valid URL" if hop == 0 else f"redirected to an invalid URL {current}",
                                    source=url) from None
            if target.scheme not in ("http", "https") or not target.host:
                raise PropscanError(f"only http and https URLs can be read, not {current}", source=url)
            where = url if hop == 0 else f"{url} (redirected to {current})"
            host = target.raw_host.decode("ascii")
            ip = resolve_checked(host, target.port or (443 if target.scheme == "https" else 80), check,
                                 source=where)
            headers = {"Host": target.netloc.decode("ascii"), "User-Agent": USER_AGENT,
                       "Accept": "text/html, text/plain;q=0.9"}
            extensions = {"sni_hostname": host} if target.scheme == "https" else {}
            try:
                with client.stream("GET", target.copy_with(host=str(ip)), headers=headers,
                                   extensions=extensions) as response:
                    if response.is_redirect:
                        current = urljoin(current, response.headers.get("location", ""))
                        continue
                    return _read_body(response, where, max_bytes, deadline, current)
            except httpx.TimeoutException:
                raise PropscanError(f"timed out after {timeout:g} s", source=where) from None
            except httpx.HTTPError as e:
                raise PropscanError(f"cannot fetch: {e}", source=where) from None
    raise PropscanError(f"too many redirects (more than {max_redirects})", source=url)


def _read_body(response, where: str, max_bytes: int, deadline: float, final_url: str) -> FetchedPage:
    if response.status_code >= 400:
        raise PropscanError(f"the server answered {response.status_code} {response.reason_phrase}", source=where)
    content_type = response.headers.get("content-type", "")
    mime = content_type.split(";")[0].strip().lower()
    if mime not in ACCEPTED_TYPES:
        raise PropscanError(f"not a web page or text (content type {mime or 'missing'})", source=where)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PropscanError(f"too large: {int(declared):,} bytes, over the limit of {max_bytes:,} "
                            "(raise it with --max-bytes)", source=where)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise PropscanError(f"too large: over the limit of {max_bytes:,} bytes (raise it with --max-bytes)",
                                source=where)
        if time.monotonic() > deadline:
            raise PropscanError("timed out while reading the page", source=where)
    return FetchedPage(url=final_url, content_type=mime, charset=response.charset_encoding, body=bytes(body))


def read_url(url: str, *, allow_private: bool = False, max_bytes: int = DEFAULT_MAX_BYTES,
             timeout: float = DEFAULT_TIMEOUT) -> Article:
    """The article at ``url``; addresses that are not public are refused unless ``allow_private``."""
    page = fetch(url, check=allow_any if allow_private else non_public_kind, max_bytes=max_bytes,
                 timeout=timeout)
    return article_from_page(page, source=url)


def article_from_page(page: FetchedPage, *, source: str) -> Article:
    from propscan.readers import article_from_text
    from propscan.readers.html import article_from_html, decode_html
    from propscan.readers.text import decode

    if not page.body.strip():
        raise PropscanError("the page is empty", source=source)
    if page.content_type == "text/html":
        return article_from_html(decode_html(page.body, source, charset=page.charset), url=page.url)
    return article_from_text(decode(page.body, source, charset=page.charset),
                             source=Source(url=page.url, format="text"))
