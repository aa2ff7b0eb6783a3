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
