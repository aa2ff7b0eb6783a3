"""REST API of official documents (/api/v1/acts/). Thin: parse, call a selector or a service, serialise.
Errors follow folio.api.errors (400 invalid, 403 denied, 404 not found or not visible, 409 conflict); a
failed signature answers {"error": {"code": <SignatureError code>, ...}} with 400/403 (the signer's input) or
502/504 (the provider), and leaves the act unsigned and unnumbered."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from folio.acts import selectors, services
from folio.acts.models import Act, ActKind, ActState, ActStep, ActTemplate, Capacity, SignatureMethod
from folio.acts.views import SIGNATURE_STATUS
from folio.core.http import client_ip
from folio.files.services import file_open
from folio.registry.api import UnitSerializer
from folio.registry.models import AccessLevel, DeliveryMethod, PartyKind
from folio.verification.services import verification_url


class StepSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    user_name = serializers.CharField(source="user.display_name", read_only=True)

    class Meta:
        model = ActStep
        fields = ["id", "kind", "position", "user_id", "user_name", "capacity", "status", "done_at", "comment",
                  "method", "provider", "signer_name", "capacity_label", "position_label", "certificate_serial"]


class ActListSerializer(serializers.ModelSerializer):
    unit = UnitSerializer(read_only=True)
    waiting_for = serializers.CharField(source="current_step.user.display_name", default=None, read_only=True)

    class Meta:
        model = Act
        fields = ["id", "kind", "state", "number", "year", "number_display", "subject", "unit", "access_level",
                  "waiting_for", "created_at", "signed_at", "version"]


class ActDetailSerializer(ActListSerializer):
    steps = StepSerializer(many=True, read_only=True)
    template_id = serializers.IntegerField(read_only=True)
    answers_folio = serializers.CharField(source="answers.folio", default=None, read_only=True)
    case_file_iuie = serializers.CharField(source="case_file.iuie", default=None, read_only=True)
    outgoing_folio = serializers.CharField(source="outgoing_registration.folio", default=None, read_only=True)
    sha256 = serializers.CharField(source="signed_file.sha256", default=None, read_only=True)
    verification_url = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()
    distribution_unit_ids = serializers.SerializerMethodField()

    class Meta(ActListSerializer.Meta):
        fields = [*ActListSerializer.Meta.fields, "template_id", "antecedents", "body", "closing",
                  "distribution_text", "recipient_kind", "recipient_name", "recipient_position", "recipient_email",
                  "recipient_address", "recipient_body_code", "distribution_unit_ids", "answers_id", "answers_folio",
                  "case_file_id", "case_file_iuie", "document_date", "numbered_at", "verification_code",
                  "verification_url", "sha256", "returned_comment", "distributed_at", "outgoing_folio",
                  "cancelled_at", "cancel_reason", "steps", "allowed_actions"]

    def get_verification_url(self, obj: Act) -> str | None:
        return verification_url(obj.verification_code) if obj.verification_code else None

    def get_allowed_actions(self, obj: Act) -> list[str]:
        return sorted(services.allowed_actions(obj))

    def get_distribution_unit_ids(self, obj: Act) -> list[int]:
        return [u.pk for u in obj.distribution_units.all()]


class StepInSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    capacity = serializers.ChoiceField(choices=Capacity.choices, default=Capacity.OWN)


class ActInSerializer(serializers.Serializer):
    template_id = serializers.IntegerField(required=False, allow_null=True)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=500)
    antecedents = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)
    closing = serializers.CharField(required=False, allow_blank=True)
    distribution_text = serializers.CharField(required=False, allow_blank=True)
    recipient_kind = serializers.ChoiceField(choices=PartyKind.choices, required=False, allow_blank=True)
    recipient_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    recipient_position = serializers.CharField(required=False, allow_blank=True, max_length=200)
    recipient_rut = serializers.CharField(required=False, allow_blank=True, max_length=15)
    recipient_email = serializers.EmailField(required=False, allow_blank=True)
    recipient_address = serializers.CharField(required=False, allow_blank=True, max_length=250)
    recipient_body_code = serializers.CharField(required=False, allow_blank=True, max_length=20)
    distribution_unit_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    access_level = serializers.ChoiceField(choices=AccessLevel.choices, required=False)
    endorsers = StepInSerializer(many=True, required=False)
    signers = StepInSerializer(many=True, required=False)
    answers_id = serializers.IntegerField(required=False, allow_null=True)
    case_file_id = serializers.IntegerField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, allow_null=True)


def _input(d: dict[str, Any]) -> services.ActInput:
    data = services.ActInput()
    for name in ("template_id", "subject", "antecedents", "body", "closing", "distribution_text", "recipient_kind",
                 "recipient_name", "recipient_position", "recipient_rut", "recipient_email", "recipient_address",
                 "recipient_body_code", "distribution_unit_ids", "answers_id", "case_file_id"):
        if name in d:
            setattr(data, name, d[name])
    if "access_level" in d:
        data.access_level = int(d["access_level"])
    for name in ("endorsers", "signers"):
        if name in d:
            setattr(data, name, [services.StepInput(s["user_id"], s["capacity"]) for s in d[name]])
    return data


def _get(request: Request, pk: int) -> Act:
    act = selectors.act_get(request.user, pk)
    if act is None:
        services.act_record_denial(actor=request.user, act_id=pk, what=f"api:{request.path}", ip=client_ip(request))
        raise Http404
    return act


def _detail(request: Request, pk: int) -> dict[str, Any]:
    return ActDetailSerializer(_get(request, pk)).data  # type: ignore[return-value]


def _signature_error(exc: Any) -> Response:
    return Response({"error": {"code": exc.code, "message": exc.message, "fields": {}}},
                    status=SIGNATURE_STATUS.get(exc.code, 400))


class ActListView(APIView):
    @extend_schema(
        summary="Official documents the user may see", operation_id="acts_list",
        parameters=[OpenApiParameter("q", str, required=False),
                    OpenApiParameter("state", str, required=False, enum=ActState.values),
                    OpenApiParameter("kind", str, required=False, enum=ActKind.values),
                    OpenApiParameter("mine", bool, required=False),
                    OpenApiParameter("page", int, required=False)],
        responses=inline_serializer("ActPage", {"count": serializers.IntegerField(), "page": serializers.IntegerField(),
                                                "results": ActListSerializer(many=True)}),
    )
    def get(self, request: Request) -> Response:
        p = request.query_params
        errors: dict[str, list[str]] = {}
        if p.get("state") and p["state"] not in ActState.values:
            errors["state"] = [", ".join(ActState.values)]
        if p.get("kind") and p["kind"] not in ActKind.values:
            errors["kind"] = [", ".join(ActKind.values)]
        page_raw = p.get("page", "1") or "1"
        if not page_raw.isdigit() or int(page_raw) < 1:
            errors["page"] = ["integer ≥ 1"]
        if errors:
            raise serializers.ValidationError(errors)
        page, size = int(page_raw), 50
        qs = selectors.act_search(request.user, selectors.ActFilters(
            q=p.get("q", ""), state=p.get("state", ""), kind=p.get("kind", ""), mine=p.get("mine") in ("1", "true")))
        return Response({"count": qs.count(), "page": page,
                         "results": ActListSerializer(qs[(page - 1) * size: page * size], many=True).data})

    @extend_schema(summary="Draft a document from a template (optionally answering a registration or inside an "
                           "expediente)", operation_id="acts_create", request=ActInSerializer,
                   responses={201: ActDetailSerializer})
    def post(self, request: Request) -> Response:
        ser = ActInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        act = services.act_create(actor=request.user, data=_input(ser.validated_data), ip=client_ip(request))
        return Response(_detail(request, act.pk), status=status.HTTP_201_CREATED)


class ActDetailView(APIView):
    @extend_schema(summary="An official document", operation_id="acts_retrieve", responses=ActDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(_detail(request, pk))

    @extend_schema(summary="Change a draft", operation_id="acts_update", request=ActInSerializer,
                   responses=ActDetailSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        act = _get(request, pk)
        ser = ActInSerializer(data=request.data, partial=True)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        if "template_id" in d or "answers_id" in d or "case_file_id" in d:
            raise serializers.ValidationError({"template_id": ["The template, the registration answered and the "
                                                               "expediente are chosen when drafting."]})
        services.act_update(actor=request.user, act=act, data=_input(d), expected_version=d.get("version"),
                            ip=client_ip(request))
        return Response(_detail(request, pk))


class VersionInSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class CommentInSerializer(VersionInSerializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonInSerializer(VersionInSerializer):
    reason = serializers.CharField(max_length=500)


class SignInSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=SignatureMethod.choices, required=False, allow_blank=True, default="")
    passphrase = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    otp = serializers.CharField(required=False, allow_blank=True, default="", max_length=12)


class DistributeInSerializer(VersionInSerializer):
    delivery_method = serializers.ChoiceField(choices=DeliveryMethod.choices, required=False, allow_blank=True,
                                              default="")
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class _ActionView(APIView):
    serializer_class: type[serializers.Serializer] = VersionInSerializer

    def run(self, request: Request, act: Act, d: dict[str, Any]) -> Any:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        act = _get(request, pk)
        ser = self.serializer_class(data=request.data)
        ser.is_valid(raise_exception=True)
        self.run(request, act, ser.validated_data)
        return Response(_detail(request, pk))


class SubmitView(_ActionView):
    @extend_schema(summary="Send a draft to its circuit", operation_id="acts_submit", request=VersionInSerializer,
                   responses=ActDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, act: Act, d: dict[str, Any]) -> Any:
        return services.act_submit(actor=request.user, act=act, expected_version=d["version"], ip=client_ip(request))


class EndorseView(_ActionView):
    serializer_class = CommentInSerializer

    @extend_schema(summary="Endorse (visar), when it is the user's turn", operation_id="acts_endorse",
                   request=CommentInSerializer, responses=ActDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, act: Act, d: dict[str, Any]) -> Any:
        return services.act_endorse(actor=request.user, act=act, comment=d["comment"],
                                    expected_version=d["version"], ip=client_ip(request))


class SendBackView(_ActionView):
    serializer_class = CommentInSerializer

    @extend_schema(summary="Send back to draft with comments", operation_id="acts_send_back",
                   request=CommentInSerializer, responses=ActDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, act: Act, d: dict[str, Any]) -> Any:
        return services.act_send_back(actor=request.user, act=act, comment=d["comment"],
                                      expected_version=d["version"], ip=client_ip(request))


class CancelView(_ActionView):
    serializer_class = ReasonInSerializer

    @extend_schema(summary="Cancel a draft", operation_id="acts_cancel", request=ReasonInSerializer,
                   responses=ActDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, act: Act, d: dict[str, Any]) -> Any:
        return services.act_cancel(actor=request.user, act=act, reason=d["reason"], expected_version=d["version"],
                                   ip=client_ip(request))


class DistributeView(_ActionView):
    serializer_class = DistributeInSerializer

    @extend_schema(summary="Distribute a numbered document (units, libro de despacho, expediente)",
                   operation_id="acts_distribute", request=DistributeInSerializer, responses=ActDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, act: Act, d: dict[str, Any]) -> Any:
        return services.act_distribute(actor=request.user, act=act, delivery_method=d["delivery_method"],
                                       reference=d["reference"], expected_version=d["version"],
                                       ip=client_ip(request))


class SignView(APIView):
    @extend_schema(summary="Sign, when it is the user's turn (passphrase for the simple signature, FirmaGob OTP "
                           "for the advanced one)", operation_id="acts_sign", request=SignInSerializer,
                   responses={200: ActDetailSerializer, 400: OpenApiResponse(description="invalid or wrong "
                                                                                         "passphrase/OTP"),
                              502: OpenApiResponse(description="the signature provider failed")})
    def post(self, request: Request, pk: int) -> Response:
        from folio.signatures.services import SignatureError

        act = _get(request, pk)
        ser = SignInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            services.act_sign(actor=request.user, act=act, method=d["method"] or None,
                              passphrase=d["passphrase"] or None, otp=d["otp"].strip() or None, ip=client_ip(request))
        except SignatureError as exc:
            return _signature_error(exc)
        return Response(_detail(request, pk))


class BatchSignInSerializer(SignInSerializer):
    act_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=200)


class BatchResultSerializer(serializers.Serializer):
    act_id = serializers.IntegerField()
    title = serializers.CharField()
    ok = serializers.BooleanField()
    code = serializers.CharField()
    message = serializers.CharField()
    number_display = serializers.CharField()
    state = serializers.CharField()


class BatchSignView(APIView):
    @extend_schema(summary="Sign many documents in one action; one result per document",
                   operation_id="acts_batch_sign", request=BatchSignInSerializer,
                   responses=inline_serializer("BatchSignResult", {
                       "signed": serializers.IntegerField(), "failed": serializers.IntegerField(),
                       "results": BatchResultSerializer(many=True)}))
    def post(self, request: Request) -> Response:
        ser = BatchSignInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        results = services.act_sign_batch(actor=request.user, act_ids=d["act_ids"], method=d["method"] or None,
                                          passphrase=d["passphrase"] or None, otp=d["otp"].strip() or None,
                                          ip=client_ip(request))
        ok = sum(1 for r in results if r.ok)
        return Response({"signed": ok, "failed": len(results) - ok,
                         "results": BatchResultSerializer(results, many=True).data})


class InboxView(APIView):
    @extend_schema(summary="Documents waiting for the user's endorsement or signature", operation_id="acts_inbox",
                   parameters=[OpenApiParameter("kind", str, required=False, enum=["sign", "endorse"])],
                   responses=ActListSerializer(many=True))
    def get(self, request: Request) -> Response:
        kind = request.query_params.get("kind", "sign")
        if kind not in ("sign", "endorse"):
            raise serializers.ValidationError({"kind": ["sign | endorse"]})
        qs = selectors.signature_inbox(request.user) if kind == "sign" else selectors.endorsement_inbox(request.user)
        return Response(ActListSerializer(qs[:200], many=True).data)


class ActTimelineEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_label")
    action = serializers.CharField()
    data = serializers.JSONField()  # type: ignore[assignment]


class TimelineView(APIView):
    @extend_schema(summary="Everything that happened to a document", operation_id="acts_timeline",
                   responses=ActTimelineEventSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        return Response(ActTimelineEventSerializer(selectors.act_timeline(_get(request, pk)), many=True).data)


class DocumentView(APIView):
    @extend_schema(summary="The signed PDF, or the draft preview before the first signature",
                   operation_id="acts_document", responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse | FileResponse:
        act = _get(request, pk)
        if act.signed_file is not None:
            services.act_access_record(actor=request.user, act=act, what=f"api:download:{act.signed_file.sha256}",
                                       ip=client_ip(request))
            return FileResponse(file_open(act.signed_file), content_type="application/pdf",
                                filename=act.signed_file.original_name)
        return HttpResponse(services.act_preview(act).pdf, content_type="application/pdf")


class TemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ActTemplate
        fields = ["id", "kind", "name", "numbering_scheme", "antecedents_label", "show_from_to", "access_level",
                  "is_active"]


class TemplateListView(APIView):
    @extend_schema(summary="Document templates of the user's organization", operation_id="acts_templates",
                   responses=TemplateSerializer(many=True))
    def get(self, request: Request) -> Response:
        if getattr(request.user, "organization_id", None):
            services.ensure_default_templates(request.user.organization, actor=request.user)  # type: ignore[union-attr]
        return Response(TemplateSerializer(selectors.templates_for(request.user), many=True).data)


urlpatterns = [
    path("acts/", ActListView.as_view(), name="api-acts"),
    path("acts/inbox/", InboxView.as_view(), name="api-acts-inbox"),
    path("acts/batch-sign/", BatchSignView.as_view(), name="api-acts-batch-sign"),
    path("acts/templates/", TemplateListView.as_view(), name="api-acts-templates"),
    path("acts/<int:pk>/", ActDetailView.as_view(), name="api-act"),
    path("acts/<int:pk>/submit/", SubmitView.as_view(), name="api-act-submit"),
    path("acts/<int:pk>/endorse/", EndorseView.as_view(), name="api-act-endorse"),
    path("acts/<int:pk>/send-back/", SendBackView.as_view(), name="api-act-send-back"),
    path("acts/<int:pk>/sign/", SignView.as_view(), name="api-act-sign"),
    path("acts/<int:pk>/cancel/", CancelView.as_view(), name="api-act-cancel"),
    path("acts/<int:pk>/distribute/", DistributeView.as_view(), name="api-act-distribute"),
    path("acts/<int:pk>/timeline/", TimelineView.as_view(), name="api-act-timeline"),
    path("acts/<int:pk>/document.pdf", DocumentView.as_view(), name="api-act-document"),
]
