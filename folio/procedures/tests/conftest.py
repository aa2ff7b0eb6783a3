"""Fixtures of the procedures tests: a CTD for the second municipality and small inventory helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from folio.procedures import services
from folio.procedures.models import Procedure, Topic


@pytest.fixture
def coronel_ctd(world: Any) -> Any:
    from folio.accounts.models import RoleCode
    from folio.core import demo

    return demo.ensure_user(world.coronel, "ctd.coronel", "Carla", "Tapia", "OP", [RoleCode.DIGITAL_COORDINATOR],
                            "CTD Coronel")


@pytest.fixture
def make_procedure(world: Any) -> Callable[..., Procedure]:
    """A procedure of Lota (or of ``actor``'s organization) through the service."""

    def make(name: str = "Patente comercial", *, actor: Any = None, **data: Any) -> Procedure:
        return services.procedure_create(actor=actor or world.ctd, data={"name": name, **data})

    return make


@pytest.fixture
def topic(world: Any) -> Topic:
    return Topic.objects.create(organization=world.lota, name="Obras y construcción", slug="obras", position=1)


def login(client: Any, user: Any) -> Any:
    client.force_login(user)
    return client
