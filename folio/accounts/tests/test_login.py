"""Signing in to the staff UI: the Spanish login page, a wrong password, and the throttle after five
failures (429, per username, across processes since failures are kept in the database)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from folio.accounts.models import LoginFailure
from folio.audit.models import AuditEvent


def test_login_page_is_spanish_and_signs_in(world: Any, client: Client) -> None:
    page = client.get("/ingresar/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="es-CL">' in html
    assert 'name="username"' in html and 'name="password"' in html
    ok = client.post("/ingresar/", {"username": "partes.lota", "password": world.password})
    assert ok.status_code == 302
    assert client.get("/partes/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor_id=world.clerk.pk).count() == 1


def test_wrong_password_is_a_400_with_a_spanish_message(world: Any, client: Client) -> None:
    response = client.post("/ingresar/", {"username": "partes.lota", "password": "equivocada-123"})
    assert response.status_code == 400
    [error] = response.context["form"].non_field_errors()
    assert error in response.content.decode()
    # Django's own Spanish catalogue (or ours) answers for the authentication form.
    assert "contraseña" in error.lower() or "clave" in error.lower()


def test_login_is_throttled_after_five_failures(world: Any, client: Client) -> None:
    for _ in range(5):
        assert client.post("/ingresar/", {"username": "partes.lota", "password": "mala-clave-1"}).status_code == 400
    # Even the right password is refused now, with a 429 and a message saying what to do.
    blocked = client.post("/ingresar/", {"username": "partes.lota", "password": world.password})
    assert blocked.status_code == 429
    assert "Demasiados intentos fallidos" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username="partes.lota").count() == 5
    # Another account from the same browser is not affected.
    assert client.post("/ingresar/", {"username": "dom.lota", "password": world.password}).status_code == 302


def test_lockout_ends_after_the_cool_down_and_success_clears_failures(world: Any, client: Client,
                                                                      settings: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    for _ in range(5):
        client.post("/ingresar/", {"username": "Partes.Lota", "password": "mala-clave-1"})
    assert LoginFailure.objects.filter(username="partes.lota").count() == 5  # case does not dodge the count
    assert client.post("/ingresar/", {"username": "partes.lota", "password": world.password}).status_code == 429
    LoginFailure.objects.update(at=timezone.now() - dt.timedelta(seconds=settings.FOLIO_LOGIN_LOCKOUT_SECONDS + 1))
    assert client.post("/ingresar/", {"username": "partes.lota", "password": world.password}).status_code == 302
    assert not LoginFailure.objects.filter(username="partes.lota").exists()


def test_login_page_texts_are_spanish(db: Any, client: Client) -> None:
    html = Client().get("/ingresar/").content.decode()
    assert "Ingresar a Folio" in html and "Contraseña" in html
