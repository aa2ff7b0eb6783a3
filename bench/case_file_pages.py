"""Server time of an expediente with 2,000 documents: its page (/expedientes/<id>/) and its index API
(/api/v1/case-files/<id>/index/, index.xml and entries/), plus the list /expedientes/.

The expediente is built once through the real services (``incorporate_upload`` and ``incorporate_paper_item``:
sniffing, SHA-256, storage, foliation, audit) in its own organization (``BENCH-CF``): 1-page PDFs, every
10th document restricted, every 25th with sensitive data, every 50th a paper item, every 100th a new
version of the one before. Requests go in-process through Django's test ``Client`` with a logged-in
session (middleware, view, selectors, serialisation and template rendering are timed; network is not),
as three users: the responsible unit's official (sees everything), an auditor (reads metadata, opens only
public documents) and an official of another unit (restricted titles redacted). It is measured while the
expediente is in progress, then closed (the page then re-checks the index hash on every view). Wall time is
the target; the CPU time of the same requests is reported too, since the machine may be shared.

    python bench/case_file_pages.py [--documents 2000] [--repeat 40] [--gc-freeze]
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import common

TARGET_MS = 150.0
TARGETS = ("page", "api index")  # what the issue sets the target for; the rest is reported alongside
ORG_CODE = "BENCH-CF"


def setup_org() -> dict[str, Any]:
    from folio.accounts.models import RoleCode
    from folio.core import demo
    from folio.organizations.models import Unit

    org = demo.ensure_organization(ORG_CODE, "I. Municipalidad de Prueba (expedientes)", "Prueba", "bench-cf",
                                   "Lota", demo.UNITS)
    users = {
        "responsible_official": demo.ensure_user(org, "dom.benchcf", "Diego", "Orellana", "DOM",
                                                 [RoleCode.OFFICIAL], "Arquitecto"),
        "auditor": demo.ensure_user(org, "auditor.benchcf", "Rosa", "Alarcón", "CONTROL", [RoleCode.AUDITOR],
                                    "Control"),
        "other_unit_official": demo.ensure_user(org, "dideco.benchcf", "Franco", "Navarrete", "DIDECO",
                                                [RoleCode.OFFICIAL], "Asistente social"),
        "admin": demo.ensure_user(org, "admin.benchcf", "Ana", "Muñoz", "TI", [RoleCode.ADMIN], "Admin"),
    }
    return {"organization": org, "users": users, "units": {u.code: u for u in Unit.objects.filter(organization=org)}}


def build_case_file(ctx: dict[str, Any], documents: int, title: str) -> Any:
    """The expediente with ``documents`` entries, made once (reused when it is there)."""
    from folio.case_files import services
    from folio.case_files.models import CaseFile, IndexEntry
    from folio.core.demo import demo_pdf
    from folio.registry.models import AccessLevel, DocumentType

    dom = ctx["users"]["responsible_official"]
    cf = CaseFile.objects.filter(organization=ctx["organization"], title=title).first()
    if cf is None:
        cf = services.case_file_open(actor=dom, data=services.CaseFileInput(
            title=title, subject="Permiso de edificación, obra mayor, Av. Carlos Cousiño 123",
            procedure_code="CPAT-DOM-002", procedure_name="Permiso de edificación obra mayor", series_code="DOM-PE",
            parties=[services.PartyInput(name="Constructora Lota Sur SpA", rut="76.086.428-5", actor_type=3)]))
    have = IndexEntry.objects.filter(case_file=cf).count()
    if have >= documents:
        return cf
    if cf.state == "closed":
        cf = services.case_file_reopen(actor=dom, case_file=cf, reason="Benchmark: more documents")
    kinds = [DocumentType.INFORME, DocumentType.OFICIO, DocumentType.CERTIFICADO, DocumentType.ANTECEDENTE,
             DocumentType.MEMORANDUM, DocumentType.RESOLUCION]
    pdfs = [demo_pdf(f"Antecedente {i}", f"Documento de prueba número {i} del expediente de benchmark.")
            for i in range(50)]
    start = time.perf_counter()
    last = None
    for i in range(have + 1, documents + 1):
        restricted = i % 10 == 0
        entry = services.EntryInput(
            title=f"Documento {i:04d}: {'Informe técnico' if i % 3 else 'Oficio'} de revisión de antecedentes",
            document_type=kinds[i % len(kinds)], access_level=AccessLevel.RESTRICTED if restricted else None,
            sensitive_data=i % 25 == 0, keywords="permiso, edificación, revisión",
            version_of_id=last.pk if (i % 100 == 0 and last is not None and not restricted) else None)
        if i % 50 == 0:
            entry.description, entry.physical_location, entry.pages = ("Carpeta de planos originales",
                                                                       "Archivo DOM, estante 4", 3)
            last = services.incorporate_paper_item(actor=dom, case_file=cf, entry=entry)
        else:
            last = services.incorporate_upload(actor=dom, case_file=cf, name=f"doc-{i:04d}.pdf",
                                               data=pdfs[i % len(pdfs)], entry=entry)
        if i % 500 == 0:
            print(f"  {i} documents ({time.perf_counter() - start:.0f} s)", flush=True)
    return CaseFile.objects.get(pk=cf.pk)


def _time(client: Any, url: str, repeat: int, warmup: int = 3) -> tuple[list[float], list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    queries = len(ctx.captured_queries)
    times, cpu = [], []
    size = 0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        size = len(response.content)
    return times, cpu, size, queries


def measure(ctx: dict[str, Any], cf: Any, repeat: int, label: str) -> list[dict[str, Any]]:
    from django.test import Client

    urls = {
        "page": f"/expedientes/{cf.pk}/",
        "api index": f"/api/v1/case-files/{cf.pk}/index/",
        "api index.xml": f"/api/v1/case-files/{cf.pk}/index.xml",
        "api entries": f"/api/v1/case-files/{cf.pk}/entries/",
        "list": "/expedientes/",
    }
    cases = []
    for who, user in ctx["users"].items():
        if who == "admin":
            continue
        client = Client()
        client.force_login(user)
        for name, url in urls.items():
            if name == "list" and label != "in_progress":
                continue
            times, cpu, size, queries = _time(client, url, repeat)
            stats = common.stats_ms(times)
            cpu_stats = common.stats_ms(cpu)
            cases.append({"state": label, "what": name, "user": who, "url": url, **stats, "queries": queries,
                          "cpu_p50_ms": cpu_stats["p50_ms"], "cpu_p95_ms": cpu_stats["p95_ms"],
                          "response_bytes": size, "target": name in TARGETS,
                          "meets_target": stats["p95_ms"] <= TARGET_MS})
            print(f"  {label:11} {name:14} {who:20} p50 {stats['p50_ms']:8.2f} ms  p95 {stats['p95_ms']:8.2f} ms  "
                  f"(CPU p50 {cpu_stats['p50_ms']:7.2f} p95 {cpu_stats['p95_ms']:7.2f})  {queries:3d} queries  "
                  f"{size:>9,d} B", flush=True)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() once the expediente is built, as a pre-forking server can after loading "
                             "the application: full collections then skip the objects of the loaded code")
    args = parser.parse_args()

    common.setup_django()
    common.migrate()
    from django.conf import settings
    from django.core.management import call_command

    from folio.case_files import services
    from folio.case_files.models import IndexEntry

    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    machine = common.machine()
    ctx = setup_org()
    started = time.perf_counter()
    cf = build_case_file(ctx, args.documents, f"Expediente de {args.documents} documentos")
    build_s = time.perf_counter() - started
    dom = ctx["users"]["responsible_official"]
    if cf.state == "closed":
        cf = services.case_file_reopen(actor=dom, case_file=cf, reason="Benchmark: measure the open page")
    if args.gc_freeze:
        gc.collect()
        gc.freeze()
    cases = measure(ctx, cf, args.repeat, "in_progress")
    cf = services.case_file_close(actor=dom, case_file=cf, note="Benchmark")
    cases += measure(ctx, cf, args.repeat, "closed")
    common.finish("case_file_pages", {
        "machine": machine,
        "method": "django.test.Client GET in-process with a logged-in session (middleware + view + serialisation "
                  "+ template), hot cache, one process; p95 nearest-rank; wall time, and the process's CPU time "
                  "for the same requests (less sensitive to other load on the machine)",
        "documents": IndexEntry.objects.filter(case_file=cf).count(),
        "folios": IndexEntry.objects.filter(case_file=cf).order_by("-position").values_list("last_page",
                                                                                             flat=True).first(),
        "build_seconds": round(build_s, 1),
        "repeat": args.repeat,
        "gc_freeze": args.gc_freeze,
        "cases": cases,
        "target_p95_ms": TARGET_MS,
        "meets_target": all(c["meets_target"] for c in cases if c["target"]),
    })


if __name__ == "__main__":
    main()
