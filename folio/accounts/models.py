from __future__ import annotations

import hashlib
from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from folio.core.rut import format_rut


class RoleCode(models.TextChoices):
    ADMIN = "admin", _("administrator")
    REGISTRY = "registry", _("Oficina de Partes")
    OFFICIAL = "official", _("official")
    HEAD = "head", _("unit head")
    SIGNER = "signer", _("signer")
    DIGITAL_COORDINATOR = "digital_coordinator", _("digital transformation coordinator")
    AUDITOR = "auditor", _("auditor")


class Role(models.Model):
    code = models.CharField(max_length=30, primary_key=True, choices=RoleCode.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return str(RoleCode(self.code).label)


class User(AbstractUser):
    """A staff member of one organization, or (organization empty) a citizen or a platform superuser."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    unit = models.ForeignKey(
        "organizations.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    position = models.CharField(_("position"), max_length=120, blank=True)
    run_number = models.PositiveIntegerField(_("RUN"), null=True, blank=True)
    run_dv = models.CharField(_("RUN check digit"), max_length=1, blank=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="users", verbose_name=_("roles"))

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["run_number"], condition=models.Q(organization__isnull=True, run_number__isnull=False),
                name="citizen_run_unique",
            )
        ]

    @cached_property
    def role_codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.roles.all())

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))

    @property
    def run_display(self) -> str:
        return format_rut(self.run_number, self.run_dv)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; the clear value is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class LoginFailure(models.Model):
    """Failed sign-ins, kept to throttle password guessing across all server processes."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M}"
