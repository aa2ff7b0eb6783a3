"""Staff sign in with ClaveÚnica only where their municipality allows it, and only as the staff account of that
municipality that carries their RUN."""

from __future__ import annotations

from typing import Any

from folio.accounts.models import User
from folio.audit.models import AuditEvent
from folio.claveunica.models import ClaveUnicaConfig
from folio.claveunica.tests.conftest import Browser


def _with_run(user: Any, number: int, dv: str) -> Any:
    user.run_number, user.run_dv = number, dv
    user.save(update_fields=["run_number", "run_dv"])
    return user


def _allow_staff(config: ClaveUnicaConfig, allowed: bool = True) -> None:
    ClaveUnicaConfig.objects.filter(pk=config.pk).update(staff_login_enabled=allowed)


def test_a_staff_member_signs_in_with_claveunica(lota_cu: Any, world: Any, browser: Browser,
                                                 live_server: Any) -> None:
    _allow_staff(lota_cu)
    clerk = _with_run(world.clerk, 44444444, "4")
    page = browser.sign_in(staff=True, next=None)
    assert page.status == 302 and page.location == f"{live_server.url}/", page.body[:300]
    assert browser.user_id() == clerk.pk
    assert browser.session()["claveunica"] == {"org": world.lota.pk, "staff": True}
    assert not User.objects.filter(organization__isnull=True, run_number=44444444).exists()  # no citizen made
    event = AuditEvent.objects.get(action="claveunica.login")
    assert event.organization_id == world.lota.pk and event.data == {"kind": "staff"}
    clerk.refresh_from_db()
    assert clerk.first_name == "Patricia"  # staff names are Folio's, not ClaveÚnica's


def test_staff_of_another_municipality_is_refused(lota_cu: Any, world: Any, browser: Browser) -> None:
    _allow_staff(lota_cu)
    _with_run(world.other_clerk, 55555555, "5")  # Coronel's Oficina de Partes
    page = browser.sign_in(run="55.555.555-5", staff=True)
    assert page.status == 403 and "I. Municipalidad de Lota" in page.body
    assert browser.user_id() is None
    refused = AuditEvent.objects.get(action="claveunica.login_refused")
    assert refused.organization_id == world.lota.pk and refused.data == {"kind": "staff", "reason": "no_match"}


def test_an_inactive_staff_account_or_a_wrong_check_digit_is_refused(lota_cu: Any, world: Any,
                                                                    make_browser: Any) -> None:
    _allow_staff(lota_cu)
    clerk = _with_run(world.clerk, 44444444, "K")  # recorded with another check digit: not the same person
    assert make_browser().sign_in(staff=True).status == 403
    _with_run(clerk, 44444444, "4")
    User.objects.filter(pk=clerk.pk).update(is_active=False)
    browser = make_browser()
    assert browser.sign_in(staff=True).status == 403 and browser.user_id() is None


def test_staff_sign_in_when_the_municipality_does_not_allow_it(lota_cu: Any, world: Any,
                                                               make_browser: Any) -> None:
    _with_run(world.clerk, 44444444, "4")
    browser = make_browser()
    page = browser.start(staff=True)
    assert page.status == 403 and "Location" not in page.headers
    # Allowed when the trip started, withdrawn before it came back: still refused.
    _allow_staff(lota_cu)
    back = browser.sign_in_at_provider(browser.start(staff=True))
    _allow_staff(lota_cu, False)
    assert browser.follow(back).status == 403 and browser.user_id() is None


def test_a_platform_account_with_the_run_is_not_a_citizen(lota_cu: Any, world: Any, browser: Browser) -> None:
    from folio.core import demo

    root = demo.ensure_user(None, "soporte", "Soporte", "Folio", None, [], "", superuser=True)
    _with_run(root, 44444444, "4")
    page = browser.sign_in()
    assert page.status == 403 and browser.user_id() is None


def test_the_login_page_offers_claveunica_to_staff_only_where_allowed(lota_cu: Any, client: Any) -> None:
    page = client.get("/ingresar/?next=/expedientes/")
    assert "personal=1" not in page.content.decode()
    _allow_staff(lota_cu)
    html = client.get("/ingresar/?next=/expedientes/").content.decode()
    assert "municipalidad=lota" in html and "personal=1" in html and "next=%2Fexpedientes%2F" in html
    assert lota_cu.organization.name in html
