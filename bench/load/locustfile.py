"""Virtual citizens for the load test (bench/load_test.sh). Runs in its own virtualenv with locust only.

CitizenUser browses the public catalogue, opens procedures, looks at /mis-tramites/ and files applications
with two 1 MB PDF attachments. BareUser asks for /_bench/bare, the baseline served by the same server stack.
The plan (sessions, form fields, catalogue) comes from bench/load/prepare.py through LOAD_PLAN.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
ATTACHMENTS = [Path(p).read_bytes() for p in os.environ["LOAD_ATTACHMENTS"].split(",")]
_sessions = itertools.cycle(PLAN["sessions"])
FEEDBACK = re.compile(r'class="invalid-feedback[^"]*"[^>]*>\s*([^<]+)')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SEARCHES = ["patente", "certificado", "permiso", "información", "audiencia", "aseo", "subsidio"]


def _answer(field: dict, run: str) -> str | None:
    kind = field["type"]
    return {
        "text": "Comercio de abarrotes",
        "textarea": "Solicitud presentada durante la prueba de carga.",
        "number": "12",
        "date": "2026-12-15",
        "rut": run,
        "email": "vecino@carga.folio.localhost",
        "phone": "+56 9 1234 5678",
        "address": "Av. Carlos Cousiño 123, Lota",
        "choice": (field.get("choices") or [""])[0],
        "declaration": "on",
    }.get(kind)


class CitizenUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        session = next(_sessions)
        self.run = session["run"]
        self.client.cookies.set("sessionid", session["sessionid"])
        self.org = PLAN["organization"]

    @task(4)
    def catalogue(self) -> None:
        self.client.get(f"/tramites/?municipalidad={self.org}", name="/tramites/")

    @task(2)
    def search(self) -> None:
        self.client.get(f"/tramites/?municipalidad={self.org}&q={random.choice(SEARCHES)}", name="/tramites/?q=")

    @task(4)
    def procedure_page(self) -> None:
        slug = random.choice(PLAN["catalogue"])
        self.client.get(f"/tramites/{self.org}/{slug}/", name="/tramites/<municipalidad>/<trámite>/")

    @task(2)
    def mine(self) -> None:
        self.client.get("/mis-tramites/", name="/mis-tramites/")

    @task(1)
    def apply(self) -> None:
        url = f"/tramites/{self.org}/{PLAN['procedure']}/iniciar/"
        with self.client.get(url, name="/tramites/<…>/iniciar/ (GET)", catch_response=True) as page:
            found = CSRF.search(page.text or "")
            if page.status_code != 200 or not found:
                page.failure(f"form page answered {page.status_code} without a CSRF token")
                return
            page.success()
        data = {"csrfmiddlewaretoken": found.group(1), "accion": "enviar"}
        files = {}
        attachments = iter(ATTACHMENTS)
        for field in PLAN["fields"]:
            if field["type"] == "file":
                content = next(attachments, None)
                if content is not None:
                    files[field["key"]] = (f"{field['key']}.pdf", content, "application/pdf")
                continue
            value = _answer(field, self.run)
            if value is not None:
                data[field["key"]] = value
        with self.client.post(url, data=data, files=files, name="/tramites/<…>/iniciar/ (POST, 2 × 1 MB)",
                              headers={"Referer": self.host + url}, catch_response=True,
                              allow_redirects=False) as response:
            if response.status_code not in (302, 303):
                errors = sorted(set(FEEDBACK.findall(response.text or "")))
                response.failure(f"submission answered {response.status_code}: {'; '.join(errors)[:300]}")
            else:
                response.success()


class BareUser(HttpUser):
    # Alone (the baseline phase) it asks as fast as the server answers; beside the citizens one of it samples
    # the bare view's latency under their load.
    wait_time = between(0, 0) if os.environ.get("LOAD_BARE_WAIT") == "0" else between(1, 2)
    fixed_count = int(os.environ.get("LOAD_BARE_FIXED", "0"))

    @task
    def bare(self) -> None:
        self.client.get("/_bench/bare", name="/_bench/bare")
