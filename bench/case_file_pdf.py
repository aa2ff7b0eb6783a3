"""Whole-expediente copia autorizada: time and peak memory of building its PDF (cover, index, every page of
every document stamped with its folio), for 500 pages and for a larger expediente to show the memory does
not grow with the size.

The expedientes (organization ``BENCH-CF``) are built once through the real services from 10-page PDFs,
half of them born-digital text, half scanned (one JPEG per page, about 0.4 MB each).
The copy is requested with ``copies.request_copy`` as the page does (the background task is not run:
``FOLIO_TASKS_BACKEND`` is the dummy backend) and built by ``copies.build`` — the task's body — in a forked
child process, so the peak resident memory of the build is measured on its own: the child reports its
``VmRSS`` when it starts and its ``VmHWM`` (peak) when the PDF is stored. Target: 500 pages in ≤ 30 s.

    python bench/case_file_pdf.py [--pages 500 2000] [--pages-per-document 10]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import time
from typing import Any

os.environ.setdefault("FOLIO_TASKS_BACKEND", "django_tasks.backends.dummy.DummyBackend")

import common
from case_file_pages import setup_org

TARGET_S = 30.0
TARGET_PAGES = 500


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _scanned(pages: int) -> bytes:
    """A scanned-looking PDF: every page an A4 image at 120 dpi (noise JPEG, about 0.4 MB per page)."""
    from PIL import Image

    size = (992, 1403)
    images = [Image.frombytes("L", size, os.urandom(size[0] * size[1])).convert("RGB") for _ in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=120.0, quality=60, save_all=True, append_images=images[1:])
    return buf.getvalue()


def build_case_file(ctx: dict[str, Any], pages: int, per_document: int) -> Any:
    from folio.case_files import services
    from folio.case_files.models import CaseFile, IndexEntry
    from folio.core.demo import demo_pdf
    from folio.registry.models import DocumentType

    dom = ctx["users"]["responsible_official"]
    title = f"Expediente de {pages} páginas"
    cf = CaseFile.objects.filter(organization=ctx["organization"], title=title).first()
    if cf is None:
        cf = services.case_file_open(actor=dom, data=services.CaseFileInput(
            title=title, subject="Copia autorizada de un expediente completo", series_code="DOM-PE"))
    have = sum(e.pages for e in IndexEntry.objects.filter(case_file=cf))
    samples = [demo_pdf(f"Informe {i}", "Texto de prueba del informe técnico de la Dirección de Obras. " * 8,
                        pages=per_document) if i % 2 else _scanned(per_document) for i in range(4)]
    n = IndexEntry.objects.filter(case_file=cf).count()
    while have < pages:
        n += 1
        services.incorporate_upload(actor=dom, case_file=cf, name=f"informe-{n:04d}.pdf", data=samples[n % 4],
                                    entry=services.EntryInput(title=f"Informe técnico {n:04d}",
                                                              document_type=DocumentType.INFORME))
        have += per_document
    return cf


def _child(copy_id: int, conn: Any) -> None:
    from django.db import connections

    for c in connections.all():
        c.close()  # the parent's connections are not ours
    start_rss = _status_kb("VmRSS")
    from folio.case_files import copies

    start = time.perf_counter()
    built = copies.build(copy_id)
    seconds = time.perf_counter() - start
    conn.send({"seconds": seconds, "status": built.status if built else None,
               "pages": built.pages_total if built else None, "start_rss_kb": start_rss,
               "peak_rss_kb": _status_kb("VmHWM"), "pdf_bytes": built.file.size if built and built.file else None})
    conn.close()


def measure(ctx: dict[str, Any], cf: Any) -> dict[str, Any]:
    from django.db import connections

    from folio.case_files import copies, selectors

    dom = ctx["users"]["responsible_official"]
    copy = copies.request_copy(actor=dom, case_file=selectors.case_file_get(dom, cf.pk))
    for c in connections.all():
        c.close()
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=_child, args=(copy.pk, child))
    proc.start()
    result = parent.recv()
    proc.join()
    result["peak_growth_mb"] = round((result["peak_rss_kb"] - result["start_rss_kb"]) / 1024, 1)
    result["peak_rss_mb"] = round(result["peak_rss_kb"] / 1024, 1)
    result["seconds"] = round(result["seconds"], 2)
    result["pages_per_second"] = round(result["pages"] / result["seconds"], 1) if result["pages"] else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--pages-per-document", type=int, default=10)
    args = parser.parse_args()

    common.setup_django()
    common.migrate()
    from folio.case_files.models import IndexEntry

    machine = common.machine()
    ctx = setup_org()
    cases = []
    for pages in args.pages:
        cf = build_case_file(ctx, pages, args.pages_per_document)
        result = measure(ctx, cf)
        result.update(document_pages=pages, documents=IndexEntry.objects.filter(case_file=cf).count())
        if pages == TARGET_PAGES:
            result["meets_target"] = result["status"] == "done" and result["seconds"] <= TARGET_S
        cases.append(result)
        print(f"  {pages:5d} document pages -> {result['pages']} pages in {result['seconds']:6.2f} s "
              f"({result['pages_per_second']} pages/s), peak RSS {result['peak_rss_mb']} MB "
              f"(+{result['peak_growth_mb']} MB during the build), {result['status']}", flush=True)
    common.finish("case_file_pdf", {
        "machine": machine,
        "method": "copies.request_copy, then copies.build (the background task's body) in a forked child; "
                  "time of the build; VmRSS at the child's start and VmHWM at its end",
        "cases": cases,
        "target_seconds_for_500_pages": TARGET_S,
        "meets_target": all(c.get("meets_target", True) for c in cases),
    })


if __name__ == "__main__":
    main()
