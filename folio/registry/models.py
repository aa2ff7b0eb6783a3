"""The Oficina de Partes: registry books (libro de ingreso / libro de despacho), routings, documents."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from folio.core.rut import format_rut


class Book(models.TextChoices):
    INCOMING = "E", _("incoming (libro de ingreso)")
    OUTGOING = "S", _("outgoing (libro de despacho)")


class DocumentType(models.IntegerChoices):
    """Tipo documental, controlled list of the DS 10 metadata guide (MGDDE5_1)."""

    ACTA = 1, _("Acta")
    ACUERDO = 2, _("Acuerdo")
    ANTECEDENTE = 3, _("Antecedente")
    AUTORIZACION = 4, _("Autorización")
    BASE = 5, _("Base")
    BOLETA = 6, _("Boleta")
    CARTA = 7, _("Carta")
    CERTIFICADO = 8, _("Certificado")
    CIRCULAR = 9, _("Circular")
    CITACION = 10, _("Citación")
    CONVENIO = 11, _("Convenio")
    CONSTANCIA = 12, _("Constancia")
    CONTRATO = 13, _("Contrato")
    DECLARACION = 14, _("Declaración")
    DECRETO = 15, _("Decreto")
    DENUNCIA = 16, _("Denuncia")
    DICTAMEN = 17, _("Dictamen")
    ESTADO_SITUACION = 18, _("Estado de situación")
    ESTUDIO = 19, _("Estudio")
    EXPEDIENTE = 20, _("Expediente administrativo")
    FICHA = 21, _("Ficha")
    INFORME = 22, _("Informe")
    INSTRUCTIVO = 23, _("Instructivo")
    MANDATO = 24, _("Mandato")
    MEMORANDUM = 25, _("Memorándum")
    MINUTA = 26, _("Minuta")
    NOMINA = 27, _("Nómina")
    NOTA = 28, _("Nota")
    NOTIFICACION = 29, _("Notificación")
    OFICIO = 30, _("Oficio")
    ORDENANZA = 31, _("Ordenanza")
    PROSPECTO = 32, _("Prospecto")
    QUERELLA = 33, _("Querella")
    RECLAMO = 34, _("Reclamo")
    REGISTRO = 35, _("Registro")
    RESOLUCION = 36, _("Resolución")
    RESPUESTA = 37, _("Respuesta")
    RETROCOMPRA = 38, _("Retrocompra")
    SENTENCIA = 39, _("Sentencia")
    SOLICITUD = 40, _("Solicitud")
    TERMINOS_REFERENCIA = 41, _("Términos de referencia")
    TRANSCRIPCION = 42, _("Transcripción")


class Mechanism(models.IntegerChoices):
    """Mecanismo de incorporación (MGDDE5_3)."""

    PHYSICAL = 1, _("Physical")
    DIGITAL = 2, _("Digital")
    DIGITIZATION = 3, _("Digitization")


class AccessLevel(models.IntegerChoices):
    """Nivel de acceso (MGDDE7_1), codes of the metadata guide."""

    PUBLIC = 1, _("Public")
    RESTRICTED = 2, _("Restricted")
    SECRET = 3, _("Secret")
    RESERVED = 4, _("Reserved")


class PartyKind(models.TextChoices):
    CITIZEN = "citizen", _("Citizen (RUN)")
    COMPANY = "company", _("Company or organization (RUT)")
    PUBLIC_BODY = "public_body", _("Public body")
    INTERNAL = "internal", _("Municipal unit")


class Channel(models.TextChoices):
    PAPER = "paper", _("Paper (counter)")
    ELECTRONIC = "electronic", _("Electronic (upload)")
    EMAIL = "email", _("E-mail")
    API = "api", _("API")


class RegistrationStatus(models.TextChoices):
    # Incoming: registered -> routed -> in_progress -> closed; any open state -> voided.
    REGISTERED = "registered", _("Registered")
    ROUTED = "routed", _("Routed")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")
    # Outgoing: registered -> dispatched (delivery evidence recorded).
    DISPATCHED = "dispatched", _("Dispatched")
    VOIDED = "voided", _("Voided")


class DeliveryMethod(models.TextChoices):
    EMAIL = "email", _("E-mail")
    CERTIFIED_MAIL = "certified_mail", _("Certified mail")
    BY_HAND = "by_hand", _("By hand")


class Counter(models.Model):
    """The last number given in one book of one organization in one year. Locked (SELECT … FOR UPDATE)
    by the transaction that creates a registration, so numbers are unique and gap-free among commits."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    book = models.CharField(max_length=1, choices=Book.choices)
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "book", "year"], name="counter_unique")]

    def __str__(self) -> str:
        return f"{self.book}-{self.year}: {self.last_value}"


class Registration(models.Model):
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    book = models.CharField(_("book"), max_length=1, choices=Book.choices)
    year = models.PositiveIntegerField(_("year"))
    number = models.PositiveIntegerField(_("number"))
    folio = models.CharField(_("folio"), max_length=20)
    status = models.CharField(_("status"), max_length=12, choices=RegistrationStatus.choices,
                              default=RegistrationStatus.REGISTERED)
    document_type = models.PositiveSmallIntegerField(_("document type"), choices=DocumentType.choices)
    subject = models.CharField(_("subject"), max_length=500)
    summary = models.TextField(_("summary"), blank=True)
    # Sender (incoming) or recipient (outgoing): the external party.
    party_kind = models.CharField(_("party type"), max_length=12, choices=PartyKind.choices)
    party_name = models.CharField(_("name"), max_length=200)
    party_rut_number = models.PositiveIntegerField(_("RUN/RUT"), null=True, blank=True)
    party_rut_dv = models.CharField(max_length=1, blank=True)
    party_body_code = models.CharField(_("public body code"), max_length=20, blank=True)
    party_email = models.EmailField(_("e-mail"), blank=True)
    party_address = models.CharField(_("address"), max_length=250, blank=True)
    # Incoming: who it is addressed to; outgoing: the unit that sends it.
    addressee = models.CharField(_("addressee"), max_length=200, blank=True)
    unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("unit"))
    document_date = models.DateField(_("document date"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    mechanism = models.PositiveSmallIntegerField(_("incorporation mechanism"), choices=Mechanism.choices)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    access_level = models.PositiveSmallIntegerField(_("access level"), choices=AccessLevel.choices,
                                                    default=AccessLevel.PUBLIC)
    sensitive_data = models.BooleanField(_("contains sensitive personal data"), default=False)
    keywords = models.CharField(_("keywords"), max_length=500, blank=True)
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    # Outgoing: what it answers and how it left.
    answers = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="responses",
                                verbose_name=_("answers"))
    delivery_method = models.CharField(_("delivery method"), max_length=20, choices=DeliveryMethod.choices,
                                       blank=True)
    delivery_reference = models.CharField(_("delivery reference"), max_length=200, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closing_note = models.TextField(_("closing note"), blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("reason for voiding"), max_length=500, blank=True)
    receipt_code = models.CharField(_("verification code"), max_length=20, blank=True)
    # Idempotency: a client-generated token makes a double submission return the first registration.
    submission_token = models.CharField(max_length=64, null=True, blank=True)
    registered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Optimistic concurrency: every update bumps it, and an update of a stale version is refused.
    version = models.PositiveIntegerField(default=1)
    # Not stored: set by the services when a repeated submission_token returned the first registration.
    duplicate_submission = False

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(fields=["organization", "book", "year", "number"],
                                    name="registration_number_unique"),
            models.UniqueConstraint(fields=["organization", "folio"], name="registration_folio_unique"),
            models.UniqueConstraint(fields=["organization", "submission_token"], name="registration_submission_unique",
                                    condition=models.Q(submission_token__isnull=False)),
        ]
        indexes = [
            models.Index(fields=["organization", "id"], name="registration_org_id_idx"),
            models.Index(fields=["organization", "book", "received_at"], name="registration_book_time_idx"),
            models.Index(fields=["organization", "status"], name="registration_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.folio} {self.subject[:60]}"

    @property
    def party_rut(self) -> str:
        return format_rut(self.party_rut_number, self.party_rut_dv)

    @property
    def is_incoming(self) -> bool:
        return self.book == Book.INCOMING

    @property
    def is_open(self) -> bool:
        return self.status not in (RegistrationStatus.CLOSED, RegistrationStatus.VOIDED, RegistrationStatus.DISPATCHED)


class DocumentRole(models.TextChoices):
    MAIN = "main", _("Main document")
    ATTACHMENT = "attachment", _("Attachment")
    DELIVERY_EVIDENCE = "delivery_evidence", _("Delivery evidence")
    RECEIPT = "receipt", _("Receipt")


class RegistrationDocument(models.Model):
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="documents")
    file = models.ForeignKey("files.StoredFile", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=DocumentRole.choices)
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.registration_id}#{self.position} {self.role}"


class Instruction(models.TextChoices):
    FOR_INFORMATION = "information", _("For information")
    FOR_RESPONSE = "response", _("For response")
    FOR_REPORT = "report", _("For report")
    FOR_ACTION = "action", _("For action")
    FOR_SIGNATURE = "signature", _("For signature")
    FOR_FILING = "filing", _("For filing")


class RoutingStatus(models.TextChoices):
    # pending -> acknowledged -> completed; pending/acknowledged -> rerouted | cancelled.
    PENDING = "pending", _("Pending")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    COMPLETED = "completed", _("Completed")
    REROUTED = "rerouted", _("Re-routed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_ROUTING = (RoutingStatus.PENDING, RoutingStatus.ACKNOWLEDGED)


class Routing(models.Model):
    """A derivación: the registration sent to a unit (optionally to one official) with an instruction
    and a deadline in días hábiles."""

    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="routings")
    from_unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    to_unit = models.ForeignKey("organizations.Unit", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("unit"))
    to_user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("official"))
    instruction = models.CharField(_("instruction"), max_length=20, choices=Instruction.choices)
    note = models.TextField(_("note"), blank=True)
    business_days = models.PositiveSmallIntegerField(_("deadline (business days)"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=RoutingStatus.choices, default=RoutingStatus.PENDING)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                        related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")
    response = models.ForeignKey(Registration, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("routing")
        verbose_name_plural = _("routings")
        indexes = [
            models.Index(fields=["to_unit", "status", "due_date"], name="routing_inbox_idx"),
            models.Index(fields=["registration", "to_unit"], name="routing_reg_unit_idx"),
            # Covers the inbox filter (organization, open status, unit or official) and its deadline order;
            # with the id, PostgreSQL answers the inbox from the index alone.
            models.Index(fields=["organization", "status", "to_unit", "to_user", "due_date", "id"],
                         name="routing_inbox_cover_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.registration.folio} → {self.to_unit}"
