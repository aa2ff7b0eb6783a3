from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Organization(models.Model):
    """A municipality (or any State body) served by this installation. Every record hangs from one."""

    # Code in the Gestor de Códigos del Estado (DS 10 art. 8), e.g. the municipality's OAE code.
    code = models.CharField(_("State code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=80)
    slug = models.SlugField(_("slug"), unique=True)
    commune = models.CharField(_("commune"), max_length=80, blank=True)
    region = models.CharField(_("region"), max_length=80, blank=True)
    # Holiday subdivision for the holidays library (e.g. "BI" Biobío).
    holiday_subdivision = models.CharField(_("holiday subdivision"), max_length=5, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=40, default="America/Santiago")
    address = models.CharField(_("address"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A municipal unit (dirección, departamento, oficina) that receives routings and keeps files."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="units")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=150)
    acronym = models.CharField(_("acronym"), max_length=20, blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    email = models.EmailField(_("e-mail"), blank=True)
    # The unit that registers correspondence (Oficina de Partes) is flagged so routing can start there.
    is_registry_office = models.BooleanField(_("is the Oficina de Partes"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["organization", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="unit_code_unique_per_org")]

    def __str__(self) -> str:
        return self.acronym or self.name


class NonWorkingDay(models.Model):
    """A day the municipality does not count as hábil besides weekends and national holidays
    (commune holidays, emergency closures, holidays legislated before the library knows them)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="non_working_days")
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=150)

    class Meta:
        verbose_name = _("non-working day")
        verbose_name_plural = _("non-working days")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["organization", "date"], name="non_working_day_unique")]

    def __str__(self) -> str:
        return f"{self.date:%d-%m-%Y} {self.reason}"
