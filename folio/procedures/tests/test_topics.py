"""The catalogue topics page /cpat/temas/: the CTD and administrators list, add, change and delete their
organization's topics (audited, one transaction); others get 403, another municipality's topic is a 404, a
duplicate address or a topic still in use is refused and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from folio.audit.models import AuditEvent
from folio.procedures import services
from folio.procedures.models import Procedure, Topic

URL = "/cpat/temas/"


@pytest.fixture
def coronel_admin(world: Any) -> Any:
    from folio.accounts.models import RoleCode
    from folio.core import demo

    return demo.ensure_user(world.coronel, "admin.coronel", "Rosa", "Medina", "TI", [RoleCode.ADMIN], "Admin Coronel")


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_url_name() -> None:
    assert reverse("procedures:topics") == URL


@pytest.mark.parametrize("role", ["ctd", "admin"])
def test_editors_manage_topics(world: Any, client: Any, topic: Topic, role: str) -> None:
    client.force_login(getattr(world, role))
    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}{topic.pk}/editar/").status_code == 200
    assert URL in client.get("/cpat/").content.decode()


@pytest.mark.parametrize("role", ["auditor", "dom", "dom_head", "clerk"])
def test_others_get_403(world: Any, client: Any, topic: Topic, role: str) -> None:
    client.force_login(getattr(world, role))
    before = AuditEvent.objects.count()
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "Nuevo"}).status_code == 403
    assert client.get(f"{URL}{topic.pk}/editar/").status_code == 403
    assert client.post(f"{URL}{topic.pk}/editar/", {"name": "X", "slug": "x", "position": 1}).status_code == 403
    assert client.post(f"{URL}{topic.pk}/eliminar/").status_code == 403
    assert AuditEvent.objects.count() == before
    assert Topic.objects.filter(organization=world.lota).count() == 1
    assert Topic.objects.get(pk=topic.pk).name == "Obras y construcción"


def test_readers_do_not_see_the_link(world: Any, client: Any) -> None:
    client.force_login(world.auditor)
    body = client.get("/cpat/").content.decode()
    assert URL not in body


def test_anonymous_is_sent_to_login(world: Any, client: Any, topic: Topic) -> None:
    for response in (client.get(URL), client.get(f"{URL}{topic.pk}/editar/"), client.post(URL, {"name": "X"}),
                     client.post(f"{URL}{topic.pk}/eliminar/")):
        assert response.status_code == 302 and "/ingresar/" in response["Location"]
    assert Topic.objects.count() == 1


def test_another_municipality_gets_404(world: Any, client: Any, topic: Topic, coronel_admin: Any) -> None:
    client.force_login(coronel_admin)
    before = AuditEvent.objects.count()
    assert client.get(f"{URL}{topic.pk}/editar/").status_code == 404
    assert client.post(f"{URL}{topic.pk}/editar/", {"name": "Robado", "slug": "robado"}).status_code == 404
    assert client.post(f"{URL}{topic.pk}/eliminar/").status_code == 404
    assert "Obras y construcción" not in client.get(URL).content.decode()
    assert Topic.objects.get(pk=topic.pk).name == "Obras y construcción"
    assert AuditEvent.objects.count() == before
    # and the service refuses the write on its own
    with pytest.raises(services.PermissionDenied):
        services.topic_update(actor=coronel_admin, topic=topic, data={"name": "Robado"})


def test_create_edit_delete_with_audit(world: Any, client: Any) -> None:
    client.force_login(world.ctd)
    response = client.post(URL, {"name": "Patentes y permisos", "slug": "", "position": ""})
    assert response.status_code == 302 and response["Location"] == URL
    topic = Topic.objects.get(organization=world.lota)
    assert (topic.name, topic.slug, topic.position) == ("Patentes y permisos", "patentes-y-permisos", 1)
    [created] = _events("procedure_topic.create")
    assert created.actor_id == world.ctd.pk and created.organization_id == world.lota.pk
    assert created.object_id == str(topic.pk) and created.data["slug"] == "patentes-y-permisos"

    response = client.post(URL, {"name": "Obras", "slug": "obras", "position": "5"})
    assert response.status_code == 302
    assert Topic.objects.get(slug="obras").position == 5
    assert "Patentes y permisos" in client.get(URL).content.decode()

    response = client.post(f"{URL}{topic.pk}/editar/", {"name": "Patentes", "slug": "patentes", "position": "2"})
    assert response.status_code == 302
    topic.refresh_from_db()
    assert (topic.name, topic.slug, topic.position) == ("Patentes", "patentes", 2)
    [updated] = _events("procedure_topic.update")
    assert updated.data["changed"] == {"name": ["Patentes y permisos", "Patentes"],
                                       "slug": ["patentes-y-permisos", "patentes"], "position": [1, 2]}
    # saving without changes writes no audit row
    client.post(f"{URL}{topic.pk}/editar/", {"name": "Patentes", "slug": "patentes", "position": "2"})
    assert len(_events("procedure_topic.update")) == 1

    response = client.post(f"{URL}{topic.pk}/eliminar/")
    assert response.status_code == 302
    assert not Topic.objects.filter(pk=topic.pk).exists()
    [deleted] = _events("procedure_topic.delete")
    assert deleted.object_id == str(topic.pk) and deleted.data["slug"] == "patentes"
    assert client.get(f"{URL}{topic.pk}/editar/").status_code == 404
    assert client.get(f"{URL}{topic.pk}/eliminar/").status_code == 405


def test_duplicate_slug_is_refused(world: Any, client: Any, topic: Topic, coronel_admin: Any) -> None:
    client.force_login(world.ctd)
    before = AuditEvent.objects.count()
    response = client.post(URL, {"name": "Otras obras", "slug": "obras", "position": "3"})
    assert response.status_code == 400
    assert "Otro tema ya usa la dirección obras." in response.content.decode()
    other = services.topic_create(actor=world.ctd, data={"name": "Patentes"})
    response = client.post(f"{URL}{other.pk}/editar/", {"name": "Patentes", "slug": "obras", "position": "2"})
    assert response.status_code == 400
    assert "Otro tema ya usa la dirección obras." in response.content.decode()
    other.refresh_from_db()
    assert other.slug == "patentes"
    assert AuditEvent.objects.count() == before + 1  # only the create of "Patentes"
    assert Topic.objects.filter(organization=world.lota).count() == 2
    # the same address in another municipality is fine
    assert services.topic_create(actor=coronel_admin, data={"name": "Obras", "slug": "obras"}).slug == "obras"


@pytest.mark.parametrize("data", [
    {"name": "", "slug": "", "position": ""},
    {"name": "Obras", "slug": "Obras Públicas", "position": ""},
    {"name": "Obras", "slug": "", "position": "-1"},
    {"name": "Obras", "slug": "", "position": "abc"},
    {"name": "x" * 101, "slug": "", "position": ""},
    {"name": "obras Y CONSTRUCCION", "slug": "otra", "position": ""},  # same name, case and accents aside
])
def test_bad_input_is_400_and_nothing_saved(world: Any, client: Any, topic: Topic, data: dict[str, str]) -> None:
    client.force_login(world.ctd)
    before = AuditEvent.objects.count()
    response = client.post(URL, data)
    assert response.status_code == 400
    assert 'class="alert alert-danger"' in response.content.decode()
    assert Topic.objects.filter(organization=world.lota).count() == 1
    assert AuditEvent.objects.count() == before


def test_bad_input_on_edit_is_400(world: Any, client: Any, topic: Topic) -> None:
    client.force_login(world.ctd)
    response = client.post(f"{URL}{topic.pk}/editar/", {"name": "Obras", "slug": "con espacios", "position": "1"})
    assert response.status_code == 400
    assert "minúsculas" in response.content.decode()
    topic.refresh_from_db()
    assert (topic.name, topic.slug) == ("Obras y construcción", "obras")


def test_a_topic_in_use_cannot_be_deleted(world: Any, client: Any, topic: Topic, make_procedure: Any) -> None:
    p = make_procedure("Permiso de edificación", topic=topic)
    client.force_login(world.admin)
    edit = client.get(f"{URL}{topic.pk}/editar/").content.decode()
    assert f"{URL}{topic.pk}/eliminar/" not in edit  # no delete button while in use
    before = AuditEvent.objects.count()
    response = client.post(f"{URL}{topic.pk}/eliminar/")
    assert response.status_code == 409
    assert "no se puede eliminar" in response.content.decode()
    assert Topic.objects.filter(pk=topic.pk).exists()
    assert Procedure.objects.get(pk=p.pk).topic_id == topic.pk
    assert AuditEvent.objects.count() == before
    with pytest.raises(services.TopicInUseError):
        services.topic_delete(actor=world.ctd, topic=topic)


def test_the_catalogue_shows_the_renamed_topic(world: Any, client: Any, topic: Topic, make_procedure: Any) -> None:
    make_procedure("Permiso de edificación", topic=topic, is_published=True)
    client.force_login(world.ctd)
    response = client.post(f"{URL}{topic.pk}/editar/",
                           {"name": "Construcción y urbanismo", "slug": "urbanismo", "position": "1"})
    assert response.status_code == 302
    client.logout()
    body = client.get("/tramites/lota/").content.decode()
    assert "Construcción y urbanismo" in body and "Obras y construcción" not in body
    assert "?tema=urbanismo" in body
    assert "Permiso de edificación" in client.get("/tramites/lota/?tema=urbanismo").content.decode()


def test_list_counts_and_query_count(world: Any, client: Any, make_procedure: Any,
                                     django_assert_num_queries: Any) -> None:
    topics = [services.topic_create(actor=world.ctd, data={"name": f"Tema {i}", "position": i}) for i in range(6)]
    for i, t in enumerate(topics):
        for j in range(i):
            make_procedure(f"Trámite {i}-{j}", topic=t, is_published=j == 0)
    client.force_login(world.ctd)
    client.get(URL)  # warm up (session, caches)
    # session, user, organization, roles, unit (the page layout), then one query for the topics with their counts
    with django_assert_num_queries(6):
        response = client.get(URL)
    assert response.status_code == 200
    for i in range(6, 12):
        make_procedure(f"Otro {i}", topic=services.topic_create(actor=world.ctd, data={"name": f"Tema {i}"}))
    with django_assert_num_queries(6):  # whatever the number of topics and procedures
        assert len(client.get(URL).context["topics"]) == 12
    rows = {t.name: (t.n_procedures, t.n_published) for t in response.context["topics"]}
    assert rows["Tema 0"] == (0, 0) and rows["Tema 3"] == (3, 1) and rows["Tema 5"] == (5, 1)
    assert [t.position for t in response.context["topics"]] == list(range(6))
    assert "Tema 5" in response.content.decode()
