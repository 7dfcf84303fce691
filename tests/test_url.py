"""Safe fetching: a real HTTP server on 127.0.0.1, and the address checks on every hop."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from fixtures.local_server import Route, serve

from propscan.errors import PropscanError
from propscan.readers.url import fetch, non_public_kind, read_url, resolve_checked

NEWS_PAGE = (Path(__file__).parent / "fixtures" / "news-page.html").read_bytes()


def loopback_127_0_0_1_only(ip):
    """Test policy: the test server's own address passes, every other address gets the default check."""
    return None if ip == ipaddress.ip_address("127.0.0.1") else non_public_kind(ip)


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "non-public"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
])
def test_non_public_addresses_are_named(address, kind):
    assert non_public_kind(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert non_public_kind(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "2130706433", "0x7f.1", "[::1]"])
def test_hosts_resolving_to_loopback_are_refused_after_resolution(host):
    with pytest.raises(PropscanError, match="loopback address, not a public one.*--allow-private"):
        resolve_checked(host.strip("[]"), 80, non_public_kind, source="test")


def test_url_to_127_0_0_1_refused_by_default_and_read_with_allow_private():
    with serve({"/story": Route(NEWS_PAGE)}) as server:
        with pytest.raises(PropscanError) as refused:
            read_url(f"{server.url}/story")
        assert server.requests == []  # refused before any connection
        article = read_url(f"{server.url}/story", allow_private=True)
    assert "127.0.0.1 is a loopback address" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert article.title == "Harbour council approves new sea wall after stormy debate"
    assert article.source.url == f"{server.url}/story"
    assert article.source.format == "html"


def test_connects_to_the_checked_address_with_the_real_host_header():
    with serve({"/story": Route(NEWS_PAGE)}) as server:
        port = server.url.rsplit(":", 1)[1]
        read_url(f"http://localhost:{port}/story", allow_private=True)
    assert server.requests == [("/story", f"localhost:{port}")]


@pytest.mark.parametrize("private_target", [
    "http://10.0.0.7/admin", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.2/", "http://[::1]/",
    "http://0.0.0.0:8080/", "http://[fd12::1]/",
])
def test_a_redirect_to_a_private_address_is_refused(private_target):
    routes = {"/go": Route(status=302, headers={"Location": private_target}, content_type=None)}
    with serve(routes) as server:
        # The first hop (the test server itself) is allowed; the redirect's target gets the default check.
        with pytest.raises(PropscanError) as refused:
            fetch(f"{server.url}/go", check=loopback_127_0_0_1_only)
    message = str(refused.value)
    assert f"redirected to {private_target}" in message
    assert "not a public one" in message
    assert server.requests == [("/go", server.url.removeprefix("http://"))]  # the target never reached


def test_relative_redirects_are_followed_and_the_final_url_kept():
    routes = {"/old": Route(status=301, headers={"Location": "/new"}, content_type=None),
              "/new": Route(b"Plain title\n\nA plain body line.", content_type="text/plain; charset=utf-8")}
    with serve(routes) as server:
        article = read_url(f"{server.url}/old", allow_private=True)
    assert article.text == "Plain title\n\nA plain body line."
    assert article.source.url == f"{server.url}/new"


def test_redirect_loops_stop_at_the_limit():
    with serve({"/loop": Route(status=302, headers={"Location": "/loop"}, content_type=None)}) as server:
        with pytest.raises(PropscanError, match="too many redirects"):
            read_url(f"{server.url}/loop", allow_private=True)
        assert len(server.requests) == 6  # the first request and five redirects


def test_only_html_and_plain_text_are_read():
    with serve({"/doc.pdf": Route(b"%PDF-1.4 ...", content_type="application/pdf")}) as server:
        with pytest.raises(PropscanError, match=r"not a web page or text \(content type application/pdf\)"):
            read_url(f"{server.url}/doc.pdf", allow_private=True)


@pytest.mark.parametrize("send_length", [True, False])
def test_the_size_cap_holds_with_and_without_content_length(send_length):
    body = b"<html><body>" + b"<p>" + b"word " * 50_000 + b"</p></body></html>"
    with serve({"/big": Route(body, send_length=send_length)}) as server:
        with pytest.raises(PropscanError, match="too large.*--max-bytes"):
            read_url(f"{server.url}/big", allow_private=True, max_bytes=10_000)


def test_http_errors_and_unreachable_hosts_are_one_line():
    with serve({}) as server:
        with pytest.raises(PropscanError, match="the server answered 404"):
            read_url(f"{server.url}/missing", allow_private=True)
    with pytest.raises(PropscanError, match="cannot resolve the host"):
        read_url("http://no-such-host.invalid/")
    with pytest.raises(PropscanError, match="only http and https"):
        fetch("ftp://example.com/x", check=non_public_kind)


def test_a_slow_server_times_out():
    with serve({"/slow": Route(NEWS_PAGE, delay=2.0)}) as server:
        with pytest.raises(PropscanError, match="timed out"):
            read_url(f"{server.url}/slow", allow_private=True, timeout=0.3)


def test_the_declared_charset_decodes_the_page():
    page = "<html><body><article><h1>Café fermé</h1><p>" + "Le café est fermé pour la saison. " * 10 + "</p>" \
           "</article></body></html>"
    route = Route(page.encode("cp1252"), content_type="text/html; charset=windows-1252")
    with serve({"/fr": route}) as server:
        article = read_url(f"{server.url}/fr", allow_private=True)
    assert "Le café est fermé" in article.text
