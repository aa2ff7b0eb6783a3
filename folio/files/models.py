from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TextSource(models.TextChoices):
    NONE = "none", _("no text")
    EMBEDDED = "embedded", _("embedded text")
    OCR = "ocr", _("OCR")


class OcrStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", _("not needed")
    PENDING = "pending", _("pending")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    DISABLED = "disabled", _("disabled")


class StoredFile(models.Model):
    """A file kept through Django's storage API. Content never changes once stored: the SHA-256 and
    size recorded here are what ``verify_integrity`` re-checks."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    storage_name = models.CharField(max_length=300, unique=True)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.BigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    text = models.TextField(blank=True)
    text_source = models.CharField(max_length=10, choices=TextSource.choices, default=TextSource.NONE)
    ocr_status = models.CharField(max_length=12, choices=OcrStatus.choices, default=OcrStatus.NOT_NEEDED)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Set when the bytes were removed for good under an approved final disposition (elimination): the row
    # (name, type, size, SHA-256) stays as the record of what existed; ``purge_reference`` names the act.
    purged_at = models.DateTimeField(_("bytes removed at"), null=True, blank=True)
    purge_reference = models.CharField(_("removed under"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("stored file")
        verbose_name_plural = _("stored files")

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
