"""Drafts and submission: partial drafts with their files, the number, the expediente with the form as first
document, the attachments, the certificate, the deadline and the audit trail; bad input saves nothing."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from folio.applications import services
from folio.applications.models import (
    Application,
    ApplicationAttachment,
    ApplicationCounter,
    ApplicationState,
    Channel,
)
from folio.applications.tests.apphelpers import answers, citizen, make_definition, png_bytes, submit, uploads
from folio.audit.models import AuditEvent
from folio.case_files.models import ActorRelation, CaseFile, IndexEntry
from folio.files.models import StoredFile
from folio.files.services import file_open
from folio.registry.models import AccessLevel, DocumentType


def _pdf_text(stored: StoredFile) -> str:
    with file_open(stored) as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_submit_opens_the_expediente_with_the_form_first_and_the_certificate(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    app = services.application_submit(
        actor=citizen(world), definition=definition, data=answers(),
        files=uploads(pdf_bytes, foto=SimpleUploadedFile("foto.png", png_bytes(), "image/png")))
    year = app.submitted_at.astimezone(dt.UTC).year
    assert app.state == ApplicationState.SUBMITTED
    assert app.number == f"SOL-{year}-000001"
    assert app.channel == Channel.DIGITAL and app.filed_by is None
    assert app.unit == world.units["DOM"] and app.stage_index == 0
    assert app.contact_email == "ana.perez@example.cl"
    assert app.data["rut"] == "55.555.555-5" and app.data["plano"] == "plano.pdf" and app.data["declaracion"] is True
    cf = CaseFile.objects.get(pk=app.case_file_id)
    assert cf.unit == world.units["DOM"] and cf.access_level == AccessLevel.RESTRICTED
    assert cf.procedure_name == "Permiso de obra menor" and app.number in cf.title
    interested = cf.parties.get(relation=ActorRelation.INTERESTED)
    assert (interested.rut_number, interested.rut_dv, interested.email) == (55555555, "5", "ana.perez@example.cl")
    entries = list(IndexEntry.objects.filter(case_file=cf).order_by("position"))
    # form, plano, foto, certificate, notification of the submission
    assert [e.document_type for e in entries] == [DocumentType.SOLICITUD, DocumentType.ANTECEDENTE,
                                                  DocumentType.ANTECEDENTE, DocumentType.CERTIFICADO,
                                                  DocumentType.NOTIFICACION]
    assert all(e.owner_rut_number == 55555555 for e in entries)
    form_text = _pdf_text(entries[0].file)
    assert app.number in form_text and "Calle Matta 123, Lota" in form_text and "55.555.555-5" in form_text
    assert "plano.pdf" in form_text
    attachments = {a.field_key: a for a in ApplicationAttachment.objects.filter(application=app)}
    assert attachments["plano"].entry == entries[1] and attachments["plano"].file == entries[1].file
    assert attachments["foto"].entry == entries[2]
    assert app.certificate.document == entries[3].file and app.certificate.sha256 == entries[3].sha256
    # The deadline: 10 días hábiles of the first stage.
    from folio.organizations.calendar import BusinessCalendar

    local_day = app.submitted_at.astimezone(dt.timezone(dt.timedelta(hours=-3))).date()
    assert app.due_date >= BusinessCalendar(world.lota).add_business_days(local_day, 10) - dt.timedelta(days=1)
    assert ApplicationCounter.objects.get(organization=world.lota).last_value == 1
    actions = list(AuditEvent.objects.filter(object_type="applications.application", object_id=str(app.pk))
                   .values_list("action", flat=True))
    assert actions == ["application.submit"]
    assert AuditEvent.objects.filter(object_type="case_files.casefile", object_id=str(cf.pk),
                                     action="case_file.open").exists()


def test_numbers_are_per_organization_and_sequential(world: Any, pdf_bytes: Any) -> None:
    lota = make_definition(world)
    coronel = make_definition(world, organization=world.coronel)
    first = submit(world, lota, pdf_bytes)
    second = submit(world, lota, pdf_bytes)
    other = submit(world, coronel, pdf_bytes)
    assert [first.number[-6:], second.number[-6:], other.number[-6:]] == ["000001", "000002", "000001"]
    assert other.case_file.organization == world.coronel


def test_a_draft_keeps_partial_answers_and_its_files_then_is_submitted(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    user = citizen(world)
    draft = services.application_save_draft(actor=user, definition=definition, data={"nombre": "Ana"},
                                            files=uploads(pdf_bytes))
    assert draft.state == ApplicationState.DRAFT and draft.number == "" and draft.case_file is None
    assert draft.data == {"nombre": "Ana", "plano": "plano.pdf"}
    first_file = draft.attachments.get().file
    # A new plano replaces the first one: its row and its stored file go.
    draft = services.application_save_draft(actor=user, definition=definition, application=draft,
                                            data={"nombre": "Ana Pérez"},
                                            files={"plano": SimpleUploadedFile("plano-v2.pdf", pdf_bytes("v2"))})
    assert draft.data["plano"] == "plano-v2.pdf"
    assert not StoredFile.objects.filter(pk=first_file.pk).exists()
    assert draft.attachments.count() == 1
    # Submitted without uploading the plano again: the draft's file satisfies the required field.
    app = services.application_submit(actor=user, definition=definition, application=draft, data=answers(),
                                      files={})
    assert app.pk == draft.pk and app.state == ApplicationState.SUBMITTED
    assert app.data["plano"] == "plano-v2.pdf"
    assert app.attachments.get().entry.title.endswith("plano-v2.pdf")


def test_discarding_a_draft_removes_it_and_its_files(world: Any, pdf_bytes: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:
    definition = make_definition(world)
    user = citizen(world)
    draft = services.application_save_draft(actor=user, definition=definition, data={}, files=uploads(pdf_bytes))
    stored = draft.attachments.get().file
    from django.core.files.storage import default_storage

    assert default_storage.exists(stored.storage_name)
    with django_capture_on_commit_callbacks(execute=True):
        services.application_discard_draft(actor=user, application=draft)
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert not StoredFile.objects.filter(pk=stored.pk).exists()
    assert not default_storage.exists(stored.storage_name)


@pytest.mark.parametrize(("overrides", "files", "key", "message"), [
    ({"rut": "55.555.555-4"}, None, "rut", "dígito verificador"),
    ({"fecha_obra": "31-02-2026"}, None, "fecha_obra", "fecha válida"),
    ({"correo": "no-es-correo"}, None, "correo", "correo electrónico válido"),
    ({"declaracion": None}, None, "declaracion", "aceptar"),
    ({}, {"plano": None}, "plano", "Adjunte"),
    ({}, {"plano": SimpleUploadedFile("plano.pdf", png_bytes(), "application/pdf")}, "plano", "tipo"),
    ({}, {"plano": SimpleUploadedFile("plano.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10))}, "plano", "MB"),
])
def test_bad_answers_are_refused_in_spanish_and_nothing_is_saved(world: Any, pdf_bytes: Any, overrides: Any,
                                                                  files: Any, key: str, message: str) -> None:
    definition = make_definition(world)
    with pytest.raises(ValidationError) as exc:
        services.application_submit(actor=citizen(world), definition=definition, data=answers(**overrides),
                                    files=uploads(pdf_bytes, **(files or {})))
    assert key in exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[key])
    assert Application.objects.count() == 0 and StoredFile.objects.count() == 0
    assert CaseFile.objects.count() == 0 and not ApplicationCounter.objects.exists()


def test_only_citizens_with_a_run_file_online(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    with pytest.raises(PermissionDenied):
        services.application_submit(actor=world.dom, definition=definition, data=answers(), files=uploads(pdf_bytes))
    with pytest.raises(PermissionDenied):  # world.citizen has no RUN yet
        services.application_submit(actor=world.citizen, definition=definition, data=answers(),
                                    files=uploads(pdf_bytes))
    assert Application.objects.count() == 0


def test_a_retired_form_takes_no_applications(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    definition.state = "retired"
    definition.save()
    with pytest.raises(services.ConflictError):
        submit(world, definition, pdf_bytes)


def test_submitting_twice_is_refused_and_recorded(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    app = submit(world, definition, pdf_bytes)
    with pytest.raises(services.ConflictError, match="ya fue presentada"):
        services.application_submit(actor=app.applicant, definition=definition, application=app, data=answers(),
                                    files={})
    refused = AuditEvent.objects.get(action="application.refused", object_id=str(app.pk))
    assert refused.data["attempted"] == "submit"
    assert ApplicationCounter.objects.get(organization=world.lota).last_value == 1


def test_filing_on_a_saturday_counts_from_monday(world: Any, monkeypatch: Any) -> None:
    # 2026-03-07 is a Saturday: the term counts from Monday 9, 5 días hábiles end on Monday 16.
    assert services.deadline(world.lota, 5, start=dt.date(2026, 3, 7)) == dt.date(2026, 3, 16)
    # From a Thursday before Fiestas Patrias (18 and 19 September 2026 are holidays).
    assert services.deadline(world.lota, 5, start=dt.date(2026, 9, 17)) == dt.date(2026, 9, 25)
    from folio.organizations.models import NonWorkingDay

    NonWorkingDay.objects.create(organization=world.lota, date=dt.date(2026, 9, 22), reason="Feriado comunal")
    assert services.deadline(world.lota, 5, start=dt.date(2026, 9, 17)) == dt.date(2026, 9, 28)
    assert services.deadline(world.coronel, 5, start=dt.date(2026, 9, 17)) == dt.date(2026, 9, 25)
