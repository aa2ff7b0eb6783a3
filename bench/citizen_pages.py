"""Server time of the citizen's pages (/mis-tramites/, an application's page) and the staff inbox of
applications (/solicitudes/) with 10,000 applications in the database.

The organization and the 10,000 applications are those of ``bench/catalogue.py`` (``bench-tramites``: its demo
inventory, ``bulk_create``d applications spread over 20 citizens, so each of them has about 500 — the worst
case of the paginated list). Beside them, one more citizen files applications through the real service
(``applications.services.application_submit``: form validation, number, expediente, certificate PDF, audit),
so their list and detail pages carry real expedientes and documents. Requests go in-process through Django's
test ``Client`` with a logged-in session; middleware, view, selectors and template rendering are timed.

    python bench/citizen_pages.py [--applications 10000] [--filed 12] [--repeat 200]
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import catalogue
import common

TARGET_MS = 50.0


def _answers(definition: Any, run: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from folio.core.demo import demo_pdf

    values = {"text": "Vecina de Lota", "textarea": "Copia de las actas del Concejo Municipal de 2025.",
              "number": "3", "date": "2026-12-15", "rut": run, "email": "vecina@bench.folio.localhost",
              "phone": "+56 9 1234 5678", "address": "Av. Carlos Cousiño 123, Lota", "declaration": "on"}
    data: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for field in definition.schema["fields"]:
        if field["type"] == "file":
            files[field["key"]] = SimpleUploadedFile(f"{field['key']}.pdf", demo_pdf("Antecedente", "Anexo."),
                                                     content_type="application/pdf")
        elif field["type"] == "choice":
            data[field["key"]] = field["choices"][0]
        else:
            data[field["key"]] = values[field["type"]]
    return data, files


def setup(applications: int, filed: int) -> dict[str, Any]:
    from folio.accounts.models import RoleCode, User
    from folio.applications import demo_definitions, services
    from folio.applications.models import Application
    from folio.applications.selectors import published_definition
    from folio.core import demo as core_demo
    from folio.core.rut import check_digit
    from folio.organizations.models import Organization
    from folio.procedures.models import Procedure

    org = core_demo.ensure_organization(catalogue.ORG_CODE, "I. Municipalidad de Prueba (catálogo)", "Prueba",
                                        catalogue.ORG_SLUG, "Lota", core_demo.UNITS)
    admin = core_demo.ensure_user(org, "admin.benchcat", "Ana", "Admin", "SECPLAN", [RoleCode.ADMIN], "Admin")
    official = core_demo.ensure_user(org, "secmun.benchcat", "Sergio", "Muñoz", "SECMU", [RoleCode.OFFICIAL],
                                     "Secretario Municipal")
    from folio.procedures import demo as procedures_demo

    procedures_demo.load(org)
    demo_definitions.load(org, admin)
    ctx = catalogue.setup(applications)
    # catalogue.py's citizens have no RUN; a citizen signs in with ClaveÚnica, so they all have one here.
    for i, user in enumerate(User.objects.filter(username__startswith="ciudadano.benchcat", run_number=None)):
        user.run_number = 23_000_000 + i
        user.run_dv = check_digit(user.run_number)
        user.save(update_fields=["run_number", "run_dv"])
    number = 22_222_220
    citizen = core_demo.ensure_user(None, "ciudadana.benchpages", "Vecina", "Con Expedientes", None, [], "")
    if not citizen.run_number:
        citizen.run_number, citizen.run_dv = number, check_digit(number)
        citizen.save(update_fields=["run_number", "run_dv"])
    procedure = Procedure.objects.get(organization=org, slug="acceso-informacion-publica")
    definition = published_definition(procedure.pk)
    assert definition is not None
    have = Application.objects.filter(applicant=citizen).count()
    for _ in range(have, filed):
        data, files = _answers(definition, citizen.run_display)
        services.application_submit(actor=citizen, definition=definition, data=data, files=files)
    heavy = Application.objects.filter(organization=org).values("applicant").order_by("applicant").first()
    return {**ctx, "organization": Organization.objects.get(pk=org.pk), "citizen": citizen, "official": official,
            "heavy_citizen_id": heavy["applicant"] if heavy else None,
            "filed": Application.objects.filter(applicant=citizen).order_by("-pk").first()}


def measure(ctx: dict[str, Any], repeat: int) -> list[dict[str, Any]]:
    from django.test import Client

    from folio.accounts.models import User

    citizen, heavy, official = Client(), Client(), Client()
    citizen.force_login(ctx["citizen"])
    heavy.force_login(User.objects.get(pk=ctx["heavy_citizen_id"]))
    official.force_login(ctx["official"])
    app = ctx["filed"]
    cases = [
        ("/mis-tramites/ (12 filed with expediente)", "citizen", citizen, "/mis-tramites/", True),
        ("application page", "citizen", citizen, f"/mis-tramites/{app.pk}/", True),
        ("/mis-tramites/ (~500 applications, page 1)", "citizen", heavy, "/mis-tramites/", True),
        ("/mis-tramites/ (~500 applications, page 5)", "citizen", heavy, "/mis-tramites/?page=5", True),
        ("staff inbox of the unit", "official", official, "/solicitudes/", False),
        ("staff application page", "official", official, f"/solicitudes/{app.pk}/", False),
    ]
    out = []
    for name, who, client, url, target in cases:
        times, cpu, size, queries = catalogue._time(client, url, repeat if target else max(20, repeat // 4))
        stats = common.stats_ms(times)
        out.append({"what": name, "user": who, "url": url, **stats, "queries": queries,
                    "cpu_p95_ms": common.stats_ms(cpu)["p95_ms"], "response_bytes": size, "target": target,
                    "meets_target": stats["p95_ms"] <= TARGET_MS})
        print(f"  {name:44} p50 {stats['p50_ms']:7.2f} ms  p95 {stats['p95_ms']:7.2f} ms  {queries:2d} queries",
              flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--filed", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    common.setup_django()
    common.migrate()
    from django.conf import settings
    from django.core.management import call_command

    from folio.applications.models import Application

    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    machine = common.machine()
    ctx = setup(args.applications, args.filed)
    gc.collect()
    gc.freeze()  # as folio/wsgi.py does in every server process
    started = time.perf_counter()
    cases = measure(ctx, args.repeat)
    common.finish("citizen_pages", {
        "machine": machine,
        "method": "django.test.Client GET in-process with a logged-in session, middleware + view + template, "
                  "hot cache, one process; p95 nearest-rank",
        "applications_in_database": Application.objects.count(),
        "measure_seconds": round(time.perf_counter() - started, 1),
        "cases": cases,
        "target_p95_ms": TARGET_MS,
        "meets_target": all(c["meets_target"] for c in cases if c["target"]),
    })


if __name__ == "__main__":
    main()
