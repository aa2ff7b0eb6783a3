"""Refusals and invariants: the state machine, permissions, the second municipality, the append-only index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from folio.audit.models import AuditEvent
from folio.case_files import selectors, services
from folio.case_files.models import CaseFile, CaseFileLink, CaseFileState, EntrySource, IndexEntry
from folio.registry.models import AccessLevel, DocumentType


def _open(world: Any, actor: Any = None, **kwargs: Any) -> CaseFile:
    data = services.CaseFileInput(title=kwargs.pop("title", "Permiso de obra menor"), subject="Permiso", **kwargs)
    return services.case_file_open(actor=actor or world.dom, data=data)


def _upload(world: Any, cf: CaseFile, pdf: Callable[..., bytes], actor: Any = None, **entry: Any) -> IndexEntry:
    entry.setdefault("title", "Informe")
    entry.setdefault("document_type", DocumentType.INFORME)
    return services.incorporate_upload(actor=actor or world.dom, case_file=cf, name="doc.pdf", data=pdf("texto"),
                                       entry=services.EntryInput(**entry))


def _snapshot(cf: CaseFile) -> tuple[Any, ...]:
    fresh = CaseFile.objects.get(pk=cf.pk)
    return fresh.state, fresh.version, fresh.unit_id, fresh.index_hash, IndexEntry.objects.filter(case_file=cf).count()


def test_incorporating_into_a_closed_expediente_is_refused(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = _open(world)
    _upload(world, cf, pdf_bytes)
    services.case_file_close(actor=world.dom, case_file=cf, note="Resuelto")
    before = _snapshot(cf)
    with pytest.raises(services.ConflictError, match="cerrado"):
        _upload(world, cf, pdf_bytes)
    with pytest.raises(services.ConflictError):
        services.incorporate_paper_item(actor=world.dom, case_file=cf, entry=services.EntryInput(
            title="Carpeta", document_type=3, description="Carpeta", physical_location="Archivo", pages=2))
    assert _snapshot(cf) == before
    refused = AuditEvent.objects.filter(object_id=str(cf.pk), action="case_file.refused")
    assert [e.data["attempted"] for e in refused] == ["incorporate", "incorporate"]
    assert refused[0].actor_id == world.dom.pk


@pytest.mark.parametrize(("setup", "action"), [
    ([], "resume"),
    ([], "reopen"),
    ([], "archive"),
    (["suspend"], "close"),
    (["suspend"], "transfer"),
    (["suspend"], "suspend"),
    (["close"], "suspend"),
    (["close"], "close"),
    (["close", "archive"], "reopen"),
])
def test_state_machine_refuses_invalid_transitions(world: Any, pdf_bytes: Callable[..., bytes], setup: list[str],
                                                   action: str) -> None:
    cf = _open(world)
    _upload(world, cf, pdf_bytes)
    run = {
        "suspend": lambda: services.case_file_suspend(actor=world.dom, case_file=cf, reason="Falta antecedente"),
        "resume": lambda: services.case_file_resume(actor=world.dom, case_file=cf),
        "close": lambda: services.case_file_close(actor=world.dom, case_file=cf),
        "reopen": lambda: services.case_file_reopen(actor=world.dom, case_file=cf, reason="Recurso de reposición"),
        "archive": lambda: services.case_file_archive(actor=world.dom, case_file=cf),
        "transfer": lambda: services.case_file_transfer(actor=world.dom, case_file=cf,
                                                        to_unit_id=world.units["AJ"].pk),
    }
    for step in setup:
        run[step]()
    before = _snapshot(cf)
    with pytest.raises(services.ConflictError):
        run[action]()
    assert _snapshot(cf) == before
    assert AuditEvent.objects.filter(object_id=str(cf.pk), action="case_file.refused",
                                     data__attempted=action).exists()


def test_full_cycle_suspend_resume_close_reopen_archive(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = _open(world)
    _upload(world, cf, pdf_bytes)
    assert services.case_file_suspend(actor=world.dom, case_file=cf, reason="Espera informe").state == "suspended"
    assert services.case_file_resume(actor=world.dom, case_file=cf).state == CaseFileState.IN_PROGRESS
    closed = services.case_file_close(actor=world.dom, case_file=cf)
    first_hash = closed.index_hash
    with pytest.raises(ValidationError):
        services.case_file_reopen(actor=world.dom, case_file=cf, reason="")
    reopened = services.case_file_reopen(actor=world.dom, case_file=cf, reason="Recurso de reposición acogido")
    assert reopened.state == CaseFileState.IN_PROGRESS and reopened.index_hash == ""
    event = AuditEvent.objects.get(object_id=str(cf.pk), action="case_file.reopen")
    assert event.data["previous_index_hash"] == first_hash
    _upload(world, cf, pdf_bytes, title="Resolución de reposición", document_type=DocumentType.RESOLUCION)
    closed = services.case_file_close(actor=world.dom, case_file=cf)
    assert closed.index_hash != first_hash
    archived = services.case_file_archive(actor=world.clerk, case_file=cf)
    assert (archived.state, archived.archival_phase) == (CaseFileState.ARCHIVED, "semi_active")


def test_stale_version_is_refused(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = _open(world)
    with pytest.raises(services.ConflictError):
        services.case_file_suspend(actor=world.dom, case_file=cf, reason="Espera informe",
                                   expected_version=cf.version + 5)
    assert CaseFile.objects.get(pk=cf.pk).state == CaseFileState.OPEN


def test_closing_an_empty_expediente_is_refused(world: Any) -> None:
    cf = _open(world)
    with pytest.raises(services.ConflictError):
        services.case_file_close(actor=world.dom, case_file=cf)


def test_roles_that_may_not_write(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = _open(world)
    before = _snapshot(cf)
    for actor in (world.dideco, world.auditor, world.legal):
        with pytest.raises(PermissionDenied):
            _upload(world, cf, pdf_bytes, actor=actor)
        with pytest.raises(PermissionDenied):
            services.case_file_close(actor=actor, case_file=cf)
    with pytest.raises(PermissionDenied):
        services.case_file_open(actor=world.auditor, data=services.CaseFileInput(title="x", subject="y"))
    assert AuditEvent.objects.filter(action="case_file.denied", actor_id=world.auditor.pk,
                                     data__attempted="open").exists()
    with pytest.raises(PermissionDenied):
        services.case_file_open(actor=world.citizen, data=services.CaseFileInput(title="x", subject="y"))
    assert _snapshot(cf) == before
    denied = AuditEvent.objects.filter(object_id=str(cf.pk), action="case_file.denied")
    assert {e.actor_id for e in denied} == {world.dideco.pk, world.auditor.pk, world.legal.pk}
    # The Oficina de Partes and the unit head may incorporate; the head and the admin may manage.
    _upload(world, cf, pdf_bytes, actor=world.clerk)
    _upload(world, cf, pdf_bytes, actor=world.dom_head)
    _upload(world, cf, pdf_bytes, actor=world.admin)
    assert IndexEntry.objects.filter(case_file=cf).count() == 3


def test_opening_for_another_unit(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        _open(world, unit_id=world.units["AJ"].pk)
    assert not CaseFile.objects.exists()
    assert AuditEvent.objects.filter(action="case_file.denied", actor_id=world.dom.pk,
                                     data__attempted="open").exists()
    cf = _open(world, actor=world.clerk, unit_id=world.units["AJ"].pk)
    assert cf.unit == world.units["AJ"]
    with pytest.raises(ValidationError):
        _open(world, actor=world.clerk, unit_id=world.coronel_units["AJ"].pk)


def test_second_municipality_is_isolated(world: Any, pdf_bytes: Callable[..., bytes], citizen_request: Any) -> None:
    cf = _open(world)
    theirs = services.case_file_open(actor=world.other_dom, data=services.CaseFileInput(title="Coronel", subject="x"))
    # Each organization has its own IUIe sequence: both are number one.
    assert cf.iuie == theirs.iuie
    assert selectors.case_file_get(world.other_clerk, cf.pk) is None
    assert selectors.case_file_get(world.other_dom, cf.pk) is None
    assert list(selectors.case_files_visible_to(world.other_dom)) == [theirs]
    before = _snapshot(cf)
    with pytest.raises(PermissionDenied):
        _upload(world, cf, pdf_bytes, actor=world.other_dom)
    assert _snapshot(cf) == before
    # Recorded in Coronel's own chain, not in Lota's.
    event = AuditEvent.objects.get(action="case_file.denied", actor_id=world.other_dom.pk)
    assert event.organization_id == world.coronel.pk and event.object_id == str(cf.pk)
    assert not selectors.case_file_timeline(cf).filter(actor_id=world.other_dom.pk).exists()
    # Coronel cannot open an expediente from, incorporate, link or accumulate Lota's records.
    with pytest.raises(ValidationError):
        services.case_file_open(actor=world.other_clerk, data=services.CaseFileInput(),
                                registration_id=citizen_request.pk)
    with pytest.raises(ValidationError):
        services.incorporate_registration(actor=world.other_dom, case_file=theirs, registration_id=citizen_request.pk)
    with pytest.raises(ValidationError):
        services.case_file_link(actor=world.other_dom, case_file=theirs, other_id=cf.pk)
    with pytest.raises(ValidationError):
        services.case_file_accumulate(actor=world.other_dom, case_file=theirs, other_id=cf.pk)
    assert list(selectors.case_files_for_citizen(12345678)) == []


def test_entry_validation(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = _open(world, access_level=AccessLevel.RESTRICTED)
    with pytest.raises(ValidationError) as exc:
        _upload(world, cf, pdf_bytes, access_level=AccessLevel.PUBLIC)
    assert "access_level" in exc.value.message_dict
    with pytest.raises(ValidationError):
        _upload(world, cf, pdf_bytes, title="  ")
    with pytest.raises(ValidationError):
        _upload(world, cf, pdf_bytes, document_type=99)
    with pytest.raises(ValidationError):
        services.incorporate_paper_item(actor=world.dom, case_file=cf, entry=services.EntryInput(
            title="Carpeta", document_type=3, description="", physical_location="", pages=0))
    with pytest.raises(ValidationError):
        services.incorporate_upload(actor=world.dom, case_file=cf, name="x.exe", data=b"MZ\x90\x00binary",
                                    entry=services.EntryInput(title="x", document_type=3))
    with pytest.raises(ValidationError):
        services.case_file_open(actor=world.dom, data=services.CaseFileInput(
            title="x", subject="y", parties=[services.PartyInput(name="Ana", rut="12.345.678-9")]))
    assert IndexEntry.objects.filter(case_file=cf).count() == 0
    assert CaseFile.objects.count() == 1


def test_registration_incorporated_once(world: Any, citizen_request: Any) -> None:
    cf = services.case_file_open(actor=world.dom, registration_id=citizen_request.pk, data=services.CaseFileInput())
    with pytest.raises(services.ConflictError):
        services.incorporate_registration(actor=world.dom, case_file=cf, registration_id=citizen_request.pk)
    other = _open(world)
    entries = services.incorporate_registration(actor=world.dom, case_file=other, registration_id=citizen_request.pk)
    assert [e.source for e in entries] == [EntrySource.REGISTRATION] * 2


def test_index_entries_cannot_be_changed_or_removed(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = _open(world)
    entry = _upload(world, cf, pdf_bytes)
    with pytest.raises(DatabaseError), transaction.atomic():
        IndexEntry.objects.filter(pk=entry.pk).update(title="cambiado")
    with pytest.raises(DatabaseError), transaction.atomic():
        IndexEntry.objects.filter(pk=entry.pk).delete()
    assert IndexEntry.objects.get(pk=entry.pk).title == "Informe"
    assert not hasattr(services, "incorporate_update")


def test_new_version_only_of_the_newest(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = _open(world)
    first = _upload(world, cf, pdf_bytes)
    _upload(world, cf, pdf_bytes, version_of_id=first.pk)
    with pytest.raises(services.ConflictError):
        _upload(world, cf, pdf_bytes, version_of_id=first.pk)
    other = _open(world)
    with pytest.raises(ValidationError):
        _upload(world, other, pdf_bytes, version_of_id=first.pk)


def test_link_and_accumulate(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    main = _open(world, title="Principal")
    _upload(world, main, pdf_bytes)
    related = _open(world, title="Relacionado")
    child = _open(world, title="Acumulado")
    for _ in range(2):
        _upload(world, child, pdf_bytes)
    link = services.case_file_link(actor=world.dom, case_file=main, other_id=related.pk, note="Mismo predio")
    assert link.kind == "linked"
    with pytest.raises(services.ConflictError):
        services.case_file_link(actor=world.dom, case_file=related, other_id=main.pk)
    with pytest.raises(ValidationError):
        services.case_file_link(actor=world.dom, case_file=main, other_id=main.pk)
    entry = services.case_file_accumulate(actor=world.dom, case_file=main, other_id=child.pk, note="Art. 33")
    child.refresh_from_db()
    assert child.state == CaseFileState.CLOSED and child.accumulated_into == main and len(child.index_hash) == 64
    assert entry.nested_case_file == child and entry.sha256 == child.index_hash
    assert (entry.position, entry.first_page, entry.last_page) == (2, 2, 3)
    assert CaseFileLink.objects.filter(from_case_file=main, to_case_file=child, kind="accumulated").exists()
    with pytest.raises(services.ConflictError):
        services.case_file_accumulate(actor=world.dom, case_file=related, other_id=child.pk)
    with pytest.raises(services.ConflictError):
        services.case_file_reopen(actor=world.dom, case_file=child, reason="No corresponde")
    assert {d for d, _o, _l in selectors.case_file_links(main)} == {"out"}
    assert len(selectors.case_file_links(main)) == 2
