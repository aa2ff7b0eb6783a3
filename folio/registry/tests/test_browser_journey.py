"""End-to-end journey in headless Chromium: Oficina de Partes → DOM → public verification.

Runs against pytest-django's live server with Debian's Chromium (scripts/system-deps.sh installs it); it is
skipped only when no chromium binary exists. Selectors use names, values and URLs rather than visible text,
so the journey does not depend on which translation is active; the visible Spanish is checked where it
matters (the folio, the RUN, the verification code).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT_DIR = Path(os.environ.get("FOLIO_SCREENSHOT_DIR", "/tmp"))


class Browser:
    """One Chromium page plus everything the browser complained about."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.console_errors: list[str] = []
        self.failed_requests: list[str] = []
        self.bad_responses: list[str] = []
        page.on(
            "console",
            lambda msg: (
                self.console_errors.append(f"{msg.text} @ {msg.location} on {page.url}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))
        # ERR_ABORTED only means a navigation cancelled a request still in flight (the favicon, typically).
        page.on(
            "requestfailed",
            lambda req: (
                self.failed_requests.append(f"{req.url} {req.failure}")
                if "ERR_ABORTED" not in (req.failure or "")
                else None
            ),
        )
        page.on(
            "response",
            lambda resp: (
                self.bad_responses.append(f"{resp.status} {resp.url}")
                if resp.status >= 400 and "/static/" in resp.url
                else None
            ),
        )

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def login(self, username: str, password: str) -> None:
        self.goto("/ingresar/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        with self.page.expect_navigation():
            self.page.click("main form button[type=submit]")
        assert "/ingresar/" not in self.page.url, self.page.inner_text("main")

    def logout(self) -> None:
        with self.page.expect_navigation():
            self.page.click("form[action='/salir/'] button[type=submit]")
        assert self.page.url.endswith("/ingresar/")

    def screenshot(self, name: str) -> Path:
        path = SCREENSHOT_DIR / f"folio-browser-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def submit(self, form_selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(f"{form_selector} button[type=submit]")


@pytest.fixture
def browser(transactional_db: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("no chromium binary (scripts/system-deps.sh installs it)")
    from django.db import connections

    # Playwright's sync API runs an event loop in this thread; the test still uses the ORM synchronously.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="es-CL")
        context.set_default_timeout(15_000)
        try:
            yield Browser(context.new_page(), live_server.url)
        finally:
            context.close()
            chromium.close()
            # The ORM calls made while Playwright's loop ran used a connection of their own context;
            # close it here, or PostgreSQL refuses to drop the test database at the end of the session.
            connections.close_all()


def _accessibility_basics(page: Any) -> None:
    assert page.evaluate("document.documentElement.lang") == "es-CL"
    assert page.locator("h1").count() == 1
    # Keyboard: the first Tab from the top of the page lands on the skip link, which targets <main>.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    first = page.evaluate(
        "({cls: document.activeElement.className, href: document.activeElement.getAttribute('href')})"
    )
    assert "skip-link" in first["cls"], first
    assert first["href"] == "#main"
    assert page.locator("main#main").count() == 1
    unlabelled = page.evaluate("""() => Array.from(document.querySelectorAll('input, select, textarea'))
        .filter(el => el.type !== 'hidden')
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby'))
        .map(el => el.name || el.id)""")
    assert unlabelled == [], f"form controls without a label: {unlabelled}"


def test_incoming_letter_routed_answered_and_verified(browser: Browser, world: Any, pdf_bytes: Any) -> None:
    from folio.registry.models import Registration, RegistrationStatus, Routing
    from folio.registry.selectors import org_today

    page = browser.page
    year = org_today(world.lota).year
    folio = f"E-{year}-000001"

    # 1. Oficina de Partes registers a scanned letter from a citizen.
    browser.login("partes.lota", world.password)
    browser.goto("/partes/ingreso/nuevo/")
    _accessibility_basics(page)
    browser.screenshot("1-new-incoming")
    # Help texts are announced with their field.
    assert page.get_attribute("#id_party_rut", "aria-describedby") == "id_party_rut-help"
    page.select_option("#id_document_type", "7")
    page.fill("#id_subject", "Solicita certificado de número municipal")
    page.select_option("#id_party_kind", "citizen")
    page.fill("#id_party_name", "Juan Pérez Soto")
    page.fill("#id_party_rut", "12.345.678-5")
    page.select_option("#id_mechanism", "3")  # Digitalización
    page.fill("#id_pages", "1")
    page.set_input_files(
        "#id_files",
        files=[
            {
                "name": "carta-ciudadano.pdf",
                "mimeType": "application/pdf",
                "buffer": pdf_bytes("Solicito certificado de numero municipal para mi propiedad"),
            }
        ],
    )
    browser.submit("main form[enctype='multipart/form-data']")
    assert re.search(r"/partes/\d+/$", page.url), page.inner_text("main")
    assert page.locator("h1").inner_text().startswith(folio)
    assert "12.345.678-5" in page.inner_text("main")
    reg = Registration.objects.get(organization=world.lota, folio=folio)
    assert reg.mechanism == 3 and reg.party_rut and reg.documents.count() >= 1

    # 2. ... and routes it to DOM for response within 10 business days.
    page.check(f"input[name='units'][value='{world.units['DOM'].pk}']")
    page.select_option("#id_instruction", "response")
    page.fill("#id_business_days", "10")
    browser.submit(f"form[action='/partes/{reg.pk}/derivar/']")
    routing = Routing.objects.get(registration=reg)
    assert routing.to_unit_id == world.units["DOM"].pk and routing.due_date is not None
    assert f"{routing.due_date:%d-%m-%Y}" in page.inner_text("main")
    browser.screenshot("2-routed")
    browser.logout()

    # 3. The DOM official finds it in the unit inbox and acknowledges it.
    browser.login("dom.lota", world.password)
    browser.goto("/bandeja/")
    assert page.locator("h1").count() == 1
    assert page.locator(f"a[href='/partes/{reg.pk}/']", has_text=folio).count() == 1
    browser.submit(f"form[action='/partes/derivaciones/{routing.pk}/acusar/']")
    routing.refresh_from_db()
    assert routing.status == "acknowledged"
    assert page.locator(f"form[action='/partes/derivaciones/{routing.pk}/acusar/']").count() == 0

    # 4. ... and answers it with an outgoing registration ("Responder" on the detail page).
    browser.goto(f"/partes/{reg.pk}/")
    with page.expect_navigation():
        page.click(f"a[href='/partes/despacho/nuevo/?responde={reg.pk}']")
    assert page.input_value("#id_party_name") == "Juan Pérez Soto"
    assert page.input_value("input[name='answers']") == str(reg.pk)
    page.select_option("#id_delivery_method", index=1)
    page.set_input_files(
        "#id_files",
        files=[
            {
                "name": "respuesta-dom.pdf",
                "mimeType": "application/pdf",
                "buffer": pdf_bytes("La DOM informa que el certificado de numero esta disponible"),
            }
        ],
    )
    browser.submit("main form[enctype='multipart/form-data']")
    out_folio = f"S-{year}-000001"
    assert page.locator("h1").inner_text().startswith(out_folio), page.inner_text("main")
    reg.refresh_from_db()
    assert reg.status == RegistrationStatus.CLOSED

    # The incoming registration now shows as closed, answered by the outgoing one.
    browser.goto(f"/partes/{reg.pk}/")
    assert page.locator("h1 .badge-status-closed").count() == 1
    assert page.locator("main a", has_text=out_folio).count() >= 1
    browser.logout()

    # 5. An anonymous visitor verifies the receipt's code.
    browser.goto("/verificar/")
    _accessibility_basics(page)
    page.fill("#id_code", reg.receipt_code.replace("-", "").lower())
    browser.submit("main form")
    assert page.url.endswith(f"/verificar/{reg.receipt_code}")
    assert page.locator(".alert-success").count() == 1
    assert reg.receipt_code in page.inner_text("main")
    assert folio in page.inner_text("main")

    # Styles and fonts really loaded (static files are served by the live server).
    # Bootstrap styles the alert, folio.css the header; unstyled both would be transparent.
    transparent = ("rgba(0, 0, 0, 0)", "transparent")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.alert-success')).backgroundColor") not in transparent
    )
    assert page.evaluate("getComputedStyle(document.querySelector('.folio-header')).backgroundColor") not in transparent
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith(("Roboto", '"Roboto"'))
    page.evaluate("document.fonts.ready")
    assert page.evaluate("Array.from(document.fonts).some(f => f.family.includes('Roboto') && f.status === 'loaded')")
    browser.screenshot("3-verified")

    # 6. Nothing was refused by the Content-Security-Policy and no asset failed to load.
    csp = [e for e in browser.console_errors if re.search(r"Content.Security.Policy|Refused to", e, re.I)]
    assert csp == [], csp
    assert browser.console_errors == [], browser.console_errors
    assert browser.failed_requests == [], browser.failed_requests
    assert browser.bad_responses == [], browser.bad_responses
