"""The audit trail: every service writes its row, the database refuses UPDATE and DELETE, and
``verify_audit`` finds any row altered, removed, swapped or cut from the end, naming its seq, with a
non-zero exit status from ``manage.py``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from folio.audit.models import AuditChainHead, AuditEvent
from folio.audit.selectors import verify_chains
from folio.registry import services
from folio.registry.models import AccessLevel
from folio.registry.tests.servicehelpers import incoming, outgoing, routed

MIGRATION = "folio.audit.migrations.0002_append_only"


def drop_append_only_triggers() -> None:
    """What an attacker with database access would do first."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("DROP TRIGGER audit_event_append_only ON audit_auditevent")
        else:
            cur.execute("DROP TRIGGER audit_event_no_update")
            cur.execute("DROP TRIGGER audit_event_no_delete")


def restore_append_only_triggers() -> None:
    import importlib

    migration = importlib.import_module(MIGRATION)
    with connection.cursor() as cur:
        for sql in migration.POSTGRES if connection.vendor == "postgresql" else migration.SQLITE:
            cur.execute(sql)


def verify() -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as exc:
        return False, err.getvalue() + str(exc)
    return True, out.getvalue()


def lota_events(world: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain=world.lota.pk).order_by("seq"))


@pytest.fixture
def trail(world: Any) -> list[AuditEvent]:
    """Six audited actions in Lota (and one in Coronel, a separate chain)."""
    reg, routing = routed(world.clerk, world.units["DOM"])
    services.routing_acknowledge(actor=world.dom, routing=routing)
    services.registration_close(actor=world.dom, registration=reg, note="Resuelto")
    incoming(world.clerk, subject="Otra carta")
    outgoing(world.dom)
    incoming(world.other_clerk)
    events = lota_events(world)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    return events


# --- every service writes its row ---------------------------------------------------------------

def test_every_service_writes_its_audit_row(world: Any) -> None:
    def last() -> AuditEvent:
        return AuditEvent.objects.order_by("-pk").first()

    reg = incoming(world.clerk, access_level=AccessLevel.RESTRICTED)
    assert (last().action, last().actor_id, last().organization_id, last().object_id) == (
        "registration.create", world.clerk.pk, world.lota.pk, str(reg.pk))
    assert last().data["folio"] == reg.folio
    [routing] = services.registration_route(actor=world.clerk, registration=reg, to_unit_ids=[world.units["DOM"].pk],
                                            instruction="response", business_days=10, ip="203.0.113.7")
    assert (last().action, last().ip, last().data["routings"]) == ("registration.route", "203.0.113.7", [routing.pk])
    services.routing_acknowledge(actor=world.dom, routing=routing)
    assert (last().action, last().actor_id) == ("routing.acknowledge", world.dom.pk)
    services.registration_access_record(actor=world.dom, registration=reg, what="document")
    assert (last().action, last().data) == ("registration.access", {"what": "document"})
    reg.refresh_from_db()
    services.registration_update(actor=world.clerk, registration=reg, expected_version=reg.version,
                                 subject="Asunto corregido", summary="", keywords="", access_level=2,
                                 sensitive_data=False)
    assert last().action == "registration.update"
    child = services.routing_reroute(actor=world.dom, routing=routing, to_unit_id=world.units["AJ"].pk,
                                     instruction="report", business_days=3)
    assert (last().action, last().data["rerouted_from"], last().data["routings"]) == (
        "registration.route", routing.pk, [child.pk])
    services.registration_close(actor=world.clerk, registration=reg, note="Resuelto")
    assert last().action == "registration.close"
    out = outgoing(world.legal)
    services.registration_dispatch(actor=world.legal, registration=out, method="by_hand", reference="Entregado")
    assert (last().action, last().object_id) == ("registration.dispatch", str(out.pk))
    other = incoming(world.clerk)
    services.registration_void(actor=world.clerk, registration=other, reason="Error de ingreso")
    assert last().action == "registration.void"
    # Reading a public registration is not an audited access; the chain is whole.
    count = AuditEvent.objects.count()
    services.registration_access_record(actor=world.dom, registration=other, what="detail")
    assert AuditEvent.objects.count() == count
    assert verify_chains()[1] == []


# --- the database refuses edits -----------------------------------------------------------------

def test_update_and_delete_are_refused_by_the_database(trail: list[AuditEvent]) -> None:
    target = trail[2]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=target.pk).update(action="registration.nothing")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE audit_auditevent SET data = data WHERE id = %s", [target.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=target.pk).delete()
    target.refresh_from_db()
    assert target.action == trail[2].action
    assert verify()[0]


# --- verify_audit -------------------------------------------------------------------------------

def test_clean_chain_passes(trail: list[AuditEvent]) -> None:
    ok, output = verify()
    assert ok, output
    assert "audit trail OK: 7 rows verified" in output


def test_an_altered_row_is_named(world: Any, trail: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    AuditEvent.objects.filter(pk=trail[2].pk).update(actor_label="Otra Persona")
    ok, output = verify()
    assert not ok
    assert f"chain {world.lota.pk}, seq 3: content does not match its hash" in output
    assert "seq 4" not in output and "seq 2" not in output


def test_altered_data_is_named(world: Any, trail: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    data = dict(trail[4].data, folio="E-1999-000001")
    AuditEvent.objects.filter(pk=trail[4].pk).update(data=data)
    ok, output = verify()
    assert not ok and f"chain {world.lota.pk}, seq 5:" in output


def test_a_removed_row_is_named(world: Any, trail: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    AuditEvent.objects.filter(pk=trail[2].pk).delete()
    ok, output = verify()
    assert not ok
    assert f"chain {world.lota.pk}, seq 4: expected seq 3, found 4" in output
    assert "prev_hash does not match" in output


def test_two_rows_swapped_are_named(world: Any, trail: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    a, b = trail[1], trail[3]
    fields = ["occurred_at", "actor_id", "actor_label", "action", "object_type", "object_id", "object_repr", "data",
              "ip"]
    AuditEvent.objects.filter(pk=a.pk).update(**{f: getattr(b, f) for f in fields})
    AuditEvent.objects.filter(pk=b.pk).update(**{f: getattr(a, f) for f in fields})
    ok, output = verify()
    assert not ok
    assert f"chain {world.lota.pk}, seq 2:" in output and f"chain {world.lota.pk}, seq 4:" in output
    assert "seq 3:" not in output


def test_two_rows_reordered_are_named(world: Any, trail: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    a, b = trail[1], trail[2]
    AuditEvent.objects.filter(pk=a.pk).update(seq=-1)
    AuditEvent.objects.filter(pk=b.pk).update(seq=2)
    AuditEvent.objects.filter(pk=a.pk).update(seq=3)
    ok, output = verify()
    assert not ok and f"chain {world.lota.pk}, seq 2:" in output


def test_the_last_row_removed_is_noticed(world: Any, trail: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    AuditEvent.objects.filter(pk=trail[-1].pk).delete()
    ok, output = verify()
    assert not ok
    assert f"chain {world.lota.pk}, seq 6: head says seq 6 but the last row is 5" in output
    # The other municipality's chain is untouched and not blamed.
    assert f"chain {world.coronel.pk}" not in output


def test_a_whole_chain_removed_is_noticed(world: Any, trail: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    AuditEvent.objects.filter(chain=world.coronel.pk).delete()
    ok, output = verify()
    assert not ok and f"chain {world.coronel.pk}, seq 1: head says seq 1 but the last row is 0" in output


def test_a_forged_row_appended_is_noticed(world: Any, trail: list[AuditEvent]) -> None:
    last = trail[-1]
    forged = AuditEvent(chain=last.chain, seq=last.seq + 1, occurred_at=last.occurred_at, organization_id=last.chain,
                        actor_id=None, action="registration.void", data={}, prev_hash=last.hash, hash="f" * 64)
    forged.save(force_insert=True)
    ok, output = verify()
    assert not ok
    assert f"seq {last.seq + 1}: content does not match its hash" in output
    assert AuditChainHead.objects.get(chain=last.chain).seq == last.seq


# --- the real command line ----------------------------------------------------------------------

@pytest.fixture
def committed_trail(transactional_db: Any, world: Any) -> Iterator[list[AuditEvent]]:
    _reg, routing = routed(world.clerk, world.units["DOM"])
    services.routing_acknowledge(actor=world.dom, routing=routing)
    incoming(world.clerk)
    yield lota_events(world)
    restore_append_only_triggers()


def manage(command: str) -> subprocess.CompletedProcess[str]:
    """``python manage.py <command>`` in a new process, on the test database."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "FOLIO_ENV": "test", "FOLIO_MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    return subprocess.run([sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), command], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_manage_py_verify_audit_exit_status(world: Any, committed_trail: list[AuditEvent]) -> None:
    ok = manage("verify_audit")
    assert ok.returncode == 0, ok.stderr
    assert "audit trail OK" in ok.stdout
    drop_append_only_triggers()
    AuditEvent.objects.filter(pk=committed_trail[1].pk).update(object_repr="E-2026-999999 otra cosa")
    bad = manage("verify_audit")
    assert bad.returncode != 0
    assert f"chain {world.lota.pk}, seq 2: content does not match its hash" in bad.stderr
    assert "FAILED" in bad.stderr
