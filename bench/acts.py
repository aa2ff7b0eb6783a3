"""Official documents: rendering a draft to PDF/A, submitting acts (which lays each one out once, with room for
its number, date and verification code: ``ActLayout``), and batch signing of acts through the whole circuit
(``acts.services.act_sign_batch``: the number leased from the counter, the final PDF — the layout with the
number, date and code written in —, the simple signature, the signed PDF stored, the step, the verification
record and the audit rows committed) — beside the bare engine (``signatures.services.sign_pdf`` of an already
rendered PDF), so the cost of the circuit shows as a ratio. ``--cold`` also signs a batch whose layouts were
thrown away, so each first signature renders the whole document with WeasyPrint (the fallback path).

    python bench/acts.py [--batch 100] [--renders 50] [--cold]
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


def _drafts(drafter: Any, signer: Any, template: Any, count: int,
            submit_times: list[float] | None = None) -> list[Any]:
    from folio.acts import services

    acts = []
    for i in range(count):
        act = services.act_create(actor=drafter, data=services.ActInput(
            template_id=template.pk, subject=f"Aprueba convenio de colaboración N° {i + 1}",
            body="CONSIDERANDO:\n\n1. Que es necesario.\n\nDECRETO:\n\n1. Apruébase el convenio.",
            endorsers=[], signers=[services.StepInput(signer.pk)]))
        started = time.perf_counter()
        acts.append(services.act_submit(actor=drafter, act=act))  # lays the act out (ActLayout)
        if submit_times is not None:
            submit_times.append(time.perf_counter() - started)
    return acts


def _batch(signer: Any, acts: list[Any], engine_mean: float) -> dict[str, Any]:
    from folio.acts import services

    started = time.perf_counter()
    results = services.act_sign_batch(actor=signer, act_ids=[a.pk for a in acts], passphrase=PASSPHRASE)
    elapsed = time.perf_counter() - started
    signed = sum(1 for r in results if r.ok)
    return {"documents": len(acts), "signed": signed, "seconds": round(elapsed, 2),
            "documents_per_second": round(signed / elapsed, 1) if elapsed else None,
            "ms_per_document": round(elapsed / max(signed, 1) * 1000, 1),
            "ratio_to_engine": round((elapsed / max(signed, 1)) / engine_mean, 2)}


def _check_printed(signer: Any, acts: list[Any]) -> dict[str, Any]:
    """The last signed act of the batch prints its number, date and verification code (pypdf's text)."""

    from pypdf import PdfReader

    from folio.acts.models import Act
    from folio.acts.rendering import spanish_date
    from folio.files.services import file_open

    act = Act.objects.select_related("signed_file").get(pk=acts[-1].pk)
    assert act.signed_file is not None
    with file_open(act.signed_file) as fh:
        text = " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(fh).pages)
    assert act.document_date is not None
    found = {"number": act.number_display in text, "date": spanish_date(act.document_date) in text,
             "code": act.verification_code in text}
    if not all(found.values()):
        raise SystemExit(f"the signed PDF does not print {found}: {text[:300]!r}")
    return {"act": act.pk, "number_display": act.number_display, **found}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--cold", action="store_true", help="also a batch without prepared layouts")
    args = parser.parse_args()
    common.setup_django()
    common.migrate()
    from folio.acts import services
    from folio.acts.models import ActLayout
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
    engine_mean = sum(engine) / len(engine)
    # One act through the whole circuit first: the process builds its embedded-font subsets once (~0.3 s).
    warm = _drafts(drafter, signer, template, 1)
    services.act_sign_batch(actor=signer, act_ids=[warm[0].pk], passphrase=PASSPHRASE)
    # The whole circuit: the acts are submitted (each laid out once, timed), then signed in one action.
    submits: list[float] = []
    acts = _drafts(drafter, signer, template, args.batch, submits)
    laid_out = ActLayout.objects.filter(act_id__in=[a.pk for a in acts]).count()
    summary: dict[str, Any] = {
        "machine": machine,
        "render_draft": common.stats_ms(renders),
        "engine_sign_pdf": common.stats_ms(engine),
        "submit_with_layout": {**common.stats_ms(submits), "laid_out": laid_out},
        "batch": _batch(signer, acts, engine_mean),
        "printed": _check_printed(signer, acts),
    }
    if args.cold:
        cold = _drafts(drafter, signer, template, args.batch)
        ActLayout.objects.filter(act_id__in=[a.pk for a in cold]).delete()
        summary["batch_without_layouts"] = _batch(signer, cold, engine_mean)
    common.finish("acts", summary)


if __name__ == "__main__":
    main()
