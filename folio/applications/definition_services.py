"""Writes of form definitions: draft, edit, publish, discard. Each one checks the actor, runs in one transaction
with the procedure row locked (versions are numbered and published one at a time) and leaves an audit row.

Versioning rule: a procedure has at most one draft and at most one published version. Publishing validates the
complete schema, retires the version published until then and publishes the draft, in the same transaction.
Published and retired versions never change (``DefinitionImmutable``): applications keep pointing at the
version they were filed under. Drafts are edited with optimistic concurrency: every edit states the
``definition_token`` of the draft it read, and a stale one is refused (``StaleDefinition``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from folio.applications.definition_permissions import can_manage_definitions
from folio.applications.definitions import validate_schema
from folio.applications.models import DefinitionState, FormDefinition
from folio.audit import services as audit
from folio.procedures.models import Procedure
from folio.registry.services import ConflictError


class DefinitionConflict(ConflictError):
    """The definition cannot be changed this way now (409)."""


class DefinitionImmutable(DefinitionConflict):
    """A published or retired definition was asked to change."""


class StaleDefinition(DefinitionConflict):
    """The draft changed since the actor read it."""


def definition_token(definition: FormDefinition) -> str:
    """What a draft looked like when it was read: the hash of its id, state and schema."""
    body = json.dumps({"id": definition.pk, "state": definition.state, "schema": definition.schema},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def _check_actor(actor: Any, organization_id: int) -> None:
    if not can_manage_definitions(actor, organization_id):
        raise PermissionDenied(_("Only the organization's administrator can configure online forms."))


def _locked_procedure(procedure: Procedure) -> Procedure:
    return Procedure.objects.select_for_update(of=("self",)).select_related("unit").get(pk=procedure.pk)


def _locked(definition: FormDefinition) -> FormDefinition:
    locked = FormDefinition.objects.select_for_update().filter(pk=definition.pk).first()
    if locked is None:
        raise DefinitionConflict(_("This draft no longer exists: it was published or discarded meanwhile."))
    return locked


def _ensure_editable(definition: FormDefinition) -> None:
    if definition.state == DefinitionState.PUBLISHED:
        raise DefinitionImmutable(_("Version %(v)s is published and cannot be changed. Create a draft to prepare "
                                    "a new version.") % {"v": definition.version})
    if definition.state == DefinitionState.RETIRED:
        raise DefinitionImmutable(_("Version %(v)s is retired and cannot be changed.") % {"v": definition.version})


def _check_token(definition: FormDefinition, token: str | None) -> None:
    if token is not None and token != definition_token(definition):
        raise StaleDefinition(_("Someone else changed this draft since you opened it. Reload the page to see "
                                "their changes; yours were not saved."))


def _summary(definition: FormDefinition) -> dict[str, Any]:
    schema = definition.schema or {}
    return {"procedure": definition.procedure_id, "version": definition.version,
            "fields": [f.get("key") for f in schema.get("fields", [])],
            "stages": [s.get("key") for s in schema.get("stages", [])]}


def starter_schema(procedure: Procedure) -> dict[str, Any]:
    """The first draft of a procedure with no published form: the applicant's identification and one stage at
    the procedure's responsible unit."""
    fields: list[dict[str, Any]] = [
        {"key": "nombre_solicitante", "label": "Nombre completo", "type": "text", "required": True, "help": ""},
        {"key": "rut_solicitante", "label": "RUN/RUT", "type": "rut", "required": True, "help": ""},
        {"key": "email", "label": "Correo electrónico", "type": "email", "required": True,
         "help": "Aquí recibirá las notificaciones del trámite."},
    ]
    stages: list[dict[str, Any]] = []
    unit = procedure.unit
    if unit is not None and unit.is_active:
        days = min(max(procedure.legal_deadline_days or 10, 1), 200)
        stages.append({"key": "revision", "name": "Revisión y resolución", "unit": unit.code, "days": days,
                       "actions": ["request_correction", "request_report", "resolve"]})
    return {"fields": fields, "stages": stages}


def definition_draft_create(*, actor: Any, procedure: Procedure, ip: str | None = None) -> FormDefinition:
    """The procedure's draft: the existing one, or a new version copied from the published one (or a starter)."""
    _check_actor(actor, procedure.organization_id)
    with transaction.atomic():
        procedure = _locked_procedure(procedure)
        existing = FormDefinition.objects.filter(procedure=procedure, state=DefinitionState.DRAFT).first()
        if existing is not None:
            return existing
        published = FormDefinition.objects.filter(procedure=procedure, state=DefinitionState.PUBLISHED).first()
        last = FormDefinition.objects.filter(procedure=procedure).aggregate(n=Max("version"))["n"] or 0
        draft = FormDefinition.objects.create(
            organization_id=procedure.organization_id, procedure=procedure, version=last + 1,
            state=DefinitionState.DRAFT, created_by=actor,
            schema=json.loads(json.dumps(published.schema)) if published else starter_schema(procedure))
        audit.record(action="form_definition.draft", actor=actor, organization=actor.organization, obj=draft, ip=ip,
                     data={**_summary(draft), "copied_from": published.version if published else None})
    return draft


def definition_update(*, actor: Any, definition: FormDefinition, schema: Any, token: str | None,
                      ip: str | None = None) -> FormDefinition:
    """Replace a draft's schema (checked with ``validate_schema(..., complete=False)``). ``token``: the
    ``definition_token`` the actor read (None only for callers that hold the lock themselves, e.g. the demo)."""
    _check_actor(actor, definition.organization_id)
    with transaction.atomic():
        _locked_procedure(definition.procedure)
        definition = _locked(definition)
        _ensure_editable(definition)
        _check_token(definition, token)
        normalized = validate_schema(schema, definition.organization_id, complete=False)
        if normalized == definition.schema:
            return definition
        definition.schema = normalized
        definition.save(update_fields=["schema"])
        audit.record(action="form_definition.update", actor=actor, organization=actor.organization, obj=definition,
                     ip=ip, data=_summary(definition))
    return definition


def definition_publish(*, actor: Any, definition: FormDefinition, token: str | None,
                       ip: str | None = None) -> FormDefinition:
    """Publish a draft after checking its complete schema; the version published until now is retired in the
    same transaction. ``DefinitionInvalid`` when the schema is not complete."""
    _check_actor(actor, definition.organization_id)
    with transaction.atomic():
        _locked_procedure(definition.procedure)
        definition = _locked(definition)
        _ensure_editable(definition)
        _check_token(definition, token)
        normalized = validate_schema(definition.schema, definition.organization_id)
        previous = list(FormDefinition.objects.select_for_update()
                        .filter(procedure_id=definition.procedure_id, state=DefinitionState.PUBLISHED)
                        .exclude(pk=definition.pk))
        for old in previous:
            old.state = DefinitionState.RETIRED
            old.save(update_fields=["state"])
            audit.record(action="form_definition.retire", actor=actor, organization=actor.organization, obj=old,
                         ip=ip, data={"procedure": old.procedure_id, "version": old.version,
                                      "replaced_by": definition.version})
        definition.schema = normalized
        definition.state = DefinitionState.PUBLISHED
        definition.published_at = timezone.now()
        definition.save(update_fields=["schema", "state", "published_at"])
        audit.record(action="form_definition.publish", actor=actor, organization=actor.organization, obj=definition,
                     ip=ip, data={**_summary(definition), "retired": [old.version for old in previous]})
    return definition


def definition_discard(*, actor: Any, definition: FormDefinition, token: str | None,
                       ip: str | None = None) -> None:
    """Delete a draft that will not be published (the published version, if any, stays as it is)."""
    _check_actor(actor, definition.organization_id)
    with transaction.atomic():
        _locked_procedure(definition.procedure)
        definition = _locked(definition)
        _ensure_editable(definition)
        _check_token(definition, token)
        if definition.applications.exists():
            raise DefinitionConflict(_("This draft has applications and cannot be discarded."))
        audit.record(action="form_definition.discard", actor=actor, organization=actor.organization, obj=definition,
                     ip=ip, data=_summary(definition))
        definition.delete()
