"""Electronic signature: simple (FES) signing latency of a 10-page PDF, batch throughput, validation latency,
and, in the same run, the bare cryptography (SHA-256 of the same bytes + one RSA-2048 signature) so the
overhead of PAdES, the stamp, the audit row and the database shows as a ratio.

Everything goes through ``folio.signatures.services`` as the signing circuit calls it: ``sign_pdf`` (placement,
visible stamp with QR, incremental update, PAdES B-B, audit row in its transaction) and ``validate_pdf``
(integrity, signature value, chain against the trust roots, difference analysis). PDFs are generated before
the clock starts.

    python bench/signatures.py [--repeat 200] [--batch 100] [--processes 2]

"warm" = the signer's key was opened with the same passphrase within FOLIO_SIGNING_KEY_CACHE_SECONDS (every
call still presents the passphrase; the scrypt derivation is skipped): the batch case and any second
signature in a session. "cold" = cache off: every signature derives the key from the passphrase (scrypt
N=2^14, r=8).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import time
from typing import Any

import common

ORG_SLUG = "bench-firma"
PASSPHRASE = "clave-de-benchmark-2026"  # noqa: S105 — a throw-away benchmark signer


def _setup() -> Any:
    from folio.accounts.models import RoleCode
    from folio.core import demo
    from folio.signatures.selectors import signer_certificate_active
    from folio.signatures.services import signer_enroll

    org = demo.ensure_organization("BENCH-FIRMA", "I. Municipalidad de Prueba (firma)", "Prueba", ORG_SLUG,
                                   "Lota", demo.UNITS)
    signer = demo.ensure_user(org, "secmun.bench", "Sergio", "Melo Contreras", "SECMU", [RoleCode.SIGNER],
                              "Secretario Municipal")
    signer.run_number, signer.run_dv = 12345678, "5"
    signer.save(update_fields=["run_number", "run_dv"])
    if signer_certificate_active(signer) is None:
        signer_enroll(signer=signer, passphrase=PASSPHRASE, actor=signer)
    return signer


def _pdf(index: int, pages: int) -> bytes:
    from folio.core.demo import demo_pdf

    body = ("Vistos: lo dispuesto en la Ley N° 18.695, Orgánica Constitucional de Municipalidades. "
            "Considerando: la necesidad de regular el uso de bienes nacionales de uso público. "
            f"Decreto: apruébase lo solicitado en el expediente {index}. Anótese, comuníquese y archívese")
    return demo_pdf(f"DECRETO EXENTO N° {index}/2026", body, pages)


def _request(pdf: bytes, signer: Any, code: str) -> Any:
    from folio.signatures.services import SignRequest

    return SignRequest(pdf=pdf, signer=signer, method="simple", verification_code=code,
                       stamp_lines=["Sergio Melo Contreras", "Secretario Municipal", "Ministro de fe"],
                       passphrase=PASSPHRASE)


def _sign_many(pdfs: list[bytes], offset: int) -> tuple[list[float], float, float]:
    from django.db import connection

    from folio.accounts.models import User
    from folio.signatures.services import sign_pdf

    connection.close()
    signer = User.objects.select_related("organization").get(username="secmun.bench")
    times = []
    start_wall = time.time()
    for i, pdf in enumerate(pdfs):
        start = time.perf_counter()
        sign_pdf(_request(pdf, signer, f"BNCH-{offset + i:04d}-SIGN"))
        times.append(time.perf_counter() - start)
    return times, start_wall, time.time()


def _worker(args: tuple[list[bytes], int, Any]) -> tuple[list[float], float, float]:
    pdfs, offset, barrier = args
    barrier.wait()
    return _sign_many(pdfs, offset)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--cold-repeat", type=int, default=60)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()

    common.setup_django()
    common.migrate()
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from django.db import connection
    from django.test import override_settings

    from folio.signatures import pki
    from folio.signatures.services import sign_pdf, validate_pdf

    machine = common.machine()
    signer = _setup()
    ten_pages = _pdf(0, 10)
    batch_pdfs = [_pdf(i + 1, 1 + i % 3) for i in range(args.batch)]

    # Warm-up: imports, font metrics, the key cache, the audit chain head.
    for i in range(5):
        sign_pdf(_request(ten_pages, signer, f"WARM-{i:04d}-SIGN"))

    warm = []
    for i in range(args.repeat):
        start = time.perf_counter()
        signed = sign_pdf(_request(ten_pages, signer, f"SIMP-{i:04d}-SIGN"))
        warm.append(time.perf_counter() - start)
    cold = []
    with override_settings(FOLIO_SIGNING_KEY_CACHE_SECONDS=0):
        for i in range(args.cold_repeat):
            start = time.perf_counter()
            sign_pdf(_request(ten_pages, signer, f"COLD-{i:04d}-SIGN"))
            cold.append(time.perf_counter() - start)

    validation = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = validate_pdf(pdf=signed.pdf, organization=signer.organization)
        validation.append(time.perf_counter() - start)
    assert report.intact and report.signatures[0]["trusted"], report

    # The bare cryptography: SHA-256 of the same 10-page bytes plus one RSA-2048 PKCS#1 v1.5 signature.
    key = pki.rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bare = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        digest = hashlib.sha256(ten_pages).digest()
        key.sign(digest, PKCS1v15(), hashes.SHA256())
        bare.append(time.perf_counter() - start)

    # Batch: 100 distinct documents, one process (like one web worker), then spread over N processes.
    start = time.perf_counter()
    batch_times, _s, _e = _sign_many(batch_pdfs, 0)
    batch_wall = time.perf_counter() - start
    connection.close()
    ctx = mp.get_context("fork")
    barrier = ctx.Manager().Barrier(args.processes)
    chunks = [batch_pdfs[i:: args.processes] for i in range(args.processes)]
    with ctx.Pool(args.processes) as pool:
        results = pool.map(_worker, [(c, 1000 * (i + 1), barrier) for i, c in enumerate(chunks)])
    parallel_wall = max(r[2] for r in results) - min(r[1] for r in results)

    warm_stats, cold_stats = common.stats_ms(warm), common.stats_ms(cold)
    validation_stats, bare_stats = common.stats_ms(validation), common.stats_ms(bare)
    batch_rate = args.batch / batch_wall
    parallel_rate = args.batch / parallel_wall
    common.finish("signatures", {
        "machine": machine,
        "method": "folio.signatures.services.sign_pdf (simple: PAdES B-B, visible stamp with QR, incremental "
                  "update, audit row) and validate_pdf; PDFs generated before timing",
        "pdf_pages": 10,
        "pdf_bytes": len(ten_pages),
        "signed_pdf_bytes": len(signed.pdf),
        "simple_signature_warm": warm_stats,
        "simple_signature_cold": cold_stats,
        "validation": validation_stats,
        "bare_crypto_sha256_plus_rsa2048": bare_stats,
        "overhead_ratio_p50": {
            "signature_warm": round(warm_stats["p50_ms"] / bare_stats["p50_ms"], 1),
            "signature_cold": round(cold_stats["p50_ms"] / bare_stats["p50_ms"], 1),
            "validation": round(validation_stats["p50_ms"] / bare_stats["p50_ms"], 1),
        },
        "batch": {
            "documents": args.batch,
            "pages_per_document": "1-3 (cycling)",
            "one_process_docs_per_s": round(batch_rate, 1),
            "one_process_latency": common.stats_ms(batch_times),
            "processes": args.processes,
            "parallel_docs_per_s": round(parallel_rate, 1),
        },
        "targets": {"simple_signature_p95_ms": 100, "batch_docs_per_s": 20, "validation_p95_ms": 100},
        "meets_targets": {
            "simple_signature_warm": warm_stats["p95_ms"] <= 100,
            "simple_signature_cold": cold_stats["p95_ms"] <= 100,
            "batch_one_process": batch_rate >= 20,
            "validation": validation_stats["p95_ms"] <= 100,
        },
    })


if __name__ == "__main__":
    main()
