"""Folios: one gap-free sequence per book, per municipality, per year. A request that fails takes no
number; a void keeps its number; a double submission is registered once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from folio.audit.models import AuditEvent
from folio.files.models import StoredFile
from folio.registry import services
from folio.registry.models import Counter, Registration, RegistrationStatus
from folio.registry.tests.servicehelpers import data, incoming, outgoing, state, text_doc
from folio.verification.models import VerificationRecord
from folio.verification.selectors import verification_get


def _year() -> int:
    return timezone.localdate().year


def _media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_folio_format() -> None:
    assert services.format_folio("E", 2026, 123) == "E-2026-000123"
    assert services.format_folio("S", 2026, 1) == "S-2026-000001"
    assert services.format_folio("E", 2027, 1_234_567) == "E-2027-1234567"


def test_numbers_are_sequential_per_book_and_per_municipality(world: Any) -> None:
    y = _year()
    lota = [incoming(world.clerk).folio for _ in range(3)]
    assert lota == [f"E-{y}-000001", f"E-{y}-000002", f"E-{y}-000003"]
    # The other municipality has its own book, starting at 1.
    assert incoming(world.other_clerk).folio == f"E-{y}-000001"
    # The libro de despacho has its own sequence.
    assert outgoing(world.dom).folio == f"S-{y}-000001"
    assert outgoing(world.clerk, unit_id=world.units["OP"].pk).folio == f"S-{y}-000002"
    assert incoming(world.admin).folio == f"E-{y}-000004"
    assert incoming(world.other_clerk).folio == f"E-{y}-000002"
    numbers = list(Registration.objects.filter(organization=world.lota, book="E").order_by("number")
                   .values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4]


def test_the_year_is_the_local_year_of_reception(world: Any) -> None:
    # 02:00 UTC on 1 January is still 31 December in Santiago (UTC-3 in summer).
    late = dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.UTC)
    reg = incoming(world.clerk, received_at=late)
    assert (reg.year, reg.number, reg.folio) == (2025, 1, "E-2025-000001")
    early = dt.datetime(2026, 1, 1, 4, 0, tzinfo=dt.UTC)
    assert incoming(world.clerk, received_at=early).folio == "E-2026-000001"
    assert incoming(world.clerk, received_at=late).folio == "E-2025-000002"
    assert Counter.objects.filter(organization=world.lota, book="E").count() == 2


def test_a_validation_error_takes_no_number(world: Any) -> None:
    y = _year()
    assert incoming(world.clerk).folio == f"E-{y}-000001"
    before = state()
    bad_inputs = [
        {"subject": "   "},
        {"party_rut": "12.345.678-4"},
        {"party_rut": ""},
        {"document_date": timezone.localdate() + dt.timedelta(days=3)},
        {"received_at": timezone.now() + dt.timedelta(days=1)},
        {"unit_id": world.coronel_units["DOM"].pk},
        {"mechanism": 2},  # digital without the document
        {"document_type": 999},
    ]
    for overrides in bad_inputs:
        with pytest.raises(ValidationError):
            incoming(world.clerk, **overrides)
    assert state() == before
    assert incoming(world.clerk).folio == f"E-{y}-000002"


def test_a_bad_file_takes_no_number_and_leaves_no_file(world: Any, pdf_bytes: Any) -> None:
    y = _year()
    assert incoming(world.clerk).folio == f"E-{y}-000001"
    before = state()
    for broken in (b"%PDF-1.7\nthis is not really a PDF", b"", b"\x00\x01\x02\x03binary", b"MZ\x90\x00"):
        docs = [services.UploadedDoc(name="carta.pdf", data=pdf_bytes("Carta buena")),
                services.UploadedDoc(name="anexo.pdf", data=broken)]
        with pytest.raises(ValidationError) as info:
            incoming(world.clerk, mechanism=2, documents=docs)
        assert "documents" in info.value.message_dict
        assert any("anexo.pdf" in m for m in info.value.message_dict["documents"])
    assert state() == before
    # The good file stored before the bad one was met is gone from the disk too.
    assert _media_files() == []
    reg = incoming(world.clerk, mechanism=2, documents=[text_doc()])
    assert reg.folio == f"E-{y}-000002"
    assert len(_media_files()) == 1 == StoredFile.objects.count()


def test_a_refused_user_takes_no_number(world: Any) -> None:
    y = _year()
    assert incoming(world.clerk).folio == f"E-{y}-000001"
    before = state()
    for user in (world.dom, world.dom_head, world.auditor, world.signer, world.ctd, world.citizen):
        with pytest.raises(PermissionDenied):
            incoming(user)
    with pytest.raises(PermissionDenied):
        outgoing(world.auditor, unit_id=world.units["CONTROL"].pk)
    assert state() == before
    assert incoming(world.clerk).folio == f"E-{y}-000002"


def test_void_keeps_the_number_and_reason_and_revokes_the_receipt(world: Any) -> None:
    y = _year()
    first = incoming(world.clerk)
    second = incoming(world.clerk)
    assert verification_get(second.receipt_code).revoked_at is None
    audit_before = AuditEvent.objects.count()
    voided = services.registration_void(actor=world.clerk, registration=second, reason="Ingresado por error, duplicado",
                                        expected_version=second.version)
    voided.refresh_from_db()
    assert (voided.number, voided.folio, voided.status) == (2, f"E-{y}-000002", RegistrationStatus.VOIDED)
    assert voided.void_reason == "Ingresado por error, duplicado"
    assert voided.voided_at is not None
    record = verification_get(second.receipt_code)
    assert record.revoked_at is not None
    assert record.revoked_reason == "Ingresado por error, duplicado"
    # The other receipts stay valid.
    assert verification_get(first.receipt_code).revoked_at is None
    event = AuditEvent.objects.order_by("-pk").first()
    assert AuditEvent.objects.count() == audit_before + 1
    assert (event.action, event.object_id, event.data["reason"]) == ("registration.void", str(second.pk),
                                                                      "Ingresado por error, duplicado")
    # The voided number is not given again: the book keeps it, with its reason.
    assert incoming(world.clerk).folio == f"E-{y}-000003"
    assert list(Registration.objects.filter(organization=world.lota).order_by("number")
                .values_list("number", "status")) == [(1, "registered"), (2, "voided"), (3, "registered")]


def test_void_needs_a_reason(world: Any) -> None:
    reg = incoming(world.clerk)
    before = state()
    for reason in ("", "   ", "no"):
        with pytest.raises(ValidationError):
            services.registration_void(actor=world.clerk, registration=reg, reason=reason)
    assert state() == before


def test_double_submission_is_registered_once(world: Any) -> None:
    y = _year()
    token = "f0c1a2b3-double-click"
    first = services.registration_create_incoming(actor=world.clerk, data=data(submission_token=token,
                                                                               mechanism=2, documents=[text_doc()]))
    before = state()
    # The first registration stands: the repeat either returns it or is refused naming its folio.
    again: Registration | str
    try:
        again = services.registration_create_incoming(actor=world.clerk, data=data(
            submission_token=token, mechanism=2, documents=[text_doc()]))
    except services.ConflictError as exc:
        again = exc.message
    if isinstance(again, Registration):
        assert again.pk == first.pk and again.folio == f"E-{y}-000001"
    else:
        assert first.folio in again
    assert state() == before  # no number, no file, no audit row, no receipt
    # The same token in the other municipality is another submission.
    other = services.registration_create_incoming(actor=world.other_clerk, data=data(submission_token=token))
    assert other.pk != first.pk and other.organization_id == world.coronel.pk
    assert incoming(world.clerk).folio == f"E-{y}-000002"
    assert VerificationRecord.objects.filter(object_id=str(first.pk), object_type="registry.registration").count() == 1
