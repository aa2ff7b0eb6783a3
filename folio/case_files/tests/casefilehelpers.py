"""An expediente with every kind of index entry, for the copy and archive tests."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from PIL import Image

from folio.case_files import services
from folio.case_files.models import CaseFile
from folio.registry.models import AccessLevel, DocumentType


def png_bytes(width: int = 60, height: int = 40) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (15, 105, 196)).save(buf, "PNG")
    return buf.getvalue()


def add_pdf(world: Any, cf: CaseFile, pdf: Callable[..., bytes], title: str, pages: int = 1, actor: Any = None,
            **entry: Any) -> Any:
    return services.incorporate_upload(
        actor=actor or world.dom, case_file=cf, name=f"{title.lower().replace(' ', '-')}.pdf",
        data=pdf(title, pages), entry=services.EntryInput(title=title, document_type=DocumentType.INFORME, **entry))


def full_case_file(world: Any, pdf: Callable[..., bytes], registration: Any, series: str = "DOM-PE") -> CaseFile:
    """Positions and folios: 1 solicitud (1–2), 2 plano (3–5), 3 restricted report (6), 4 photo (7),
    5 text note (8), 6 paper plans (9–10), 7 report with sensitive data (11)."""
    cf = services.case_file_open(actor=world.dom, registration_id=registration.pk, data=services.CaseFileInput(
        procedure_code="CPAT-DOM-001", procedure_name="Permiso de edificación", series_code=series))
    add_pdf(world, cf, pdf, "Informe reservado", access_level=AccessLevel.RESTRICTED)
    services.incorporate_upload(actor=world.dom, case_file=cf, name="foto.png", data=png_bytes(),
                                entry=services.EntryInput(title="Fotografía de la obra",
                                                          document_type=DocumentType.ANTECEDENTE))
    services.incorporate_upload(actor=world.dom, case_file=cf, name="nota.txt",
                                data=b"Nota de terreno: obra conforme.\n",
                                entry=services.EntryInput(title="Nota de terreno", document_type=DocumentType.NOTA))
    services.incorporate_paper_item(actor=world.dom, case_file=cf, entry=services.EntryInput(
        title="Planos originales", document_type=DocumentType.ANTECEDENTE, description="Rollo de planos",
        physical_location="Archivo DOM, estante 4", pages=2))
    add_pdf(world, cf, pdf, "Informe social", sensitive_data=True)
    return CaseFile.objects.get(pk=cf.pk)


def coronel_admin(world: Any) -> Any:
    from folio.accounts.models import RoleCode
    from folio.core import demo

    return demo.ensure_user(world.coronel, "admin.coronel", "Carla", "Muñoz", "TI", [RoleCode.ADMIN], "Admin")
