"""Generate a large registry book for the search and page benchmarks, in minutes.

Rows are bulk-inserted with SQL (executemany on SQLite, COPY on PostgreSQL), not through the services:
registrations of ten years, their routings (derivaciones), the book counters, and the search index
rows built with the *same* code the application uses (``search.document_text`` and
``search.normalize_words``; on SQLite into ``registry_fts``, on PostgreSQL ``to_tsvector('simple', …)``
into ``registry_search``). No files, audit events or verification records are written: search and the
lists never read them.

    python bench/generate.py [--rows 1000000] [--other-rows 50000]

The main organization is the demo's I. Municipalidad de Lota (users partes.lota, dom.lota, jefe.dom
…); a second one, Coronel, gets ``--other-rows`` so that isolation is part of every query. Running it
again on a database that already holds the rows does nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import threading
import time
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import common

TZ = ZoneInfo("America/Santiago")
REG_COLUMNS = [
    "id", "organization_id", "book", "year", "number", "folio", "status", "document_type", "subject", "summary",
    "party_kind", "party_name", "party_rut_number", "party_rut_dv", "party_body_code", "party_email",
    "party_address", "addressee", "unit_id", "document_date", "received_at", "mechanism", "channel",
    "access_level", "sensitive_data", "keywords", "pages", "answers_id", "delivery_method", "delivery_reference",
    "dispatched_at", "closed_at", "closing_note", "voided_at", "void_reason", "receipt_code", "submission_token",
    "registered_by_id", "created_at", "version",
]
ROUTING_COLUMNS = [
    "id", "organization_id", "registration_id", "from_unit_id", "to_unit_id", "to_user_id", "instruction", "note",
    "business_days", "due_date", "status", "parent_id", "created_by_id", "created_at", "acknowledged_at",
    "acknowledged_by_id", "completed_at", "completed_by_id", "response_id",
]
INSTRUCTIONS = (["response"] * 6) + (["information"] * 2) + ["report", "action"]


class Ids:
    """The next primary keys, shared by the organizations so their rows interleave in time as in a real
    installation (a registration's id grows with its reception time)."""

    def __init__(self, registration: int, routing: int) -> None:
        self.registration, self.routing = registration, routing


class Book:
    """Generates one organization's rows in chronological order."""

    def __init__(self, *, org: Any, users: dict[str, Any], rows: int, years: int, seed: int, commune: str,
                 now: dt.datetime) -> None:
        from corpus import Corpus
        from django.db import connection

        from folio.organizations.models import Unit

        self.org, self.rows, self.now = org, rows, now
        self.rng = random.Random(seed)
        self.corpus = Corpus(seed + 1, commune)
        self.units = {u.code: u for u in Unit.objects.filter(organization=org)}
        self.op_unit = self.units["OP"]
        self.clerk = users["clerk"]
        self.staff_by_unit: dict[int, list[Any]] = {}
        for user in users["staff"]:
            if user.unit_id:
                self.staff_by_unit.setdefault(user.unit_id, []).append(user)
        self.start = now - dt.timedelta(days=365 * years)
        self.span = (now - dt.timedelta(hours=1) - self.start).total_seconds()
        self.counters: dict[tuple[str, int], int] = {}
        self.generated = 0
        self._next: dt.datetime | None = None
        self.adapt_dt = connection.ops.adapt_datetimefield_value
        self.adapt_date = connection.ops.adapt_datefield_value

    def peek(self) -> dt.datetime | None:
        """Reception time of the next registration (None when the book is complete)."""
        if self.generated >= self.rows:
            return None
        if self._next is None:
            i = self.generated
            self._next = self.start + dt.timedelta(seconds=(i + self.rng.random()) * self.span / self.rows)
        return self._next

    def emit(self, ids: Ids, regs: list[tuple[Any, ...]], routings: list[tuple[Any, ...]],
             index: list[tuple[Any, ...]]) -> None:
        """Generate the next registration (ids from the shared sequence) with its routings and index text."""
        from folio.registry import search

        received = self.peek()
        assert received is not None
        self._next = None
        self.generated += 1
        adapt_dt, adapt_date = self.adapt_dt, self.adapt_date
        rng, corpus, org = self.rng, self.corpus, self.org
        local = received.astimezone(TZ)
        year = local.year
        book = "E" if rng.random() < 0.8 else "S"
        key = (book, year)
        number = self.counters.get(key, 0) + 1
        self.counters[key] = number
        folio = f"{book}-{year}-{number:06d}"
        letter = corpus.letter(year)
        unit = self.units.get(letter.unit_code) or self.op_unit
        staff = self.staff_by_unit.get(unit.pk, [])
        age_days = (self.now - received).total_seconds() / 86400
        access = 1
        roll = rng.random()
        if roll < 0.10:
            access = 2
        elif roll < 0.12:
            access = 4
        sensitive = access != 1 and letter.party_kind == "citizen"
        mech_roll = rng.random()
        mechanism, channel = (2, "electronic") if mech_roll < 0.6 else (
            (3, "paper") if mech_roll < 0.95 else (1, "paper"))
        closed_at = dispatched_at = voided_at = None
        closing_note = void_reason = delivery_method = delivery_reference = ""
        registered_by = self.clerk
        subject, doc_type = letter.subject, letter.document_type
        if book == "E":
            s = rng.random()
            if age_days > 60:
                status = ("closed" if s < 0.90 else "voided" if s < 0.92 else "routed" if s < 0.95
                          else "in_progress")
            else:
                status = ("registered" if s < 0.15 else "routed" if s < 0.60 else "in_progress" if s < 0.90
                          else "closed")
            if status == "closed":
                closed_at = received + dt.timedelta(days=rng.uniform(1, 40))
                closing_note = "Se responde mediante oficio; se archiva."
            elif status == "voided":
                voided_at = received + dt.timedelta(hours=rng.uniform(1, 48))
                void_reason = "Ingreso duplicado por error de digitación"
        else:
            subject = f"Oficio Ord. N° {number}: responde presentación sobre {subject[0].lower()}{subject[1:]}"
            subject = subject[:500]
            doc_type = 30
            if staff:
                registered_by = rng.choice(staff)
            s = rng.random()
            status = ("dispatched" if s < 0.97 else "voided" if s < 0.98 else "registered") \
                if age_days > 10 else ("registered" if s < 0.5 else "dispatched")
            if status == "dispatched":
                dispatched_at = received + dt.timedelta(hours=rng.uniform(1, 72))
                delivery_method = rng.choice(["email", "certified_mail", "by_hand"])
                delivery_reference = "Entregado" if delivery_method != "certified_mail" else \
                    f"CC{rng.randint(10**9, 10**10 - 1)}"
            elif status == "voided":
                voided_at = received + dt.timedelta(hours=rng.uniform(1, 48))
                void_reason = "Oficio emitido con error; se reemplaza"
        reg_id = ids.registration
        ids.registration += 1
        document_date = (local - dt.timedelta(days=rng.randint(0, 3))).date()
        regs.append((
            reg_id, org.pk, book, year, number, folio, status, doc_type, subject, letter.summary,
            letter.party_kind, letter.party_name, letter.rut_number, letter.rut_dv, letter.body_code,
            letter.email, letter.address, unit.name if book == "E" else "", unit.pk,
            adapt_date(document_date), adapt_dt(received), mechanism, channel, access, sensitive,
            letter.keywords, rng.randint(1, 3), None, delivery_method, delivery_reference,
            adapt_dt(dispatched_at), adapt_dt(closed_at), closing_note, adapt_dt(voided_at), void_reason,
            "", None, registered_by.pk, adapt_dt(received), 1,
        ))
        if book == "E" and status != "registered":
            self._routings(ids, routings, reg_id, received, status, unit, adapt_dt, adapt_date)
        view = SimpleNamespace(
            folio=folio, subject=subject, summary=letter.summary, party_name=letter.party_name,
            addressee=unit.name if book == "E" else "", keywords=letter.keywords, document_type=doc_type,
            party_body_code=letter.body_code, party_email=letter.email,
            party_rut_number=letter.rut_number, party_rut_dv=letter.rut_dv,
        )
        index.append((reg_id, org.pk, search.document_text(view, [letter.body])))  # type: ignore[arg-type]

    def _routings(self, ids: Ids, out: list[tuple[Any, ...]], reg_id: int, received: dt.datetime, status: str,
                  unit: Any, adapt_dt: Any, adapt_date: Any) -> None:
        rng = self.rng
        targets = [unit]
        if rng.random() < 0.05:
            other = rng.choice(list(self.units.values()))
            if other.pk != unit.pk:
                targets.append(other)
        for n, target in enumerate(targets):
            created = received + dt.timedelta(hours=rng.uniform(0.5, 30))
            days = rng.choice([5, 10, 15, 20])
            due = (created.astimezone(TZ) + dt.timedelta(days=days * 7 // 5)).date()
            to_user = None
            target_staff = self.staff_by_unit.get(target.pk, [])
            if target_staff and rng.random() < 0.10:
                to_user = rng.choice(target_staff)
            r_status = {"routed": "pending", "in_progress": "acknowledged", "closed": "completed",
                        "voided": "cancelled"}[status]
            if n and status == "in_progress":
                r_status = "pending"
            acknowledged_at = acknowledged_by = completed_at = completed_by = None
            if r_status in ("acknowledged", "completed"):
                acknowledged_at = created + dt.timedelta(hours=rng.uniform(1, 72))
                acknowledged_by = (to_user or (target_staff[0] if target_staff else self.clerk)).pk
            if r_status in ("completed", "cancelled"):
                completed_at = created + dt.timedelta(days=rng.uniform(1, 30))
                completed_by = (to_user or (target_staff[0] if target_staff else self.clerk)).pk
            out.append((
                ids.routing, self.org.pk, reg_id, self.op_unit.pk, target.pk, to_user.pk if to_user else None,
                INSTRUCTIONS[rng.randrange(len(INSTRUCTIONS))] if n == 0 else "information", "", days,
                adapt_date(due), r_status, None, self.clerk.pk, adapt_dt(created), adapt_dt(acknowledged_at),
                acknowledged_by, adapt_dt(completed_at), completed_by, None,
            ))
            ids.routing += 1


def interleaved_batches(books: list[Book], ids: Ids, size: int) -> Any:
    """Yield (registration rows, routing rows, index rows) of all books merged by reception time."""
    while True:
        regs: list[tuple[Any, ...]] = []
        routings: list[tuple[Any, ...]] = []
        index: list[tuple[Any, ...]] = []
        while len(regs) < size:
            pending = [(t, n) for n, b in enumerate(books) if (t := b.peek()) is not None]
            if not pending:
                break
            books[min(pending)[1]].emit(ids, regs, routings, index)
        if not regs:
            return
        yield regs, routings, index


def _normalize(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The index body exactly as ``search.index_registration`` writes it (run in worker processes)."""
    from folio.registry import search

    return [(r[0], r[1], " ".join(search.normalize_words(r[2]))) for r in rows]


def _pipeline(books: Any, workers: int) -> Any:
    """Overlap generating batch k+1 with normalizing batch k in ``workers`` processes (both engines
    index the same normalized words)."""
    import multiprocessing as mp

    from django.db import connections

    connections.close_all()
    with mp.get_context("fork").Pool(workers) as pool:
        pending = None
        for regs, routings, index in books:
            chunks = [index[k::workers] for k in range(workers)]
            job = pool.map_async(_normalize, chunks)
            if pending is not None:
                yield pending[0], pending[1], [row for part in pending[2].get() for row in part]
            pending = (regs, routings, job)
        if pending is not None:
            yield pending[0], pending[1], [row for part in pending[2].get() for row in part]


def _insert_sqlite(regs: list[tuple[Any, ...]], routings: list[tuple[Any, ...]], index: list[tuple[Any, ...]]) -> None:
    from django.db import connection, transaction

    with connection.cursor() as cur:
        cur.execute("PRAGMA synchronous=OFF")  # bulk load only; the application's setting is restored after
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO registry_registration ({', '.join(REG_COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(REG_COLUMNS))})", regs)
        if routings:
            cur.executemany(
                f"INSERT INTO registry_routing ({', '.join(ROUTING_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(ROUTING_COLUMNS))})", routings)
        cur.executemany("INSERT INTO registry_fts (rowid, body) VALUES (%s, %s)", [(r[0], r[2]) for r in index])


def _insert_postgres(regs: list[tuple[Any, ...]], routings: list[tuple[Any, ...]],
                     index: list[tuple[Any, ...]]) -> None:
    from django.db import connection, transaction

    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY registry_registration ({', '.join(REG_COLUMNS)}) FROM STDIN") as copy:
                for row in regs:
                    copy.write_row(row)
            if routings:
                with cur.copy(f"COPY registry_routing ({', '.join(ROUTING_COLUMNS)}) FROM STDIN") as copy:
                    for row in routings:
                        copy.write_row(row)
            with cur.copy("COPY bench_search_text (registration_id, organization_id, body) FROM STDIN") as copy:
                for row in index:
                    copy.write_row(row)


def _postgres_build_index(parts: int) -> float:
    """to_tsvector over the staged texts in ``parts`` parallel sessions, then the GIN index."""
    from django.db import connection, connections

    from folio.registry.search import POSTGRES_DDL

    start = time.perf_counter()
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            with connections["default"].cursor() as cur:
                cur.execute(
                    "INSERT INTO registry_search (registration_id, organization_id, document) "
                    "SELECT registration_id, organization_id, to_tsvector('simple', body) FROM bench_search_text "
                    "WHERE registration_id %% %s = %s", [parts, k])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(parts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    gin = next(s for s in POSTGRES_DDL if "USING gin" in s)
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute(gin)
        cur.execute("DROP TABLE bench_search_text")
    return time.perf_counter() - start


def _users(org: Any, staff: list[tuple[Any, ...]], clerk_name: str) -> dict[str, Any]:
    from folio.core import demo

    created = [demo.ensure_user(org, *s) for s in staff]
    clerk = next(u for u in created if u.username == clerk_name)
    return {"clerk": clerk, "staff": [u for u in created if u.pk != clerk.pk]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--other-rows", type=int, default=50_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workers", type=int, default=2, help="processes that normalize the index text")
    args = parser.parse_args()

    common.setup_django()
    common.migrate()
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from folio.accounts.models import RoleCode
    from folio.core import demo
    from folio.registry.models import Counter, Registration, Routing

    machine = common.machine()
    lota = demo.ensure_organization("MUN-8106", "I. Municipalidad de Lota", "Lota", "lota", "Lota", demo.UNITS)
    coronel = demo.ensure_organization("MUN-8102", "I. Municipalidad de Coronel", "Coronel", "coronel", "Coronel",
                                       demo.UNITS)
    lota_users = _users(lota, demo.STAFF, "partes.lota")
    coronel_staff = [
        ("partes.coronel", "Claudia", "Reyes Sepúlveda", "OP", [RoleCode.REGISTRY], "Oficina de Partes"),
        ("dom.coronel", "Diego", "Vera Lagos", "DOM", [RoleCode.OFFICIAL], "Arquitecto DOM"),
        ("dideco.coronel", "Marta", "Inostroza Sáez", "DIDECO", [RoleCode.OFFICIAL], "Asistente social"),
    ]
    coronel_users = _users(coronel, coronel_staff, "partes.coronel")

    existing = Registration.objects.filter(organization=lota).count()
    if existing >= args.rows:
        summary = {"machine": machine, "skipped": True, "reason": f"Lota already has {existing} registrations",
                   "registrations_total": Registration.objects.count()}
        common.finish("generate", summary)
        return
    if existing or Registration.objects.filter(organization=coronel).exists():
        raise SystemExit("The bench database holds a partial book; start from an empty database "
                         "(rm -rf $FOLIO_VAR_DIR, or drop and create the PostgreSQL database).")

    is_pg = connection.vendor == "postgresql"
    now = timezone.now()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if is_pg:
        with connection.cursor() as cur:
            cur.execute("CREATE UNLOGGED TABLE IF NOT EXISTS bench_search_text "
                        "(registration_id bigint, organization_id bigint, body text)")
            cur.execute("DROP INDEX IF EXISTS registry_search_document_gin")
    insert = _insert_postgres if is_pg else _insert_sqlite
    ids = Ids((Registration.objects.aggregate(m=Max("id"))["m"] or 0) + 1,
              (Routing.objects.aggregate(m=Max("id"))["m"] or 0) + 1)
    books = [
        Book(org=lota, users=lota_users, rows=args.rows, years=args.years, seed=args.seed, commune="Lota", now=now),
        Book(org=coronel, users=coronel_users, rows=args.other_rows, years=args.years, seed=args.seed + 7,
             commune="Coronel", now=now),
    ]
    totals = {"registrations": 0, "routings": 0}
    for regs, routings, index in _pipeline(interleaved_batches(books, ids, args.batch), args.workers):
        insert(regs, routings, index)
        totals["registrations"] += len(regs)
        totals["routings"] += len(routings)
        if totals["registrations"] % 100_000 < args.batch:
            print(f"  {totals['registrations']:>9,} registrations  {time.perf_counter() - t0:7.1f} s", flush=True)
    for book in books:
        for (b, year), last in book.counters.items():
            Counter.objects.update_or_create(organization=book.org, book=b, year=year, defaults={"last_value": last})
    timings["rows_s"] = round(time.perf_counter() - t0, 1)

    t1 = time.perf_counter()
    with connection.cursor() as cur:
        if is_pg:
            timings["tsvector_and_gin_s"] = round(_postgres_build_index(2), 1)
            for table in ("registry_registration", "registry_routing"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            connection.ensure_connection()
            old_autocommit = connection.get_autocommit()
            connection.set_autocommit(True)
            with connection.cursor() as vac:
                vac.execute("VACUUM ANALYZE registry_registration, registry_routing, registry_search")
            connection.set_autocommit(old_autocommit)
        else:
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    timings["finish_s"] = round(time.perf_counter() - t1, 1)
    timings["total_s"] = round(time.perf_counter() - t0, 1)

    lota_rows = Registration.objects.filter(organization=lota).count()
    common.finish("generate", {
        "machine": machine,
        "rows": {"lota": lota_rows, "coronel": Registration.objects.filter(organization=coronel).count(),
                 "routings": Routing.objects.count(), "registrations_total": Registration.objects.count()},
        "timings": timings,
        "years": args.years,
        "seed": args.seed,
        "database_size_mb": _db_size_mb(),
    })


def _db_size_mb() -> float | None:
    import os

    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_database_size(current_database())")
            return round(cur.fetchone()[0] / 1024 / 1024, 1)
    name = connection.settings_dict["NAME"]
    try:
        return round(os.path.getsize(name) / 1024 / 1024, 1)
    except OSError:
        return None


if __name__ == "__main__":
    main()
