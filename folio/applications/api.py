"""REST API of online applications for staff (/api/v1/applications/): list and detail, scoped like the inbox
(organization; unit for officials). Thin: parse, call a selector, serialise."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from folio.applications import permissions as perms
from folio.applications import selectors
from folio.applications.formengine import answer_rows
from folio.applications.models import Application, ApplicationState
from folio.verification.services import verification_url


class ApplicationListSerializer(serializers.ModelSerializer):
    procedure = serializers.CharField(source="procedure.name", read_only=True)
    procedure_id = serializers.IntegerField(read_only=True)
    unit = serializers.CharField(source="unit.name", default=None, read_only=True)
    applicant = serializers.CharField(source="applicant.display_name", read_only=True)
    applicant_run = serializers.CharField(source="applicant.run_display", read_only=True)

    class Meta:
        model = Application
        fields = ["id", "number", "state", "procedure_id", "procedure", "unit", "stage_index", "due_date",
                  "applicant", "applicant_run", "channel", "submitted_at"]


class ReportOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unit = serializers.CharField(source="unit.name")
    status = serializers.CharField()
    question = serializers.CharField()
    due_date = serializers.DateField()
    answered_at = serializers.DateTimeField(allow_null=True)


class CorrectionOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.CharField()
    requested_at = serializers.DateTimeField()
    due_date = serializers.DateField()
    answered_at = serializers.DateTimeField(allow_null=True)
    expired_at = serializers.DateTimeField(allow_null=True)


class ApplicationDetailSerializer(ApplicationListSerializer):
    answers = serializers.SerializerMethodField()
    case_file_iuie = serializers.CharField(source="case_file.iuie", default=None, read_only=True)
    certificate_code = serializers.CharField(source="certificate.code", default=None, read_only=True)
    certificate_url = serializers.SerializerMethodField()
    corrections = CorrectionOutSerializer(many=True, read_only=True)
    reports = ReportOutSerializer(many=True, read_only=True)

    class Meta(ApplicationListSerializer.Meta):
        fields = [*ApplicationListSerializer.Meta.fields, "version", "contact_email", "closed_at", "resolution_text",
                  "case_file_id", "case_file_iuie", "certificate_code", "certificate_url", "answers", "corrections",
                  "reports"]

    def get_answers(self, obj: Application) -> list[dict[str, str]]:
        return [{"label": label, "value": value} for label, value in answer_rows(obj.definition, obj.data)]

    def get_certificate_url(self, obj: Application) -> str:
        return verification_url(obj.certificate.code) if obj.certificate else ""


def _require_inbox(request: Request) -> None:
    if not perms.can_use_inbox(request.user):
        raise PermissionDenied(_("Your role does not work on citizens' applications."))


class ApplicationListView(APIView):
    @extend_schema(
        summary="Applications of the user's unit (or organization)", operation_id="applications_list",
        parameters=[OpenApiParameter("state", str, required=False,
                                     enum=["open", "all", *[s.value for s in ApplicationState if s != "draft"]]),
                    OpenApiParameter("procedure_id", int, required=False),
                    OpenApiParameter("overdue", bool, required=False),
                    OpenApiParameter("page", int, required=False)],
        responses=inline_serializer("ApplicationPage", {
            "count": serializers.IntegerField(), "open": serializers.IntegerField(),
            "overdue": serializers.IntegerField(), "page": serializers.IntegerField(),
            "results": ApplicationListSerializer(many=True)}),
    )
    def get(self, request: Request) -> Response:
        _require_inbox(request)
        p = request.query_params
        errors: dict[str, list[str]] = {}
        state = p.get("state", "open")
        valid = {"open", "all", *[s.value for s in ApplicationState if s != ApplicationState.DRAFT]}
        if state not in valid:
            errors["state"] = [" | ".join(sorted(valid))]
        procedure_id = None
        if p.get("procedure_id"):
            if not p["procedure_id"].isdigit():
                errors["procedure_id"] = [_("Enter a whole number.")]
            else:
                procedure_id = int(p["procedure_id"])
        page = p.get("page", "1") or "1"
        if not page.isdigit() or int(page) < 1:
            errors["page"] = [_("Enter a whole number.")]
        overdue = p.get("overdue", "").lower() in ("1", "true", "yes", "si", "sí")
        if errors:
            raise serializers.ValidationError(errors)
        result = selectors.inbox(request.user, selectors.InboxFilters(state=state, procedure_id=procedure_id,
                                                                      overdue=overdue), page=int(page))
        return Response({"count": result.total, "open": result.open_count, "overdue": result.overdue_count,
                         "page": result.page,
                         "results": ApplicationListSerializer(result.applications, many=True).data})


class ApplicationDetailView(APIView):
    @extend_schema(summary="An application", operation_id="applications_detail",
                   responses=ApplicationDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        _require_inbox(request)
        app = selectors.application_get(request.user, pk)
        if app is None:
            raise Http404
        data: Any = ApplicationDetailSerializer(app).data
        return Response(data)


urlpatterns = [
    path("applications/", ApplicationListView.as_view(), name="api-applications"),
    path("applications/<int:pk>/", ApplicationDetailView.as_view(), name="api-application"),
]
