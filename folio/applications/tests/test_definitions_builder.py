"""The form builder: only the organization's administrators (others 403, another municipality 404); drafts,
publication, retirement and version numbers; published versions never change and filed applications keep
theirs; stale edits are refused; every write is audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import translation

from folio.accounts.models import RoleCode
from folio.applications import definition_services as services
from folio.applications.definitions import DefinitionInvalid
from folio.applications.models import Application, DefinitionState, FormDefinition
from folio.audit.models import AuditEvent
from folio.core import demo
from folio.procedures.models import Procedure

SCHEMA: dict[str, Any] = {
    "fields": [
        {"key": "nombre", "label": "Nombre completo", "type": "text", "required": True, "help": ""},
        {"key": "formato", "label": "Formato", "type": "choice", "required": True, "help": "",
         "choices": ["PDF", "Papel"], "multiple": False},
        {"key": "plano", "label": "Plano", "type": "file", "required": False, "help": "", "types": ["pdf"],
         "max_mb": 5},
    ],
    "stages": [
        {"key": "revision", "name": "Revisión", "unit": "DOM", "days": 5, "actions": ["approve", "reject"]},
        {"key": "resolucion", "name": "Resolución", "unit": "ALC", "days": 3, "actions": ["resolve"]},
    ],
}


@pytest.fixture(autouse=True)
def _spanish() -> Any:
    with translation.override("es"):
        yield


@pytest.fixture
def procedure(world: Any) -> Procedure:
    return Procedure.objects.create(organization=world.lota, slug="permiso-de-prueba", name="Permiso de prueba",
                                    unit=world.units["DOM"], legal_deadline_days=15)


@pytest.fixture
def coronel_admin(world: Any) -> Any:
    return demo.ensure_user(world.coronel, "admin.coronel", "Carla", "Díaz", "TI", [RoleCode.ADMIN], "Admin")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def publish(world: Any, procedure: Procedure, schema: dict[str, Any] | None = None) -> FormDefinition:
    draft = services.definition_draft_create(actor=world.admin, procedure=procedure)
    draft = services.definition_update(actor=world.admin, definition=draft, schema=schema or SCHEMA,
                                       token=services.definition_token(draft))
    return services.definition_publish(actor=world.admin, definition=draft, token=services.definition_token(draft))


def urls(procedure: Procedure, version: int = 1) -> dict[str, str]:
    kw = {"procedure_id": procedure.pk}
    return {
        "detail": reverse("applications:definition_detail", kwargs=kw),
        "draft_create": reverse("applications:definition_draft_create", kwargs=kw),
        "edit": reverse("applications:definition_edit", kwargs=kw),
        "publish": reverse("applications:definition_publish", kwargs=kw),
        "discard": reverse("applications:definition_discard", kwargs=kw),
        "preview": reverse("applications:definition_preview", kwargs={**kw, "version": version}),
    }


# --- services: versions, immutability, concurrency ---------------------------------------------------------------


def test_first_draft_starts_from_the_procedure(world: Any, procedure: Procedure) -> None:
    draft = services.definition_draft_create(actor=world.admin, procedure=procedure)
    assert draft.version == 1 and draft.state == DefinitionState.DRAFT and draft.created_by == world.admin
    assert [f["type"] for f in draft.schema["fields"]] == ["text", "rut", "email"]
    assert draft.schema["stages"][0]["unit"] == "DOM" and draft.schema["stages"][0]["days"] == 15
    # Asking again gives the same draft: one draft per procedure.
    assert services.definition_draft_create(actor=world.admin, procedure=procedure).pk == draft.pk
    assert FormDefinition.objects.filter(procedure=procedure).count() == 1


def test_publish_retire_and_filed_applications_keep_their_version(world: Any, procedure: Procedure) -> None:
    v1 = publish(world, procedure)
    assert (v1.version, v1.state) == (1, DefinitionState.PUBLISHED) and v1.published_at is not None
    v1_schema = FormDefinition.objects.get(pk=v1.pk).schema
    application = Application.objects.create(organization=world.lota, procedure=procedure, definition=v1,
                                             applicant=world.citizen, data={"nombre": "Ana", "formato": "PDF"})

    draft = services.definition_draft_create(actor=world.admin, procedure=procedure)
    assert draft.version == 2 and draft.schema == v1_schema  # a copy of the published version
    changed = {**SCHEMA, "fields": [*SCHEMA["fields"], {"key": "telefono", "label": "Teléfono", "type": "phone"}]}
    draft = services.definition_update(actor=world.admin, definition=draft, schema=changed,
                                       token=services.definition_token(draft))
    # The draft never alters the published version.
    v1.refresh_from_db()
    assert v1.state == DefinitionState.PUBLISHED and v1.schema == v1_schema
    from folio.applications.selectors import published_definition

    assert published_definition(procedure.pk) == v1

    v2 = services.definition_publish(actor=world.admin, definition=draft, token=services.definition_token(draft))
    v1.refresh_from_db()
    assert (v2.version, v2.state) == (2, DefinitionState.PUBLISHED)
    assert v1.state == DefinitionState.RETIRED and v1.schema == v1_schema
    assert published_definition(procedure.pk) == v2
    application.refresh_from_db()
    assert application.definition_id == v1.pk and application.definition.schema == v1_schema
    assert [f["key"] for f in v2.schema["fields"]][-1] == "telefono"

    # v3 follows v2; a discarded draft leaves the published version as it is.
    v3 = services.definition_draft_create(actor=world.admin, procedure=procedure)
    assert v3.version == 3
    services.definition_discard(actor=world.admin, definition=v3, token=services.definition_token(v3))
    assert not FormDefinition.objects.filter(pk=v3.pk).exists()
    v2.refresh_from_db()
    assert v2.state == DefinitionState.PUBLISHED

    actions = list(AuditEvent.objects.filter(object_type="applications.formdefinition").order_by("seq")
                   .values_list("action", "object_id"))
    assert actions == [
        ("form_definition.draft", str(v1.pk)), ("form_definition.update", str(v1.pk)),
        ("form_definition.publish", str(v1.pk)),
        ("form_definition.draft", str(v2.pk)), ("form_definition.update", str(v2.pk)),
        ("form_definition.retire", str(v1.pk)), ("form_definition.publish", str(v2.pk)),
        ("form_definition.draft", str(v3.pk)), ("form_definition.discard", str(v3.pk)),
    ]


def test_published_and_retired_versions_are_immutable(world: Any, procedure: Procedure) -> None:
    v1 = publish(world, procedure)
    before = FormDefinition.objects.get(pk=v1.pk).schema
    for call in (
        lambda d: services.definition_update(actor=world.admin, definition=d, schema=SCHEMA, token=None),
        lambda d: services.definition_publish(actor=world.admin, definition=d, token=None),
        lambda d: services.definition_discard(actor=world.admin, definition=d, token=None),
    ):
        with pytest.raises(services.DefinitionImmutable) as info:
            call(v1)
        assert "publicada" in info.value.message
    publish(world, procedure)  # v2 retires v1
    v1.refresh_from_db()
    assert v1.state == DefinitionState.RETIRED
    with pytest.raises(services.DefinitionImmutable) as info:
        services.definition_update(actor=world.admin, definition=v1, schema={"fields": [], "stages": []}, token=None)
    assert "retirada" in info.value.message
    v1.refresh_from_db()
    assert v1.schema == before and v1.state == DefinitionState.RETIRED


def test_a_stale_edit_is_refused(world: Any, procedure: Procedure) -> None:
    draft = services.definition_draft_create(actor=world.admin, procedure=procedure)
    read_by_first = services.definition_token(draft)
    services.definition_update(actor=world.admin, definition=draft, schema=SCHEMA, token=read_by_first)
    with pytest.raises(services.StaleDefinition) as info:
        services.definition_update(actor=world.admin, definition=draft, schema={"fields": [], "stages": []},
                                   token=read_by_first)
    assert "Otra persona" in info.value.message
    with pytest.raises(services.StaleDefinition):
        services.definition_publish(actor=world.admin, definition=draft, token=read_by_first)
    draft.refresh_from_db()
    assert draft.schema["fields"][0]["key"] == "nombre" and draft.state == DefinitionState.DRAFT


def test_an_incomplete_draft_is_saved_but_not_published(world: Any, procedure: Procedure) -> None:
    draft = services.definition_draft_create(actor=world.admin, procedure=procedure)
    incomplete = {**SCHEMA, "stages": [{**SCHEMA["stages"][0]}]}  # its last stage cannot resolve
    draft = services.definition_update(actor=world.admin, definition=draft, schema=incomplete,
                                       token=services.definition_token(draft))
    with pytest.raises(DefinitionInvalid) as info:
        services.definition_publish(actor=world.admin, definition=draft, token=services.definition_token(draft))
    assert list(info.value.errors) == ["stages.0.actions"]
    draft.refresh_from_db()
    assert draft.state == DefinitionState.DRAFT
    # A draft still refuses what is wrong in itself.
    with pytest.raises(DefinitionInvalid):
        services.definition_update(actor=world.admin, definition=draft, schema={**SCHEMA, "fields": [{"key": "X"}]},
                                   token=services.definition_token(draft))


def test_only_the_organizations_administrators_write(world: Any, procedure: Procedure, coronel_admin: Any) -> None:
    for user in (world.dom, world.ctd, world.auditor, world.clerk, world.citizen, coronel_admin):
        with pytest.raises(PermissionDenied):
            services.definition_draft_create(actor=user, procedure=procedure)
    draft = services.definition_draft_create(actor=world.admin, procedure=procedure)
    for user in (world.dom_head, coronel_admin):
        with pytest.raises(PermissionDenied):
            services.definition_update(actor=user, definition=draft, schema=SCHEMA, token=None)
        with pytest.raises(PermissionDenied):
            services.definition_publish(actor=user, definition=draft, token=None)


# --- pages: who gets in ---------------------------------------------------------------------------------------


def test_roles_and_municipalities(world: Any, procedure: Procedure, coronel_admin: Any) -> None:
    publish(world, procedure)
    services.definition_draft_create(actor=world.admin, procedure=procedure)
    page_urls = [reverse("applications:definition_list"), *urls(procedure, 2).values()]
    gets = [u for u in page_urls if not u.endswith(("/nuevo/", "/publicar/", "/descartar/"))]
    posts = [u for u in page_urls if u.endswith(("/nuevo/", "/publicar/", "/descartar/"))]

    admin = client_for(world.admin)
    for url in gets:
        assert admin.get(url).status_code == 200, url
    for user in (world.dom, world.ctd, world.auditor, world.clerk, world.dom_head):
        client = client_for(user)
        for url in gets:
            assert client.get(url).status_code == 403, (user, url)
        for url in posts:
            assert client.post(url, {"token": "x"}).status_code == 403, (user, url)
    other = client_for(coronel_admin)
    assert other.get(reverse("applications:definition_list")).status_code == 200
    assert procedure.name not in other.get(reverse("applications:definition_list")).content.decode()
    for url in page_urls[1:]:
        response = other.post(url, {"token": "x"}) if url in posts else other.get(url)
        assert response.status_code == 404, url
    anonymous = Client()
    for url in gets:
        response = anonymous.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"], url
    assert FormDefinition.objects.filter(procedure=procedure).count() == 2


def test_nav_link_only_for_administrators(world: Any) -> None:
    link = reverse("applications:definition_list")
    assert link in client_for(world.admin).get(reverse("acts:list")).content.decode()
    assert link not in client_for(world.dom).get(reverse("acts:list")).content.decode()


def test_list_page_shows_each_procedures_state_with_a_fixed_number_of_queries(
        world: Any, procedure: Procedure, django_assert_num_queries: Any) -> None:
    publish(world, procedure)
    services.definition_draft_create(actor=world.admin, procedure=procedure)
    client = client_for(world.admin)
    url = reverse("applications:definition_list")
    client.get(url)  # warm caches (session, content types)
    # Session, user, organization, roles, the user's unit (navigation bar) and the procedures with the versions.
    with django_assert_num_queries(6):
        body = client.get(url).content.decode()
    assert "Permiso de prueba" in body and "Versión 1" in body and "Versión 2" in body
    for i in range(6):
        other = Procedure.objects.create(organization=world.lota, slug=f"otro-{i}", name=f"Otro trámite {i}")
        if i % 2:
            publish(world, other)
    with django_assert_num_queries(6):
        body = client.get(url).content.decode()
    assert body.count("Otro trámite") == 6 and body.count("No disponible en línea") == 3


# --- pages: the whole cycle ----------------------------------------------------------------------------------------


def _row(prefix: str, index: int, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}-{index}-{k}": v for k, v in values.items() if v not in (None, False, "")}


def edit_post(token: str, fields: list[dict[str, Any]], stages: list[dict[str, Any]], *, initial_fields: int,
              initial_stages: int, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"token": token, **extra}
    for prefix, rows, initial in (("fields", fields, initial_fields), ("stages", stages, initial_stages)):
        data.update({f"{prefix}-TOTAL_FORMS": len(rows), f"{prefix}-INITIAL_FORMS": initial,
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        for i, row in enumerate(rows):
            data.update(_row(prefix, i, row))
    return data


def field_row(f: dict[str, Any], position: int) -> dict[str, Any]:
    return {"position": position, "key": f.get("key", ""), "label": f.get("label", ""), "type": f.get("type", ""),
            "required": "on" if f.get("required") else "", "help": f.get("help", ""),
            "choices": "\n".join(f.get("choices") or []), "multiple": "on" if f.get("multiple") else "",
            "types": f.get("types") or [], "max_mb": f.get("max_mb") or "", "text": f.get("text", "")}


def stage_row(s: dict[str, Any], position: int) -> dict[str, Any]:
    return {"position": position, "key": s.get("key", ""), "name": s.get("name", ""), "unit": s.get("unit", ""),
            "days": s.get("days") or "", "actions": s.get("actions") or []}


def test_edit_with_the_formsets_then_preview_and_publish(world: Any, procedure: Procedure) -> None:
    client = client_for(world.admin)
    u = urls(procedure)
    response = client.post(u["draft_create"])
    assert response.status_code == 302 and response["Location"] == u["edit"]
    page = client.get(u["edit"])
    assert page.status_code == 200
    token = page.context["token_form"]["token"].value()
    draft = FormDefinition.objects.get(procedure=procedure)
    starter = draft.schema

    fields = [field_row(f, i) for i, f in enumerate(starter["fields"], start=1)]
    fields[1]["DELETE"] = "on"  # remove the RUT
    fields[2]["position"], fields[0]["position"] = 1, 2  # e-mail first
    fields.append(field_row({"label": "Formato de entrega", "type": "choice", "required": True,
                             "choices": ["PDF", "Papel", ""]}, 0) | {"position": ""})
    fields.append(field_row({"label": "Plano de ubicación", "type": "file", "types": ["pdf", "png"],
                             "max_mb": 10}, 0) | {"position": ""})
    fields.append(field_row({}, 0) | {"position": "", "types": ["pdf"], "max_mb": 5})  # an untouched extra row
    stages = [stage_row(s, i) for i, s in enumerate(starter["stages"], start=1)]
    stages.append(stage_row({"name": "Resolución final", "unit": "ALC", "days": 3, "actions": ["resolve"]}, 2))
    stages[0]["actions"] = ["approve", "request_correction"]
    data = edit_post(token, fields, stages, initial_fields=3, initial_stages=1)
    response = client.post(u["edit"], data)
    assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    assert [f["key"] for f in draft.schema["fields"]] == ["email", "nombre_solicitante", "formato_de_entrega",
                                                          "plano_de_ubicacion"]
    assert draft.schema["fields"][2]["choices"] == ["PDF", "Papel"]
    assert draft.schema["fields"][3]["types"] == ["pdf", "png"] and draft.schema["fields"][3]["max_mb"] == 10
    assert [s["key"] for s in draft.schema["stages"]] == ["revision", "resolucion_final"]
    assert AuditEvent.objects.filter(action="form_definition.update", object_id=str(draft.pk)).count() == 1

    # The preview renders the citizen's form and checks answers without storing anything.
    preview = client.get(u["preview"])
    assert preview.status_code == 200
    body = preview.content.decode()
    assert "Formato de entrega" in body and 'accept=".pdf,.png"' in body and 'enctype="multipart/form-data"' in body
    bad = client.post(u["preview"], {"email": "x"})
    assert bad.status_code == 400 and "Ingrese un correo electrónico válido." in bad.content.decode()
    good = client.post(u["preview"], {"email": "ana@example.cl", "nombre_solicitante": "Ana",
                                      "formato_de_entrega": "Papel"})
    assert good.status_code == 200 and "Las respuestas son válidas" in good.content.decode()
    assert not Application.objects.exists()

    # Publishing from the detail page, with the token shown there.
    detail = client.get(u["detail"])
    token = detail.context["token_form"]["token"].value()
    response = client.post(u["publish"], {"token": token})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == DefinitionState.PUBLISHED
    detail = client.get(u["detail"]).content.decode()
    assert "Crear un borrador" in detail and "Versión publicada" in detail


def test_row_errors_and_stale_edits_on_the_edit_page(world: Any, procedure: Procedure) -> None:
    client = client_for(world.admin)
    u = urls(procedure)
    client.post(u["draft_create"])
    draft = FormDefinition.objects.get(procedure=procedure)
    token = services.definition_token(draft)
    fields = [field_row(f, i) for i, f in enumerate(draft.schema["fields"], start=1)]
    fields.append(field_row({"label": "Formato", "type": "choice"}, 4))  # no options
    stages = [stage_row(s, 1) for s in draft.schema["stages"]]
    response = client.post(u["edit"], edit_post(token, fields, stages, initial_fields=3, initial_stages=1))
    assert response.status_code == 400
    row = response.context["fields_formset"].forms[3]
    assert row.errors["choices"] == ["Ingrese al menos una opción."]
    assert "Ingrese al menos una opción." in response.content.decode()
    draft.refresh_from_db()
    assert len(draft.schema["fields"]) == 3

    # Another administrator saves first: the first one's stale form is refused with 409 and nothing changes.
    services.definition_update(actor=world.admin, definition=draft, schema={**draft.schema, "fields":
                               draft.schema["fields"][:1]}, token=token)
    fields[3]["choices"] = "A\nB"
    response = client.post(u["edit"], edit_post(token, fields, stages, initial_fields=3, initial_stages=1))
    assert response.status_code == 409
    assert "Otra persona modificó este borrador" in response.content.decode()
    draft.refresh_from_db()
    assert [f["key"] for f in draft.schema["fields"]] == ["nombre_solicitante"]
    # A stale publish is refused too.
    assert client.post(u["publish"], {"token": token}).status_code == 409
    draft.refresh_from_db()
    assert draft.state == DefinitionState.DRAFT


def test_publishing_an_incomplete_draft_lists_what_is_missing(world: Any, procedure: Procedure) -> None:
    client = client_for(world.admin)
    u = urls(procedure)
    draft = services.definition_draft_create(actor=world.admin, procedure=procedure)
    services.definition_update(actor=world.admin, definition=draft, schema={"fields": [], "stages": []},
                               token=services.definition_token(draft))
    draft.refresh_from_db()
    response = client.post(u["publish"], {"token": services.definition_token(draft)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "El formulario necesita al menos un campo." in body and "El trámite necesita al menos una etapa." in body
    assert client.get(u["edit"]).status_code == 200
    # Editing a procedure without a draft sends back to its page.
    services.definition_discard(actor=world.admin, definition=draft, token=services.definition_token(draft))
    response = client.get(u["edit"])
    assert response.status_code == 302 and response["Location"] == u["detail"]
    assert client.get(urls(procedure, 9)["preview"]).status_code == 404


# --- demo ----------------------------------------------------------------------------------------------------------


def test_demo_definitions_are_published_once(world: Any) -> None:
    from folio.applications import demo_definitions

    slugs = list(demo_definitions.DEFINITIONS)
    for slug in slugs[:-1]:  # the last one does not exist in Lota: skipped
        Procedure.objects.create(organization=world.lota, slug=slug, name=slug.replace("-", " ").title())
    published = demo_definitions.load(world.lota, world.admin)
    assert sorted(d.procedure.slug for d in published) == sorted(slugs[:-1])
    assert all(d.state == DefinitionState.PUBLISHED and d.version == 1 for d in published)
    assert demo_definitions.load(world.lota, None) == []  # idempotent; an administrator is found by itself
    assert FormDefinition.objects.filter(organization=world.lota).count() == len(slugs) - 1
    aip = FormDefinition.objects.get(procedure__slug="acceso-informacion-publica")
    assert aip.schema["stages"][0]["days"] == 20 and aip.schema["stages"][0]["unit"] == "SECMU"
    patente = FormDefinition.objects.get(procedure__slug="patente-comercial")
    required_files = [f["key"] for f in patente.schema["fields"] if f["type"] == "file" and f["required"]]
    assert required_files == ["iniciacion_actividades", "titulo_local"]
    assert [s["unit"] for s in patente.schema["stages"]] == ["DAF", "DOM", "DAF"]
