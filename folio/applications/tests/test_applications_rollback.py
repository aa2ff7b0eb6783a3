"""There is never an application without its expediente and certificate: when any step of the submission
fails, everything rolls back — no number taken, no expediente, no verification record, no stored file."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from folio.applications import documents, services
from folio.applications.models import (
    Application,
    ApplicationAttachment,
    ApplicationCounter,
    ApplicationNotification,
    ApplicationState,
)
from folio.applications.tests.apphelpers import answers, citizen, make_definition, png_bytes, uploads
from folio.audit.models import AuditEvent
from folio.case_files import services as cf_services
from folio.case_files.models import CaseFile, CaseFileCounter, IndexEntry
from folio.files.models import StoredFile
from folio.verification.models import VerificationRecord


def _files_on_disk() -> set[str]:
    root = settings.STORAGES["default"]["OPTIONS"]["location"]
    found = set()
    for folder, _dirs, names in os.walk(root):
        found.update(os.path.relpath(os.path.join(folder, n), root) for n in names)
    return found


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("step", ["certificate", "incorporate_certificate", "notification", "open_case_file"])
def test_a_failing_step_rolls_the_whole_submission_back(world: Any, pdf_bytes: Any, monkeypatch: Any,
                                                        step: str) -> None:
    definition = make_definition(world)
    user = citizen(world)
    # A draft with its plano already stored: it must survive the failure unchanged.
    draft = services.application_save_draft(actor=user, definition=definition, data={"nombre": "Ana"},
                                            files=uploads(pdf_bytes))
    before_files = _files_on_disk()
    before = {"stored": StoredFile.objects.count(), "audit": AuditEvent.objects.count(),
              "version": draft.version}
    assert len(before_files) == 1

    if step == "certificate":
        monkeypatch.setattr(documents, "render_certificate", lambda **kw: (_ for _ in ()).throw(Boom()))
    elif step == "incorporate_certificate":
        real = cf_services.incorporate_document

        def failing(**kwargs: Any) -> Any:
            if kwargs["entry"].document_type == 8:  # the certificate: after the form and the attachments
                raise Boom()
            return real(**kwargs)

        monkeypatch.setattr(cf_services, "incorporate_document", failing)
    elif step == "notification":
        monkeypatch.setattr(services, "_notify", lambda *a, **kw: (_ for _ in ()).throw(Boom()))
    else:
        monkeypatch.setattr(cf_services, "case_file_open_for_filing", lambda **kw: (_ for _ in ()).throw(Boom()))

    with pytest.raises(Boom):
        services.application_submit(actor=user, definition=definition, application=draft, data=answers(),
                                    files={"foto": SimpleUploadedFile("foto.png", png_bytes(), "image/png")})

    draft.refresh_from_db()
    assert draft.state == ApplicationState.DRAFT and draft.number == "" and draft.case_file_id is None
    assert draft.version == before["version"] and draft.data == {"nombre": "Ana", "plano": "plano.pdf"}
    assert list(ApplicationAttachment.objects.values_list("field_key", flat=True)) == ["plano"]
    assert not CaseFile.objects.exists() and not IndexEntry.objects.exists()
    assert not CaseFileCounter.objects.filter(last_value__gt=0).exists()
    assert not ApplicationCounter.objects.exists()
    assert not VerificationRecord.objects.exists() and not ApplicationNotification.objects.exists()
    assert StoredFile.objects.count() == before["stored"]
    assert AuditEvent.objects.count() == before["audit"]
    assert _files_on_disk() == before_files  # the foto and every generated PDF were deleted

    # Once the failure is gone the same draft is submitted and takes number 1: nothing was consumed.
    monkeypatch.undo()
    app = services.application_submit(actor=user, definition=definition, application=draft, data=answers(),
                                      files={})
    assert app.number.endswith("-000001") and CaseFile.objects.get().number == 1


def test_a_failing_first_submission_without_draft_leaves_no_application(world: Any, pdf_bytes: Any,
                                                                         monkeypatch: Any) -> None:
    definition = make_definition(world)
    monkeypatch.setattr(documents, "render_certificate", lambda **kw: (_ for _ in ()).throw(Boom()))
    with pytest.raises(Boom):
        services.application_submit(actor=citizen(world), definition=definition, data=answers(),
                                    files=uploads(pdf_bytes))
    assert not Application.objects.exists() and not StoredFile.objects.exists() and _files_on_disk() == set()


def test_a_failing_resolution_changes_nothing(world: Any, pdf_bytes: Any, monkeypatch: Any) -> None:
    definition = make_definition(world)
    app = services.application_submit(actor=citizen(world), definition=definition, data=answers(),
                                      files=uploads(pdf_bytes))
    app = services.application_approve(actor=world.dom, application=app)
    entries = IndexEntry.objects.count()
    files = _files_on_disk()
    monkeypatch.setattr(cf_services, "case_file_close", lambda **kw: (_ for _ in ()).throw(Boom()))
    with pytest.raises(Boom):
        services.application_resolve(actor=world.legal, application=app, outcome="approved",
                                     text="Se otorga el permiso solicitado.")
    app.refresh_from_db()
    assert app.state == ApplicationState.IN_PROGRESS and app.closed_at is None and app.resolution_entry is None
    assert IndexEntry.objects.count() == entries and _files_on_disk() == files
