"""Server time of the public procedures catalogue (/tramites/…) with 10,000 applications in the database.

Its own organization (``BENCH-8199``, slug ``bench-tramites``) gets the demo inventory of Lota through the real
services (``folio.procedures.demo.load``: 28 procedures, 25 published, characterization, 12 months of
hand-entered transactions, simplification plans), a published online form for the five procedures that Lota
offers online, and ``--applications`` Application rows (default 10,000) written with ``bulk_create``, spread
over the last 12 months and the three channels, most of them closed. Requests go in-process through Django's
test ``Client`` as an anonymous visitor (middleware, view, selectors and template rendering are timed; the
network is not): the municipality's catalogue, a search, browsing by topic and by unit, and the page of a
procedure with and without the "Iniciar en línea" button. Also reported, not targets: the staff pages of the
inventory (/cpat/, plan figures and the prioritization, which counts the applications) as the CTD.

By default the objects loaded so far are frozen out of the garbage collector first (``gc.freeze()``), as
``folio/wsgi.py`` does in every server process; ``--no-gc-freeze`` measures without.

    python bench/catalogue.py [--applications 10000] [--repeat 200] [--no-gc-freeze]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import time
from typing import Any

import common

TARGET_MS = 50.0
ORG_CODE = "BENCH-8199"
ORG_SLUG = "bench-tramites"
ONLINE = ("acceso-informacion-publica", "certificado-informaciones-previas", "patente-comercial", "permiso-bnup",
          "audiencia-lobby")


def setup(applications: int) -> dict[str, Any]:
    from django.utils import timezone

    from folio.accounts.models import RoleCode
    from folio.applications.models import Application, FormDefinition
    from folio.core import demo as core_demo
    from folio.procedures import demo
    from folio.procedures.models import Procedure

    org = core_demo.ensure_organization(ORG_CODE, "I. Municipalidad de Prueba (catálogo)", "Prueba", ORG_SLUG,
                                        "Lota", core_demo.UNITS)
    ctd = core_demo.ensure_user(org, "ctd.benchcat", "Camila", "Torres", "SECPLAN", [RoleCode.DIGITAL_COORDINATOR],
                                "Coordinadora de Transformación Digital")
    citizens = [core_demo.ensure_user(None, f"ciudadano.benchcat{i}", "Vecina", f"Número {i}", None, [], "")
                for i in range(20)]
    demo.load(org)
    procedures = {p.slug: p for p in Procedure.objects.filter(organization=org)}
    definitions = {}
    for slug in ONLINE:
        p = procedures[slug]
        definitions[slug] = FormDefinition.objects.filter(procedure=p, state="published").first() or \
            FormDefinition.objects.create(organization=org, procedure=p, version=1, state="published",
                                          schema={"fields": [], "attachments": [], "stages": []},
                                          published_at=timezone.now() - dt.timedelta(days=400))
    have = Application.objects.filter(organization=org).count()
    rng = random.Random(2026)
    now = timezone.now()
    batch = []
    states = ["approved"] * 6 + ["rejected", "withdrawn", "in_progress", "submitted"]
    for i in range(have, applications):
        slug = rng.choice(ONLINE)
        submitted = now - dt.timedelta(minutes=rng.randint(60, 365 * 24 * 60))
        state = rng.choice(states)
        closed = submitted + dt.timedelta(days=rng.randint(1, 20)) if state in ("approved", "rejected",
                                                                               "withdrawn") else None
        batch.append(Application(
            organization=org, procedure=procedures[slug], definition=definitions[slug],
            number=f"SOL-B-{i + 1:06d}", applicant=rng.choice(citizens),
            channel=rng.choices(["digital", "presencial", "telefonico"], [7, 2, 1])[0], state=state,
            data={"descripcion": "Solicitud de prueba del benchmark"}, unit=procedures[slug].unit,
            submitted_at=submitted, closed_at=min(closed, now) if closed else None))
        if len(batch) == 2000:
            Application.objects.bulk_create(batch)
            batch = []
    if batch:
        Application.objects.bulk_create(batch)
    return {"organization": org, "ctd": ctd, "procedures": procedures}


def _time(client: Any, url: str, repeat: int, warmup: int = 5) -> tuple[list[float], list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmup):
        client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
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


def measure(ctx: dict[str, Any], repeat: int) -> list[dict[str, Any]]:
    from django.test import Client

    base = f"/tramites/{ORG_SLUG}/"
    public = {
        "catalogue": base,
        "search": f"{base}?q=certificado",
        "search, no accents": f"{base}?q=informacion+publica",
        "topic": f"{base}?tema=obras-y-construccion",
        "unit": f"{base}?unidad=DOM",
        "procedure, online": f"{base}patente-comercial/",
        "procedure": f"{base}permiso-edificacion/",
        "chooser or catalogue": "/tramites/",
    }
    staff = {"inventory": "/cpat/", "plan figures": "/cpat/indicadores/", "prioritization": "/cpat/priorizacion/"}
    cases = []
    anonymous = Client()
    ctd = Client()
    ctd.force_login(ctx["ctd"])
    for who, client, urls, target in (("anonymous", anonymous, public, True), ("ctd", ctd, staff, False)):
        for name, url in urls.items():
            n = repeat if target else max(20, repeat // 5)
            times, cpu, size, queries = _time(client, url, n)
            stats = common.stats_ms(times)
            cpu_stats = common.stats_ms(cpu)
            cases.append({"what": name, "user": who, "url": url, **stats, "queries": queries,
                          "cpu_p50_ms": cpu_stats["p50_ms"], "cpu_p95_ms": cpu_stats["p95_ms"],
                          "response_bytes": size, "target": target and name != "chooser or catalogue",
                          "meets_target": stats["p95_ms"] <= TARGET_MS})
            print(f"  {name:22} {who:9} p50 {stats['p50_ms']:7.2f} ms  p95 {stats['p95_ms']:7.2f} ms  "
                  f"(CPU p95 {cpu_stats['p95_ms']:6.2f})  {queries:2d} queries  {size:>7,d} B", flush=True)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--no-gc-freeze", action="store_true", help="do not gc.freeze() before measuring")
    args = parser.parse_args()

    common.setup_django()
    common.migrate()
    from django.conf import settings
    from django.core.management import call_command

    from folio.applications.models import Application
    from folio.procedures.models import Procedure

    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    machine = common.machine()
    started = time.perf_counter()
    ctx = setup(args.applications)
    setup_s = time.perf_counter() - started
    if not args.no_gc_freeze:
        gc.collect()
        gc.freeze()
    cases = measure(ctx, args.repeat)
    org = ctx["organization"]
    common.finish("catalogue", {
        "machine": machine,
        "method": "django.test.Client GET in-process, anonymous (catalogue) or with a logged-in session (staff "
                  "pages), middleware + view + template, hot cache, one process; p95 nearest-rank; wall time and "
                  "the process's CPU time for the same requests",
        "applications_in_database": Application.objects.count(),
        "applications_of_organization": Application.objects.filter(organization=org).count(),
        "procedures": Procedure.objects.filter(organization=org).count(),
        "published": Procedure.objects.filter(organization=org, is_published=True).count(),
        "setup_seconds": round(setup_s, 1),
        "repeat": args.repeat,
        "gc_freeze": not args.no_gc_freeze,
        "cases": cases,
        "target_p95_ms": TARGET_MS,
        "meets_target": all(c["meets_target"] for c in cases if c["target"]),
    })


if __name__ == "__main__":
    main()
