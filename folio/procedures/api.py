"""REST API of the CPAT inventory (/api/v1/procedures/…), read-only. Thin: parse, call a selector,
serialise. Scoped to the token user's organization; who may read is ``permissions.can_read_inventory``
(403 otherwise); another organization's procedure is a 404. Errors follow folio.api.errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from folio.api.pagination import Pagination
from folio.organizations.models import Organization
from folio.procedures import permissions, selectors
from folio.procedures.fields import EDITABLE_FIELDS, FOREIGN_KEYS
from folio.procedures.models import DigitalizationLevel, Procedure, ProcedureKind, SimplificationPlan


def _require_reader(request: Request) -> None:
    if not permissions.can_read_inventory(request.user):
        raise PermissionDenied(_("The procedures inventory is for the digital transformation coordinator, "
                                 "administrators, unit heads and auditors."))


def _organization(request: Request) -> Organization:
    organization = getattr(request.user, "organization", None)
    if organization is None:  # _require_reader lets only staff of an organization through
        raise PermissionDenied
    return organization


class _NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class UnitRefSerializer(_NamedSerializer):
    code = serializers.CharField()


class TopicRefSerializer(_NamedSerializer):
    slug = serializers.CharField()


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = SimplificationPlan
        fields = ["state", "summary", "steps_before", "steps_after", "requirements_before", "requirements_after",
                  "documents_state_holds", "days_before", "days_after", "starts_on", "due_on", "done_on",
                  "updated_at", "version"]


class ProcedureListSerializer(serializers.ModelSerializer):
    unit = UnitRefSerializer(read_only=True, allow_null=True)
    topic = TopicRefSerializer(read_only=True, allow_null=True)
    plan_state = serializers.SerializerMethodField()

    class Meta:
        model = Procedure
        fields = ["id", "code", "slug", "name", "kind", "unit", "topic", "digitalization_level", "user_authentication",
                  "requires_natural_person_identity", "is_published", "plan_state", "updated_at", "version"]

    def get_plan_state(self, obj: Procedure) -> str | None:
        plan = getattr(obj, "simplification_plan", None)
        return plan.state if plan is not None else None


class MonthSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    source = serializers.ChoiceField(choices=["folio", "manual", "none"])  # type: ignore[assignment]
    digital = serializers.IntegerField(allow_null=True)
    presencial = serializers.IntegerField(allow_null=True)
    telefonico = serializers.IntegerField(allow_null=True)


class ProcedureDetailSerializer(ProcedureListSerializer):
    simplification_plan = PlanSerializer(read_only=True, allow_null=True)
    transactions_last_12_months = serializers.SerializerMethodField()

    class Meta(ProcedureListSerializer.Meta):
        fields = [*ProcedureListSerializer.Meta.fields,
                  *[f for f in EDITABLE_FIELDS
                    if f not in FOREIGN_KEYS and f not in ProcedureListSerializer.Meta.fields],
                  "created_at", "simplification_plan", "transactions_last_12_months"]

    @extend_schema_field(MonthSerializer(many=True))
    def get_transactions_last_12_months(self, obj: Procedure) -> list[dict[str, Any]]:
        months = selectors.last_months(selectors.org_today(obj.organization))
        figures = selectors.transactions_for(obj.organization, [obj.pk], months)[obj.pk]
        out = []
        for year, month in months:
            f = figures.get((year, month))
            counts = f.counts if f is not None else {}
            out.append({"year": year, "month": month, "source": f.source if f is not None else "none",
                        **{ch: counts.get(ch) for ch in selectors.CHANNELS}})
        return out


class ProcedureListView(APIView):
    @extend_schema(
        summary="The procedures inventory (CPAT)", operation_id="procedures_list",
        parameters=[OpenApiParameter("q", str, required=False, description="Words of the name or description"),
                    OpenApiParameter("unit_id", int, required=False), OpenApiParameter("topic_id", int, required=False),
                    OpenApiParameter("kind", str, required=False, enum=list(ProcedureKind.values)),
                    OpenApiParameter("level", int, required=False, enum=list(DigitalizationLevel.values)),
                    OpenApiParameter("published", bool, required=False),
                    OpenApiParameter("page", int, required=False), OpenApiParameter("page_size", int, required=False)],
        responses=ProcedureListSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        _require_reader(request)
        p = request.query_params
        errors: dict[str, list[str]] = {}
        f = selectors.InventoryFilters(q=p.get("q", ""))
        for key in ("unit_id", "topic_id", "level"):
            if p.get(key):
                if not p[key].isdigit():
                    errors[key] = [_("A whole number.")]
                else:
                    setattr(f, key, int(p[key]))
        if f.level is not None and f.level not in DigitalizationLevel.values:
            errors["level"] = [_("The digitalization level is a whole number from 0 to 5.")]
        if p.get("kind"):
            if p["kind"] not in ProcedureKind.values:
                errors["kind"] = [", ".join(ProcedureKind.values)]
            f.kind = p["kind"]
        if p.get("published"):
            if p["published"].lower() not in ("true", "false", "1", "0"):
                errors["published"] = ["true | false"]
            f.published = p["published"].lower() in ("true", "1")
        if errors:
            raise serializers.ValidationError(errors)
        paginator = Pagination()
        page = paginator.paginate_queryset(selectors.inventory_search(request.user, f), request, view=self)  # type: ignore[arg-type]
        return paginator.get_paginated_response(ProcedureListSerializer(page, many=True).data)


class ProcedureDetailView(APIView):
    @extend_schema(summary="A procedure with its characterization, plan and transactions",
                   operation_id="procedures_retrieve", responses=ProcedureDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        procedure = selectors.procedure_get(request.user, pk)
        if procedure is None:
            if Procedure.objects.filter(pk=pk, organization_id=getattr(request.user, "organization_id", None)
                                        or 0).exists():
                _require_reader(request)
            raise Http404
        return Response(ProcedureDetailSerializer(procedure).data)


class FiguresView(APIView):
    @extend_schema(summary="The plan's indicators: identified, simplified, ClaveÚnica, level 4 or more",
                   operation_id="procedures_figures",
                   responses=inline_serializer("PlanFigures", {
                       "inventory": serializers.IntegerField(), "expected": serializers.IntegerField(),
                       "identified_pct": serializers.FloatField(allow_null=True),
                       "simplified": serializers.IntegerField(),
                       "simplified_pct": serializers.FloatField(allow_null=True),
                       "goal_pct": serializers.IntegerField(),
                       "identity_needed": serializers.IntegerField(), "claveunica": serializers.IntegerField(),
                       "claveunica_pct": serializers.FloatField(allow_null=True),
                       "level4": serializers.IntegerField(), "level4_pct": serializers.FloatField(allow_null=True),
                       "published": serializers.IntegerField()}))
    def get(self, request: Request) -> Response:
        _require_reader(request)
        f = selectors.plan_figures(_organization(request))
        return Response({
            "inventory": f.inventory, "expected": f.expected, "identified_pct": f.identified_pct,
            "simplified": f.simplified, "simplified_pct": f.simplified_pct, "goal_pct": f.goal_pct,
            "identity_needed": f.identity_needed, "claveunica": f.claveunica, "claveunica_pct": f.claveunica_pct,
            "level4": f.level4, "level4_pct": f.level4_pct, "published": f.published})


class PrioritizationView(APIView):
    @extend_schema(summary="Procedures by simplification priority (relevance and complexity)",
                   operation_id="procedures_prioritization",
                   responses=inline_serializer("Priority", {
                       "id": serializers.IntegerField(), "code": serializers.CharField(),
                       "name": serializers.CharField(), "transactions": serializers.IntegerField(),
                       "people": serializers.IntegerField(), "relevance": serializers.FloatField(),
                       "complexity": serializers.FloatField(), "score": serializers.FloatField(),
                       "plan_state": serializers.CharField()}, many=True))
    def get(self, request: Request) -> Response:
        _require_reader(request)
        rows = selectors.prioritization(_organization(request))
        return Response([{"id": r.procedure.pk, "code": r.procedure.code, "name": r.procedure.name,
                          "transactions": r.transactions, "people": r.people, "relevance": r.relevance,
                          "complexity": r.complexity, "score": r.score, "plan_state": r.plan_state} for r in rows])


urlpatterns = [
    path("procedures/", ProcedureListView.as_view(), name="api-procedures"),
    path("procedures/figures/", FiguresView.as_view(), name="api-procedures-figures"),
    path("procedures/prioritization/", PrioritizationView.as_view(), name="api-procedures-prioritization"),
    path("procedures/<int:pk>/", ProcedureDetailView.as_view(), name="api-procedure"),
]
