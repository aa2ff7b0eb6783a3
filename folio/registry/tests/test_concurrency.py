"""Many clerks registering at the same moment, each on their own database connection: every folio
is unique and the book has no gaps (SQLite WAL + BEGIN IMMEDIATE, PostgreSQL row locks)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from folio.accounts.models import User
from folio.audit.models import AuditEvent
from folio.audit.selectors import verify_chains
from folio.core.testing import run_in_threads
from folio.registry import services
from folio.registry.models import Counter, Registration
from folio.registry.tests.servicehelpers import data, text_doc

THREADS = 8
EACH = 5



@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_unique_gap_free_numbers(world: Any) -> None:
    clerk_ids = [world.clerk.pk, world.admin.pk]
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA journal_mode")
            assert cur.fetchone()[0] == "wal"
        assert not connection.is_in_memory_db(), "the concurrency test needs a database file shared by threads"

    def work(i: int) -> list[tuple[int, str]]:
        actor = User.objects.select_related("organization").get(pk=clerk_ids[i % 2])
        made = []
        for j in range(EACH):
            docs = [text_doc(f"Carta {i}-{j}")] if j % 2 else []
            reg = services.registration_create_incoming(
                actor=actor, data=data(subject=f"Carta concurrente {i}-{j}", mechanism=2 if docs else 1,
                                       documents=docs))
            made.append((reg.number, reg.folio))
        return made

    results, errors = run_in_threads(work, THREADS)
    assert errors == []
    numbers = sorted(n for batch in results for n, _folio in batch)
    assert numbers == list(range(1, THREADS * EACH + 1))
    folios = {folio for batch in results for _n, folio in batch}
    assert len(folios) == THREADS * EACH
    assert Registration.objects.filter(organization=world.lota).count() == THREADS * EACH
    assert Counter.objects.get(organization=world.lota, book="E").last_value == THREADS * EACH
    # Every registration wrote its audit row, and the chain stayed whole under contention.
    assert AuditEvent.objects.filter(action="registration.create").count() == THREADS * EACH
    checked, problems = verify_chains()
    assert problems == []
    assert checked == AuditEvent.objects.count()


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submission_registers_once(world: Any) -> None:
    clerk_id = world.clerk.pk

    def work(_i: int) -> int:
        actor = User.objects.select_related("organization").get(pk=clerk_id)
        try:
            reg = services.registration_create_incoming(actor=actor, data=data(submission_token="same-form-token"))
        except services.ConflictError:
            return 0
        return reg.pk

    results, errors = run_in_threads(work, 6)
    assert errors == []
    reg = Registration.objects.get(organization=world.lota)
    # Every request either got the one registration or was told it was already registered.
    assert set(results) <= {reg.pk, 0} and reg.pk in results
    assert reg.number == 1
    # The losers' numbers were rolled back: the next registration continues the book without a gap.
    assert Counter.objects.get(organization=world.lota, book="E").last_value == 1
    actor = User.objects.get(pk=clerk_id)
    assert services.registration_create_incoming(actor=actor, data=data()).number == 2
    assert verify_chains()[1] == []
