"""``manage.py flush`` (also what every transactional test runs between tests) empties the database
despite the append-only audit triggers and the search table, puts the fixed roles back, and leaves
the triggers in place."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction

from folio.accounts.models import Role, RoleCode
from folio.audit.models import AuditEvent
from folio.core import demo
from folio.registry.models import Registration
from folio.registry.tests.servicehelpers import incoming


@pytest.mark.django_db(transaction=True)
def test_flush_empties_everything_and_keeps_the_guards(world: Any) -> None:
    incoming(world.clerk)
    assert AuditEvent.objects.exists() and Registration.objects.exists()
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists() and not Registration.objects.exists()
    assert set(Role.objects.values_list("code", flat=True)) == set(RoleCode.values)
    # The append-only triggers are back: a new row cannot be edited.
    lota = demo.ensure_organization("MUN-8106", "I. Municipalidad de Lota", "Lota", "lota", "Lota", demo.UNITS)
    clerk = demo.ensure_user(lota, "partes.lota", "Patricia", "Soto", "OP", [RoleCode.REGISTRY], "Partes")
    reg = incoming(clerk)
    assert reg.number == 1
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(action="registration.nothing")
