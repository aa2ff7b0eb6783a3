"""Official documents (actos administrativos): oficios, memorándums, decretos alcaldicios, resoluciones and
certificados, from draft to signed, numbered and distributed act.

State machine of an act (``ActState``; transitions in ``services.TRANSITIONS``)::

    draft ──submit──▶ in_endorsement ──(last visación)──▶ in_signature ──(last signature)──▶ signed ──▶ numbered
      ▲                     │                                  │                                            │
      └──── send back ──────┴──────────── send back ───────────┘                                    distribute
    draft ──cancel──▶ cancelled                                                                              ▼
                                                                                                       distributed

The number is printed in the document, so it is taken when the content is frozen: at the first signature,
from a locked counter (``ActCounter``), in the transaction that stores that first signed PDF. A failed
signature takes none. An act sent back after a partial signature keeps its number; an act cancelled while
holding one leaves it voided in the book (never reused, so the numbering has no gaps).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from folio.registry.models import AccessLevel, DocumentType, PartyKind


class ActKind(models.TextChoices):
    OFFICIAL_LETTER = "oficio", _("Oficio ordinario")
    MEMORANDUM = "memorandum", _("Memorándum")
    EXEMPT_DECREE = "decreto_exento", _("Decreto alcaldicio exento")
    RESOLUTION = "resolucion", _("Resolución")
    CERTIFICATE = "certificado", _("Certificado")


# Tipo documental (MGDDE5_1) of each kind, for the libro de despacho and the expediente index.
KIND_DOCUMENT_TYPE: dict[str, int] = {
    ActKind.OFFICIAL_LETTER: DocumentType.OFICIO,
    ActKind.MEMORANDUM: DocumentType.MEMORANDUM,
    ActKind.EXEMPT_DECREE: DocumentType.DECRETO,
    ActKind.RESOLUTION: DocumentType.RESOLUCION,
    ActKind.CERTIFICATE: DocumentType.CERTIFICADO,
}


class ActState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_ENDORSEMENT = "in_endorsement", _("In endorsement")
    IN_SIGNATURE = "in_signature", _("In signature")
    SIGNED = "signed", _("Signed")
    NUMBERED = "numbered", _("Numbered")
    DISTRIBUTED = "distributed", _("Distributed")
    CANCELLED = "cancelled", _("Cancelled")


class StepKind(models.TextChoices):
    ENDORSE = "endorse", _("Endorsement (visación)")
    SIGN = "sign", _("Signature")


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")


class Capacity(models.TextChoices):
    """In what capacity a signer signs: their own post, by delegation ("por orden del Alcalde") or as the
    acting holder of a post (subrogancia: "Alcalde (S)")."""

    OWN = "own", _("Own post")
    DELEGATED = "delegated", _("By delegation (por orden de)")
    ACTING = "acting", _("Acting (subrogante)")


class SignatureMethod(models.TextChoices):
    SIMPLE = "simple", _("Simple electronic signature")
    ADVANCED = "advanced", _("Advanced electronic signature (FirmaGob)")


class ActTemplate(models.Model):
    """How one kind of document looks and starts in one organization; edited by its administrator."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("document type"), max_length=20, choices=ActKind.choices)
    name = models.CharField(_("name"), max_length=150)
    letterhead = models.TextField(_("letterhead"), help_text=_("One line per row, e.g. the municipality and unit."))
    # Python format string with {n} (the number) and {year}.
    numbering_scheme = models.CharField(_("numbering scheme"), max_length=120,
                                        help_text=_("Use {n} for the number and {year} for the year."))
    antecedents_label = models.CharField(_("label of the antecedents"), max_length=40, default="ANT.:")
    antecedents = models.TextField(_("default antecedents"), blank=True)
    subject = models.CharField(_("default subject (materia)"), max_length=500, blank=True)
    body = models.TextField(_("default body"), blank=True)
    closing = models.TextField(_("closing"), blank=True)
    distribution = models.TextField(_("default distribution"), blank=True)
    # Oficios and memorándums carry the DE: / A: block; decretos, resoluciones and certificados do not.
    show_from_to = models.BooleanField(_("show the from/to block"), default=True)
    access_level = models.PositiveSmallIntegerField(_("default access level"), choices=AccessLevel.choices,
                                                    default=AccessLevel.PUBLIC)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("document template")
        verbose_name_plural = _("document templates")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="act_template_name_unique")]

    def __str__(self) -> str:
        return self.name


class TemplateStep(models.Model):
    """A default endorser or signer of a template, in order."""

    template = models.ForeignKey(ActTemplate, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=10, choices=StepKind.choices)
    position = models.PositiveSmallIntegerField()
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    capacity = models.CharField(max_length=10, choices=Capacity.choices, default=Capacity.OWN)

    class Meta:
        ordering = ["kind", "position"]

    def __str__(self) -> str:
        return f"{self.template_id} {self.kind} {self.position}"


class SignaturePolicy(models.Model):
    """What the administrator decided for one kind of document: whether it needs the advanced signature
    (FEA through FirmaGob) and, optionally, who may sign it in their own capacity."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("document type"), max_length=20, choices=ActKind.choices)
    requires_advanced = models.BooleanField(_("requires advanced signature (FirmaGob)"), default=False)
    own_signers = models.ManyToManyField("accounts.User", blank=True, related_name="+",
                                         verbose_name=_("who may sign it in their own capacity"),
                                         help_text=_("Empty: any signer of the organization."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("signature policy")
        verbose_name_plural = _("signature policies")
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="signature_policy_unique")]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.kind}"


class Delegation(models.Model):
    """Delegación de firma: ``delegate`` signs acts of ``kinds`` "por orden del <principal_title>"."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    delegate = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("delegate"))
    principal_title = models.CharField(_("on behalf of (post)"), max_length=120, default="Alcalde")
    kinds = models.JSONField(_("document types"), default=list)
    decree_reference = models.CharField(_("act that grants it"), max_length=200, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("signature delegation")
        verbose_name_plural = _("signature delegations")

    def __str__(self) -> str:
        return f"{self.delegate} · por orden del {self.principal_title}"

    @property
    def label(self) -> str:
        return f"Por orden del {self.principal_title}"


class Substitution(models.Model):
    """Subrogancia: ``acting`` holds ``position_title`` while its holder is absent, and signs as "<post> (S)"."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    acting = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("acting official"))
    position_title = models.CharField(_("post"), max_length=120, default="Alcalde")
    decree_reference = models.CharField(_("act that appoints them"), max_length=200, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("acting appointment (subrogancia)")
        verbose_name_plural = _("acting appointments (subrogancias)")

    def __str__(self) -> str:
        return f"{self.acting} · {self.label}"

    @property
    def label(self) -> str:
        return f"{self.position_title} (S)"


class ActCounter(models.Model):
    """The last number given to one kind of act of one organization in one year.

    Numbers are printed in the signed PDF, and the external signature (FirmaGob over HTTP) must not run
    inside a database transaction (on SQLite that would hold the whole database's write lock, and the
    FirmaGob sandbox answers from this same server). So the next number is *leased*: a short locked
    transaction reserves ``last_value + 1`` for one act (``lease_*``); the PDF showing it is rendered and
    signed; a second locked transaction stores the signed PDF and commits the number, or releases the lease if
    the signature failed. While a lease is held, other acts of the same counter wait for it; an expired lease
    (a crashed process) may be taken over, and its late holder then finds its token gone and commits nothing.
    """

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=ActKind.choices)
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)
    lease_token = models.CharField(max_length=32, blank=True)
    lease_act = models.ForeignKey("Act", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "kind", "year"], name="act_counter_unique")]

    def __str__(self) -> str:
        return f"{self.kind}-{self.year}: {self.last_value}"


class Act(models.Model):
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    template = models.ForeignKey(ActTemplate, on_delete=models.PROTECT, related_name="acts",
                                 verbose_name=_("template"))
    kind = models.CharField(_("document type"), max_length=20, choices=ActKind.choices)
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+",
                             verbose_name=_("drafting unit"))
    state = models.CharField(_("state"), max_length=20, choices=ActState.choices, default=ActState.DRAFT)
    # Content
    subject = models.CharField(_("subject (materia)"), max_length=500)
    antecedents = models.TextField(_("antecedents"), blank=True)
    body = models.TextField(_("body"))
    closing = models.TextField(_("closing"), blank=True)
    distribution_text = models.TextField(_("distribution"), blank=True)
    # External recipient (oficios): leaves through the libro de despacho when distributed.
    recipient_kind = models.CharField(_("recipient type"), max_length=12, choices=PartyKind.choices, blank=True)
    recipient_name = models.CharField(_("recipient"), max_length=200, blank=True)
    recipient_position = models.CharField(_("recipient's post"), max_length=200, blank=True)
    recipient_rut_number = models.PositiveIntegerField(_("recipient RUN/RUT"), null=True, blank=True)
    recipient_rut_dv = models.CharField(max_length=1, blank=True)
    recipient_email = models.EmailField(_("recipient e-mail"), blank=True)
    recipient_address = models.CharField(_("recipient address"), max_length=250, blank=True)
    recipient_body_code = models.CharField(_("recipient public body code"), max_length=20, blank=True)
    distribution_units = models.ManyToManyField("organizations.Unit", blank=True, related_name="+",
                                                verbose_name=_("units it is distributed to"))
    access_level = models.PositiveSmallIntegerField(_("access level"), choices=AccessLevel.choices,
                                                    default=AccessLevel.PUBLIC)
    answers = models.ForeignKey("registry.Registration", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("answers"))
    case_file = models.ForeignKey("case_files.CaseFile", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("expediente"))
    # Circuit
    current_step = models.ForeignKey("ActStep", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    round = models.PositiveIntegerField(default=0)  # incremented at each submission
    returned_comment = models.TextField(_("last comment when sent back"), blank=True)
    # Numbering and signature
    year = models.PositiveIntegerField(_("year"), null=True, blank=True)
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    number_display = models.CharField(_("number"), max_length=120, blank=True)
    numbered_at = models.DateTimeField(_("numbered at"), null=True, blank=True)
    document_date = models.DateField(_("date of the act"), null=True, blank=True)
    verification_code = models.CharField(_("verification code"), max_length=20, blank=True)
    signed_file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    # Where each signer's visible stamp goes: [[step position, page index, [llx, lly, urx, ury]], ...]
    signature_boxes = models.JSONField(default=list, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    # Distribution
    distributed_at = models.DateTimeField(_("distributed at"), null=True, blank=True)
    outgoing_registration = models.ForeignKey("registry.Registration", on_delete=models.PROTECT, null=True,
                                              blank=True, related_name="+")
    case_file_entry = models.ForeignKey("case_files.IndexEntry", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=500, blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("drafted by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: every update bumps it, and an update of a stale version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("official document")
        verbose_name_plural = _("official documents")
        constraints = [
            models.UniqueConstraint(fields=["organization", "kind", "year", "number"], name="act_number_unique",
                                    condition=models.Q(number__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["organization", "state"], name="act_org_state_idx"),
            models.Index(fields=["organization", "unit"], name="act_org_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number_display or 'S/N'} {self.subject[:60]}"

    @property
    def title(self) -> str:
        return f"{self.get_kind_display()} {self.number_display or 'S/N'}"

    @property
    def has_external_recipient(self) -> bool:
        return bool(self.recipient_name.strip()) and self.recipient_kind not in ("", PartyKind.INTERNAL)

    @property
    def is_final(self) -> bool:
        return self.state in (ActState.NUMBERED, ActState.DISTRIBUTED)


class ActStep(models.Model):
    """One visación or signature of the circuit, in order. Results of the current round; earlier rounds
    live in the audit trail."""

    act = models.ForeignKey(Act, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=10, choices=StepKind.choices)
    position = models.PositiveSmallIntegerField()
    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    capacity = models.CharField(max_length=10, choices=Capacity.choices, default=Capacity.OWN)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    done_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    # Signatures: what was recorded when it was made.
    capacity_label = models.CharField(max_length=200, blank=True)  # "Alcalde (S)", "Por orden del Alcalde"
    position_label = models.CharField(max_length=200, blank=True)  # the signer's post as printed
    delegation = models.ForeignKey(Delegation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    substitution = models.ForeignKey(Substitution, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    method = models.CharField(max_length=10, choices=SignatureMethod.choices, blank=True)
    provider = models.CharField(max_length=60, blank=True)
    signer_name = models.CharField(max_length=200, blank=True)
    signer_run = models.CharField(max_length=15, blank=True)
    certificate_serial = models.CharField(max_length=100, blank=True)
    signed_file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["act", "kind", "position"]
        constraints = [models.UniqueConstraint(fields=["act", "kind", "position"], name="act_step_unique")]

    def __str__(self) -> str:
        return f"{self.act_id} {self.kind} {self.position}"


class ActDistribution(models.Model):
    """A unit the act was distributed to (internal distribution)."""

    act = models.ForeignKey(Act, on_delete=models.PROTECT, related_name="distributions")
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+")
    distributed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["act", "unit"], name="act_distribution_unique")]

    def __str__(self) -> str:
        return f"{self.act_id} → {self.unit_id}"


class ActLayout(models.Model):
    """The act rendered once its content is frozen (at submission), with room left where the number, the date
    and the verification code go (``rendering.render_layout``): the first signature only writes those three in
    (``rendering.fill_layout``) instead of rendering the whole document again. A cache, not a record: it is
    used only while ``fingerprint`` still matches what the document shows, and it is deleted once the first
    signed PDF is stored."""

    act = models.OneToOneField(Act, on_delete=models.CASCADE, primary_key=True, related_name="+")
    fingerprint = models.CharField(max_length=64)
    pdf = models.BinaryField()
    pages = models.PositiveIntegerField()
    boxes = models.JSONField(default=list)  # [[step position, page index, [llx, lly, urx, ury]], ...]
    slots = models.JSONField(default=list)  # rendering.Slot as dictionaries
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.act_id} {self.fingerprint[:12]}"
