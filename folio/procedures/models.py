"""The municipality's inventory of administrative procedures and other tramitaciones (CPAT, DS 12/2023 art. 18),
their characterization, monthly transactions, prioritization and simplification plan, and what the public
catalogue (/tramites/) shows of them."""

from __future__ import annotations

from django.conf import settings
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


class UserType(models.TextChoices):
    NATURAL = "natural", _("Natural persons")
    LEGAL = "legal", _("Legal persons")
    BOTH = "both", _("Natural and legal persons")


class StaffAuthentication(models.TextChoices):
    CLAVEUNICA = "claveunica", _("Uses ClaveÚnica")
    OWN = "own", _("Own mechanism of the institution")
    NONE = "none", _("No authentication")


class AdvancedSignature(models.TextChoices):
    FIRMAGOB = "firmagob", _("FirmaGob")
    EXTERNAL = "external", _("Provided by an external supplier")
    BOTH = "both", _("Both kinds")
    NONE = "none", _("No advanced signature")


class CaseFileType(models.TextChoices):
    ELECTRONIC = "electronic", _("Expediente with documents in electronic format")
    MIXED = "mixed", _("Expediente with paper and electronic documents")
    PAPER = "paper", _("Paper expediente")
    NONE = "none", _("No expediente")


class PlatformScope(models.TextChoices):
    ALL_STAGES = "all", _("The platforms support every stage of the procedure")
    SOME_STAGES = "some", _("The platforms support some stages")
    NONE = "none", _("No platform")


class NotificationMedium(models.TextChoices):
    ELECTRONIC = "electronic", _("Electronic")
    PAPER = "paper", _("Paper")
    BOTH = "both", _("Electronic and paper")


class DataObtention(models.TextChoices):
    """How the data or documents of other bodies are obtained today."""

    APPLICANT = "applicant", _("The applicant brings them")
    INTEROPERABILITY = "interoperability", _("Interoperability with the other body")
    OFFICIAL_REQUEST = "request", _("Requested by oficio or e-mail")


class InteroperabilityMedium(models.TextChoices):
    STATE_NETWORK = "state_network", _("Red de Interoperabilidad del Estado or its standard")
    OTHER = "other", _("Other mechanism")
    NONE = "none", _("Does not interoperate")


class OfficialCommunications(models.TextChoices):
    DOCDIGITAL = "docdigital", _("DocDigital")
    OWN_AND_DOCDIGITAL = "own_docdigital", _("Own means and DocDigital")
    OWN = "own", _("Own means only")


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

    # --- Characterization (chile-norms.md §4.3), added in 0002 ---
    # Identification
    responsible_position = models.CharField(_("position of the person responsible"), max_length=150, blank=True)
    start_act = models.CharField(_("act that starts it"), max_length=200, blank=True)
    end_act = models.CharField(_("act that ends it"), max_length=200, blank=True)
    institutional_product = models.CharField(_("related institutional product"), max_length=200, blank=True)
    # Legal framework
    other_legal_sources = models.TextField(_("other legal sources"), blank=True)
    # Users
    has_payment = models.BooleanField(_("has an associated payment"), default=False)
    user_type = models.CharField(_("type of user"), max_length=10, choices=UserType.choices, default=UserType.BOTH)
    segment = models.CharField(_("user segment"), max_length=150, blank=True)
    social_program = models.CharField(_("related social programme"), max_length=150, blank=True)
    availability = models.CharField(_("availability"), max_length=150, blank=True,
                                    help_text=_("When it can be done, e.g. office hours or 24/7 online."))
    # The ClaveÚnica indicator of the plan counts the procedures that need a natural person's identity.
    requires_natural_person_identity = models.BooleanField(_("needs the identity of a natural person"),
                                                           default=False)
    citizens_affected = models.PositiveIntegerField(
        _("people affected per year (estimate)"), null=True, blank=True,
        help_text=_("Used by the prioritization; leave empty to use the transactions of the last 12 months."))
    # Electronic support
    digitalized_on = models.DateField(_("digitalization date"), null=True, blank=True)
    case_file_type = models.CharField(_("type of expediente"), max_length=12, choices=CaseFileType.choices,
                                      default=CaseFileType.PAPER)
    case_file_access = models.BooleanField(_("the interested parties can access the expediente"), default=False)
    online_url = models.URLField(_("URL of the procedure"), blank=True)
    chileatiende_url = models.URLField(_("related ChileAtiende page"), blank=True)
    platform_count = models.PositiveSmallIntegerField(_("number of platforms"), default=0)
    platform_scope = models.CharField(_("scope of the platforms"), max_length=6, choices=PlatformScope.choices,
                                      default=PlatformScope.NONE)
    platform_name = models.CharField(_("platform or system used"), max_length=150, blank=True)
    # Digital identity
    staff_authentication = models.CharField(_("staff authentication"), max_length=12,
                                            choices=StaffAuthentication.choices, blank=True)
    advanced_signature = models.CharField(_("advanced electronic signature"), max_length=10,
                                          choices=AdvancedSignature.choices, default=AdvancedSignature.NONE)
    # Notifications
    sends_notifications = models.BooleanField(_("notifies the interested parties"), default=False)
    notification_stages = models.CharField(_("stages with notifications"), max_length=200, blank=True)
    notification_medium = models.CharField(_("notification medium"), max_length=12,
                                           choices=NotificationMedium.choices, blank=True)
    # Data, documents and interoperability (DS 12 art. 18 no. 2-4)
    requires_other_bodies_data = models.BooleanField(_("needs data or documents of other bodies"), default=False)
    data_directory_url = models.URLField(_("link to the Directorio de Datos"), blank=True)
    service_catalogue_url = models.URLField(_("link to the Catálogo de Servicios"), blank=True)
    requires_consent_manager = models.BooleanField(
        _("needs the Gestor de Autorizaciones (consent for sensitive data)"), default=False)
    data_obtention = models.CharField(_("how those data are obtained"), max_length=16,
                                      choices=DataObtention.choices, blank=True)
    interoperability_medium = models.CharField(_("medium to interoperate"), max_length=14,
                                               choices=InteroperabilityMedium.choices, blank=True)
    data_provider = models.CharField(_("institution that holds the data"), max_length=200, blank=True)
    data_set = models.CharField(_("data or data set"), max_length=200, blank=True)
    notarial_documents = models.BooleanField(_("asks for notarial documents"), default=False)
    official_communications = models.CharField(_("medium for official communications"), max_length=16,
                                               choices=OfficialCommunications.choices, blank=True)
    # Complexity
    units_involved = models.PositiveSmallIntegerField(_("units involved"), default=1)
    # Lower-case, accent-free name and description for the catalogue's search (services keep it current).
    search_text = models.TextField(editable=False, blank=True, default="")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

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


class TransactionChannel(models.TextChoices):
    """The channels CPAT counts transactions by (same values as ``applications.Channel``)."""

    DIGITAL = "digital", _("Digital")
    IN_PERSON = "presencial", _("In person")
    PHONE = "telefonico", _("Telephone")


class MonthlyTransactions(models.Model):
    """Hand-entered figure: procedures of one kind finished in one month through one channel (CPAT counts a
    transaction in the month of its terminal act). ``count`` empty means "sin información". Used where the
    procedure does not run in Folio; see ``selectors.transactions_for`` for when Folio's own count wins."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE,
                                     related_name="+")
    procedure = models.ForeignKey(Procedure, on_delete=models.CASCADE, related_name="monthly_transactions")
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    channel = models.CharField(_("channel"), max_length=12, choices=TransactionChannel.choices)
    count = models.PositiveIntegerField(_("transactions"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("monthly transactions")
        verbose_name_plural = _("monthly transactions")
        ordering = ["procedure", "year", "month", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "year", "month", "channel"],
                                    name="monthly_transactions_unique"),
            models.CheckConstraint(condition=models.Q(month__gte=1, month__lte=12), name="monthly_transactions_month"),
        ]
        indexes = [models.Index(fields=["organization", "year", "month"])]

    def __str__(self) -> str:
        return f"{self.procedure_id} {self.year}-{self.month:02d} {self.channel}: {self.count}"


class PlanState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")  # the procedure counts as simplified


class SimplificationPlan(models.Model):
    """How one procedure is simplified (plan obj. 1, goal 2: simplify 50 % of the procedures): its figures
    before and after, and the documents the State already holds that the applicant will no longer bring."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    procedure = models.OneToOneField(Procedure, on_delete=models.CASCADE, related_name="simplification_plan")
    state = models.CharField(_("state"), max_length=12, choices=PlanState.choices, default=PlanState.PLANNED)
    summary = models.TextField(_("what changes"), blank=True)
    steps_before = models.PositiveSmallIntegerField(_("steps before"), null=True, blank=True)
    steps_after = models.PositiveSmallIntegerField(_("steps after"), null=True, blank=True)
    requirements_before = models.PositiveSmallIntegerField(_("requirements before"), null=True, blank=True)
    requirements_after = models.PositiveSmallIntegerField(_("requirements after"), null=True, blank=True)
    documents_state_holds = models.TextField(
        _("documents the State already holds"), blank=True,
        help_text=_("Requirements that are dropped because they can be obtained by interoperability; one per line."))
    days_before = models.PositiveSmallIntegerField(_("working days before"), null=True, blank=True)
    days_after = models.PositiveSmallIntegerField(_("working days after"), null=True, blank=True)
    starts_on = models.DateField(_("start date"), null=True, blank=True)
    due_on = models.DateField(_("target date"), null=True, blank=True)
    done_on = models.DateField(_("completion date"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("simplification plan")
        verbose_name_plural = _("simplification plans")

    def __str__(self) -> str:
        return f"{self.procedure_id}: {self.state}"


class InventorySettings(models.Model):
    """What the CTD measures the inventory against: the number of procedures the municipality expects to
    have (empty: the inventory's own size) and the simplification goal (plan obj. 1: 50 %)."""

    organization = models.OneToOneField("organizations.Organization", on_delete=models.CASCADE,
                                        related_name="procedure_settings")
    expected_procedures = models.PositiveIntegerField(_("expected number of procedures"), null=True, blank=True)
    simplification_goal_percent = models.PositiveSmallIntegerField(_("simplification goal (%)"), default=50)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("inventory settings")
        verbose_name_plural = _("inventory settings")

    def __str__(self) -> str:
        return f"{self.organization_id}"
