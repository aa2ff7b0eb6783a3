"""REST API of the Oficina de Partes (/api/v1/). Thin: parse, call a selector or service, serialise."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from folio.audit.selectors import events_for_object
from folio.core.http import client_ip
from folio.files.services import FileRejected, read_upload
from folio.organizations.models import Unit
from folio.registry import selectors, services
from folio.registry.models import (
    AccessLevel,
    Book,
    Channel,
    DeliveryMethod,
    DocumentRole,
    DocumentType,
    Instruction,
    Mechanism,
    PartyKind,
    Registration,
    RegistrationStatus,
    Routing,
)


class UnitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "code", "name", "acronym"]


class RoutingSerializer(serializers.ModelSerializer):
    to_unit = UnitSerializer(read_only=True)
    folio = serializers.CharField(source="registration.folio", read_only=True)
    registration_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Routing
        fields = ["id", "registration_id", "folio", "to_unit", "to_user_id", "instruction", "note", "business_days",
                  "due_date", "status", "created_at", "acknowledged_at", "completed_at", "parent_id"]


class DocumentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    name = serializers.CharField(source="file.original_name")
    content_type = serializers.CharField(source="file.content_type")
    size = serializers.IntegerField(source="file.size")
    sha256 = serializers.CharField(source="file.sha256")
    pages = serializers.IntegerField(source="file.pages", allow_null=True)


class RegistrationListSerializer(serializers.ModelSerializer):
    party_rut = serializers.CharField(read_only=True)
    unit = UnitSerializer(read_only=True)

    class Meta:
        model = Registration
        fields = ["id", "folio", "book", "status", "document_type", "subject", "party_kind", "party_name",
                  "party_rut", "unit", "received_at", "access_level", "sensitive_data", "version"]


class RegistrationDetailSerializer(RegistrationListSerializer):
    documents = serializers.SerializerMethodField()
    routings = RoutingSerializer(many=True, read_only=True)
    answers_folio = serializers.CharField(source="answers.folio", default=None, read_only=True)
    verification_url = serializers.SerializerMethodField()

    class Meta(RegistrationListSerializer.Meta):
        fields = [*RegistrationListSerializer.Meta.fields, "summary", "party_body_code", "party_email",
                  "party_address", "addressee", "document_date", "mechanism", "channel", "keywords", "pages",
                  "answers_folio", "delivery_method", "delivery_reference", "dispatched_at", "closed_at",
                  "closing_note", "voided_at", "void_reason", "receipt_code", "verification_url", "documents",
                  "routings"]

    def get_documents(self, obj: Registration) -> list[dict[str, Any]]:
        return DocumentOutSerializer([d for d in obj.documents.all() if d.role != DocumentRole.RECEIPT],
                                     many=True).data  # type: ignore[return-value]

    def get_verification_url(self, obj: Registration) -> str:
        from folio.verification.services import verification_url

        return verification_url(obj.receipt_code) if obj.receipt_code else ""


class RegistrationInSerializer(serializers.Serializer):
    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    subject = serializers.CharField(max_length=500)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    party_kind = serializers.ChoiceField(choices=PartyKind.choices)
    party_name = serializers.CharField(max_length=200)
    party_rut = serializers.CharField(required=False, allow_blank=True, default="", max_length=15)
    party_body_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    party_email = serializers.EmailField(required=False, allow_blank=True, default="")
    party_address = serializers.CharField(required=False, allow_blank=True, default="", max_length=250)
    addressee = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    unit_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    document_date = serializers.DateField(required=False, allow_null=True, default=None)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    mechanism = serializers.ChoiceField(choices=Mechanism.choices, default=Mechanism.DIGITAL)
    access_level = serializers.ChoiceField(choices=AccessLevel.choices, default=AccessLevel.PUBLIC)
    sensitive_data = serializers.BooleanField(default=False)
    keywords = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    pages = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    submission_token = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    answers_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    delivery_method = serializers.ChoiceField(choices=DeliveryMethod.choices, required=False, allow_blank=True,
                                              default="")
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list)


def _input(request: Request, data: dict[str, Any]) -> services.RegistrationInput:
    files = request.FILES.getlist("files") if hasattr(request, "FILES") else []
    docs = [services.UploadedDoc(name=f.name, data=read_upload(f),
                                 role=DocumentRole.MAIN if i == 0 else DocumentRole.ATTACHMENT)
            for i, f in enumerate(files)]
    return services.RegistrationInput(
        document_type=int(data["document_type"]), subject=data["subject"], summary=data["summary"],
        party_kind=data["party_kind"], party_name=data["party_name"], party_rut=data["party_rut"],
        party_body_code=data["party_body_code"], party_email=data["party_email"],
        party_address=data["party_address"], addressee=data["addressee"], unit_id=data["unit_id"],
        document_date=data["document_date"], received_at=data["received_at"], mechanism=int(data["mechanism"]),
        channel=Channel.API, access_level=int(data["access_level"]), sensitive_data=data["sensitive_data"],
        keywords=data["keywords"], pages=data["pages"], submission_token=data["submission_token"] or None,
        answers_id=data["answers_id"], delivery_method=data["delivery_method"], documents=docs,
    )


def _detail(request: Request, pk: int) -> Registration:
    reg = selectors.registration_get(request.user, pk)
    if reg is None:
        raise Http404
    return reg


class RegistrationListView(APIView):
    @extend_schema(
        summary="Search registrations", operation_id="registrations_search",
        parameters=[OpenApiParameter(n, str, required=False) for n in
                    ("q", "book", "status", "folio", "party", "date_from", "date_to", "unit_id", "document_type",
                     "page")],
        responses=inline_serializer("RegistrationPage", {
            "count": serializers.IntegerField(), "count_capped": serializers.BooleanField(),
            "page": serializers.IntegerField(), "results": RegistrationListSerializer(many=True)}),
    )
    def get(self, request: Request) -> Response:
        p = request.query_params
        errors: dict[str, list[str]] = {}
        f = selectors.SearchFilters(q=p.get("q", ""), book=p.get("book", ""), status=p.get("status", ""),
                                    folio=p.get("folio", ""), party=p.get("party", ""))
        if f.book and f.book not in Book.values:
            errors["book"] = ["E | S"]
        if f.status and f.status not in RegistrationStatus.values:
            errors["status"] = [", ".join(RegistrationStatus.values)]
        for key in ("date_from", "date_to"):
            if p.get(key):
                try:
                    setattr(f, key, serializers.DateField().to_internal_value(p[key]))
                except serializers.ValidationError as exc:
                    errors[key] = [str(e) for e in exc.detail]
        for key, attr in (("unit_id", "unit_id"), ("document_type", "document_type"), ("page", None)):
            if p.get(key) and not p[key].isdigit():
                errors[key] = ["integer"]
            elif p.get(key) and attr:
                setattr(f, attr, int(p[key]))
        if errors:
            raise serializers.ValidationError(errors)
        page = selectors.registration_search(request.user, f, page=int(p.get("page", "1") or 1))
        return Response({"count": page.total, "count_capped": page.total_is_capped, "page": page.page,
                         "results": RegistrationListSerializer(page.results, many=True).data})


class _CreateView(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    outgoing = False

    def post(self, request: Request) -> Response:
        ser = RegistrationInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = _input(request, ser.validated_data)
        create = services.registration_create_outgoing if self.outgoing else services.registration_create_incoming
        try:
            reg = create(actor=request.user, data=data, ip=client_ip(request))
        except DjangoValidationError as exc:
            # The service calls the uploads "documents"; in this API they are the "files" field.
            if hasattr(exc, "error_dict") and "documents" in exc.error_dict:
                exc.error_dict["files"] = exc.error_dict.pop("documents")
            raise
        if reg.duplicate_submission:
            raise services.ConflictError(services.duplicate_submission_message(reg))
        return Response(RegistrationDetailSerializer(_detail(request, reg.pk)).data, status=status.HTTP_201_CREATED)


class IncomingCreateView(_CreateView):
    @extend_schema(summary="Register incoming correspondence", request=RegistrationInSerializer,
                   responses={201: RegistrationDetailSerializer})
    def post(self, request: Request) -> Response:
        return super().post(request)


class OutgoingCreateView(_CreateView):
    outgoing = True

    @extend_schema(summary="Register outgoing correspondence", request=RegistrationInSerializer,
                   responses={201: RegistrationDetailSerializer})
    def post(self, request: Request) -> Response:
        return super().post(request)


class RegistrationDetailView(APIView):
    @extend_schema(summary="A registration", responses=RegistrationDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        reg = _detail(request, pk)
        services.registration_access_record(actor=request.user, registration=reg, what="api:detail",
                                            ip=client_ip(request))
        return Response(RegistrationDetailSerializer(reg).data)


class RouteInSerializer(serializers.Serializer):
    to_unit_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    to_user_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    instruction = serializers.ChoiceField(choices=Instruction.choices)
    business_days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                             max_value=365)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class RouteView(APIView):
    @extend_schema(summary="Route (derivar) to units", request=RouteInSerializer,
                   responses={201: RoutingSerializer(many=True)})
    def post(self, request: Request, pk: int) -> Response:
        reg = _detail(request, pk)
        ser = RouteInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        routings = services.registration_route(
            actor=request.user, registration=reg, to_unit_ids=d["to_unit_ids"], to_user_id=d["to_user_id"],
            instruction=d["instruction"], business_days=d["business_days"], note=d["note"],
            expected_version=d["version"], ip=client_ip(request))
        return Response(RoutingSerializer(Routing.objects.filter(pk__in=[r.pk for r in routings])
                                          .select_related("to_unit", "registration"), many=True).data,
                        status=status.HTTP_201_CREATED)


class CloseInSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    response_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class CloseView(APIView):
    @extend_schema(summary="Close with a response", request=CloseInSerializer, responses=RegistrationDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        reg = _detail(request, pk)
        ser = CloseInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        services.registration_close(actor=request.user, registration=reg, note=ser.validated_data["note"],
                                    response_id=ser.validated_data["response_id"],
                                    expected_version=ser.validated_data["version"], ip=client_ip(request))
        return Response(RegistrationDetailSerializer(_detail(request, pk)).data)


class VoidInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class VoidView(APIView):
    @extend_schema(summary="Void (anular) keeping the number", request=VoidInSerializer,
                   responses=RegistrationDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        reg = _detail(request, pk)
        ser = VoidInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        services.registration_void(actor=request.user, registration=reg, reason=ser.validated_data["reason"],
                                   expected_version=ser.validated_data["version"], ip=client_ip(request))
        return Response(RegistrationDetailSerializer(_detail(request, pk)).data)


class DispatchInSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    evidence = serializers.FileField(required=False, allow_null=True, default=None)


class DispatchView(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(summary="Record the dispatch of an outgoing registration", request=DispatchInSerializer,
                   responses=RegistrationDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        reg = _detail(request, pk)
        ser = DispatchInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        evidence = None
        try:
            if d["evidence"]:
                evidence = services.UploadedDoc(name=d["evidence"].name, data=read_upload(d["evidence"]),
                                                role=DocumentRole.DELIVERY_EVIDENCE)
            services.registration_dispatch(actor=request.user, registration=reg, method=d["method"],
                                           reference=d["reference"], evidence=evidence, ip=client_ip(request))
        except FileRejected as exc:
            raise serializers.ValidationError({"evidence": [exc.message]}) from None
        except DjangoValidationError as exc:
            # The service calls the stored files "documents"; here the upload is the "evidence" field.
            if hasattr(exc, "error_dict") and "documents" in exc.error_dict:
                exc.error_dict["evidence"] = exc.error_dict.pop("documents")
            raise
        return Response(RegistrationDetailSerializer(_detail(request, pk)).data)


class TimelineEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]


class TimelineView(APIView):
    @extend_schema(summary="Everything that happened to a registration", responses=TimelineEventSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        reg = _detail(request, pk)
        events = events_for_object(object_type="registry.registration", object_id=reg.pk)
        return Response(TimelineEventSerializer(events, many=True).data)


class InboxView(APIView):
    @extend_schema(summary="The user's unit inbox", parameters=[OpenApiParameter("state", str, required=False,
                                                                                  enum=["open", "overdue", "done"])],
                   responses=inline_serializer("Inbox", {"pending": serializers.IntegerField(),
                                                         "overdue": serializers.IntegerField(),
                                                         "results": RoutingSerializer(many=True)}))
    def get(self, request: Request) -> Response:
        state = request.query_params.get("state", "open")
        if state not in ("open", "overdue", "done"):
            raise serializers.ValidationError({"state": ["open | overdue | done"]})
        page = selectors.inbox_routings(request.user, state=state, limit=100)
        return Response({"pending": page.pending, "overdue": page.overdue,
                         "results": RoutingSerializer(page.routings, many=True).data})


class AcknowledgeView(APIView):
    @extend_schema(summary="Acknowledge a routing", request=None, responses=RoutingSerializer)
    def post(self, request: Request, routing_id: int) -> Response:
        routing = selectors.routing_get(request.user, routing_id)
        if routing is None:
            raise Http404
        routing = services.routing_acknowledge(actor=request.user, routing=routing, ip=client_ip(request))
        return Response(RoutingSerializer(Routing.objects.select_related("to_unit", "registration")
                                          .get(pk=routing.pk)).data)


class UnitsView(APIView):
    @extend_schema(summary="Units of the user's organization", responses=UnitSerializer(many=True))
    def get(self, request: Request) -> Response:
        units = Unit.objects.filter(organization_id=getattr(request.user, "organization_id", None) or 0,
                                    is_active=True)
        return Response(UnitSerializer(units, many=True).data)


urlpatterns = [
    path("registrations/", RegistrationListView.as_view(), name="api-registrations"),
    path("registrations/incoming/", IncomingCreateView.as_view(), name="api-registrations-incoming"),
    path("registrations/outgoing/", OutgoingCreateView.as_view(), name="api-registrations-outgoing"),
    path("registrations/<int:pk>/", RegistrationDetailView.as_view(), name="api-registration"),
    path("registrations/<int:pk>/route/", RouteView.as_view(), name="api-registration-route"),
    path("registrations/<int:pk>/close/", CloseView.as_view(), name="api-registration-close"),
    path("registrations/<int:pk>/void/", VoidView.as_view(), name="api-registration-void"),
    path("registrations/<int:pk>/dispatch/", DispatchView.as_view(), name="api-registration-dispatch"),
    path("registrations/<int:pk>/timeline/", TimelineView.as_view(), name="api-registration-timeline"),
    path("inbox/", InboxView.as_view(), name="api-inbox"),
    path("routings/<int:routing_id>/acknowledge/", AcknowledgeView.as_view(), name="api-routing-acknowledge"),
    path("units/", UnitsView.as_view(), name="api-units"),
]
