from __future__ import annotations

import datetime as dt
from typing import Any

from folio.registry import services


def _register_at(world: Any, when: dt.datetime) -> Any:
    return services.registration_create_incoming(actor=world.clerk, data=services.RegistrationInput(
        document_type=7, subject="Carta con hora", party_kind="citizen", party_name="Ana Pérez",
        party_rut="12.345.678-5", mechanism=1, channel="paper", received_at=when))


def test_times_are_stored_in_utc_and_shown_in_the_municipality_zone(world: Any, client: Any) -> None:
    when = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)  # 12:30 in Santiago (UTC-3 in summer)
    reg = _register_at(world, when)
    reg.refresh_from_db()
    assert reg.received_at == when
    client.force_login(world.clerk)
    assert "20-11-2026 12:30" in client.get(f"/partes/{reg.pk}/").content.decode()

    world.lota.time_zone = "Pacific/Easter"  # Rapa Nui is UTC-5 in summer
    world.lota.save(update_fields=["time_zone"])
    assert "20-11-2026 10:30" in client.get(f"/partes/{reg.pk}/").content.decode()
