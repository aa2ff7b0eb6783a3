"""Reads of expedientes, always limited to what the asking user may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from folio.accounts.models import RoleCode
from folio.audit.models import AuditEvent
from folio.case_files import permissions as perms
from folio.case_files.models import (
    ActorRelation,
    AuthorizedCopy,
    CaseFile,
    CaseFileCustody,
    CaseFileLink,
    IndexEntry,
    Party,
)
from folio.registry.models import AccessLevel, DocumentType

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


@dataclass(slots=True)  # thousands per request for a large expediente: no per-instance dict
class EntryView:
    """An index entry as one user sees it: ``redacted`` hides its description (the foliation stays
    visible, so gaps never appear); ``can_open`` allows reading the content."""

    entry: IndexEntry
    can_open: bool
    redacted: bool

    @property
    def is_restricted(self) -> bool:
        return self.entry.access_level != AccessLevel.PUBLIC or self.entry.sensitive_data

    @property
    def purged(self) -> bool:
        """Its bytes were removed under a final disposition (elimination); the entry and its hash stay."""
        e = self.entry
        if hasattr(e, "file_purged_at"):
            return e.file_purged_at is not None
        return e.file_id is not None and e.file is not None and e.file.purged_at is not None

    # Labels for pages that list thousands of entries: ``get_FOO_display`` rebuilds the choices dict per call.
    @property
    def document_type_label(self) -> str:
        return _label(DocumentType, self.entry.document_type)

    @property
    def access_level_label(self) -> str:
        return _label(AccessLevel, self.entry.access_level)


def _label(choices: Any, value: Any) -> str:
    """What ``get_FOO_display`` shows: the label, or the raw value when it is not a known choice."""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


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


def _attach(case_file: CaseFile, entries: list[IndexEntry]) -> list[IndexEntry]:
    """Point every entry at ``case_file``, at the entry it replaces and at its nested (accumulated)
    expediente: identifiers, exports and the index hash read them. The first two are already in hand and
    the few nested ones come in one query, instead of a query or a join per document."""
    by_id = {e.pk: e for e in entries}
    nested_ids = {e.nested_case_file_id for e in entries if e.nested_case_file_id is not None}
    nested = CaseFile.objects.in_bulk(nested_ids) if nested_ids else {}
    for e in entries:
        e.case_file = case_file
        if e.version_of_id is not None and e.version_of_id in by_id:
            e.version_of = by_id[e.version_of_id]
        if e.nested_case_file_id is not None and e.nested_case_file_id in nested:
            e.nested_case_file = nested[e.nested_case_file_id]
    return entries


def index_entries_for(user: Any, case_file: CaseFile) -> list[EntryView]:
    """The whole index in order, with per-document restrictions applied for ``user`` (who must already be
    allowed to see ``case_file``, i.e. it came from ``case_file_get``). The stored files are not loaded (only
    whether their bytes were removed, ``EntryView.purged``): use ``index_entry_get`` to read one."""
    privileged, auditor = _reader_flags(user, case_file)
    entries: list[IndexEntry] = list(IndexEntry.objects.filter(case_file=case_file)
                                     .annotate(file_purged_at=F("file__purged_at")).order_by("position"))
    return [_entry_view(user, e, privileged, auditor) for e in _attach(case_file, entries)]


def index_entry_get(user: Any, case_file: CaseFile, entry_id: int) -> EntryView | None:
    entry = (IndexEntry.objects.filter(case_file=case_file, pk=entry_id)
             .select_related("file", "case_file", "nested_case_file").first())
    if entry is None:
        return None
    privileged, auditor = _reader_flags(user, case_file)
    return _entry_view(user, entry, privileged, auditor)


def all_entries(case_file: CaseFile) -> list[IndexEntry]:
    """Every entry, unfiltered: for the index hash and internal checks only, never for display."""
    return _attach(case_file, list(IndexEntry.objects.filter(case_file=case_file).order_by("position")))


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


TIMELINE_ON_PAGE = 50


def case_file_timeline_tail(case_file: CaseFile, limit: int = TIMELINE_ON_PAGE) -> tuple[list[AuditEvent], bool]:
    """The last ``limit`` events of the timeline, oldest first, and whether there are earlier ones (the
    expediente's page shows the tail; an expediente with thousands of documents has thousands of events)."""
    tail = list(case_file_timeline(case_file).order_by("-seq")[:limit + 1])
    return tail[:limit][::-1], len(tail) > limit


def case_file_access_log(user: Any, case_file: CaseFile) -> QuerySet[AuditEvent] | None:
    """Who accessed what (DS 10 arts. 19, 37), including refused attempts. None when ``user`` may not read it:
    auditors, admins and the responsible unit may."""
    if not perms.can_read_access_log(user, case_file):
        return None
    return (AuditEvent.objects.filter(object_type=OBJECT_TYPE, object_id=str(case_file.pk),
                                      organization_id=case_file.organization_id, action__in=ACCESS_ACTIONS)
            .order_by("seq"))


def index_is_intact(case_file: CaseFile, entries: list[IndexEntry] | None = None) -> bool:
    """For a closed expediente: the recorded index hash still matches the index. ``entries``: every entry
    of the index, when the caller already has them (e.g. from ``index_entries_for``)."""
    from folio.case_files.exports import index_hash

    if not case_file.index_hash:
        return True
    return index_hash(case_file, all_entries(case_file) if entries is None else entries) == case_file.index_hash


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


# --- authorized copies --------------------------------------------------------------------------------

def index_entry_by_position(user: Any, case_file: CaseFile, position: int) -> EntryView | None:
    entry_id = IndexEntry.objects.filter(case_file=case_file, position=position).values_list("pk", flat=True).first()
    return index_entry_get(user, case_file, entry_id) if entry_id else None


def authorized_copies_for(user: Any, case_file: CaseFile) -> list[AuthorizedCopy]:
    """The latest copies ``user`` asked for of ``case_file`` (a copy is its requester's; anyone else checks
    it by its code at /verificar/)."""
    return list(AuthorizedCopy.objects.filter(case_file=case_file, requested_by_id=user.pk)
                .select_related("entry__case_file").order_by("-requested_at", "-id")[:10])


def authorized_copy_get(user: Any, case_file: CaseFile, copy_id: int) -> AuthorizedCopy | None:
    return (AuthorizedCopy.objects.filter(case_file=case_file, pk=copy_id, requested_by_id=user.pk)
            .select_related("entry__case_file", "file").first())


# --- integrity (manage.py verify_integrity) ---------------------------------------------------------------

def integrity_problems(failed_file_ids: set[int]) -> tuple[list[str], str]:
    """Every index entry whose SHA-256 differs from its stored file (or whose file failed its own check, in
    ``failed_file_ids``), and every closed expediente whose index no longer matches its recorded hash.
    Returns the problems, named, and a summary of what was checked."""
    from folio.case_files.exports import index_hash

    problems: list[str] = []
    entries = 0
    rows = (IndexEntry.objects.filter(file__isnull=False)
            .values_list("pk", "case_file__organization__code", "case_file__iuie", "position", "sha256", "file_id",
                         "file__sha256").order_by("pk").iterator(chunk_size=2000))
    for _pk, org, iuie, position, sha256, file_id, file_sha256 in rows:
        entries += 1
        if sha256 != file_sha256:
            problems.append(f"index entry {org} {iuie} no. {position}: SHA-256 {sha256} differs from its stored "
                            f"file {file_id} ({file_sha256})")
        elif file_id in failed_file_ids:
            problems.append(f"index entry {org} {iuie} no. {position}: its stored file {file_id} no longer "
                            f"matches SHA-256 {sha256}")
    closed = 0
    for cf in (CaseFile.objects.exclude(index_hash="").select_related("organization").order_by("pk")
               .iterator(chunk_size=200)):
        closed += 1
        current = index_hash(cf, all_entries(cf))
        if current != cf.index_hash:
            problems.append(f"expediente {cf.organization.code} {cf.iuie}: index hash {current} differs from the "
                            f"hash recorded at closing {cf.index_hash}")
    return problems, f"{entries} index entries and {closed} closed expedientes checked"
