from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VerificationKind(models.TextChoices):
    RECEIPT = "receipt", _("registration receipt")
    DISPATCH = "dispatch", _("dispatch record")
    AUTHORIZED_COPY = "authorized_copy", _("authorized copy")
    SIGNED_ACT = "signed_act", _("signed act")
    FILING_CERTIFICATE = "filing_certificate", _("filing certificate")


class VerificationRecord(models.Model):
    """What a verification code printed on a Folio document certifies. The snapshot in ``facts`` is
    what the public page shows, frozen at issue time; ``sha256`` is of the issued PDF."""

    code = models.CharField(max_length=20, unique=True)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=VerificationKind.choices)
    title = models.CharField(max_length=255)
    facts = models.JSONField(default=list)  # [[label, value], ...] already in Spanish
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    document = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The original the public may download, when the access level allows (público only).
    public_original = models.ForeignKey(
        "files.StoredFile", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sha256 = models.CharField(max_length=64, blank=True)
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("verification record")
        verbose_name_plural = _("verification records")
        indexes = [models.Index(fields=["object_type", "object_id"], name="verif_object_idx")]

    def __str__(self) -> str:
        return self.code
