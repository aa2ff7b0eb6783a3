"""Query counts of the expediente's page, its index API and the list are pinned: they must not grow with
the number of documents (an expediente can hold thousands, see bench/case_file_pages.py). When a change
adds a query on purpose, update the pinned number in the same change."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from folio.case_files import selectors, services
from folio.case_files.api import EntrySerializer
from folio.case_files.models import CaseFile
from folio.registry.models import AccessLevel, DocumentType

# Pinned query counts for the responsible official (the list: its page, whatever the filters).
PAGE_IN_PROGRESS = 19
PAGE_CLOSED = 18
API_INDEX = 8
API_ENTRIES = 8
LIST_PAGE = 7


def _grow(world: Any, cf: CaseFile, pdf: Callable[..., bytes], upto: int) -> None:
    from folio.case_files.models import IndexEntry

    have = IndexEntry.objects.filter(case_file=cf).count()
    last = None
    for i in range(have + 1, upto + 1):
        entry = services.EntryInput(title=f"Documento {i}", document_type=DocumentType.INFORME,
                                    access_level=AccessLevel.RESTRICTED if i % 4 == 0 else None,
                                    sensitive_data=i % 7 == 0,
                                    version_of_id=last.pk if (i % 10 == 0 and last is not None and i % 4) else None)
        if i % 5 == 0:
            entry.description, entry.physical_location, entry.pages = "Carpeta", "Archivo DOM", 2
            last = services.incorporate_paper_item(actor=world.dom, case_file=cf, entry=entry)
        else:
            last = services.incorporate_upload(actor=world.dom, case_file=cf, name=f"d{i}.pdf", data=pdf(f"D {i}"),
                                               entry=entry)


def _count(client: Any, url: str, user: Any = None) -> int:
    if user is not None:  # a fresh instance, as a real request gets (roles are cached on the user object)
        client.force_authenticate(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def test_page_and_index_queries_do_not_grow_with_documents(world: Any, client: Any, pdf_bytes: Callable[..., bytes]
                                                           ) -> None:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title="Permiso", subject="Permiso", parties=[services.PartyInput(name="Ana Pérez", rut="12.345.678-5")]))
    other = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Otro", subject="Otro"))
    _grow(world, other, pdf_bytes, 2)
    services.case_file_link(actor=world.dom, case_file=cf, other_id=other.pk)
    api = APIClient()
    counts: dict[str, list[int]] = {}
    for size in (5, 50):
        _grow(world, cf, pdf_bytes, size)
        for user in (world.dom, world.auditor, world.dideco):
            client.force_login(user)
            counts.setdefault(f"page {user.username}", []).append(_count(client, f"/expedientes/{cf.pk}/"))
            for name, url in (("index", "index/"), ("xml", "index.xml"), ("entries", "entries/")):
                counts.setdefault(f"{name} {user.username}", []).append(
                    _count(api, f"/api/v1/case-files/{cf.pk}/{url}", user))
    assert all(a == b for a, b in counts.values()), sorted(counts.items())
    assert counts["page dom.lota"][0] == PAGE_IN_PROGRESS, counts
    assert counts["index dom.lota"][0] == API_INDEX and counts["entries dom.lota"][0] == API_ENTRIES, counts
    services.case_file_close(actor=world.dom, case_file=cf)
    client.force_login(world.dom)
    assert _count(client, f"/expedientes/{cf.pk}/") == PAGE_CLOSED


def test_list_queries_do_not_grow_with_expedientes(world: Any, client: Any) -> None:
    counts = []
    for size in (5, 50):
        while CaseFile.objects.count() < size:
            services.case_file_open(actor=world.dom, data=services.CaseFileInput(
                title="Solicitud", subject="Solicitud", parties=[services.PartyInput(name="Ana", rut="12.345.678-5")]))
        client.force_login(world.dom)
        counts.append((_count(client, "/expedientes/"), _count(client, "/expedientes/?q=Solicitud&state=open"),
                       _count(APIClient(), "/api/v1/case-files/", world.dom)))
    assert counts[0] == counts[1] and counts[0][0] == LIST_PAGE, counts


@pytest.mark.parametrize("user_key", ["dom", "auditor", "dideco"])
def test_fast_entry_serialisation_matches_the_declared_fields(world: Any, pdf_bytes: Callable[..., bytes],
                                                              user_key: str) -> None:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Permiso", subject="Permiso"))
    _grow(world, cf, pdf_bytes, 12)
    user = getattr(world, user_key)
    views = selectors.index_entries_for(user, selectors.case_file_get(user, cf.pk))
    serializer = EntrySerializer()
    from rest_framework import serializers

    assert [serializer.to_representation(v) for v in views] == [
        dict(serializers.Serializer.to_representation(serializer, v)) for v in views]


def test_page_shows_the_last_events_and_the_history_page_all(world: Any, client: Any,
                                                              pdf_bytes: Callable[..., bytes]) -> None:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Permiso", subject="Permiso"))
    _grow(world, cf, pdf_bytes, selectors.TIMELINE_ON_PAGE + 5)
    client.force_login(world.dideco)
    page = client.get(f"/expedientes/{cf.pk}/").content.decode()
    assert page.count('class="timeline-item"') == selectors.TIMELINE_ON_PAGE
    assert f"/expedientes/{cf.pk}/historial/" in page
    history = client.get(f"/expedientes/{cf.pk}/historial/")
    total = selectors.case_file_timeline(cf).count()
    assert history.status_code == 200 and history.content.decode().count('class="timeline-item"') == total
    assert not re.search(r"Documento 8\b", history.content.decode())  # restricted: hidden from another unit
    assert re.search(r"Documento 9\b", history.content.decode())
    client.force_login(world.other_dom)
    assert client.get(f"/expedientes/{cf.pk}/historial/").status_code == 404


def test_new_version_chosen_in_the_page_form(world: Any, client: Any, pdf_bytes: Callable[..., bytes]) -> None:
    """The "new version of" list (fast select, plain choices) still renders and validates every document."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from folio.case_files.models import IndexEntry

    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Permiso", subject="Permiso"))
    _grow(world, cf, pdf_bytes, 3)
    first = IndexEntry.objects.get(case_file=cf, position=1)
    client.force_login(world.dom)
    page = client.get(f"/expedientes/{cf.pk}/").content.decode()
    assert f'<option value="{first.pk}">1. Documento 1</option>' in page

    def post(version_of: Any) -> Any:
        upload = SimpleUploadedFile("v2.pdf", pdf_bytes("Versión 2"), content_type="application/pdf")
        return client.post(f"/expedientes/{cf.pk}/incorporar/", {
            "file": upload, "title": "Documento 1, versión 2", "document_type": DocumentType.INFORME,
            "access_level": 1, "version_of": version_of})

    assert post(999999).status_code == 400
    assert IndexEntry.objects.filter(case_file=cf).count() == 3
    assert post(first.pk).status_code == 302
    assert IndexEntry.objects.get(case_file=cf, position=4).version_of_id == first.pk


def _xml_reference(case_file: Any, views: Any) -> bytes:
    """The index XML as ElementTree writes it (what ``exports.index_as_xml`` must reproduce byte for byte)."""
    from xml.etree import ElementTree as ET

    from folio.case_files import exports

    data = exports.index_as_dict(case_file, views)
    root = ET.Element("indiceElectronico", {"esquema": exports.INDEX_SCHEMA, "iuie": case_file.iuie})
    head = ET.SubElement(root, "expediente")
    for key in ("title", "state", "time_zone", "location_time_zone", "created_at", "closed_at", "index_hash",
                "index_hash_algorithm", "total_folios"):
        if data[key] is not None:
            ET.SubElement(head, key).text = str(data[key])
    ET.SubElement(head, "organization", {"code": data["organization"]["code"]}).text = data["organization"]["name"]
    entries = ET.SubElement(root, "entries")
    for item in data["entries"]:
        node = ET.SubElement(entries, "entry", {"position": str(item["position"]), "identifier": item["identifier"]})
        for key in ("title", "document_type", "document_type_name", "incorporated_at", "sha256", "pages",
                    "first_page", "last_page", "mechanism", "mechanism_name", "source", "access_level",
                    "sensitive_data", "paper", "physical_location", "version", "version_of", "nested_case_file"):
            value = item[key]
            if value is not None and value != "":
                ET.SubElement(node, key).text = str(value).lower() if isinstance(value, bool) else str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def test_index_xml_is_what_elementtree_writes(world: Any, pdf_bytes: Callable[..., bytes]) -> None:
    from folio.case_files import exports

    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title='Permiso "A&B" <obra>\tmenor', subject="Permiso"))
    assert exports.index_as_xml(cf, []) == _xml_reference(cf, [])
    _grow(world, cf, pdf_bytes, 12)
    child = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Hijo", subject="Hijo"))
    _grow(world, child, pdf_bytes, 1)
    services.case_file_accumulate(actor=world.dom, case_file=cf, other_id=child.pk)
    services.incorporate_upload(actor=world.dom, case_file=cf, name="x.pdf", data=pdf_bytes("x"),
                                entry=services.EntryInput(title='Informe "final" & <anexo>\r\n', keywords="a",
                                                          document_type=DocumentType.INFORME))
    cf = services.case_file_close(actor=world.dom, case_file=cf)
    for user in (world.dom, world.dideco):
        views = selectors.index_entries_for(user, selectors.case_file_get(user, cf.pk))
        assert exports.index_as_xml(cf, views) == _xml_reference(cf, views)
