"""Reads of expedientes, always limited to what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from folio.accounts.models import RoleCode
from folio.audit.models import AuditEvent
from folio.case_files import permissions as perms
from folio.case_files.models import (
    ActorRelation,
    CaseFile,
    CaseFileCustody,
    CaseFileLink,
    IndexEntry,
    Party,
)
from folio.registry.models import AccessLevel

OBJECT_TYPE = "case_files.casefile"
ACCESS_ACTIONS = ("case_file.access", "case_file.denied")


def _is_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id)


def case_files_visible_to(user: Any) -> QuerySet[CaseFile]:
    """Public expedientes of the user's organization; restricted, secret and reserved ones only for the
    responsible unit, the units that held them, the Oficina de Partes and admins. Auditors read the
    metadata of all of them (document contents stay restricted, see ``index_entries_for``)."""
    if not _is_staff(user):
        return CaseFile.objects.none()
    qs = CaseFile.objects.filter(organization_id=user.organization_id)
    if user.has_role(*perms.REGISTRARS, RoleCode.AUDITOR):
        return qs
    units = perms.user_unit_ids(user)
    held = CaseFileCustody.objects.filter(case_file=OuterRef("pk"), unit_id__in=units)
    return qs.filter(Q(access_level=AccessLevel.PUBLIC) | Q(unit_id__in=units) | Exists(held))


def case_file_get(user: Any, pk: int) -> CaseFile | None:
    """Fetch-and-authorise in one step: None (a 404 for the caller) when it does not exist *or* the user
    may not see it, so ids of other organizations reveal nothing."""
    return (
        case_files_visible_to(user)
        .select_related("organization", "unit", "opened_by", "closed_by", "origin_registration", "accumulated_into")
        .prefetch_related("parties", "custody__unit", "custody__assigned_by")
        .filter(pk=pk)
        .first()
    )


@dataclass
class CaseFileFilters:
    q: str = ""
    state: str = ""
    unit_id: int | None = None
    mine: bool = False


def case_file_search(user: Any, filters: CaseFileFilters) -> QuerySet[CaseFile]:
    qs = case_files_visible_to(user)
    if filters.q.strip():
        q = filters.q.strip()
        qs = qs.filter(Q(iuie__iexact=q) | Q(title__icontains=q) | Q(subject__icontains=q)
                       | Q(parties__name__icontains=q)).distinct()
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.unit_id:
        qs = qs.filter(unit_id=filters.unit_id)
    if filters.mine:
        qs = qs.filter(unit_id__in=perms.user_unit_ids(user))
    return qs.select_related("unit").order_by("-id")


def held_unit_ids(case_file: CaseFile) -> set[int]:
    return set(CaseFileCustody.objects.filter(case_file=case_file).values_list("unit_id", flat=True))


@dataclass
class EntryView:
    """An index entry as one user sees it: ``redacted`` hides its description (the foliation stays
    visible, so gaps never appear); ``can_open`` allows reading the content."""

    entry: IndexEntry
    can_open: bool
    redacted: bool

    @property
    def is_restricted(self) -> bool:
        return self.entry.access_level != AccessLevel.PUBLIC or self.entry.sensitive_data


def _entry_view(user: Any, entry: IndexEntry, privileged: bool, auditor: bool) -> EntryView:
    open_to_all = entry.access_level == AccessLevel.PUBLIC and not entry.sensitive_data
    if privileged:
        return EntryView(entry, can_open=entry.nested_case_file_id is None, redacted=False)
    if auditor:
        return EntryView(entry, can_open=open_to_all and entry.nested_case_file_id is None, redacted=False)
    return EntryView(entry, can_open=open_to_all and entry.nested_case_file_id is None, redacted=not open_to_all)


def _reader_flags(user: Any, case_file: CaseFile) -> tuple[bool, bool]:
    privileged = perms.is_privileged_reader(user, case_file, held_unit_ids(case_file))
    auditor = perms.is_staff_of(user, case_file.organization_id) and user.has_role(RoleCode.AUDITOR)
    return privileged, auditor


def sees_restricted_metadata(user: Any, case_file: CaseFile) -> bool:
    """Whether titles and descriptions of non-public documents are shown to ``user`` (privileged readers
    and auditors); everyone else sees them redacted."""
    privileged, auditor = _reader_flags(user, case_file)
    return privileged or auditor


def index_entries_for(user: Any, case_file: CaseFile) -> list[EntryView]:
    """The whole index in order, with per-document restrictions applied for ``user`` (who must already be
    allowed to see ``case_file``, i.e. it came from ``case_file_get``)."""
    privileged, auditor = _reader_flags(user, case_file)
    entries = (IndexEntry.objects.filter(case_file=case_file)
               .select_related("file", "source_registration", "nested_case_file", "version_of", "incorporated_by")
               .order_by("position"))
    return [_entry_view(user, e, privileged, auditor) for e in entries]


def index_entry_get(user: Any, case_file: CaseFile, entry_id: int) -> EntryView | None:
    entry = (IndexEntry.objects.filter(case_file=case_file, pk=entry_id)
             .select_related("file", "case_file", "nested_case_file").first())
    if entry is None:
        return None
    privileged, auditor = _reader_flags(user, case_file)
    return _entry_view(user, entry, privileged, auditor)


def all_entries(case_file: CaseFile) -> list[IndexEntry]:
    """Every entry, unfiltered: for the index hash and internal checks only, never for display."""
    return list(IndexEntry.objects.filter(case_file=case_file).select_related("version_of", "nested_case_file")
                .order_by("position"))


def case_file_links(case_file: CaseFile) -> list[tuple[str, CaseFile, CaseFileLink]]:
    """Links in both directions as (direction, other expediente, link)."""
    out: list[tuple[str, CaseFile, CaseFileLink]] = []
    for link in CaseFileLink.objects.filter(from_case_file=case_file).select_related("to_case_file"):
        out.append(("out", link.to_case_file, link))
    for link in CaseFileLink.objects.filter(to_case_file=case_file).select_related("from_case_file"):
        out.append(("in", link.from_case_file, link))
    return out


def case_file_timeline(case_file: CaseFile) -> QuerySet[AuditEvent]:
    """What happened to the expediente (changes and refusals; reads are in the access log)."""
    return (AuditEvent.objects.filter(object_type=OBJECT_TYPE, object_id=str(case_file.pk),
                                      organization_id=case_file.organization_id)
            .exclude(action__in=ACCESS_ACTIONS).order_by("seq"))


def case_file_access_log(user: Any, case_file: CaseFile) -> QuerySet[AuditEvent] | None:
    """Who accessed what (DS 10 arts. 19, 37), including refused attempts. None when ``user`` may not read it:
    auditors, admins and the responsible unit may."""
    if not perms.can_read_access_log(user, case_file):
        return None
    return (AuditEvent.objects.filter(object_type=OBJECT_TYPE, object_id=str(case_file.pk),
                                      organization_id=case_file.organization_id, action__in=ACCESS_ACTIONS)
            .order_by("seq"))


def index_is_intact(case_file: CaseFile) -> bool:
    """For a closed expediente: the recorded index hash still matches the index."""
    from folio.case_files.exports import index_hash

    if not case_file.index_hash:
        return True
    return index_hash(case_file, all_entries(case_file)) == case_file.index_hash


# --- citizen portal ---------------------------------------------------------------------------------

def case_files_for_citizen(run_number: int | None) -> QuerySet[CaseFile]:
    """Expedientes (of any municipality) in which the citizen is an interested party. Their documents must
    be read through ``index_entries_for_citizen``."""
    if not run_number:
        return CaseFile.objects.none()
    interested = Party.objects.filter(case_file=OuterRef("pk"), rut_number=run_number,
                                      relation=ActorRelation.INTERESTED)
    return CaseFile.objects.filter(Exists(interested)).select_related("organization", "unit").order_by("-id")


def case_file_for_citizen(run_number: int | None, pk: int) -> CaseFile | None:
    return case_files_for_citizen(run_number).filter(pk=pk).first()


def index_entries_for_citizen(case_file: CaseFile, run_number: int | None) -> QuerySet[IndexEntry]:
    """Only public documents without sensitive data, and the citizen's own documents."""
    own = Q(owner_rut_number=run_number) if run_number else Q(pk__in=[])
    return (IndexEntry.objects.filter(case_file=case_file)
            .filter(Q(access_level=AccessLevel.PUBLIC, sensitive_data=False) | own)
            .select_related("file").order_by("position"))
