"""Archival export (BagIt) of a 1 GB expediente, side by side with ``sha256sum`` over the same stored files.

The expediente (organization ``BENCH-CF``) is built once through the real services: scanned-looking PDFs of
about 10 MB each (one page holding an incompressible JPEG) until the payload reaches ``--megabytes``; it is
then closed. Each round runs ``sha256sum`` over the stored files (the floor: read and hash, one core), then
``archive.export_case_file`` into a fresh directory (read, hash, write the payload, the index XML/JSON,
the metadata, the traceability log, the manifests and bag-info), and compares the two throughputs. The
target is export ≥ 50 % of ``sha256sum``. Python's own ``hashlib`` over the same files is reported too: on
machines whose ``sha256sum`` lacks the CPU's SHA instructions it is much faster than ``sha256sum``. With
``--validate`` the bag is also checked with the Library of Congress ``bagit`` validator (timed on its own,
not part of the target).

    python bench/case_file_archive.py [--megabytes 1024] [--file-mb 10] [--rounds 3] [--validate]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import common
from case_file_pages import setup_org

TARGET_RATIO = 0.5


def _scan_pdf(mb: int) -> bytes:
    """A one-page PDF holding a noise JPEG of about ``mb`` megabytes (noise does not compress)."""
    from PIL import Image

    side = int((mb * 1024 * 1024 / 1.1) ** 0.5)  # RGB noise at quality 95 is ~1.1 bytes per pixel
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    image.save(buf, "PDF", resolution=300.0, quality=95)
    return buf.getvalue()


def build_case_file(ctx: dict[str, Any], megabytes: int, file_mb: int) -> Any:
    from folio.case_files import services
    from folio.case_files.models import CaseFile, IndexEntry
    from folio.registry.models import DocumentType

    dom = ctx["users"]["responsible_official"]
    title = f"Expediente de {megabytes} MB"
    cf = CaseFile.objects.filter(organization=ctx["organization"], title=title).first()
    if cf is not None and cf.state == "closed":
        return cf
    if cf is None:
        cf = services.case_file_open(actor=dom, data=services.CaseFileInput(
            title=title, subject="Planos y antecedentes escaneados de una obra mayor", series_code="DOM-PE",
            procedure_code="CPAT-DOM-002", procedure_name="Permiso de edificación obra mayor"))
    samples = [_scan_pdf(file_mb) for _ in range(4)]
    total = sum(e.size or 0 for e in IndexEntry.objects.filter(case_file=cf))
    n = IndexEntry.objects.filter(case_file=cf).count()
    start = time.perf_counter()
    while total < megabytes * 1024 * 1024:
        n += 1
        data = samples[n % len(samples)]
        services.incorporate_upload(actor=dom, case_file=cf, name=f"plano-{n:04d}.pdf", data=data,
                                    entry=services.EntryInput(title=f"Plano escaneado {n:04d}",
                                                              document_type=DocumentType.ANTECEDENTE,
                                                              mechanism=3))
        total += len(data)
        if n % 20 == 0:
            print(f"  {n} documents, {total / 2**20:,.0f} MB ({time.perf_counter() - start:.0f} s)", flush=True)
    return services.case_file_close(actor=dom, case_file=cf, note="Benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--file-mb", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--validate", action="store_true")
    args = parser.parse_args()

    common.setup_django()
    common.migrate()
    from django.conf import settings
    from django.core.files.storage import default_storage

    from folio.case_files import archive
    from folio.case_files.models import IndexEntry

    if not hasattr(archive, "export_case_file"):
        raise SystemExit("folio.case_files.archive has no export_case_file: nothing to measure")
    machine = common.machine()
    ctx = setup_org()
    cf = build_case_file(ctx, args.megabytes, args.file_mb)
    entries = list(IndexEntry.objects.filter(case_file=cf, file__isnull=False).select_related("file"))
    paths = [default_storage.path(e.file.storage_name) for e in entries]
    payload = sum(e.file.size for e in entries)
    work = Path(settings.VAR_DIR) / "bench-archive"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rounds = []
    for i in range(args.rounds):
        start = time.perf_counter()
        subprocess.run(["sha256sum", *paths], stdout=subprocess.DEVNULL, check=True)
        sha_s = time.perf_counter() - start
        start = time.perf_counter()
        for path in paths:  # a second reference: Python's hashlib (OpenSSL), as the export itself hashes
            digest = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda fh=fh: fh.read(1024 * 1024), b""):
                    digest.update(chunk)
        hashlib_s = time.perf_counter() - start
        target = Path(tempfile.mkdtemp(dir=work))
        start = time.perf_counter()
        bag = archive.export_case_file(actor=ctx["users"]["responsible_official"], case_file=cf, target_dir=target)
        export_s = time.perf_counter() - start
        bag_bytes = sum(p.stat().st_size for p in bag.rglob("*") if p.is_file())
        row = {"round": i + 1, "sha256sum_s": round(sha_s, 3), "export_s": round(export_s, 3),
               "sha256sum_mb_s": round(payload / 2**20 / sha_s, 1),
               "python_hashlib_mb_s": round(payload / 2**20 / hashlib_s, 1),
               "export_mb_s": round(payload / 2**20 / export_s, 1), "ratio": round(sha_s / export_s, 3),
               "bag_bytes": bag_bytes}
        if args.validate and i == 0:
            import bagit

            start = time.perf_counter()
            bagit.Bag(str(bag)).validate()
            row["bagit_validate_s"] = round(time.perf_counter() - start, 3)
        shutil.rmtree(target)
        rounds.append(row)
        print(f"  round {i + 1}: sha256sum {row['sha256sum_mb_s']:7.1f} MB/s   "
              f"hashlib {row['python_hashlib_mb_s']:7.1f} MB/s   export {row['export_mb_s']:7.1f} MB/s"
              f"   ratio {row['ratio']:.2f}" + (f"   bagit validate {row['bagit_validate_s']:.1f} s"
                                               if "bagit_validate_s" in row else ""), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    ratio = statistics.median(r["ratio"] for r in rounds)
    common.finish("case_file_archive", {
        "machine": machine,
        "method": "sha256sum over the stored files, then archive.export_case_file into a fresh directory on the "
                  "same disk, alternating, in one process; files hot in the page cache (written just before or "
                  "read by the previous round)",
        "documents": len(entries),
        "payload_bytes": payload,
        "rounds": rounds,
        "median_ratio": ratio,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
    })


if __name__ == "__main__":
    main()
