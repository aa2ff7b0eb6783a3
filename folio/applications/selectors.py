"""Reads of online applications and their definitions, permission-aware."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from folio.accounts.models import RoleCode
from folio.applications import permissions as perms
from folio.applications.models import (
    Application,
    ApplicationAttachment,
    ApplicationState,
    AttachmentKind,
    CorrectionRequest,
    DefinitionState,
    FormDefinition,
    ReportRequest,
    ReportStatus,
)
from folio.audit.models import AuditEvent
from folio.case_files.models import IndexEntry


def online_procedure_ids(procedure_ids: Iterable[int]) -> set[int]:
    """Which of these procedures can be started online now (they have a published form definition)."""
    return set(
        FormDefinition.objects.filter(procedure_id__in=list(procedure_ids), state=DefinitionState.PUBLISHED)
        .values_list("procedure_id", flat=True)
    )


def published_definition(procedure_id: int) -> FormDefinition | None:
    return FormDefinition.objects.filter(procedure_id=procedure_id, state=DefinitionState.PUBLISHED).first()


# --- applications (issue 4) ------------------------------------------------------------------------------------

def _is_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.organization_id)


def start_target(org_slug: str, procedure_slug: str) -> tuple[Any, Any, FormDefinition] | None:
    """The organization, procedure and published definition behind ``/tramites/<org>/<procedure>/iniciar/``;
    None (404) when the procedure is not in the public catalogue or takes no applications online."""
    from folio.procedures.models import Procedure

    procedure = (Procedure.objects.select_related("organization", "unit")
                 .filter(organization__slug=org_slug, organization__is_active=True, slug=procedure_slug,
                         is_published=True).first())
    if procedure is None:
        return None
    definition = published_definition(procedure.pk)
    if definition is None:
        return None
    definition.organization = procedure.organization
    definition.procedure = procedure
    return procedure.organization, procedure, definition


def draft_for(user: Any, definition: FormDefinition) -> Application | None:
    """The citizen's draft for this version of the form, if they started one."""
    return (Application.objects.filter(applicant_id=user.pk, definition=definition, state=ApplicationState.DRAFT)
            .order_by("-id").first())


def form_attachments(application: Application | None) -> dict[str, ApplicationAttachment]:
    if application is None:
        return {}
    return {a.field_key: a for a in application.attachments.filter(kind=AttachmentKind.FORM).select_related("file")}


# Citizen portal -------------------------------------------------------------------------------------------------

CITIZEN_LIST_FIELDS = ("id", "number", "state", "due_date", "created_at", "submitted_at", "closed_at", "channel",
                       "organization__id", "organization__name", "organization__short_name", "organization__slug",
                       "procedure__id", "procedure__name", "procedure__slug", "definition_id", "applicant_id")


def _citizen_qs(user: Any) -> QuerySet[Application]:
    return (Application.objects.filter(applicant_id=user.pk).select_related("organization", "procedure")
            .only(*CITIZEN_LIST_FIELDS).order_by("-created_at", "-id"))


def applications_for_citizen(user: Any, *, page: int = 1, page_size: int = 50) -> tuple[list[Application], bool]:
    """A page of the citizen's filed applications in every municipality, newest first, and whether there are
    more (one query, on the index (applicant, -created_at))."""
    if not user.is_authenticated:
        return [], False
    offset = (max(1, page) - 1) * page_size
    rows = list(_citizen_qs(user).exclude(state=ApplicationState.DRAFT)[offset:offset + page_size + 1])
    return rows[:page_size], len(rows) > page_size


def citizen_pending(user: Any, *, limit: int = 50) -> list[Application]:
    """The citizen's drafts and the applications waiting for their correction (one query)."""
    if not user.is_authenticated:
        return []
    return list(_citizen_qs(user).filter(state__in=[ApplicationState.DRAFT,
                                                    ApplicationState.CORRECTION_REQUESTED])[:limit])


def application_for_citizen(user: Any, pk: int) -> Application | None:
    """Fetch-and-authorise for the citizen: None (404) for an application that is not theirs, whoever's it is."""
    if not user.is_authenticated:
        return None
    return (Application.objects.filter(pk=pk, applicant_id=user.pk)
            .select_related("organization", "procedure", "definition", "unit", "case_file", "certificate__document",
                            "applicant", "resolution_entry").first())


def citizen_documents(application: Application) -> list[IndexEntry]:
    """The documents of the application's expediente the applicant may read (public ones and their own)."""
    from folio.case_files.selectors import index_entries_for_citizen

    if application.case_file is None:
        return []
    return list(index_entries_for_citizen(application.case_file, application.applicant.run_number))


def citizen_document(application: Application, entry_id: int) -> IndexEntry | None:
    from folio.case_files.selectors import index_entries_for_citizen

    if application.case_file is None:
        return None
    return index_entries_for_citizen(application.case_file, application.applicant.run_number).filter(
        pk=entry_id).first()


CITIZEN_EVENTS = ("application.submit", "application.approve", "application.request_correction",
                  "application.answer_correction", "application.reject", "application.resolve",
                  "application.withdraw", "application.abandon", "application.notified")


def citizen_timeline(application: Application) -> list[AuditEvent]:
    """What the applicant is told happened (no internal steps, no names of officials)."""
    return list(AuditEvent.objects.filter(object_type="applications.application", object_id=str(application.pk),
                                          organization_id=application.organization_id, action__in=CITIZEN_EVENTS)
                .only("occurred_at", "action", "data").order_by("seq"))


def open_correction(application: Application) -> CorrectionRequest | None:
    return (application.corrections.filter(answered_at__isnull=True, expired_at__isnull=True)
            .order_by("-id").first())


# Staff ----------------------------------------------------------------------------------------------------------

def applications_visible_to(user: Any) -> QuerySet[Application]:
    """Filed applications (never drafts) of the user's organization that the user may read: all of them for the
    Oficina de Partes, administrators, auditors and the digital transformation coordinator; for officials and
    heads, those of their unit and those their unit was asked a report on. Nothing for other roles."""
    if not _is_staff(user) or not user.has_role(*perms.INBOX_ROLES):
        return Application.objects.none()
    qs = Application.objects.filter(organization_id=user.organization_id).exclude(state=ApplicationState.DRAFT)
    if user.has_role(*perms.ORG_WIDE_READERS):
        return qs
    units = perms.user_unit_ids(user)
    asked = ReportRequest.objects.filter(application=OuterRef("pk"), unit_id__in=units)
    return qs.filter(Q(unit_id__in=units) | Exists(asked))


def application_get(user: Any, pk: int) -> Application | None:
    """Fetch-and-authorise in one step: None (a 404 for the caller) when it does not exist *or* the user may not
    read it, so ids of other organizations reveal nothing."""
    return (applications_visible_to(user)
            .select_related("organization", "procedure", "definition", "unit", "case_file", "applicant", "filed_by",
                            "certificate__document", "resolution_entry")
            .filter(pk=pk).first())


def application_document(application: Application, entry_id: int) -> IndexEntry | None:
    """A document the application itself brought into its expediente (not any other entry of that expediente),
    for staff who already may read the application."""
    if application.case_file_id is None:
        return None
    return (IndexEntry.objects.filter(pk=entry_id, case_file_id=application.case_file_id,
                                      source_reference=f"applications.application:{application.pk}")
            .select_related("file").first())


def published_definition_exists(organization_id: int | None, definition_id: int) -> bool:
    return FormDefinition.objects.filter(pk=definition_id, organization_id=organization_id or 0,
                                         state=DefinitionState.PUBLISHED).exists()


OPEN_STATES = (ApplicationState.SUBMITTED, ApplicationState.IN_PROGRESS, ApplicationState.CORRECTION_REQUESTED)
# The municipality's clock runs in these states (in correction it is the applicant's).
RUNNING_STATES = (ApplicationState.SUBMITTED, ApplicationState.IN_PROGRESS)


@dataclass
class InboxFilters:
    state: str = "open"  # "open", "all" or one ApplicationState value
    procedure_id: int | None = None
    overdue: bool = False


@dataclass
class InboxPage:
    applications: list[Application]
    total: int
    open_count: int
    overdue_count: int
    reports: list[ReportRequest]
    today: dt.date
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _inbox_base(user: Any) -> QuerySet[Application]:
    qs = applications_visible_to(user)
    if not user.has_role(*perms.ORG_WIDE_READERS):
        qs = qs.filter(unit_id__in=perms.user_unit_ids(user))  # reports asked of the unit are listed apart
    return qs


def inbox(user: Any, filters: InboxFilters, *, page: int = 1, page_size: int = 50) -> InboxPage:
    """The applications a unit works on (all of the organization's for the Oficina de Partes and
    administrators), soonest deadline first, with the open and overdue counts and the reports asked of the unit."""
    from folio.registry.selectors import org_today

    today = org_today(user.organization)
    base = _inbox_base(user)
    if filters.procedure_id:
        base = base.filter(procedure_id=filters.procedure_id)
    counts = base.aggregate(
        open=Count("pk", filter=Q(state__in=OPEN_STATES)),
        overdue=Count("pk", filter=Q(state__in=RUNNING_STATES, due_date__lt=today)))
    qs = base
    if filters.state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif filters.state != "all":
        qs = qs.filter(state=filters.state)
    if filters.overdue:
        qs = qs.filter(state__in=RUNNING_STATES, due_date__lt=today)
    order = (["due_date", "id"] if filters.state in ("open", *OPEN_STATES) or filters.overdue
             else ["-submitted_at", "-id"])
    page = max(1, page)
    offset = (page - 1) * page_size
    rows = list(qs.select_related("procedure", "unit", "applicant")
                .only("id", "number", "state", "due_date", "submitted_at", "channel", "stage_index",
                      "procedure__id", "procedure__name", "unit__id", "unit__name", "unit__acronym",
                      "applicant__id", "applicant__first_name", "applicant__last_name", "applicant__username",
                      "applicant__run_number", "applicant__run_dv")
                .order_by(*order)[offset:offset + page_size])
    if filters.state == "open" and not filters.overdue:
        total = counts["open"]
    elif filters.overdue and filters.state in ("open", "all"):
        total = counts["overdue"]
    else:
        total = qs.count()
    return InboxPage(rows, total, counts["open"], counts["overdue"], reports_for_user(user), today, page, page_size)


def reports_for_user(user: Any) -> list[ReportRequest]:
    """Pending reports asked of the user's unit (all pending ones of the organization for administrators)."""
    if not _is_staff(user):
        return []
    qs = ReportRequest.objects.filter(organization_id=user.organization_id, status=ReportStatus.PENDING)
    if not user.has_role(RoleCode.ADMIN):
        qs = qs.filter(unit_id__in=perms.user_unit_ids(user))
    return list(qs.select_related("unit", "application__procedure").order_by("due_date", "id")[:100])


def report_get(user: Any, pk: int) -> ReportRequest | None:
    """A report request of an application the user may read."""
    report = (ReportRequest.objects.select_related("unit", "application").filter(
        pk=pk, organization_id=getattr(user, "organization_id", None) or 0).first())
    if report is None or not applications_visible_to(user).filter(pk=report.application_id).exists():
        return None
    return report


def application_timeline(application: Application) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_type="applications.application", object_id=str(application.pk),
                                          organization_id=application.organization_id).order_by("seq"))


def procedures_with_applications(user: Any) -> list[Any]:
    """Procedures of the user's organization that have an online form (for the inbox filter)."""
    from folio.procedures.models import Procedure

    if not _is_staff(user):
        return []
    return list(Procedure.objects.filter(organization_id=user.organization_id,
                                         form_definitions__isnull=False).distinct().only("id", "name")
                .order_by("name"))


def counter_procedures(user: Any) -> list[tuple[Any, FormDefinition]]:
    """Procedures with a published form that ``user`` may file at the counter for a citizen."""
    from folio.organizations.models import Unit

    if not _is_staff(user):
        return []
    definitions = list(FormDefinition.objects.filter(organization_id=user.organization_id,
                                                     state=DefinitionState.PUBLISHED)
                       .select_related("procedure").order_by("procedure__name"))
    codes = {str((d.schema.get("stages") or [{}])[0].get("unit", "")) for d in definitions}
    units = dict(Unit.objects.filter(organization_id=user.organization_id, code__in=codes)
                 .values_list("code", "pk"))
    return [(d.procedure, d) for d in definitions
            if perms.can_file_at_counter(user, user.organization_id,
                                         units.get(str((d.schema.get("stages") or [{}])[0].get("unit", ""))))]
