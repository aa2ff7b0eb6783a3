"""A citizen in headless Chromium: the ClaveÚnica button, the sandbox form, back to Folio signed in, and the
sign-out that also ends the ClaveÚnica session (static script, no CSP complaint)."""

from __future__ import annotations

from typing import Any

import pytest

from folio.accounts.models import User
from folio.registry.tests.test_browser_journey import Browser, browser  # noqa: F401 — the fixture

pytestmark = pytest.mark.browser


def test_a_citizen_signs_in_and_out_in_a_browser(browser: Browser, lota_cu: Any, world: Any,  # noqa: F811
                                                 live_server: Any) -> None:
    page = browser.page
    browser.goto("/claveunica/ingresar/?municipalidad=lota&next=/verificar/")
    assert "/sandbox/claveunica/openid/authorize/" in page.url
    assert "Entorno de pruebas" in page.inner_text("main")
    browser.screenshot("claveunica-1-sandbox-form")
    page.fill("#id_run", "44.444.444-4")
    page.fill("#id_password", "testing")
    with page.expect_navigation(url="**/verificar/"):
        page.click("main form button[type=submit]:not([name=cancel])")
    citizen = User.objects.get(run_number=44444444)
    assert citizen.first_name == "María Carmen De los Ángeles"
    assert "María Carmen De los Ángeles" in page.inner_text("nav")
    assert [c for c in page.context.cookies() if c["name"] == "claveunica_sandbox"]

    # Sign out from the menu: Folio's page sends the browser to ClaveÚnica's logout (204, the page stays), then,
    # a moment later, back to Folio ("/", which sends a signed-out person to the sign-in page).
    seen: list[Any] = []
    page.on("response", lambda response: seen.append(response) if "/static/" not in response.url else None)
    page.click("form[action='/salir/'] button[type=submit]")
    page.wait_for_selector("#id_username", timeout=10_000)  # (wait_for_url gives up on the aborted 204)
    assert page.url == f"{live_server.url}/ingresar/"
    statuses = [(r.status, r.url.removeprefix(live_server.url)) for r in seen]
    assert statuses == [(200, "/salir/"),
                        (204, "/sandbox/claveunica/api/v1/accounts/app/logout?redirect=http%3A%2F%2Flocalhost%3A"
                              f"{live_server.url.rsplit(':', 1)[1]}%2F"),
                        (302, "/"), (200, "/ingresar/")], statuses
    assert not [c for c in page.context.cookies() if c["name"] == "claveunica_sandbox"]
    assert browser.console_errors == [] and browser.failed_requests == [] and browser.bad_responses == []


def test_the_buttons_and_the_set_up_page_in_a_browser(browser: Browser, lota_cu: Any, world: Any) -> None:  # noqa: F811
    from folio.claveunica import services
    from folio.claveunica.models import ClaveUnicaConfig
    from folio.registry.tests.test_browser_journey import _accessibility_basics

    services.claveunica_sandbox_enable(organization=world.coronel, base_url=browser.base_url, actor=None)
    browser.goto("/claveunica/ingresar/?next=/verificar/")  # two municipalities: the person chooses
    buttons = browser.page.locator("a.btn-claveunica")
    assert buttons.count() == 2
    style = buttons.first.evaluate("(el) => { const s = getComputedStyle(el); return [s.backgroundColor, s.color]; }")
    assert style == ["rgb(15, 105, 196)", "rgb(255, 255, 255)"]
    _accessibility_basics(browser.page)
    browser.screenshot("claveunica-3-choose")
    browser.login("admin.lota", world.password)
    browser.goto("/administracion/claveunica/")
    _accessibility_basics(browser.page)
    assert browser.page.input_value("#id_client_secret") == ""
    browser.page.check("#id_staff_login_enabled")
    browser.submit("main form")
    assert ClaveUnicaConfig.objects.get(organization=world.lota).staff_login_enabled
    browser.screenshot("claveunica-4-set-up")
    assert browser.console_errors == [] and browser.failed_requests == [] and browser.bad_responses == []
