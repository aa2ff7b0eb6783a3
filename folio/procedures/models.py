"""The municipality's inventory of administrative procedures and other tramitaciones (CPAT, DS 12/2023 art. 18),
their characterization, monthly transactions, prioritization and simplification plan, and what the public
catalogue (/tramites/) shows of them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcedureKind(models.TextChoices):
    COMMON_FUNCTION = "common", _("Administrative procedure, common function")
    SPECIFIC_FUNCTION = "specific", _("Administrative procedure, specific function")
    OTHER = "other", _("Other tramitación")


class DigitalizationLevel(models.IntegerChoices):
    """RNT scale used by CPAT; the platform criterion counts as met at level 4 or 5."""

    LEVEL_0 = 0, _("0 – no digital information")
    LEVEL_1 = 1, _("1 – information only")
    LEVEL_2 = 2, _("2 – downloadable forms")
    LEVEL_3 = 3, _("3 – one stage must be done in person")
    LEVEL_4 = 4, _("4 – fully doable through a digital channel")
    LEVEL_5 = 5, _("5 – digital and proactive")


class UserAuthentication(models.TextChoices):
    CLAVEUNICA = "claveunica", _("Uses ClaveÚnica")
    CLAVE_TRIBUTARIA = "clave_tributaria", _("Uses Clave Tributaria")
    OWN = "own", _("Own mechanism of the institution")
    NONE = "none", _("No authentication")


class Topic(models.Model):
    """A theme of the public catalogue (e.g. Obras y construcción, Patentes, Transparencia)."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="topics")
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["organization", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="topic_slug_unique_per_org")]

    def __str__(self) -> str:
        return self.name


class Procedure(models.Model):
    """One procedure of the inventory. Fields follow the CPAT minimum (DS 12 art. 18) and characterization."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="procedures"
    )
    # Identification
    code = models.CharField(_("CPAT code"), max_length=40, blank=True)
    slug = models.SlugField(_("slug"), max_length=120)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("type"), max_length=10, choices=ProcedureKind.choices,
                            default=ProcedureKind.SPECIFIC_FUNCTION)
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="procedures",
                              verbose_name=_("topic"))
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="procedures", verbose_name=_("responsible unit"))
    # Legal framework
    law_number = models.CharField(_("originating law"), max_length=120, blank=True)
    law_url = models.URLField(_("URL of the law"), blank=True)
    # Users and cost
    who_can_apply = models.TextField(_("who can apply"), blank=True)
    cost = models.CharField(_("cost"), max_length=200, blank=True)
    requirements = models.TextField(_("requirements"), blank=True, help_text=_("One per line."))
    steps = models.TextField(_("steps"), blank=True, help_text=_("One per line."))
    legal_deadline_days = models.PositiveSmallIntegerField(_("legal deadline (working days)"), null=True, blank=True)
    actual_deadline_days = models.PositiveSmallIntegerField(_("actual deadline (working days)"), null=True, blank=True)
    # Electronic support and digital identity
    digitalization_level = models.PositiveSmallIntegerField(
        _("digitalization level"), choices=DigitalizationLevel.choices, default=DigitalizationLevel.LEVEL_0
    )
    channel_digital = models.BooleanField(_("digital channel"), default=False)
    channel_in_person = models.BooleanField(_("in-person channel"), default=True)
    channel_phone = models.BooleanField(_("telephone channel"), default=False)
    user_authentication = models.CharField(_("user authentication"), max_length=20,
                                           choices=UserAuthentication.choices, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    # Publication in the public catalogue
    is_published = models.BooleanField(_("published in the catalogue"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Optimistic concurrency: every edit states the version it read.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="procedure_slug_unique_per_org"),
            models.UniqueConstraint(fields=["organization", "code"], condition=~models.Q(code=""),
                                    name="procedure_code_unique_per_org"),
        ]
        indexes = [models.Index(fields=["organization", "is_published", "name"])]

    def __str__(self) -> str:
        return self.name
