"""Online applications (solicitudes) to a procedure: the versioned form and stage definition an administrator
configures, and the applications filed under a given version.

A definition is immutable once published: editing a published procedure creates a new version, and every
application keeps pointing at the version it was filed under (``Application.definition``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DefinitionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


class FormDefinition(models.Model):
    """One version of a procedure's online form and processing stages.

    ``schema`` holds ``{"fields": [...], "attachments": [...], "stages": [...]}``; its shape is validated by
    ``folio.applications.definitions`` before it is saved and never changes after publication.
    """

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="form_definitions"
    )
    procedure = models.ForeignKey(
        "procedures.Procedure", on_delete=models.PROTECT, related_name="form_definitions"
    )
    version = models.PositiveIntegerField(_("version"))
    state = models.CharField(_("state"), max_length=10, choices=DefinitionState.choices,
                             default=DefinitionState.DRAFT)
    schema = models.JSONField(_("definition"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("form definition")
        verbose_name_plural = _("form definitions")
        ordering = ["procedure", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "version"], name="form_definition_version_unique"),
            models.UniqueConstraint(fields=["procedure"], condition=models.Q(state="published"),
                                    name="form_definition_one_published"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure} v{self.version}"


class Channel(models.TextChoices):
    """Transaction channels as CPAT counts them."""

    DIGITAL = "digital", _("Digital")
    IN_PERSON = "presencial", _("In person")
    PHONE = "telefonico", _("Telephone")


class ApplicationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    CORRECTION_REQUESTED = "correction", _("Correction requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    # Ley 19.880 art. 31: the applicant did not cure the application in time (desistimiento).
    ABANDONED = "abandoned", _("Abandoned (not corrected in time)")


TERMINAL_STATES = frozenset({
    ApplicationState.APPROVED, ApplicationState.REJECTED, ApplicationState.WITHDRAWN, ApplicationState.ABANDONED,
})


class Application(models.Model):
    """A citizen's application to one procedure, filed under one definition version."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="applications"
    )
    procedure = models.ForeignKey("procedures.Procedure", on_delete=models.PROTECT, related_name="applications")
    definition = models.ForeignKey(FormDefinition, on_delete=models.PROTECT, related_name="applications")
    # Folio of the application, e.g. SOL-2026-000123, from a locked counter at submission (blank while draft).
    number = models.CharField(_("number"), max_length=30, blank=True)
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications",
                                  verbose_name=_("applicant"))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="applications_filed", verbose_name=_("filed by"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.DIGITAL)
    state = models.CharField(_("state"), max_length=12, choices=ApplicationState.choices,
                             default=ApplicationState.DRAFT)
    data = models.JSONField(_("answers"), default=dict)
    stage_index = models.PositiveSmallIntegerField(default=0)
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="applications", verbose_name=_("responsible unit"))
    due_date = models.DateField(_("deadline"), null=True, blank=True)
    case_file = models.OneToOneField("case_files.CaseFile", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="application")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # Time of the terminal act: CPAT counts a transaction in the month it ends.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The electronic means for notifications the applicant gave (Ley 19.880 art. 30), fixed at submission.
    contact_email = models.EmailField(_("e-mail for notifications"), blank=True)
    # The certificado de presentación (DS 10 art. 30): its verification record holds the code and the PDF.
    certificate = models.ForeignKey("verification.VerificationRecord", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    resolution_text = models.TextField(_("resolution"), blank=True)
    resolution_entry = models.ForeignKey("case_files.IndexEntry", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], condition=~models.Q(number=""),
                                    name="application_number_unique_per_org"),
        ]
        indexes = [
            models.Index(fields=["applicant", "-created_at"]),
            models.Index(fields=["organization", "unit", "state", "due_date"]),
            models.Index(fields=["organization", "procedure", "closed_at"]),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


# --- lifecycle records (issue 4: online applications) --------------------------------------------------------


class ApplicationCounter(models.Model):
    """The last application number given in one organization in one year (``SOL-2026-000123``). The submitting
    transaction increments it (row lock on PostgreSQL, IMMEDIATE transactions on SQLite): numbers are unique and
    gap-free, and a submission that fails rolls its number back."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "year"], name="application_counter_unique")]

    def __str__(self) -> str:
        return f"{self.organization_id}/{self.year}: {self.last_value}"


class AttachmentKind(models.TextChoices):
    FORM = "form", _("Form attachment")
    CORRECTION = "correction", _("Sent with a correction")


class ApplicationAttachment(models.Model):
    """A file the applicant sent: the answer to a file field of the form (``field_key``; kept with the draft
    from the moment it is uploaded, one per field) or a file sent with the answer to a correction request.
    The row and its stored file are written in the same transaction; ``entry`` is its document in the
    expediente once the application is filed."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(max_length=12, choices=AttachmentKind.choices, default=AttachmentKind.FORM)
    field_key = models.CharField(max_length=40, blank=True)
    correction = models.ForeignKey("applications.CorrectionRequest", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="attachments")
    file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    entry = models.ForeignKey("case_files.IndexEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")

    class Meta:
        ordering = ["application", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "field_key"], condition=models.Q(kind="form"),
                                    name="application_attachment_one_per_field"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.field_key or self.kind}"


class CorrectionRequest(models.Model):
    """A request to cure the application (subsanación, Ley 19.880 art. 31): what must be corrected and the
    deadline (5 días hábiles). Answered by the applicant, or expired (desistimiento: the application is then
    abandoned)."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="corrections")
    stage_index = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(_("what must be corrected"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    due_date = models.DateField(_("deadline"))
    answer_text = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)
    request_entry = models.ForeignKey("case_files.IndexEntry", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+")
    answer_entry = models.ForeignKey("case_files.IndexEntry", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["application", "id"]
        indexes = [models.Index(fields=["due_date"], condition=models.Q(answered_at__isnull=True,
                                                                        expired_at__isnull=True),
                                name="app_correction_open_idx")]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.due_date}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.expired_at is None


class ReportStatus(models.TextChoices):
    # pending -> answered | cancelled
    PENDING = "pending", _("Pending")
    ANSWERED = "answered", _("Answered")
    CANCELLED = "cancelled", _("Cancelled")


class ReportRequest(models.Model):
    """A report (informe, Ley 19.880 art. 24: 10 días) the responsible unit asks another unit for. While one
    asked at the current stage is pending, the stage cannot be passed, resolved or rejected."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("unit asked"))
    stage_index = models.PositiveSmallIntegerField(default=0)
    question = models.TextField(_("what is asked"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    due_date = models.DateField(_("deadline"))
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    answer_text = models.TextField(_("report"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer_entry = models.ForeignKey("case_files.IndexEntry", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    file_entry = models.ForeignKey("case_files.IndexEntry", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("report request")
        verbose_name_plural = _("report requests")
        ordering = ["application", "id"]
        indexes = [models.Index(fields=["organization", "unit", "status", "due_date"],
                                name="app_report_inbox_idx")]

    def __str__(self) -> str:
        return f"{self.application_id} → {self.unit_id}"


class Milestone(models.TextChoices):
    SUBMITTED = "submitted", _("Application submitted")
    CORRECTION_REQUESTED = "correction_requested", _("Correction requested")
    CORRECTION_RECEIVED = "correction_received", _("Correction received")
    RESOLVED = "resolved", _("Application resolved")
    ABANDONED = "abandoned", _("Application abandoned")
    WITHDRAWN = "withdrawn", _("Application withdrawn")


class NotificationStatus(models.TextChoices):
    # pending -> sent | failed; failed -> sent (a retry)
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ApplicationNotification(models.Model):
    """An e-mail to the applicant at a milestone. Written (with its Message-ID) and incorporated into the
    expediente as a document in the transaction of the milestone (DS 10 art. 28); sent after commit by
    ``tasks.send_application_notification``, which records the outcome."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="notifications")
    milestone = models.CharField(max_length=24, choices=Milestone.choices)
    to = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=250)
    body = models.TextField(_("body"))
    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    attachment = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    entry = models.ForeignKey("case_files.IndexEntry", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    status = models.CharField(max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["application", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.milestone}"
