"""Signing keys and provider configuration of each organization.

- ``OrganizationCA``: the organization's own certification authority (RSA-3072), created on demand; it issues
  the certificates of the simple electronic signature (FES). Its key is sealed with the key-encryption key.
- ``SignerCertificate``: a signer's certificate (RSA-2048); the private key is sealed with a key derived from
  the signer's signing passphrase, so Folio cannot sign for anyone who does not type it. Revocable.
- ``SignatureConfig``: per organization, the RFC 3161 time-stamping authority and the FirmaGob API v2
  credentials (the secret sealed with the key-encryption key, or read from an environment variable).
- ``FirmaGobSandboxApp``: the applications the local FirmaGob sandbox accepts (its "registration authority").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationCA(models.Model):
    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.PROTECT, related_name="signing_ca",
        verbose_name=_("organization"),
    )
    subject = models.CharField(_("subject"), max_length=255)
    serial = models.CharField(_("serial number"), max_length=64)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    key_sealed = models.BinaryField(editable=False)
    not_after = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization certification authority")
        verbose_name_plural = _("organization certification authorities")

    def __str__(self) -> str:
        return self.subject


class SignerCertificate(models.Model):
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )
    ca = models.ForeignKey(OrganizationCA, on_delete=models.PROTECT, related_name="certificates")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signer_certificates",
        verbose_name=_("signer"),
    )
    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    subject = models.CharField(_("subject"), max_length=255)
    certificate_pem = models.TextField(_("certificate (PEM)"))
    key_sealed = models.BinaryField(editable=False)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_reason = models.CharField(_("revocation reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("signer certificate")
        verbose_name_plural = _("signer certificates")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(revoked_at__isnull=True), name="one_active_signer_certificate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial[:12]})"


class SignatureConfig(models.Model):
    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="signature_config",
        verbose_name=_("organization"),
    )
    tsa_url = models.URLField(
        _("time-stamping authority URL"), blank=True,
        help_text=_("RFC 3161 service for PAdES B-T signatures. Empty: the installation default."),
    )
    tsa_timeout = models.PositiveSmallIntegerField(_("time-stamping timeout (seconds)"), default=10)
    firmagob_endpoint = models.URLField(
        _("FirmaGob endpoint"), blank=True,
        help_text=_("Base URL, e.g. https://api.firma.digital.gob.cl; Folio adds /firma/v2/files/tickets."),
    )
    firmagob_entity = models.CharField(_("FirmaGob entity"), max_length=200, blank=True)
    firmagob_api_token_key = models.CharField(_("FirmaGob API token key"), max_length=200, blank=True)
    firmagob_secret_sealed = models.BinaryField(null=True, blank=True, editable=False)
    firmagob_secret_env = models.CharField(
        _("environment variable with the FirmaGob secret"), max_length=100, blank=True,
        help_text=_("Used instead of a stored secret when set."),
    )
    firmagob_timeout = models.PositiveSmallIntegerField(_("FirmaGob timeout (seconds)"), default=30)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("signature configuration")
        verbose_name_plural = _("signature configurations")

    def __str__(self) -> str:
        return str(self.organization)


class FirmaGobSandboxApp(models.Model):
    api_token_key = models.CharField(max_length=100, unique=True)
    entity = models.CharField(max_length=200)
    secret_sealed = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("FirmaGob sandbox application")
        verbose_name_plural = _("FirmaGob sandbox applications")

    def __str__(self) -> str:
        return f"{self.api_token_key} ({self.entity})"
