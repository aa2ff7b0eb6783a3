from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One append-only row of the audit trail. Rows form one SHA-256 chain per organization
    (``chain`` = organization id, 0 for installation-wide events): ``hash`` covers ``prev_hash`` and
    the row's canonical content, so altering, removing or reordering rows breaks the chain.

    Actor and organization are plain ids (not foreign keys) so that no cascade can ever rewrite a row.
    """

    chain = models.BigIntegerField()
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    organization_id = models.BigIntegerField(null=True)
    actor_id = models.BigIntegerField(null=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict)
    ip = models.GenericIPAddressField(null=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_idx"),
            models.Index(fields=["organization_id", "occurred_at"], name="audit_org_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}:{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """The last (seq, hash) of each chain. Locked while appending, so appends are serialised per
    organization; it also lets ``verify_audit`` notice rows removed from the end of a chain."""

    chain = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"chain {self.chain} at {self.seq}"
