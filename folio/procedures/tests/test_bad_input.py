"""Bad input is answered with Spanish messages and a 4xx, and nothing is half-saved: invalid URL, level
out of range, missing name, duplicated code, another organization's unit, stale version (409)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from folio.audit.models import AuditEvent
from folio.procedures import services
from folio.procedures.forms import ProcedureForm
from folio.procedures.models import Procedure, SimplificationPlan


def _post_data(world: Any, procedure: Procedure | None = None, **overrides: Any) -> dict[str, Any]:
    form = ProcedureForm(organization=world.lota)
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = getattr(procedure, name, None) if procedure is not None else field.initial
        if name in ("unit", "topic"):
            value = getattr(procedure, f"{name}_id", None) if procedure is not None else None
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = "" if value is None else value
    if procedure is not None:
        data["version"] = procedure.version
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_through_the_form(world: Any, client: Any) -> None:
    client.force_login(world.ctd)
    response = client.post("/cpat/nuevo/", _post_data(world, name="Certificado de número", code="PA-7",
                                                       unit=world.units["DOM"].pk, digitalization_level=3,
                                                       law_url="https://www.bcn.cl/leychile/navegar?idNorma=13560"))
    assert response.status_code == 302
    p = Procedure.objects.get(organization=world.lota, code="PA-7")
    assert p.slug == "certificado-de-numero" and p.unit == world.units["DOM"] and p.version == 1
    assert p.search_text == "certificado de numero"
    assert AuditEvent.objects.filter(action="procedure.create", object_id=str(p.pk)).count() == 1


@pytest.mark.parametrize(("field", "value", "message"), [
    ("law_url", "no es una url", "URL"),
    ("online_url", "javascript:alert(1)", "URL"),
    ("digitalization_level", "9", "9"),
    ("name", "", "obligatorio"),
    ("user_type", "marciano", "marciano"),
])
def test_form_refuses_bad_values(world: Any, client: Any, field: str, value: str, message: str) -> None:
    client.force_login(world.ctd)
    response = client.post("/cpat/nuevo/", _post_data(world, **{"name": "Trámite", field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Procedure.objects.exists() and not AuditEvent.objects.filter(action="procedure.create").exists()


def test_service_validates_without_the_form(world: Any, make_procedure: Any) -> None:
    make_procedure("Patente comercial", code="PA-1")
    cases = [
        ({"name": "  "}, "name"),
        ({"name": "X", "digitalization_level": 6}, "digitalization_level"),
        ({"name": "X", "digitalization_level": -1}, "digitalization_level"),
        ({"name": "X", "law_url": "ftp://bcn.cl/ley"}, "law_url"),
        ({"name": "X", "code": "PA-1"}, "code"),
        ({"name": "X", "unit": world.coronel_units["DOM"]}, "unit"),
        ({"name": "X", "slug": "no es un slug"}, "slug"),
        ({"name": "X", "kind": "invented"}, "kind"),
    ]
    for data, field in cases:
        with pytest.raises(ValidationError) as exc:
            services.procedure_create(actor=world.ctd, data=data)
        assert field in exc.value.message_dict, (data, exc.value.message_dict)
    assert Procedure.objects.count() == 1


def test_stale_edit_is_a_409_and_changes_nothing(world: Any, client: Any, make_procedure: Any) -> None:
    p = make_procedure("Patente comercial")
    client.force_login(world.ctd)
    first = _post_data(world, p, description="Primera versión")
    second = _post_data(world, p, description="Segunda versión")
    assert client.post(f"/cpat/{p.pk}/editar/", first).status_code == 302
    response = client.post(f"/cpat/{p.pk}/editar/", second)
    assert response.status_code == 409
    assert "Otra persona modificó este trámite" in response.content.decode()
    p.refresh_from_db()
    assert p.description == "Primera versión" and p.version == 2
    with pytest.raises(services.ConflictError):
        services.procedure_update(actor=world.ctd, procedure=p, data={"name": "Y"}, expected_version=1)
    with pytest.raises(services.ConflictError):
        services.procedure_set_published(actor=world.ctd, procedure=p, published=True, expected_version=1)


def test_edit_with_nothing_changed_keeps_the_version(world: Any, make_procedure: Any) -> None:
    p = make_procedure("Patente comercial", description="Algo")
    same = services.procedure_update(actor=world.ctd, procedure=p, data={"description": "Algo"}, expected_version=1)
    assert same.version == 1
    assert not AuditEvent.objects.filter(action="procedure.update").exists()
    changed = services.procedure_update(actor=world.ctd, procedure=p, data={"description": "Otra"},
                                        expected_version=1)
    assert changed.version == 2
    event = AuditEvent.objects.get(action="procedure.update")
    assert event.data["changed"] == {"description": ["Algo", "Otra"]}


def test_slug_collisions_get_a_suffix_and_explicit_ones_are_refused(world: Any, make_procedure: Any) -> None:
    a = make_procedure("Patente comercial")
    b = make_procedure("Patente comercial")
    assert (a.slug, b.slug) == ("patente-comercial", "patente-comercial-2")
    with pytest.raises(ValidationError) as exc:
        services.procedure_update(actor=world.ctd, procedure=b, data={"slug": "patente-comercial"})
    assert "slug" in exc.value.message_dict


def test_plan_validation_and_stale_version(world: Any, client: Any, make_procedure: Any) -> None:
    p = make_procedure()
    with pytest.raises(ValidationError) as exc:
        services.plan_save(actor=world.ctd, procedure=p, data={"state": "planned", "steps_before": 3,
                                                               "steps_after": 5})
    assert "steps_after" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.plan_save(actor=world.ctd, procedure=p, data={"state": "whatever"})
    assert not SimplificationPlan.objects.exists()
    plan = services.plan_save(actor=world.ctd, procedure=p, data={"state": "done", "steps_before": 5,
                                                                  "steps_after": 3})
    assert plan.done_on is not None and plan.version == 1
    client.force_login(world.ctd)
    response = client.post(f"/cpat/{p.pk}/simplificacion/", {"state": "in_progress", "version": 7})
    assert response.status_code == 409
    response = client.post(f"/cpat/{p.pk}/simplificacion/", {"state": "in_progress", "version": 1,
                                                             "steps_before": 5, "steps_after": 4})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.state == "in_progress" and plan.done_on is None and plan.version == 2


def test_transactions_form_refuses_negative_numbers(world: Any, client: Any, make_procedure: Any) -> None:
    p = make_procedure()
    client.force_login(world.ctd)
    response = client.post(f"/cpat/{p.pk}/transacciones/?anio=2026", {"anio": "2026", "m1_digital": "-3"})
    assert response.status_code == 400
    response = client.post(f"/cpat/{p.pk}/transacciones/?anio=2026", {"anio": "2026", "m1_digital": "abc"})
    assert response.status_code == 400
    with pytest.raises(ValidationError):
        services.transactions_save(actor=world.ctd, procedure=p, figures=[services.Figure(2026, 13, "digital", 1)])
    with pytest.raises(ValidationError):
        services.transactions_save(actor=world.ctd, procedure=p, figures=[services.Figure(2026, 1, "fax", 1)])
    assert not p.monthly_transactions.exists()


def test_settings_validation(world: Any, client: Any) -> None:
    client.force_login(world.ctd)
    assert client.post("/cpat/indicadores/", {"simplification_goal_percent": 0}).status_code == 400
    assert client.post("/cpat/indicadores/", {"simplification_goal_percent": 50,
                                              "expected_procedures": -2}).status_code == 400
    response = client.post("/cpat/indicadores/", {"simplification_goal_percent": 60, "expected_procedures": 80})
    assert response.status_code == 302
    response = client.post("/cpat/indicadores/", {"simplification_goal_percent": 70, "version": 9})
    assert response.status_code == 409
