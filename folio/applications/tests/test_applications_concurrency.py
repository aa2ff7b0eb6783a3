"""Citizens submitting at the same moment, each on their own database connection: every application number is
unique and the sequence has no gaps, also when some submissions fail half-way (SQLite WAL + BEGIN IMMEDIATE,
PostgreSQL row locks)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from folio.accounts.models import User
from folio.applications import documents, services
from folio.applications.models import Application, ApplicationCounter, ApplicationState, FormDefinition
from folio.applications.tests.apphelpers import answers, make_definition
from folio.audit.selectors import verify_chains
from folio.case_files.models import CaseFile
from folio.core.rut import check_digit
from folio.core.testing import run_in_threads

THREADS = 8
EACH = 3



class Doomed(RuntimeError):
    pass


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_take_unique_gap_free_numbers(world: Any, pdf_bytes: Any, monkeypatch: Any) -> None:
    if connection.vendor == "sqlite":
        assert not connection.is_in_memory_db(), "the concurrency test needs a database file shared by threads"
    definition_id = make_definition(world).pk
    citizens = []
    for i in range(THREADS):
        number = 20_000_000 + i
        citizens.append(User.objects.create(username=f"run-{number}", run_number=number, run_dv=check_digit(number),
                                            first_name="Vecino", last_name=str(i)).pk)
    pdf = pdf_bytes("Plano")
    doomed_runs = {20_000_000 + i for i in range(0, THREADS, 3)}
    real = documents.render_certificate
    failed_once: set[int] = set()
    lock = threading.Lock()

    def flaky(**kwargs: Any) -> bytes:
        # The first submission of each doomed citizen fails after its number was taken.
        run = next(int(value.split("-")[0].replace(".", "")) for label, value in kwargs["rows"] if label == "RUN")
        with lock:
            if run in doomed_runs and run not in failed_once:
                failed_once.add(run)
                raise Doomed()
        return real(**kwargs)

    monkeypatch.setattr(documents, "render_certificate", flaky)

    def work(i: int) -> list[str]:
        user = User.objects.get(pk=citizens[i])
        definition = FormDefinition.objects.select_related("organization", "procedure").get(pk=definition_id)
        numbers = []
        for _j in range(EACH):
            try:
                app = services.application_submit(
                    actor=user, definition=definition, data=answers(),
                    files={"plano": SimpleUploadedFile("plano.pdf", pdf, "application/pdf")})
            except Doomed:
                continue
            numbers.append(app.number)
        return numbers

    results, errors = run_in_threads(work, THREADS)
    assert errors == []
    numbers = sorted(int(n[-6:]) for batch in results for n in batch)
    done = THREADS * EACH - len(doomed_runs)
    assert numbers == list(range(1, done + 1))
    assert ApplicationCounter.objects.get(organization=world.lota).last_value == done
    assert Application.objects.filter(state=ApplicationState.SUBMITTED).count() == done
    assert not Application.objects.exclude(state=ApplicationState.SUBMITTED).exists()
    # Every application has its expediente and its certificate; the expediente numbers have no gaps either.
    assert sorted(CaseFile.objects.values_list("number", flat=True)) == list(range(1, done + 1))
    assert not Application.objects.filter(certificate__isnull=True).exists()
    assert verify_chains()[1] == []
