"""REST API of the retention schedule and final disposition (/api/v1/retention-rules/, /api/v1/dispositions/).
Thin: parse, call a selector or service, serialise. Errors follow folio.api.errors (400 invalid, 403 denied,
404 not found or another organization's, 409 conflict)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from folio.case_files import permissions, retention
from folio.case_files import retention_selectors as rsel
from folio.case_files.models import (
    DispositionAction,
    DispositionItem,
    DispositionRecord,
    FinalDisposition,
    RetentionRule,
)
from folio.core.http import client_ip

PAGE_SIZE = 100


class RetentionRuleSerializer(serializers.ModelSerializer):
    updated_by = serializers.CharField(source="updated_by.display_name", read_only=True)

    class Meta:
        model = RetentionRule
        fields = ["id", "series_code", "name", "active_years", "semi_active_years", "disposition", "legal_basis",
                  "created_at", "updated_at", "updated_by", "version"]


class RetentionRuleInSerializer(serializers.Serializer):
    series_code = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=200)
    active_years = serializers.IntegerField(min_value=0, max_value=retention.MAX_YEARS)
    semi_active_years = serializers.IntegerField(min_value=0, max_value=retention.MAX_YEARS)
    disposition = serializers.ChoiceField(choices=FinalDisposition.choices)
    legal_basis = serializers.CharField(max_length=500)
    version = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="The version you read; a stale one is refused with 409.")


class DueSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="case_file.id")
    iuie = serializers.CharField(source="case_file.iuie")
    title = serializers.CharField(source="case_file.title")
    state = serializers.CharField(source="case_file.state")
    archival_phase = serializers.CharField(source="case_file.archival_phase")
    series_code = serializers.CharField(source="case_file.series_code")
    closed_on = serializers.DateField()
    due_on = serializers.DateField()
    entries = serializers.IntegerField()
    disposition = serializers.CharField(source="action")


class DispositionItemSerializer(serializers.ModelSerializer):
    carried_by_iuie = serializers.CharField(source="carried_by.iuie", default=None, read_only=True)
    state = serializers.CharField(source="case_file.state", read_only=True)

    class Meta:
        model = DispositionItem
        fields = ["case_file", "iuie", "title", "series_code", "closed_at", "due_on", "index_hash", "entries",
                  "folios", "rule", "carried_by_iuie", "state", "files_removed", "bytes_removed", "files_kept"]


class DispositionSerializer(serializers.ModelSerializer):
    approved_by = serializers.CharField(source="approved_by.display_name", read_only=True)
    executed_by = serializers.CharField(source="executed_by.display_name", default=None, read_only=True)
    cancelled_by = serializers.CharField(source="cancelled_by.display_name", default=None, read_only=True)

    class Meta:
        model = DispositionRecord
        fields = ["id", "action", "status", "act_number", "reason", "approved_by", "approved_at", "executed_by",
                  "executed_at", "execution_note", "cancelled_by", "cancelled_at", "cancel_reason", "version"]


class DispositionDetailSerializer(DispositionSerializer):
    items = serializers.SerializerMethodField()

    class Meta(DispositionSerializer.Meta):
        fields = [*DispositionSerializer.Meta.fields, "items"]

    def get_items(self, obj: DispositionRecord) -> list[dict[str, Any]]:
        return DispositionItemSerializer(rsel.disposition_items(obj), many=True).data  # type: ignore[return-value]


class ApproveInSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=DispositionAction.choices)
    case_file_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False,
                                          max_length=retention.MAX_ITEMS)
    act_number = serializers.CharField(max_length=120, help_text="The decree or resolution that approves it.")
    reason = serializers.CharField()


class ExecuteInSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


class CancelInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)
    version = serializers.IntegerField(required=False, allow_null=True, default=None)


def _rule_input(d: dict[str, Any]) -> retention.RetentionRuleInput:
    return retention.RetentionRuleInput(series_code=d["series_code"], name=d["name"], active_years=d["active_years"],
                                        semi_active_years=d["semi_active_years"], disposition=d["disposition"],
                                        legal_basis=d["legal_basis"])


def _rule(request: Request, pk: int) -> RetentionRule:
    rule = rsel.retention_rule_get(request.user, pk)
    if rule is None:
        retention.record_denial(actor=request.user, object_type=retention.RULE_OBJECT, object_id=pk,
                                what="api:retention_rule", ip=client_ip(request))
        raise Http404
    return rule


def _record(request: Request, pk: int) -> DispositionRecord:
    if not permissions.can_read_dispositions(request.user):
        raise PermissionDenied(_("Only administrators and auditors see final dispositions."))
    record = rsel.disposition_get(request.user, pk)
    if record is None:
        retention.record_denial(actor=request.user, object_type=retention.RECORD_OBJECT, object_id=pk,
                                what="api:disposition", ip=client_ip(request))
        raise Http404
    return record


def _organization(request: Request) -> Any:
    organization = getattr(request.user, "organization", None)
    if organization is None:
        raise PermissionDenied(_("This area is for municipal staff."))
    return organization


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "1") or "1"
    if not raw.isdigit() or int(raw) < 1:
        raise serializers.ValidationError({"page": ["integer ≥ 1"]})
    return int(raw)


class RetentionRuleListView(APIView):
    @extend_schema(operation_id="retention_rules_list", summary="The retention schedule of your organization",
                   responses=RetentionRuleSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(RetentionRuleSerializer(rsel.retention_rules_for(request.user), many=True).data)

    @extend_schema(operation_id="retention_rules_create", summary="Add a series to the schedule (administrators)",
                   request=RetentionRuleInSerializer, responses={201: RetentionRuleSerializer})
    def post(self, request: Request) -> Response:
        ser = RetentionRuleInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        rule = retention.retention_rule_create(actor=request.user, data=_rule_input(ser.validated_data),
                                               ip=client_ip(request))
        return Response(RetentionRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RetentionRuleDetailView(APIView):
    @extend_schema(operation_id="retention_rules_retrieve", summary="One rule of the schedule",
                   responses=RetentionRuleSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(RetentionRuleSerializer(_rule(request, pk)).data)

    @extend_schema(operation_id="retention_rules_update",
                   summary="Change a rule (administrators; the series code cannot change)",
                   request=RetentionRuleInSerializer, responses=RetentionRuleSerializer)
    def put(self, request: Request, pk: int) -> Response:
        rule = _rule(request, pk)
        ser = RetentionRuleInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        updated = retention.retention_rule_update(actor=request.user, rule=rule, data=_rule_input(ser.validated_data),
                                                  expected_version=ser.validated_data["version"],
                                                  ip=client_ip(request))
        return Response(RetentionRuleSerializer(updated).data)


class ApplyPhasesView(APIView):
    @extend_schema(operation_id="retention_apply_phases", request=None,
                   summary="Apply the archival phase moves that are due (administrators)",
                   responses=inline_serializer("PhaseReport", {
                       "archived": serializers.ListField(child=serializers.CharField()),
                       "historic": serializers.ListField(child=serializers.CharField())}))
    def post(self, request: Request) -> Response:
        report = retention.retention_apply_phases(organization=_organization(request), actor=request.user,
                                                  ip=client_ip(request))
        return Response({"archived": report.archived, "historic": report.historic})


class DueView(APIView):
    @extend_schema(operation_id="dispositions_due",
                   summary="Expedientes due for final disposition (administrators and auditors)",
                   parameters=[OpenApiParameter("series", str, required=False),
                               OpenApiParameter("action", str, required=False, enum=DispositionAction.values),
                               OpenApiParameter("page", int, required=False)],
                   responses=inline_serializer("DuePage", {
                       "count": serializers.IntegerField(), "page": serializers.IntegerField(),
                       "results": DueSerializer(many=True)}))
    def get(self, request: Request) -> Response:
        action = request.query_params.get("action", "")
        if action and action not in DispositionAction.values:
            raise serializers.ValidationError({"action": [", ".join(DispositionAction.values)]})
        page = _page(request)
        qs = rsel.due_for_disposition(request.user, series_code=request.query_params.get("series", ""),
                                      action=action)
        if qs is None:
            raise PermissionDenied(_("Only administrators and auditors see final dispositions."))
        organization = _organization(request)
        _qs, rules = rsel.due_queryset(organization)
        rows = rsel.due_rows(qs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], rules, organization)
        return Response({"count": qs.count(), "page": page, "results": DueSerializer(rows, many=True).data})


class DispositionListView(APIView):
    @extend_schema(operation_id="dispositions_list", summary="Disposition records (administrators and auditors)",
                   responses=DispositionSerializer(many=True))
    def get(self, request: Request) -> Response:
        if not permissions.can_read_dispositions(request.user):
            raise PermissionDenied(_("Only administrators and auditors see final dispositions."))
        page = _page(request)
        qs = rsel.dispositions_visible_to(request.user).order_by("-approved_at", "-id")
        return Response(DispositionSerializer(qs[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], many=True).data)

    @extend_schema(operation_id="dispositions_approve",
                   summary="Approve the final disposition of due expedientes (administrators)",
                   request=ApproveInSerializer, responses={201: DispositionDetailSerializer})
    def post(self, request: Request) -> Response:
        ser = ApproveInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        record = retention.disposition_approve(actor=request.user, action=d["action"], case_file_ids=d["case_file_ids"],
                                               act_number=d["act_number"], reason=d["reason"], ip=client_ip(request))
        return Response(DispositionDetailSerializer(_record(request, record.pk)).data, status=status.HTTP_201_CREATED)


class DispositionDetailView(APIView):
    @extend_schema(operation_id="dispositions_retrieve", summary="A disposition record and its expedientes",
                   responses=DispositionDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(DispositionDetailSerializer(_record(request, pk)).data)


class DispositionExecuteView(APIView):
    @extend_schema(operation_id="dispositions_execute", summary="Carry out an approved disposition (administrators)",
                   request=ExecuteInSerializer, responses=DispositionDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        record = _record(request, pk)
        ser = ExecuteInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        retention.disposition_execute(actor=request.user, record=record, note=ser.validated_data["note"],
                                      expected_version=ser.validated_data["version"], ip=client_ip(request))
        return Response(DispositionDetailSerializer(_record(request, pk)).data)


class DispositionCancelView(APIView):
    @extend_schema(operation_id="dispositions_cancel", summary="Cancel an approved disposition (administrators)",
                   request=CancelInSerializer, responses=DispositionDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        record = _record(request, pk)
        ser = CancelInSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        retention.disposition_cancel(actor=request.user, record=record, reason=ser.validated_data["reason"],
                                     expected_version=ser.validated_data["version"], ip=client_ip(request))
        return Response(DispositionDetailSerializer(_record(request, pk)).data)


urlpatterns = [
    path("retention-rules/", RetentionRuleListView.as_view(), name="api-retention-rules"),
    path("retention-rules/apply-phases/", ApplyPhasesView.as_view(), name="api-retention-apply-phases"),
    path("retention-rules/<int:pk>/", RetentionRuleDetailView.as_view(), name="api-retention-rule"),
    path("dispositions/", DispositionListView.as_view(), name="api-dispositions"),
    path("dispositions/due/", DueView.as_view(), name="api-dispositions-due"),
    path("dispositions/<int:pk>/", DispositionDetailView.as_view(), name="api-disposition"),
    path("dispositions/<int:pk>/execute/", DispositionExecuteView.as_view(), name="api-disposition-execute"),
    path("dispositions/<int:pk>/cancel/", DispositionCancelView.as_view(), name="api-disposition-cancel"),
]
