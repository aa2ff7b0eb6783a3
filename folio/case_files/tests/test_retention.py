"""Retention schedule and final disposition: the rules per role, what is due, approval, transfer, elimination
(bytes gone, record kept), phase moves, refusals and the second municipality."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from folio.accounts.models import RoleCode
from folio.audit.models import AuditEvent
from folio.case_files import retention, selectors, services
from folio.case_files import retention_selectors as rsel
from folio.case_files.models import (
    ArchivalPhase,
    CaseFile,
    CaseFileState,
    DispositionItem,
    DispositionRecord,
    DispositionStatus,
    IndexEntry,
    RetentionRule,
)
from folio.files.models import StoredFile
from folio.registry.models import DocumentType
from folio.verification.models import VerificationRecord


@pytest.fixture
def other_admin(world: Any) -> Any:
    from folio.core import demo

    return demo.ensure_user(world.coronel, "admin.coronel", "Carla", "Ibáñez", "TI", [RoleCode.ADMIN], "Admin")


def _rule(world: Any, code: str = "DOM-PE", active: int = 2, semi: int = 3, disposition: str = "eliminate",
          actor: Any = None) -> RetentionRule:
    return retention.retention_rule_create(actor=actor or world.admin, data=retention.RetentionRuleInput(
        series_code=code, name=f"Serie {code}", active_years=active, semi_active_years=semi,
        disposition=disposition, legal_basis="Decreto Alcaldicio 100/2026, tabla de retención"))


def _closed(world: Any, pdf: Callable[..., bytes], *, series: str = "DOM-PE", years_ago: float = 10,
            registration_id: int | None = None, docs: int = 1) -> CaseFile:
    cf = services.case_file_open(actor=world.dom, registration_id=registration_id, data=services.CaseFileInput(
        title="Permiso de obra menor", subject="Permiso", series_code=series))
    for i in range(docs):
        services.incorporate_upload(actor=world.dom, case_file=cf, name=f"doc{i}.pdf", data=pdf(f"Informe {i}"),
                                    entry=services.EntryInput(title=f"Informe {i}", document_type=DocumentType.INFORME))
    services.case_file_close(actor=world.dom, case_file=cf, note="Resuelto")
    CaseFile.objects.filter(pk=cf.pk).update(closed_at=timezone.now() - dt.timedelta(days=int(365.25 * years_ago)))
    return CaseFile.objects.get(pk=cf.pk)


def _approve(world: Any, ids: list[int], action: str = "eliminate", actor: Any = None) -> DispositionRecord:
    return retention.disposition_approve(actor=actor or world.admin, action=action, case_file_ids=ids,
                                         act_number="D.A. 1234 de 15-03-2026", reason="Plazo de retención cumplido")


def _files(cf: CaseFile) -> list[StoredFile]:
    return [e.file for e in IndexEntry.objects.filter(case_file=cf).select_related("file") if e.file]


# --- the schedule ----------------------------------------------------------------------------------------

def test_only_the_administrator_changes_the_schedule(world: Any) -> None:
    rule = _rule(world)
    assert rule.organization_id == world.lota.pk and rule.total_years == 5
    assert AuditEvent.objects.filter(action="retention_rule.create", object_id=str(rule.pk)).count() == 1
    for user in (world.clerk, world.dom, world.dom_head, world.legal, world.auditor, world.ctd, world.other_clerk):
        with pytest.raises(PermissionDenied):
            _rule(world, code="X-1", actor=user)
        assert AuditEvent.objects.filter(action="retention.denied", actor_id=user.pk).count() == 1
    assert RetentionRule.objects.count() == 1
    # everyone of the staff reads it; the other municipality sees none of it
    assert list(rsel.retention_rules_for(world.dom)) == [rule]
    assert list(rsel.retention_rules_for(world.auditor)) == [rule]
    assert rsel.retention_rule_get(world.other_clerk, rule.pk) is None
    assert list(rsel.retention_rules_for(world.other_clerk)) == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"series_code": ""}, "series_code"),
    ({"series_code": "DOM PE"}, "series_code"),
    ({"name": " "}, "name"),
    ({"active_years": -1}, "active_years"),
    ({"semi_active_years": 1000}, "semi_active_years"),
    ({"active_years": None}, "active_years"),
    ({"disposition": "burn"}, "disposition"),
    ({"legal_basis": "ley"}, "legal_basis"),
])
def test_bad_rules_are_refused(world: Any, changes: dict[str, Any], field: str) -> None:
    data = {"series_code": "DOM-PE", "name": "Permisos", "active_years": 2, "semi_active_years": 3,
            "disposition": "eliminate", "legal_basis": "Decreto 100/2026", **changes}
    with pytest.raises(ValidationError) as exc:
        retention.retention_rule_create(actor=world.admin, data=retention.RetentionRuleInput(**data))
    assert field in exc.value.message_dict
    assert not RetentionRule.objects.exists()


def test_rule_update_duplicates_and_other_organization(world: Any, other_admin: Any) -> None:
    rule = _rule(world)
    with pytest.raises(ValidationError, match=r"ya tiene|already"):
        _rule(world)
    data = retention.RetentionRuleInput(series_code="DOM-PE", name="Permisos de edificación", active_years=3,
                                        semi_active_years=7, disposition="transfer", legal_basis="D.A. 200/2026")
    updated = retention.retention_rule_update(actor=world.admin, rule=rule, data=data, expected_version=1)
    assert (updated.active_years, updated.disposition, updated.version) == (3, "transfer", 2)
    event = AuditEvent.objects.get(action="retention_rule.update")
    assert event.data["changed"]["active_years"] == [2, 3]
    with pytest.raises(services.ConflictError):  # stale version
        retention.retention_rule_update(actor=world.admin, rule=rule, data=data, expected_version=1)
    with pytest.raises(ValidationError):  # the series code stays
        retention.retention_rule_update(actor=world.admin, rule=rule, data=retention.RetentionRuleInput(
            **{**data.__dict__, "series_code": "OTRA"}))
    with pytest.raises(PermissionDenied):  # another organization's administrator
        retention.retention_rule_update(actor=other_admin, rule=rule, data=data)
    # the same series code is free in the other municipality
    assert _rule(world, actor=other_admin).organization_id == world.coronel.pk


# --- what is due --------------------------------------------------------------------------------------------

def test_due_list(world: Any, pdf_bytes: Callable[..., bytes], other_admin: Any) -> None:
    _rule(world, "DOM-PE", 2, 3, "eliminate")
    _rule(world, "DOM-HIST", 2, 3, "keep")
    due = _closed(world, pdf_bytes, years_ago=6)
    recent = _closed(world, pdf_bytes, years_ago=4)
    kept = _closed(world, pdf_bytes, series="DOM-HIST", years_ago=30)
    no_rule = _closed(world, pdf_bytes, series="SIN-REGLA", years_ago=30)
    still_open = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title="Abierto", subject="Abierto", series_code="DOM-PE"))
    CaseFile.objects.filter(pk=still_open.pk).update(created_at=timezone.now() - dt.timedelta(days=4000))
    listed = rsel.due_for_disposition(world.admin)
    assert listed is not None and [cf.pk for cf in listed] == [due.pk]
    assert listed[0].entry_count == 1
    assert [cf.pk for cf in rsel.due_for_disposition(world.auditor) or []] == [due.pk]
    assert rsel.without_rule_count(world.admin) == 1
    for user in (world.dom, world.clerk, world.dom_head, world.ctd):
        assert rsel.due_for_disposition(user) is None
    assert list(rsel.due_for_disposition(other_admin) or []) == []
    rows = rsel.due_rows(listed, rsel.rules_by_series(world.lota.pk), world.lota)
    assert rows[0].due_on == rsel.add_years(rows[0].closed_on, 5) and rows[0].action == "eliminate"
    assert {recent.pk, kept.pk, no_rule.pk}.isdisjoint({cf.pk for cf in listed})


def test_year_arithmetic_is_consistent_on_29_february() -> None:
    leap = dt.date(2024, 2, 29)
    assert rsel.add_years(leap, 1) == dt.date(2025, 3, 1)
    assert rsel.subtract_years(dt.date(2028, 2, 29), 1) == dt.date(2027, 2, 28)
    for closed in (leap, dt.date(2023, 2, 28), dt.date(2023, 3, 1)):
        for today in (dt.date(2025, 2, 28), dt.date(2025, 3, 1), dt.date(2028, 2, 29)):
            for n in (1, 2, 4):
                assert (rsel.add_years(closed, n) <= today) == (closed <= rsel.subtract_years(today, n))


# --- approval -----------------------------------------------------------------------------------------------

def test_approval_archives_and_records(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    _rule(world)
    cf = _closed(world, pdf_bytes, years_ago=6, docs=2)
    record = _approve(world, [cf.pk])
    cf.refresh_from_db()
    assert record.status == DispositionStatus.APPROVED and record.approved_by_id == world.admin.pk
    assert record.approved_at.tzinfo is not None
    assert (cf.state, cf.archival_phase) == (CaseFileState.ARCHIVED, ArchivalPhase.SEMI_ACTIVE)
    item = DispositionItem.objects.get(record=record)
    assert (item.iuie, item.entries, item.index_hash) == (cf.iuie, 2, cf.index_hash)
    assert item.rule["disposition"] == "eliminate" and item.rule["active_years"] == 2
    assert AuditEvent.objects.filter(action="disposition.approve", object_id=str(record.pk)).count() == 1
    timeline = [e.action for e in selectors.case_file_timeline(cf)]
    assert timeline[-1] == "case_file.disposition_approved"
    assert not rsel.due_for_disposition(world.admin)  # no longer listed as due
    # nothing removed yet
    assert all(default_storage.exists(f.storage_name) for f in _files(cf))


def test_approval_refusals_change_nothing(world: Any, pdf_bytes: Callable[..., bytes], other_admin: Any) -> None:
    _rule(world, "DOM-PE", 2, 3, "eliminate")
    _rule(world, "DOM-AN", 2, 3, "transfer")
    _rule(world, "DOM-HIST", 2, 3, "keep")
    due = _closed(world, pdf_bytes, years_ago=6)
    recent = _closed(world, pdf_bytes, years_ago=1)
    to_transfer = _closed(world, pdf_bytes, series="DOM-AN", years_ago=6)
    kept = _closed(world, pdf_bytes, series="DOM-HIST", years_ago=30)
    no_rule = _closed(world, pdf_bytes, series="", years_ago=30)
    open_cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title="Abierto", subject="Abierto", series_code="DOM-PE"))
    record = _approve(world, [due.pk])

    def snapshot() -> tuple[Any, ...]:
        return (DispositionRecord.objects.count(), DispositionItem.objects.count(),
                sorted(CaseFile.objects.values_list("pk", "state", "archival_phase", "version")))

    before = snapshot()
    cases: list[tuple[list[int], str, type[Exception], str]] = [
        ([due.pk], "eliminate", services.ConflictError, r"ya está|already"),  # approving twice
        ([recent.pk], "eliminate", services.ConflictError, recent.iuie),  # not yet due
        ([open_cf.pk], "eliminate", services.ConflictError, open_cf.iuie),  # an open expediente
        ([to_transfer.pk], "eliminate", services.ConflictError, to_transfer.iuie),  # the schedule says transfer
        ([kept.pk], "transfer", services.ConflictError, kept.iuie),  # kept permanently
        ([no_rule.pk], "eliminate", services.ConflictError, no_rule.iuie),  # no rule
        ([recent.pk, 999999], "eliminate", ValidationError, "999999"),  # does not exist
        ([], "eliminate", ValidationError, ""),
        ([due.pk], "burn", ValidationError, ""),
    ]
    for ids, action, error, match in cases:
        with pytest.raises(error, match=match or None):
            _approve(world, ids, action)
        assert snapshot() == before
    # an open expediente in the same list as a due one: nothing at all is approved
    due2 = _closed(world, pdf_bytes, years_ago=7)
    before = snapshot()
    with pytest.raises(services.ConflictError):
        _approve(world, [due2.pk, open_cf.pk])
    assert snapshot() == before
    refused = AuditEvent.objects.filter(action="retention.refused", organization_id=world.lota.pk)
    assert refused.count() == 7
    # roles other than the administrator, and the other municipality's administrator
    for user in (world.auditor, world.dom, world.clerk, world.dom_head, world.ctd):
        with pytest.raises(PermissionDenied):
            _approve(world, [due2.pk], actor=user)
    with pytest.raises(ValidationError):  # Lota's ids do not exist for Coronel
        _approve(world, [due2.pk], actor=other_admin)
    with pytest.raises(PermissionDenied):
        retention.disposition_execute(actor=other_admin, record=record)
    with pytest.raises(PermissionDenied):
        retention.disposition_execute(actor=world.auditor, record=record)
    assert snapshot() == before


def test_accumulated_expedientes_go_with_the_one_that_holds_them(world: Any,
                                                                 pdf_bytes: Callable[..., bytes]) -> None:
    _rule(world)
    parent = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title="Principal", subject="Principal", series_code="DOM-PE"))
    child = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title="Acumulado", subject="Acumulado", series_code="DOM-PE"))
    for cf in (parent, child):
        services.incorporate_upload(actor=world.dom, case_file=cf, name="d.pdf", data=pdf_bytes(cf.title),
                                    entry=services.EntryInput(title=cf.title, document_type=DocumentType.INFORME))
    services.case_file_accumulate(actor=world.dom, case_file=parent, other_id=child.pk)
    services.case_file_close(actor=world.dom, case_file=parent)
    old = timezone.now() - dt.timedelta(days=3000)
    CaseFile.objects.filter(pk__in=[parent.pk, child.pk]).update(closed_at=old)
    assert [c.pk for c in rsel.due_for_disposition(world.admin) or []] == [parent.pk]
    with pytest.raises(services.ConflictError):
        _approve(world, [child.pk])
    record = _approve(world, [parent.pk])
    items = list(DispositionItem.objects.filter(record=record).order_by("id"))
    assert [i.case_file_id for i in items] == [parent.pk, child.pk] and items[1].carried_by_id == items[0].pk
    retention.disposition_execute(actor=world.admin, record=record)
    assert set(CaseFile.objects.filter(pk__in=[parent.pk, child.pk]).values_list("state", flat=True)) == {
        CaseFileState.ELIMINATED}


# --- carrying it out -----------------------------------------------------------------------------------------

def test_transfer(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    _rule(world, disposition="transfer")
    cf = _closed(world, pdf_bytes, years_ago=6)
    record = _approve(world, [cf.pk], "transfer")
    done = retention.disposition_execute(actor=world.admin, record=record, note="Acta AN 55/2026",
                                         expected_version=record.version)
    cf.refresh_from_db()
    assert done.status == DispositionStatus.EXECUTED and done.executed_by_id == world.admin.pk
    assert (cf.state, cf.archival_phase) == (CaseFileState.TRANSFERRED, ArchivalPhase.HISTORIC)
    assert all(default_storage.exists(f.storage_name) for f in _files(cf))  # the bytes stay
    assert AuditEvent.objects.filter(action="case_file.transferred", object_id=str(cf.pk)).count() == 1
    before = (cf.state, cf.version, DispositionRecord.objects.get(pk=record.pk).version)
    with pytest.raises(services.ConflictError):  # carrying it out twice
        retention.disposition_execute(actor=world.admin, record=record)
    with pytest.raises(services.ConflictError):  # nothing leads out of transferred
        services.case_file_reopen(actor=world.dom, case_file=cf, reason="Recurso extraordinario")
    with pytest.raises(services.ConflictError):
        services.incorporate_upload(actor=world.dom, case_file=cf, name="x.pdf", data=pdf_bytes(),
                                    entry=services.EntryInput(title="X", document_type=DocumentType.INFORME))
    cf.refresh_from_db()
    assert (cf.state, cf.version, DispositionRecord.objects.get(pk=record.pk).version) == before


def test_elimination_removes_bytes_and_keeps_the_record(world: Any, pdf_bytes: Callable[..., bytes],
                                                        citizen_request: Any,
                                                        django_capture_on_commit_callbacks: Any) -> None:
    _rule(world)
    cf = _closed(world, pdf_bytes, years_ago=6, registration_id=citizen_request.pk, docs=2)
    entries = list(IndexEntry.objects.filter(case_file=cf).select_related("file").order_by("position"))
    shared = [e.file for e in entries if e.source == "registration"]
    own = [e.file for e in entries if e.source == "upload"]
    assert len(shared) == 2 and len(own) == 2
    vr = VerificationRecord.objects.create(code="TEST-CODE-0001", organization=world.lota, kind="authorized_copy",
                                           title="Copia", object_type="case_files.casefile", object_id=str(cf.pk),
                                           public_original=own[0], issued_at=timezone.now())
    # an authorized copy of one of its documents: its PDF goes with the expediente, its code is revoked
    from folio.case_files import copies

    copy = copies.request_copy(actor=world.dom, case_file=selectors.case_file_get(world.dom, cf.pk),
                               entry=entries[-1])
    assert copy.file is not None and copy.verification is not None
    index_before = [(e.position, e.sha256, e.first_page, e.last_page) for e in entries]
    record = _approve(world, [cf.pk])
    with django_capture_on_commit_callbacks(execute=True):
        retention.disposition_execute(actor=world.admin, record=record, note="Acta de eliminación 3/2026")
    cf.refresh_from_db()
    assert cf.state == CaseFileState.ELIMINATED
    for f in own:
        f.refresh_from_db()
        assert f.purged_at is not None and "D.A. 1234" in f.purge_reference and f.sha256 and f.size
        assert not default_storage.exists(f.storage_name)
    for f in shared:  # they also belong to the registration of the Oficina de Partes
        f.refresh_from_db()
        assert f.purged_at is None and default_storage.exists(f.storage_name)
    item = DispositionItem.objects.get(record=record)
    assert item.files_removed == 3 and item.bytes_removed == sum(f.size for f in own) + copy.file.size
    assert len(item.files_kept) == 2 and item.files_kept[0]["kept_because"] == ["registry.registrationdocument"]
    # the index, its hashes and the closing hash are untouched: the record of what existed
    after = [(e.position, e.sha256, e.first_page, e.last_page)
             for e in IndexEntry.objects.filter(case_file=cf).order_by("position")]
    assert after == index_before and selectors.index_is_intact(cf)
    vr.refresh_from_db()
    assert vr.revoked_at is not None and "D.A. 1234" in vr.revoked_reason
    copy.file.refresh_from_db()
    copy.verification.refresh_from_db()
    assert copy.file.purged_at is not None and not default_storage.exists(copy.file.storage_name)
    assert copy.verification.revoked_at is not None
    event = AuditEvent.objects.get(action="case_file.eliminated", object_id=str(cf.pk))
    assert event.data["files_removed"] == 3 and event.data["index_hash"] == cf.index_hash
    call_command("verify_integrity")  # purged files are accounted for, not reported missing
    call_command("verify_audit")
    # no copia autorizada can be asked of what no longer exists: refused, nothing queued
    from folio.case_files.services import ConflictError

    copies_before = copies.AuthorizedCopy.objects.count()
    with pytest.raises(ConflictError):
        copies.request_copy(actor=world.dom, case_file=selectors.case_file_get(world.dom, cf.pk))
    assert copies.AuthorizedCopy.objects.count() == copies_before


def test_verify_integrity_names_bytes_left_behind(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    from django.core.management.base import CommandError

    _rule(world)
    cf = _closed(world, pdf_bytes, years_ago=6)
    record = _approve(world, [cf.pk])
    retention.disposition_execute(actor=world.admin, record=record)  # on_commit never runs in this test
    with pytest.raises(CommandError):
        call_command("verify_integrity")
    call_command("sweep_orphan_files", "--older-than-minutes", "-1")
    call_command("verify_integrity")


def test_cancel_then_approve_again(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    _rule(world)
    cf = _closed(world, pdf_bytes, years_ago=6)
    record = _approve(world, [cf.pk])
    with pytest.raises(ValidationError):
        retention.disposition_cancel(actor=world.admin, record=record, reason="no")
    with pytest.raises(PermissionDenied):
        retention.disposition_cancel(actor=world.auditor, record=record, reason="Error en el acta")
    retention.disposition_cancel(actor=world.admin, record=record, reason="Error en el acta")
    record.refresh_from_db()
    assert record.status == DispositionStatus.CANCELLED
    with pytest.raises(services.ConflictError):
        retention.disposition_execute(actor=world.admin, record=record)
    with pytest.raises(services.ConflictError):
        retention.disposition_cancel(actor=world.admin, record=record, reason="Otra vez")
    assert [c.pk for c in rsel.due_for_disposition(world.admin) or []] == [cf.pk]
    again = _approve(world, [cf.pk])
    assert again.pk != record.pk


# --- phases --------------------------------------------------------------------------------------------------

def test_phase_moves(world: Any, pdf_bytes: Callable[..., bytes], other_admin: Any) -> None:
    _rule(world, "DOM-PE", 2, 3, "eliminate")
    _rule(world, "DOM-HIST", 1, 1, "keep")
    young = _closed(world, pdf_bytes, years_ago=1)
    middle = _closed(world, pdf_bytes, years_ago=3)
    old_kept = _closed(world, pdf_bytes, series="DOM-HIST", years_ago=3)
    with pytest.raises(PermissionDenied):
        retention.retention_apply_phases(organization=world.lota, actor=world.dom)
    with pytest.raises(PermissionDenied):
        retention.retention_apply_phases(organization=world.lota, actor=other_admin)
    report = retention.retention_apply_phases(organization=world.lota, actor=world.admin)
    assert sorted(report.archived) == [middle.iuie, old_kept.iuie] and report.historic == [old_kept.iuie]
    states = {c.pk: (c.state, c.archival_phase) for c in CaseFile.objects.all()}
    assert states[young.pk] == (CaseFileState.CLOSED, ArchivalPhase.ACTIVE)
    assert states[middle.pk] == (CaseFileState.ARCHIVED, ArchivalPhase.SEMI_ACTIVE)
    assert states[old_kept.pk] == (CaseFileState.ARCHIVED, ArchivalPhase.HISTORIC)
    assert AuditEvent.objects.filter(action="case_file.phase", object_id=str(old_kept.pk)).count() == 2
    again = retention.retention_apply_phases(organization=world.lota)  # idempotent
    assert again.total == 0
    call_command("case_file_retention")
