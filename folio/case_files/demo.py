"""Demo expedientes for Lota, made through the real services (IUIe, index, foliation, audit are genuine)."""

from __future__ import annotations

from typing import Any

from folio.accounts.models import User
from folio.case_files import services
from folio.case_files.models import CaseFile
from folio.registry.models import Book, DocumentType, Registration


def load(organization: Any) -> None:
    """Open a few expedientes from DOM requests of the registry. Does nothing if the organization already
    has expedientes, so running the demo again changes nothing."""
    from folio.core.demo import demo_pdf

    if CaseFile.objects.filter(organization=organization).exists():
        return
    dom = User.objects.filter(username="dom.lota").first()
    legal = User.objects.filter(username="juridico.lota").first()
    if dom is None or legal is None or legal.unit_id is None:
        return
    requests = list(Registration.objects.filter(organization=organization, book=Book.INCOMING, unit__code="DOM")
                    .exclude(status="voided").order_by("id")[:3])
    for index, reg in enumerate(requests):
        cf = services.case_file_open(actor=dom, registration_id=reg.pk, data=services.CaseFileInput(
            procedure_code="CPAT-DOM-001", procedure_name="Permiso de edificación de obra menor", series_code="DOM-PE"))
        services.incorporate_upload(
            actor=dom, case_file=cf, name="informe-tecnico.pdf",
            data=demo_pdf("Informe técnico DOM", f"Revisión de antecedentes del expediente {cf.iuie}.", pages=2),
            entry=services.EntryInput(title="Informe técnico de revisión", document_type=DocumentType.INFORME,
                                      keywords="informe técnico, revisión"))
        if index == 0:
            services.incorporate_paper_item(actor=dom, case_file=cf, entry=services.EntryInput(
                title="Planos originales", document_type=DocumentType.ANTECEDENTE,
                description="Rollo de planos firmados por el arquitecto", physical_location="Archivo DOM, estante 4",
                pages=6))
            services.case_file_transfer(actor=dom, case_file=cf, to_unit_id=legal.unit_id,
                                        note="Para informe jurídico")
            services.incorporate_upload(
                actor=legal, case_file=cf, name="dictamen.pdf",
                data=demo_pdf("Dictamen jurídico", "Procede otorgar el permiso solicitado."),
                entry=services.EntryInput(title="Dictamen jurídico", document_type=DocumentType.DICTAMEN,
                                          access_level=2, keywords="dictamen"))
            services.case_file_close(actor=legal, case_file=cf, note="Se otorga el permiso.")
        elif index == 1:
            services.case_file_suspend(actor=dom, case_file=cf, reason="Falta certificado de informaciones previas")
