"""Reads of online applications and their definitions, permission-aware."""

from __future__ import annotations

from collections.abc import Iterable

from folio.applications.models import DefinitionState, FormDefinition


def online_procedure_ids(procedure_ids: Iterable[int]) -> set[int]:
    """Which of these procedures can be started online now (they have a published form definition)."""
    return set(
        FormDefinition.objects.filter(procedure_id__in=list(procedure_ids), state=DefinitionState.PUBLISHED)
        .values_list("procedure_id", flat=True)
    )


def published_definition(procedure_id: int) -> FormDefinition | None:
    return FormDefinition.objects.filter(procedure_id=procedure_id, state=DefinitionState.PUBLISHED).first()
