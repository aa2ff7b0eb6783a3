"""The DOM official opens an expediente for a citizen's request that came through the Oficina de Partes,
incorporates more documents, transfers it to Asesoría Jurídica, which closes it; an auditor reads the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from folio.audit.models import AuditEvent
from folio.audit.selectors import verify_chains
from folio.case_files import exports, selectors, services
from folio.case_files.models import (
    ActorRelation,
    CaseFileState,
    EntrySource,
    IndexEntry,
)
from folio.registry.models import AccessLevel, DocumentType


def test_dom_opens_incorporates_transfers_and_legal_closes(
    world: Any, citizen_request: Any, pdf_bytes: Callable[..., bytes]
) -> None:
    cf = services.case_file_open(
        actor=world.dom, registration_id=citizen_request.pk,
        data=services.CaseFileInput(procedure_code="CPAT-8106-012", procedure_name="Permiso de edificación"),
    )
    assert cf.iuie.startswith("EXP-") and cf.iuie.endswith("-000001")
    assert cf.title == citizen_request.subject
    assert cf.unit == world.units["DOM"]
    assert cf.state == CaseFileState.OPEN
    # The request and its attachment (not the receipt) are the first entries, foliated 1-2 and 3-5.
    entries = list(cf.entries.order_by("position"))
    assert [(e.position, e.first_page, e.last_page) for e in entries] == [(1, 1, 2), (2, 3, 5)]
    assert all(e.source == EntrySource.REGISTRATION and e.source_registration_id == citizen_request.pk
               for e in entries)
    assert entries[0].owner_rut_number == 12345678
    interested = cf.parties.get(relation=ActorRelation.INTERESTED)
    assert interested.rut == "12.345.678-5"
    assert cf.parties.filter(relation=ActorRelation.RESPONSIBLE, name=world.dom.display_name).exists()

    report = services.incorporate_upload(
        actor=world.dom, case_file=cf, name="informe.pdf", data=pdf_bytes("Informe técnico DOM", 4),
        entry=services.EntryInput(title="Informe técnico", document_type=DocumentType.INFORME, keywords="informe"),
    )
    paper = services.incorporate_paper_item(actor=world.dom, case_file=cf, entry=services.EntryInput(
        title="Planos originales en papel", document_type=DocumentType.ANTECEDENTE, description="Rollo de planos",
        physical_location="Archivo DOM, estante 4", pages=6))
    cf.refresh_from_db()
    assert cf.state == CaseFileState.IN_PROGRESS
    assert (report.position, report.first_page, report.last_page) == (3, 6, 9)
    assert (paper.position, paper.first_page, paper.last_page, paper.file_id) == (4, 10, 15, None)

    services.case_file_transfer(actor=world.dom, case_file=cf, to_unit_id=world.units["AJ"].pk,
                                note="Para informe jurídico")
    cf.refresh_from_db()
    assert cf.unit == world.units["AJ"]
    # The DOM held it, so it still reads it; it can no longer manage it.
    assert selectors.case_file_get(world.dom, cf.pk) is not None
    opinion = services.incorporate_upload(
        actor=world.legal, case_file=cf, name="dictamen.pdf", data=pdf_bytes("Dictamen jurídico"),
        entry=services.EntryInput(title="Dictamen", document_type=DocumentType.DICTAMEN,
                                  access_level=AccessLevel.RESTRICTED))
    closed = services.case_file_close(actor=world.legal, case_file=cf, note="Se otorga el permiso")
    assert closed.state == CaseFileState.CLOSED
    assert len(closed.index_hash) == 64
    assert closed.index_hash == exports.index_hash(closed, selectors.all_entries(closed))
    assert selectors.index_is_intact(closed)
    close_event = AuditEvent.objects.get(object_id=str(cf.pk), action="case_file.close")
    assert close_event.data["index_hash"] == closed.index_hash
    assert close_event.data["folios"] == opinion.last_page == 16

    # The DIDECO official sees the public expediente but not the restricted opinion.
    views = {v.entry.pk: v for v in selectors.index_entries_for(world.dideco, closed)}
    assert views[opinion.pk].redacted and not views[opinion.pk].can_open
    assert views[report.pk].can_open
    # Access to the restricted opinion by the legal official is logged; the auditor reads the log.
    services.case_file_access_record(actor=world.legal, case_file=closed, entry=opinion, what="download")
    services.case_file_access_record(actor=world.dom, case_file=closed, entry=report, what="download")  # public
    log = selectors.case_file_access_log(world.auditor, closed)
    assert log is not None
    assert [(e.actor_id, e.data["position"]) for e in log] == [(world.legal.pk, opinion.position)]
    assert selectors.case_file_access_log(world.dideco, closed) is None
    # The auditor reads metadata of every entry but cannot open restricted content.
    auditor_views = {v.entry.pk: v for v in selectors.index_entries_for(world.auditor, closed)}
    assert not auditor_views[opinion.pk].redacted and not auditor_views[opinion.pk].can_open
    assert [e.action for e in selectors.case_file_timeline(closed)] == [
        "case_file.open", "case_file.incorporate", "case_file.incorporate", "case_file.incorporate",
        "case_file.transfer", "case_file.incorporate", "case_file.close"]
    assert verify_chains()[1] == []


def test_citizen_selector_shows_public_and_own_documents(world: Any, citizen_request: Any,
                                                          pdf_bytes: Callable[..., bytes]) -> None:
    cf = services.case_file_open(actor=world.dom, registration_id=citizen_request.pk, data=services.CaseFileInput())
    secret = services.incorporate_upload(
        actor=world.dom, case_file=cf, name="antecedentes.pdf", data=pdf_bytes("Antecedentes"),
        entry=services.EntryInput(title="Antecedentes de terceros", document_type=DocumentType.ANTECEDENTE,
                                  sensitive_data=True))
    assert list(selectors.case_files_for_citizen(12345678)) == [cf]
    assert list(selectors.case_files_for_citizen(9876543)) == []
    assert list(selectors.case_files_for_citizen(None)) == []
    visible = list(selectors.index_entries_for_citizen(cf, 12345678))
    assert secret not in visible
    assert [e.position for e in visible] == [1, 2]
    # Another person's view: only public documents without sensitive data (the request is public too).
    assert secret not in list(selectors.index_entries_for_citizen(cf, 9876543))


def test_opening_from_scratch_and_generic_incorporation(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    cf = services.case_file_open(actor=world.dideco, data=services.CaseFileInput(
        title="Ayuda social emergencia habitacional", subject="Ayuda social", access_level=AccessLevel.RESTRICTED,
        sensitive_data=True, parties=[services.PartyInput(name="Rosa Sáez", rut="9.876.543-3")]))
    assert cf.unit == world.units["DIDECO"] and cf.entries.count() == 0
    entry = services.incorporate_document(
        case_file=cf, data=pdf_bytes("Notificación"), name="notificacion.pdf", source_reference="notifications:1",
        entry=services.EntryInput(title="Notificación", document_type=DocumentType.NOTIFICACION))
    assert entry.source == EntrySource.SERVICE and entry.incorporated_by is None
    assert entry.access_level == AccessLevel.RESTRICTED
    second = services.incorporate_upload(
        actor=world.dideco, case_file=cf, name="v2.pdf", data=pdf_bytes("Notificación corregida"),
        entry=services.EntryInput(title="Notificación (corregida)", document_type=DocumentType.NOTIFICACION,
                                  version_of_id=entry.pk))
    assert second.version_of == entry and second.doc_version == 2
    assert IndexEntry.objects.filter(case_file=cf).count() == 2
    # Restricted: the DOM does not see it at all; the Oficina de Partes does.
    assert selectors.case_file_get(world.dom, cf.pk) is None
    assert selectors.case_file_get(world.clerk, cf.pk) is not None
    assert selectors.case_file_get(world.auditor, cf.pk) is not None
    assert selectors.case_file_get(world.other_clerk, cf.pk) is None


def test_demo_expedientes(db: Any) -> None:
    from folio.case_files.models import CaseFile
    from folio.core import demo

    demo.load(registrations=40)
    # The demo's online applications open expedientes of their own; these are the three built by hand.
    lota = CaseFile.objects.filter(organization__slug="lota", application__isnull=True)
    states = sorted(lota.values_list("state", flat=True))
    assert states == ["closed", "in_progress", "suspended"]
    assert all(selectors.index_is_intact(cf) for cf in lota)
    demo.load(registrations=40)  # idempotent
    assert lota.count() == 3
