"""Every transition of the state machine and every refusal: stage actions by the responsible unit, reports,
correction requests and their deadline, resolution, withdrawal and the expiry of corrections (desistimiento)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from pypdf import PdfReader

from folio.applications import services
from folio.applications.models import (
    TERMINAL_STATES,
    Application,
    ApplicationState,
    CorrectionRequest,
    ReportRequest,
    ReportStatus,
)
from folio.applications.tests.apphelpers import citizen, make_definition, other_citizen, png_bytes, submit
from folio.audit.models import AuditEvent
from folio.case_files.models import CaseFile, CaseFileState, IndexEntry
from folio.files.services import file_open
from folio.registry.models import DocumentType

S = ApplicationState


def _app(world: Any, pdf_bytes: Any, **kwargs: Any) -> Application:
    return submit(world, make_definition(world, **kwargs), pdf_bytes)


def _fresh(app: Application) -> Application:
    return Application.objects.select_related("case_file", "unit").get(pk=app.pk)


def _refusals(app: Application) -> list[str]:
    return list(AuditEvent.objects.filter(object_id=str(app.pk), object_type="applications.application",
                                          action__in=["application.refused", "application.denied"])
                .values_list("data__attempted", flat=True))


def test_the_transition_table_matches_the_documented_machine() -> None:
    assert services.TRANSITIONS["submit"] == (frozenset({S.DRAFT}), S.SUBMITTED)
    for action in ("approve", "reject", "request_correction", "request_report", "resolve"):
        assert services.TRANSITIONS[action][0] == frozenset({S.SUBMITTED, S.IN_PROGRESS})
    assert services.TRANSITIONS["answer_correction"] == (frozenset({S.CORRECTION_REQUESTED}), S.IN_PROGRESS)
    assert services.TRANSITIONS["expire"] == (frozenset({S.CORRECTION_REQUESTED}), S.ABANDONED)
    for states, _target in services.TRANSITIONS.values():
        assert not states & TERMINAL_STATES  # nothing leads out of a terminal state


def test_approve_passes_to_the_next_stage_and_transfers_the_expediente(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    app = services.application_approve(actor=world.dom, application=app, note="Planos conformes",
                                       expected_version=app.version)
    assert app.state == S.IN_PROGRESS and app.stage_index == 1 and app.unit == world.units["AJ"]
    assert app.due_date == services.deadline(world.lota, 5)
    cf = CaseFile.objects.get(pk=app.case_file_id)
    assert cf.unit == world.units["AJ"]
    event = AuditEvent.objects.get(action="application.approve", object_id=str(app.pk))
    assert event.data["to_unit"] == world.units["AJ"].name and event.data["note"] == "Planos conformes"
    assert AuditEvent.objects.filter(object_type="case_files.casefile", object_id=str(cf.pk),
                                     action="case_file.application", data__step="approve").exists()
    # The last stage cannot be approved: it is resolved.
    with pytest.raises(services.ConflictError):
        services.application_approve(actor=world.legal, application=app)
    assert _refusals(app) == ["approve"]


def test_stage_actions_need_the_responsible_unit(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    for user in (world.legal, world.dideco, world.auditor, world.clerk, world.ctd, world.other_dom, world.signer):
        with pytest.raises(PermissionDenied):
            services.application_approve(actor=user, application=app)
    with pytest.raises(PermissionDenied):
        services.application_withdraw(actor=world.dom, application=app)
    with pytest.raises(PermissionDenied):  # another citizen
        services.application_withdraw(actor=other_citizen(world), application=app)
    assert _fresh(app).state == S.SUBMITTED
    # Denials are recorded (coronel's in its own chain, without the application).
    assert AuditEvent.objects.filter(action="application.denied", organization_id=world.lota.pk).count() == 8
    assert AuditEvent.objects.filter(action="application.denied", organization_id=world.coronel.pk,
                                     object_id=str(app.pk)).exists()
    # The head of the unit and the administrator may act.
    services.application_request_report(actor=world.dom_head, application=app, unit_id=world.units["DIDECO"].pk,
                                        question="¿Hay antecedentes sociales del solicitante?")
    services.application_cancel_report(actor=world.admin, report=ReportRequest.objects.get())


def test_only_the_current_stages_actions(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    with pytest.raises(services.ConflictError, match=r"does not allow|no permite"):
        services.application_resolve(actor=world.dom, application=app, outcome=S.APPROVED,
                                     text="Se aprueba el permiso solicitado.")
    assert _refusals(app) == ["resolve"]
    assert services.stage_actions(app) == ["approve", "reject", "request_correction", "request_report"]


def test_stale_version_is_refused(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    stale = app.version
    services.application_request_report(actor=world.dom, application=app, unit_id=world.units["DIDECO"].pk,
                                        question="Informe social del grupo familiar.")
    with pytest.raises(services.ConflictError):
        services.application_approve(actor=world.dom, application=app, expected_version=stale)
    assert _fresh(app).stage_index == 0


def test_a_pending_report_blocks_the_stage_until_answered(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    report = services.application_request_report(actor=world.dom, application=app, unit_id=world.units["DIDECO"].pk,
                                                 question="Informe social del grupo familiar.", days=10)
    assert report.due_date == services.deadline(world.lota, 10)
    assert _fresh(app).state == S.IN_PROGRESS
    with pytest.raises(services.ConflictError):
        services.application_approve(actor=world.dom, application=app)
    with pytest.raises(services.ConflictError):
        services.application_reject(actor=world.dom, application=app, reasons="No cumple la normativa vigente.")
    # Only the unit asked answers; the asking unit may not.
    with pytest.raises(PermissionDenied):
        services.application_answer_report(actor=world.dom, report=report, text="Respuesta de quien no corresponde")
    with pytest.raises(ValidationError):
        services.application_answer_report(actor=world.dideco, report=report, text="corto")
    upload = SimpleUploadedFile("ficha.png", png_bytes(), "image/png")
    report = services.application_answer_report(actor=world.dideco, report=report, file=upload,
                                                text="El grupo familiar cumple los requisitos.")
    assert report.status == ReportStatus.ANSWERED
    assert report.answer_entry.document_type == DocumentType.INFORME and report.file_entry is not None
    assert report.answer_entry.owner_rut_number is None  # internal: not among the applicant's documents
    with pytest.raises(services.ConflictError):
        services.application_answer_report(actor=world.dideco, report=report, text="Segunda respuesta al informe")
    app = services.application_approve(actor=world.dom, application=app)
    assert app.stage_index == 1


def test_report_to_own_unit_or_bad_input_is_refused(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    with pytest.raises(ValidationError) as exc:
        services.application_request_report(actor=world.dom, application=app, unit_id=world.units["DOM"].pk,
                                            question="Informe de la propia unidad")
    assert "unit_id" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.application_request_report(actor=world.dom, application=app,
                                            unit_id=world.coronel_units["DOM"].pk, question="Informe de otra comuna")
    with pytest.raises(ValidationError):
        services.application_request_report(actor=world.dom, application=app, unit_id=world.units["AJ"].pk,
                                            question="Informe jurídico", days=0)
    assert not ReportRequest.objects.exists()


def test_correction_request_answer_and_deadlines(world: Any, pdf_bytes: Any, monkeypatch: Any) -> None:
    app = _app(world, pdf_bytes)
    # Requested on Thursday 17 September 2026: 18 and 19 are holidays, the weekend does not count.
    monkeypatch.setattr(services, "org_today", lambda org: dt.date(2026, 9, 17))
    with pytest.raises(ValidationError):
        services.application_request_correction(actor=world.dom, application=app, message="corto")
    correction = services.application_request_correction(
        actor=world.dom, application=app, message="Falta el plano de emplazamiento firmado por el arquitecto.")
    assert correction.due_date == dt.date(2026, 9, 25)
    app = _fresh(app)
    assert app.state == S.CORRECTION_REQUESTED and app.due_date == dt.date(2026, 9, 25)
    assert correction.request_entry.owner_rut_number == 55555555
    # While the applicant corrects, staff cannot act nor ask again.
    for call in (lambda: services.application_approve(actor=world.dom, application=app),
                 lambda: services.application_request_correction(actor=world.dom, application=app,
                                                                 message="Segundo requerimiento de prueba")):
        with pytest.raises(services.ConflictError):
            call()
    # Only the applicant answers.
    with pytest.raises(PermissionDenied):
        services.application_answer_correction(actor=other_citizen(world), application=app, text="No soy yo")
    with pytest.raises(ValidationError):
        services.application_answer_correction(actor=app.applicant, application=app, text="ok",)
    bad = SimpleUploadedFile("virus.exe", b"MZ\x90\x00\x03" + b"\x00" * 100, "application/octet-stream")
    with pytest.raises(ValidationError) as exc:
        services.application_answer_correction(actor=app.applicant, application=app, text="Adjunto el plano",
                                               files=[bad])
    assert "files" in exc.value.message_dict
    monkeypatch.setattr(services, "org_today", lambda org: dt.date(2026, 9, 24))
    plan = SimpleUploadedFile("emplazamiento.pdf", pdf_bytes("Plano de emplazamiento"), "application/pdf")
    correction = services.application_answer_correction(actor=app.applicant, application=app,
                                                        text="Adjunto el plano firmado.", files=[plan])
    app = _fresh(app)
    assert app.state == S.IN_PROGRESS
    assert app.due_date == dt.date(2026, 10, 8)  # 10 días hábiles again from the answer
    assert correction.answered_at is not None and correction.answer_entry.owner_rut_number == 55555555
    titles = list(IndexEntry.objects.filter(case_file=app.case_file).values_list("title", flat=True))
    assert any("emplazamiento.pdf" in t for t in titles)
    with pytest.raises(services.ConflictError):
        services.application_answer_correction(actor=app.applicant, application=app, text="Otra respuesta más")


def test_a_late_answer_is_refused_and_the_expiry_abandons(world: Any, pdf_bytes: Any, monkeypatch: Any,
                                                          django_capture_on_commit_callbacks: Any) -> None:
    app = _app(world, pdf_bytes)
    monkeypatch.setattr(services, "org_today", lambda org: dt.date(2026, 3, 2))
    correction = services.application_request_correction(actor=world.dom, application=app,
                                                         message="Falta la firma del propietario en el plano.")
    assert correction.due_date == dt.date(2026, 3, 9)
    # On the last day nothing expires.
    monkeypatch.setattr(services, "org_today", lambda org: dt.date(2026, 3, 9))
    assert services.applications_expire_corrections(today=dt.date(2026, 3, 10)) == []
    with pytest.raises(services.ConflictError):
        services.application_abandon(application=app)
    # The day after, the answer is late and the command declares the desistimiento.
    monkeypatch.setattr(services, "org_today", lambda org: dt.date(2026, 3, 10))
    with pytest.raises(services.ConflictError):
        services.application_answer_correction(actor=app.applicant, application=app, text="Llego tarde con esto")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("applications_expire_corrections", stdout=out)
    assert f"{app.number}: abandoned" in out.getvalue()
    app = _fresh(app)
    assert app.state == S.ABANDONED and app.closed_at is not None and app.due_date is None
    assert CorrectionRequest.objects.get(pk=correction.pk).expired_at is not None
    assert app.case_file.state == CaseFileState.CLOSED and app.case_file.index_hash
    assert app.resolution_entry.document_type == DocumentType.CONSTANCIA
    # Running it again changes nothing.
    assert services.applications_expire_corrections() == []


def test_the_expiry_task(world: Any, pdf_bytes: Any) -> None:
    from folio.applications.tasks import applications_expire_corrections

    app = _app(world, pdf_bytes)
    services.application_request_correction(actor=world.dom, application=app,
                                            message="Falta la firma del propietario en el plano.")
    CorrectionRequest.objects.update(due_date=dt.date(2020, 1, 1))
    applications_expire_corrections.call()
    assert _fresh(app).state == S.ABANDONED


def test_resolve_with_a_generated_resolution_closes_everything(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    app = services.application_approve(actor=world.dom, application=app)
    with pytest.raises(ValidationError):
        services.application_resolve(actor=world.legal, application=app, outcome="maybe", text="Texto suficiente")
    app = services.application_resolve(actor=world.legal, application=app, outcome=S.APPROVED,
                                       text="Se otorga el permiso de obra menor solicitado.")
    assert app.state == S.APPROVED and app.closed_at is not None
    assert app.resolution_text == "Se otorga el permiso de obra menor solicitado."
    entry = app.resolution_entry
    assert entry.document_type == DocumentType.RESOLUCION and entry.owner_rut_number == 55555555
    with file_open(entry.file) as fh:
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(fh.read())).pages)
    assert app.number in text and "Se otorga el permiso" in text
    cf = CaseFile.objects.get(pk=app.case_file_id)
    assert cf.state == CaseFileState.CLOSED and cf.closed_by == world.legal
    # Terminal: nothing more.
    for call in (lambda: services.application_withdraw(actor=app.applicant, application=app),
                 lambda: services.application_reject(actor=world.legal, application=app,
                                                     reasons="Rechazo tardío de prueba")):
        with pytest.raises(services.ConflictError):
            call()


def test_resolve_with_an_uploaded_signed_pdf(world: Any, pdf_bytes: Any) -> None:
    app = services.application_approve(actor=world.dom, application=_app(world, pdf_bytes))
    not_pdf = SimpleUploadedFile("resolucion.png", png_bytes(), "image/png")
    with pytest.raises(ValidationError) as exc:
        services.application_resolve(actor=world.legal, application=app, outcome=S.REJECTED,
                                     text="No cumple con la normativa.", signed_pdf=not_pdf)
    assert "signed_pdf" in exc.value.message_dict
    signed = SimpleUploadedFile("resolucion-firmada.pdf", pdf_bytes("Resolución exenta 123"), "application/pdf")
    app = services.application_resolve(actor=world.legal, application=app, outcome=S.REJECTED,
                                       text="No cumple con la normativa.", signed_pdf=signed)
    assert app.state == S.REJECTED
    assert app.resolution_entry.file.original_name == "resolucion-firmada.pdf"


def test_reject_at_the_first_stage(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    with pytest.raises(ValidationError):
        services.application_reject(actor=world.dom, application=app, reasons="corto")
    app = services.application_reject(actor=world.dom, application=app,
                                      reasons="La obra no corresponde a una obra menor.")
    assert app.state == S.REJECTED and app.case_file.state == CaseFileState.CLOSED


def test_withdraw_by_the_applicant(world: Any, pdf_bytes: Any) -> None:
    app = _app(world, pdf_bytes)
    report = services.application_request_report(actor=world.dom, application=app, unit_id=world.units["AJ"].pk,
                                                 question="¿Procede el permiso según el plan regulador?")
    app = services.application_withdraw(actor=citizen(world), application=app, reason="Ya no haré la obra.")
    assert app.state == S.WITHDRAWN and app.closed_at is not None
    assert ReportRequest.objects.get(pk=report.pk).status == ReportStatus.CANCELLED
    cf = CaseFile.objects.get(pk=app.case_file_id)
    assert cf.state == CaseFileState.CLOSED and cf.closed_by is None
    assert app.resolution_entry.document_type == DocumentType.DECLARACION


def test_drafts_cannot_take_stage_actions(world: Any, pdf_bytes: Any) -> None:
    definition = make_definition(world)
    draft = services.application_save_draft(actor=citizen(world), definition=definition, data={}, files={})
    with pytest.raises(services.ConflictError):
        services.application_withdraw(actor=draft.applicant, application=draft)
    with pytest.raises(services.ConflictError):
        services.application_abandon(application=draft)
    # Another citizen cannot edit or discard it.
    with pytest.raises(PermissionDenied):
        services.application_save_draft(actor=other_citizen(world), definition=definition, application=draft,
                                        data={}, files={})
    with pytest.raises(PermissionDenied):
        services.application_discard_draft(actor=other_citizen(world), application=draft)
