"""Fixtures of the ClaveÚnica tests: the sandbox key directory, Lota registered in the sandbox served by the live
server, a small cookie-keeping browser that does not follow redirects (so each hop can be checked), and a
loopback provider that misbehaves on demand."""

from __future__ import annotations

import html.parser
import http.cookiejar
import http.server
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest

TEST_PASSWORD = "testing"


@pytest.fixture(scope="session")
def _claveunica_sandbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return tmp_path_factory.mktemp("claveunica-sandbox")


@pytest.fixture(autouse=True)
def _claveunica_settings(settings: Any, _claveunica_sandbox_dir: Any) -> None:
    settings.FOLIO_SANDBOX_DIR = _claveunica_sandbox_dir
    settings.FOLIO_SANDBOXES = True
    settings.FOLIO_ENV = "test"
    settings.FOLIO_CLAVEUNICA_TIMEOUT = 5


@pytest.fixture
def lota_cu(world: Any, live_server: Any) -> Any:
    """Lota registered in the ClaveÚnica sandbox of the live server."""
    from folio.claveunica import services

    return services.claveunica_sandbox_enable(organization=world.lota, base_url=live_server.url, actor=world.admin)


# --- a browser ---------------------------------------------------------------------------------------

class _Inputs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = dict(attrs)
        if tag == "input" and data.get("name") and data.get("type") not in ("submit", "button", "checkbox"):
            self.values[str(data["name"])] = data.get("value") or ""


@dataclass
class Page:
    status: int
    headers: Message
    body: str
    url: str

    @property
    def location(self) -> str:
        return urllib.parse.urljoin(self.url, self.headers.get("Location") or "")

    @property
    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.location).query))

    def inputs(self) -> dict[str, str]:
        parser = _Inputs()
        parser.feed(self.body)
        return parser.values


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """Real HTTP to the live server, with cookies; redirects are returned, not followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def open(self, method: str, url: str, data: dict[str, str] | None = None) -> Page:
        url = self.base + url if url.startswith("/") else url
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(url, data=body, method=method)  # noqa: S310 — http(s) to the live server
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as exc:
            response = exc
        with response:
            return Page(response.status or 0, response.headers, response.read().decode("utf-8", "replace"), url)

    def get(self, url: str) -> Page:
        return self.open("GET", url)

    def post(self, url: str, data: dict[str, str]) -> Page:
        return self.open("POST", url, data)

    def follow(self, page: Page) -> Page:
        assert 300 <= page.status < 400, (page.status, page.body[:500])
        return self.get(page.location)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)

    def user_id(self) -> int | None:
        """The Folio user of this browser's session (None when signed out)."""
        from django.contrib.sessions.models import Session

        key = self.cookie("sessionid")
        session = Session.objects.filter(session_key=key).first() if key else None
        if session is None:
            return None
        user_id = session.get_decoded().get("_auth_user_id")
        return int(user_id) if user_id else None

    def session(self) -> dict[str, Any]:
        from django.contrib.sessions.models import Session

        key = self.cookie("sessionid")
        session = Session.objects.filter(session_key=key).first() if key else None
        return session.get_decoded() if session else {}

    # The ClaveÚnica steps ----------------------------------------------------------------------------

    def start(self, *, organization: str | None = "lota", next: str | None = "/verificar/", staff: bool = False
              ) -> Page:
        """Click the button: Folio answers with the redirect to the authorize endpoint."""
        params = {k: v for k, v in {"municipalidad": organization, "next": next}.items() if v}
        if staff:
            params["personal"] = "1"
        return self.get("/claveunica/ingresar/?" + urllib.parse.urlencode(params))

    def sign_in_at_provider(self, started: Page, run: str = "44.444.444-4", password: str = TEST_PASSWORD) -> Page:
        """At the sandbox: the form (unless its 60-second session remembers the person), then the redirect
        back to Folio's callback (returned, not followed)."""
        page = self.follow(started)
        if page.status == 200:
            page = self.post(page.url, {**page.inputs(), "run": run, "password": password})
        assert page.status == 302, (page.status, page.body[:500])
        return page

    def sign_in(self, run: str = "44.444.444-4", **kwargs: Any) -> Page:
        """The whole trip; returns Folio's answer to the callback."""
        return self.follow(self.sign_in_at_provider(self.start(**kwargs), run=run))


@pytest.fixture
def browser(live_server: Any) -> Browser:
    return Browser(live_server.url)


@pytest.fixture
def make_browser(live_server: Any) -> Callable[[], Browser]:
    return lambda: Browser(live_server.url)


# --- a misbehaving provider on loopback ----------------------------------------------------------------

@dataclass
class FakeProvider:
    url: str
    routes: dict[str, tuple[int, bytes, float]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, path: str, status: int = 200, body: Any = b"", *, delay: float = 0.0) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.routes[path] = (status, raw, delay)


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    """A one-purpose HTTP server on 127.0.0.1 answering each path as told (404 otherwise) and recording every
    request (method, path, headers, body)."""
    provider = FakeProvider(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            provider.requests.append({"method": self.command, "path": self.path,
                                      "headers": dict(self.headers.items()), "body": self.rfile.read(length)})
            status, body, delay = provider.routes.get(urllib.parse.urlsplit(self.path).path, (404, b"", 0.0))
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

        do_GET = _answer
        do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield provider
    server.shutdown()
    server.server_close()
