"""Reads for the form builder. Everything starts from the user's organization: a procedure of another
municipality is "not found", never "forbidden"."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery

from folio.applications.definition_permissions import can_manage_definitions
from folio.applications.models import DefinitionState, FormDefinition
from folio.organizations.models import Unit
from folio.procedures.models import Procedure


def _version_of(state: str) -> Subquery:
    return Subquery(FormDefinition.objects.filter(procedure=OuterRef("pk"), state=state)
                    .order_by("-version").values("version")[:1], output_field=IntegerField())


def procedures_for_builder(user: Any) -> QuerySet[Procedure]:
    """The procedures of the administrator's organization, each annotated with ``published_version`` and
    ``draft_version`` (None when there is none), in one query."""
    if not can_manage_definitions(user):
        return Procedure.objects.none()
    return (Procedure.objects.filter(organization_id=user.organization_id)
            .select_related("unit")
            .annotate(published_version=_version_of(DefinitionState.PUBLISHED),
                      draft_version=_version_of(DefinitionState.DRAFT))
            .order_by("name", "pk"))


def procedure_for_builder(user: Any, procedure_id: int) -> Procedure | None:
    """The procedure if it belongs to the user's organization (None: absent or another municipality's)."""
    if not getattr(user, "organization_id", None):
        return None
    return Procedure.objects.filter(pk=procedure_id, organization_id=user.organization_id).select_related(
        "unit").first()


def definition_versions(procedure: Procedure) -> list[FormDefinition]:
    """Every version of the procedure's form, newest first, with ``n_applications`` filed under each."""
    return list(FormDefinition.objects.filter(procedure=procedure).select_related("created_by")
                .annotate(n_applications=Count("applications")).order_by("-version"))


def definition_of(procedure: Procedure, version: int) -> FormDefinition | None:
    return FormDefinition.objects.filter(procedure=procedure, version=version).first()


def draft_of(procedure: Procedure) -> FormDefinition | None:
    return FormDefinition.objects.filter(procedure=procedure, state=DefinitionState.DRAFT).first()


def units_for_stages(organization_id: int) -> list[Unit]:
    """The active units a stage may be assigned to."""
    return list(Unit.objects.filter(organization_id=organization_id, is_active=True).order_by("name"))


def unit_names(organization_id: int) -> dict[str, str]:
    """Unit code → name, inactive units included (old versions may name them)."""
    return dict(Unit.objects.filter(organization_id=organization_id).values_list("code", "name"))
