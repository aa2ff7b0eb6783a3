"""Official documents: rendering a draft to PDF/A, and batch signing of acts through the whole circuit
(``acts.services.act_sign_batch``: the number leased from the counter, the PDF rendered with it, the simple
signature, the signed PDF stored, the step, the verification record and the audit rows committed) — beside
the bare engine (``signatures.services.sign_pdf`` of an already rendered PDF), so the cost of the circuit
shows as a ratio.

    python bench/acts.py [--batch 100] [--renders 50]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import common

ORG_SLUG = "bench-actos"
PASSPHRASE = "clave-de-benchmark-actos"  # noqa: S105 — a throw-away benchmark signer


def _setup() -> tuple[Any, Any, Any]:
    from folio.accounts.models import RoleCode
    from folio.acts import services
    from folio.acts.models import ActKind, ActTemplate
    from folio.core import demo
    from folio.signatures.selectors import signer_certificate_active
    from folio.signatures.services import signer_enroll

    org = demo.ensure_organization("BENCH-ACTOS", "I. Municipalidad de Prueba (actos)", "Prueba", ORG_SLUG,
                                   "Lota", demo.UNITS)
    signer = demo.ensure_user(org, "secmun.actos", "Sergio", "Melo Contreras", "SECMU", [RoleCode.SIGNER],
                              "Secretario Municipal")
    drafter = demo.ensure_user(org, "juridico.actos", "Valentina", "Rojas Leiva", "AJ", [RoleCode.OFFICIAL],
                               "Asesora Jurídica")
    if signer_certificate_active(signer) is None:
        signer_enroll(signer=signer, passphrase=PASSPHRASE, actor=signer)
    services.ensure_default_templates(org)
    return signer, drafter, ActTemplate.objects.get(organization=org, kind=ActKind.EXEMPT_DECREE)


def _drafts(drafter: Any, signer: Any, template: Any, count: int) -> list[Any]:
    from folio.acts import services

    acts = []
    for i in range(count):
        act = services.act_create(actor=drafter, data=services.ActInput(
            template_id=template.pk, subject=f"Aprueba convenio de colaboración N° {i + 1}",
            body="CONSIDERANDO:\n\n1. Que es necesario.\n\nDECRETO:\n\n1. Apruébase el convenio.",
            endorsers=[], signers=[services.StepInput(signer.pk)]))
        acts.append(services.act_submit(actor=drafter, act=act))
    return acts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--renders", type=int, default=50)
    args = parser.parse_args()
    common.setup_django()
    common.migrate()
    from folio.acts import services
    from folio.signatures.services import SignRequest, sign_pdf

    signer, drafter, template = _setup()
    machine = common.machine()
    # Rendering a draft to PDF/A-2b (WeasyPrint), after one warm-up that loads the fonts.
    [sample] = _drafts(drafter, signer, template, 1)
    services.act_preview(sample)
    renders = []
    for _ in range(args.renders):
        started = time.perf_counter()
        services.act_preview(sample)
        renders.append(time.perf_counter() - started)
    # The bare engine on already rendered PDFs (same signer, key opened once as in a batch).
    pdfs = [services.act_preview(sample).pdf for _ in range(min(args.batch, 20))]
    sign_pdf(SignRequest(pdf=pdfs[0], signer=signer, method="simple", verification_code="BNCH-MARK-0000",
                         stamp_lines=["Sergio Melo Contreras"], passphrase=PASSPHRASE))
    engine = []
    for pdf in pdfs:
        started = time.perf_counter()
        sign_pdf(SignRequest(pdf=pdf, signer=signer, method="simple", verification_code="BNCH-MARK-0000",
                             stamp_lines=["Sergio Melo Contreras"], passphrase=PASSPHRASE))
        engine.append(time.perf_counter() - started)
    # The whole circuit: one batch of acts signed in one action.
    acts = _drafts(drafter, signer, template, args.batch)
    started = time.perf_counter()
    results = services.act_sign_batch(actor=signer, act_ids=[a.pk for a in acts], passphrase=PASSPHRASE)
    elapsed = time.perf_counter() - started
    signed = sum(1 for r in results if r.ok)
    engine_mean = sum(engine) / len(engine)
    common.finish("acts", {
        "machine": machine,
        "render_draft": common.stats_ms(renders),
        "engine_sign_pdf": common.stats_ms(engine),
        "batch": {"documents": args.batch, "signed": signed, "seconds": round(elapsed, 2),
                  "documents_per_second": round(signed / elapsed, 1) if elapsed else None,
                  "ms_per_document": round(elapsed / max(signed, 1) * 1000, 1),
                  "ratio_to_engine": round((elapsed / max(signed, 1)) / engine_mean, 2)},
    })


if __name__ == "__main__":
    main()
