"""BagIt archival packages: the bag validates with the bagit library and its CLI, carries the documents byte
for byte with the metadata and the index; it imports into another organization reproducing the index and
every hash; a tampered package is refused with nothing imported; series export as a bag of bags."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import bagit
import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from folio.audit.models import AuditEvent
from folio.case_files import archive, exports, selectors, services
from folio.case_files.models import CaseFile, CaseFileCounter, CaseFileState, IndexEntry
from folio.case_files.tests.casefilehelpers import add_pdf, coronel_admin, full_case_file
from folio.files.models import StoredFile
from folio.files.services import file_open


@pytest.fixture
def closed(world: Any, pdf_bytes: Callable[..., bytes], citizen_request: Any) -> CaseFile:
    cf = full_case_file(world, pdf_bytes, citizen_request)
    services.case_file_transfer(actor=world.dom, case_file=cf, to_unit_id=world.units["AJ"].pk, note="Informe")
    return services.case_file_close(actor=world.legal, case_file=cf, note="Se otorga el permiso.")


def _export(actor: Any, cf: CaseFile, tmp: Path) -> Path:
    return services.archive_export(actor=actor, case_file=cf, target_dir=tmp)


def _index(cf: CaseFile) -> list[dict[str, Any]]:
    views = [selectors.EntryView(e, can_open=True, redacted=False) for e in selectors.all_entries(cf)]
    return exports.index_as_dict(cf, views)["entries"]


def _bytes(entry: IndexEntry) -> bytes:
    assert entry.file is not None
    with file_open(entry.file) as fh:
        return fh.read()


def _media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _snapshot() -> tuple[int, ...]:
    return (CaseFile.objects.count(), IndexEntry.objects.count(), StoredFile.objects.count(),
            CaseFileCounter.objects.filter(organization__slug="coronel").count(), len(_media_files()))


def test_the_bag_validates_and_carries_the_expediente(world: Any, closed: CaseFile, tmp_path: Path) -> None:
    root = _export(world.legal, closed, tmp_path)
    assert root.name == closed.iuie
    bag = bagit.Bag(str(root))
    assert bag.validate() and bag.algorithms == ["sha256"]
    script = Path(sys.executable).parent / "bagit.py"  # the Library of Congress validator's command line
    cli = subprocess.run([sys.executable, str(script), "--validate", str(root)], capture_output=True, text=True,
                         check=False)
    assert cli.returncode == 0, cli.stderr
    assert bag.info["Source-Organization"] == "I. Municipalidad de Lota"
    assert bag.info["External-Identifier"] == closed.iuie and bag.info["Folio-Index-Hash"] == closed.index_hash
    assert len(bag.info["Bagging-Date"]) == 10
    size = sum(p.stat().st_size for p in (root / "data").rglob("*") if p.is_file())
    assert bag.info["Payload-Oxum"] == f"{size}.{len(list(bag.payload_files()))}"
    for entry in IndexEntry.objects.filter(case_file=closed, file__isnull=False):
        [path] = (root / "data" / "documentos").glob(f"{entry.position:04d}-*")
        assert path.read_bytes() == _bytes(entry)
        assert bag.entries[f"data/documentos/{path.name}"]["sha256"] == entry.sha256
    metadata = json.loads((root / "data" / "metadatos.json").read_text())
    assert metadata["expediente"]["MGDEE1_1"] == closed.iuie and metadata["index_hash"] == closed.index_hash
    assert [d["MGDDE1_1"] for d in metadata["documentos"]] == [f"{closed.iuie}-D{n:04d}" for n in range(1, 8)]
    xml = ET.fromstring((root / "data" / "indice.xml").read_bytes())  # noqa: S314 - our own export
    assert [e.get("position") for e in xml.iter("entry")] == [str(n) for n in range(1, 8)]
    trail = json.loads((root / "data" / "trazabilidad.json").read_text())
    assert [e["action"] for e in trail["timeline"]][:2] == ["case_file.open", "case_file.incorporate"]
    exported = AuditEvent.objects.filter(object_id=str(closed.pk), action="case_file.archive_export").get()
    assert exported.actor_id == world.legal.pk and exported.data["payload_oxum"] == bag.info["Payload-Oxum"]


def test_round_trip_into_another_organization_reproduces_index_and_hashes(
        world: Any, closed: CaseFile, tmp_path: Path) -> None:
    root = _export(world.legal, closed, tmp_path)
    admin = coronel_admin(world)
    [imported] = services.archive_import(actor=admin, organization=world.coronel, path=root)
    assert imported.organization_id == world.coronel.pk and imported.iuie == closed.iuie
    assert imported.producer_code == world.lota.code and imported.state == CaseFileState.CLOSED
    assert (imported.created_at, imported.closed_at, imported.index_hash) == (
        closed.created_at, closed.closed_at, closed.index_hash)
    assert exports.index_hash(imported, selectors.all_entries(imported)) == closed.index_hash
    assert selectors.index_is_intact(imported)
    assert _index(imported) == _index(closed)  # positions, foliation, UTC times, sha256, titles, versions…
    for before, after in zip(IndexEntry.objects.filter(case_file=closed).order_by("position"),
                             IndexEntry.objects.filter(case_file=imported).order_by("position"), strict=True):
        assert (after.sha256, after.incorporated_at, after.first_page, after.last_page) == (
            before.sha256, before.incorporated_at, before.first_page, before.last_page)
        if before.file is not None:
            assert after.file is not None and after.file.organization_id == world.coronel.pk
            assert after.file.sha256 == before.sha256 and _bytes(after) == _bytes(before)
    parties = [(p.relation, p.rut, p.name) for p in closed.parties.all()]
    assert [(p.relation, p.rut, p.name) for p in imported.parties.all()] == parties
    assert imported.unit.code == "AJ"
    assert CaseFileCounter.objects.get(organization=world.coronel, year=imported.year).last_value == imported.number
    event = AuditEvent.objects.get(object_id=str(imported.pk), action="case_file.import")
    assert event.organization_id == world.coronel.pk and event.data["source_organization"] == world.lota.code
    # Coronel's own next expediente does not collide with the imported number.
    own = services.case_file_open(actor=world.other_dom, data=services.CaseFileInput(title="Propio", subject="X"))
    assert own.number == imported.number + 1
    # Importing the same package again is refused: the expediente is already there.
    with pytest.raises(ValidationError, match="ya existe"):
        services.archive_import(actor=admin, organization=world.coronel, path=root)


def test_a_tampered_package_is_refused_and_nothing_is_imported(
        world: Any, closed: CaseFile, tmp_path: Path) -> None:
    root = _export(world.legal, closed, tmp_path)
    [target] = (root / "data" / "documentos").glob("0002-*")
    raw = bytearray(target.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    target.write_bytes(bytes(raw))
    admin = coronel_admin(world)
    before = _snapshot()
    with pytest.raises(ValidationError) as refused:
        services.archive_import(actor=admin, organization=world.coronel, path=root)
    message = " ".join(refused.value.messages)
    assert "no superó la validación" in message and target.name in message and "sha256" in message
    assert _snapshot() == before


def test_a_consistent_bag_whose_documents_differ_from_the_index_is_refused(
        world: Any, closed: CaseFile, tmp_path: Path) -> None:
    """Someone changed a document and rebuilt the manifests: the bag validates, the index does not."""
    root = _export(world.legal, closed, tmp_path)
    [target] = (root / "data" / "documentos").glob("0001-*")
    target.write_bytes(target.read_bytes() + b"\n% cambiado")
    bag = bagit.Bag(str(root))
    bag.save(manifests=True)
    assert bagit.Bag(str(root)).is_valid()
    admin = coronel_admin(world)
    before = _snapshot()
    with pytest.raises(ValidationError, match="no coincide con su SHA-256"):
        services.archive_import(actor=admin, organization=world.coronel, path=root)
    assert _snapshot() == before
    # …and an index edited in expediente.json (manifests rebuilt again) no longer matches its recorded hash.
    target.write_bytes(target.read_bytes()[: -len(b"\n% cambiado")])
    data = json.loads((root / "data" / "expediente.json").read_text())
    data["entries"][3]["title"] = "Otro título"
    (root / "data" / "expediente.json").write_text(json.dumps(data, ensure_ascii=False))
    bagit.Bag(str(root)).save(manifests=True)
    with pytest.raises(ValidationError, match="no coincide con su hash registrado"):
        services.archive_import(actor=admin, organization=world.coronel, path=root)
    assert _snapshot() == before
    # …and a malformed expediente.json is refused with a message, not an error page.
    del data["entries"][0]["first_page"]
    (root / "data" / "expediente.json").write_text(json.dumps(data, ensure_ascii=False))
    bagit.Bag(str(root)).save(manifests=True)
    with pytest.raises(ValidationError, match="incompleto o mal formado"):
        services.archive_import(actor=admin, organization=world.coronel, path=root)
    assert _snapshot() == before


def test_export_refusals(world: Any, closed: CaseFile, pdf_bytes: Callable[..., bytes], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    open_cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Abierto", subject="X"))
    add_pdf(world, open_cf, pdf_bytes, "Informe")
    with pytest.raises(services.ConflictError, match="cerrado o archivado"):
        _export(world.dom, open_cf, out)
    for user in (world.dideco, world.auditor, world.signer, world.other_dom):
        with pytest.raises(PermissionDenied):
            _export(user, closed, out)
    denied = AuditEvent.objects.filter(object_id=str(closed.pk), action="case_file.denied",
                                       data__attempted="archive_export")
    assert {e.actor_id for e in denied.filter(organization_id=world.lota.pk)} == {
        world.dideco.pk, world.auditor.pk, world.signer.pk}
    # the other municipality's attempt is recorded in its own chain, revealing nothing of the expediente
    assert denied.get(organization_id=world.coronel.pk).actor_id == world.other_dom.pk
    assert not list(out.iterdir())
    for user in (world.legal, world.clerk, world.admin):  # the responsible unit, the Oficina de Partes, admins
        assert _export(user, closed, tmp_path / user.username).is_dir()


def test_import_refusals(world: Any, closed: CaseFile, tmp_path: Path) -> None:
    root = _export(world.legal, closed, tmp_path)
    with pytest.raises(PermissionDenied):
        services.archive_import(actor=world.other_clerk, organization=world.coronel, path=root)
    with pytest.raises(PermissionDenied):  # an administrator of another organization
        services.archive_import(actor=world.admin, organization=world.coronel, path=root)
    admin = coronel_admin(world)
    with pytest.raises(ValidationError, match="no existe"):
        services.archive_import(actor=admin, organization=world.coronel, path=root, unit_code="NOPE")
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all")
    with pytest.raises(ValidationError, match="no es una bolsa BagIt"):
        services.archive_import(actor=admin, organization=world.coronel, path=tmp_path / "junk.tar")
    (root / "bagit.txt").unlink()
    with pytest.raises(ValidationError, match=r"bagit\.txt"):
        services.archive_import(actor=admin, organization=world.coronel, path=root)
    assert not CaseFile.objects.filter(organization=world.coronel).exists()


def test_manage_py_import_case_file_bag(world: Any, closed: CaseFile, tmp_path: Path) -> None:
    root = _export(world.legal, closed, tmp_path)
    tar_path = tmp_path / "paquete.tar"
    with tar_path.open("wb") as fh:
        for chunk in archive.TarStream(root):
            fh.write(chunk)
    coronel_admin(world)
    tampered = tmp_path / "tampered"
    shutil.copytree(root, tampered)
    [doc] = (tampered / "data" / "documentos").glob("0004-*")
    doc.write_bytes(doc.read_bytes()[:-1] + bytes([doc.read_bytes()[-1] ^ 1]))
    with pytest.raises(CommandError, match="import refused"):
        call_command("import_case_file_bag", str(tampered), organization="coronel")
    assert not CaseFile.objects.filter(organization=world.coronel).exists()
    out = io.StringIO()
    call_command("import_case_file_bag", str(tar_path), organization="coronel", stdout=out)
    assert f"imported {closed.iuie} into coronel: 7 index entries, index hash {closed.index_hash}" in out.getvalue()
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_case_file_bag", str(tar_path), organization="nadie")


def test_accumulated_expedientes_travel_inside_the_bag(world: Any, pdf_bytes: Callable[..., bytes],
                                                      tmp_path: Path) -> None:
    parent = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Principal", subject="A"))
    add_pdf(world, parent, pdf_bytes, "Informe principal", pages=2)
    child = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Acumulado", subject="B"))
    add_pdf(world, child, pdf_bytes, "Informe acumulado", pages=3)
    services.case_file_accumulate(actor=world.dom, case_file=parent, other_id=child.pk)
    add_pdf(world, parent, pdf_bytes, "Resolución", version_of_id=None)
    parent = services.case_file_close(actor=world.dom, case_file=parent)
    root = _export(world.dom, parent, tmp_path)
    assert bagit.Bag(str(root)).validate()
    assert (root / "data" / "acumulados" / child.iuie / "expediente.json").is_file()
    [imported] = services.archive_import(actor=coronel_admin(world), organization=world.coronel, path=root)
    nested = CaseFile.objects.get(organization=world.coronel, iuie=child.iuie)
    child.refresh_from_db()
    assert nested.accumulated_into_id == imported.pk and nested.index_hash == child.index_hash != ""
    assert _index(imported) == _index(CaseFile.objects.get(pk=parent.pk)) and selectors.index_is_intact(imported)
    assert _index(nested) == _index(CaseFile.objects.get(pk=child.pk)) and selectors.index_is_intact(nested)


def test_a_series_is_a_bag_of_bags(world: Any, closed: CaseFile, pdf_bytes: Callable[..., bytes],
                                   tmp_path: Path) -> None:
    other = services.case_file_open(actor=world.dom, data=services.CaseFileInput(
        title="Otro permiso", subject="Permiso", series_code="DOM-PE"))
    add_pdf(world, other, pdf_bytes, "Informe", pages=2)
    services.case_file_close(actor=world.dom, case_file=other)
    services.case_file_open(actor=world.dom, data=services.CaseFileInput(  # still open: not in the series bag
        title="En trámite", subject="Permiso", series_code="DOM-PE"))
    root = services.archive_export_series(actor=world.clerk, series_code="DOM-PE", year=closed.year,
                                          target_dir=tmp_path)
    outer = bagit.Bag(str(root))
    assert outer.validate() and outer.info["External-Identifier"] == f"MUN-8106/DOM-PE/{closed.year}"
    inner = sorted(p.name for p in (root / "data").iterdir() if p.is_dir())
    assert inner == [closed.iuie, other.iuie]
    for name in inner:
        assert bagit.Bag(str(root / "data" / name)).validate()
    listing = json.loads((root / "data" / "serie.json").read_text())
    assert [x["iuie"] for x in listing["expedientes"]] == inner
    imported = services.archive_import(actor=coronel_admin(world), organization=world.coronel, path=root)
    assert sorted(c.iuie for c in imported) == inner
    with pytest.raises(PermissionDenied):
        services.archive_export_series(actor=world.dom, series_code="DOM-PE", year=closed.year, target_dir=tmp_path)
    with pytest.raises(ValidationError):
        services.archive_export_series(actor=world.clerk, series_code="NADA", year=closed.year, target_dir=tmp_path)


def _untar(content: bytes, tmp: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(content)) as tar:
        tar.extractall(tmp, filter="data")
    [root] = [p for p in tmp.iterdir() if p.is_dir()]
    return root


def test_package_download_pages_and_api(world: Any, closed: CaseFile, client: Any, tmp_path: Path) -> None:
    client.force_login(world.legal)
    page = client.get(f"/expedientes/{closed.pk}/").content.decode()
    assert f"/expedientes/{closed.pk}/paquete-archivo.tar" in page and "Paquete de archivo (BagIt)" in page
    response = client.get(f"/expedientes/{closed.pk}/paquete-archivo.tar")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-tar"
    assert response.streaming and closed.iuie in response["Content-Disposition"]
    root = _untar(b"".join(response.streaming_content), tmp_path / "ui")
    assert bagit.Bag(str(root)).validate()
    client.force_login(world.dideco)
    assert client.get(f"/expedientes/{closed.pk}/paquete-archivo.tar").status_code == 403
    client.force_login(world.other_dom)
    assert client.get(f"/expedientes/{closed.pk}/paquete-archivo.tar").status_code == 404
    client.force_login(world.clerk)
    series = client.get("/expedientes/paquete-serie.tar", {"series-series": "DOM-PE", "series-year": closed.year})
    assert series.status_code == 200
    assert bagit.Bag(str(_untar(b"".join(series.streaming_content), tmp_path / "series"))).validate()
    empty = client.get("/expedientes/paquete-serie.tar", {"series-series": "NADA", "series-year": closed.year})
    assert empty.status_code == 400 and "No hay expedientes cerrados" in empty.content.decode()
    client.force_login(world.dom)
    assert client.get("/expedientes/paquete-serie.tar", {"series-series": "DOM-PE", "series-year": 2026}
                      ).status_code == 403

    api = APIClient()
    api.force_authenticate(world.legal)
    package = api.get(f"/api/v1/case-files/{closed.pk}/archival-package/")
    assert package.status_code == 200
    content = b"".join(package.streaming_content)
    assert bagit.Bag(str(_untar(content, tmp_path / "api"))).validate()
    upload = io.BytesIO(content)
    upload.name = "paquete.tar"
    api.force_authenticate(world.other_dom)
    assert api.post("/api/v1/case-files/import/", {"package": upload}, format="multipart").status_code == 403
    upload.seek(0)
    api.force_authenticate(coronel_admin(world))
    imported = api.post("/api/v1/case-files/import/", {"package": upload}, format="multipart")
    assert imported.status_code == 201, imported.json()
    assert [c["iuie"] for c in imported.json()] == [closed.iuie]
    series = api.get("/api/v1/case-files/archival-package/", {"series": "DOM-PE", "year": closed.year})
    assert series.status_code == 200  # Coronel now keeps the imported expediente and can transfer it on
    assert bagit.Bag(str(_untar(b"".join(series.streaming_content), tmp_path / "coronel"))).validate()
    api.force_authenticate(world.other_dom)
    assert api.get("/api/v1/case-files/archival-package/", {"series": "DOM-PE", "year": closed.year}
                   ).status_code == 403
    api.force_authenticate(world.clerk)
    assert api.get("/api/v1/case-files/archival-package/", {"series": "DOM-PE", "year": closed.year}
                   ).status_code == 200
    assert api.get("/api/v1/case-files/archival-package/", {"series": "DOM-PE"}).status_code == 400


def test_an_open_expediente_offers_no_package(world: Any, pdf_bytes: Callable[..., bytes], client: Any) -> None:
    cf = services.case_file_open(actor=world.dom, data=services.CaseFileInput(title="Abierto", subject="X"))
    add_pdf(world, cf, pdf_bytes, "Informe")
    client.force_login(world.dom)
    assert "paquete-archivo.tar" not in client.get(f"/expedientes/{cf.pk}/").content.decode()
    refused = client.get(f"/expedientes/{cf.pk}/paquete-archivo.tar")
    assert refused.status_code == 409 and "cerrado o archivado" in refused.content.decode()
    api = APIClient()
    api.force_authenticate(world.dom)
    assert api.get(f"/api/v1/case-files/{cf.pk}/archival-package/").status_code == 409
