"""Set up the load test: the Lota demo (procedures, published online forms), 50 citizens each with a signed-in
session, and a description of the form the virtual citizens will fill. Writes a JSON file for the locustfile.

    python bench/load/prepare.py --out /tmp/folio-load/plan.json [--citizens 50]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common

FORM_PROCEDURE = "patente-comercial"  # two required attachments: the load test sends two 1 MB PDFs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--citizens", type=int, default=50)
    args = parser.parse_args()
    common.setup_django()
    common.migrate()
    from django.core.management import call_command
    from django.test import Client

    from folio.accounts.models import User
    from folio.applications.selectors import published_definition
    from folio.core.rut import check_digit
    from folio.procedures.models import Procedure

    call_command("load_demo", verbosity=0)
    procedure = Procedure.objects.select_related("organization").get(organization__slug="lota", slug=FORM_PROCEDURE)
    definition = published_definition(procedure.pk)
    if definition is None:
        raise SystemExit(f"{FORM_PROCEDURE} has no published online form")
    catalogue = list(
        Procedure.objects.filter(organization=procedure.organization, is_published=True).values_list("slug", flat=True)
    )
    sessions = []
    for i in range(args.citizens):
        number = 21_000_000 + i
        user, _ = User.objects.get_or_create(
            username=f"load-{number}",
            defaults={"run_number": number, "run_dv": check_digit(number), "first_name": "Vecino",
                      "last_name": f"Carga {i:02d}", "email": f"vecino{i:02d}@carga.folio.localhost"},
        )
        client = Client()
        client.force_login(user)
        sessions.append({"sessionid": client.cookies["sessionid"].value,
                         "run": f"{number}-{check_digit(number)}"})
    plan = {
        "organization": procedure.organization.slug,
        "procedure": procedure.slug,
        "fields": definition.schema["fields"],
        "catalogue": catalogue,
        "sessions": sessions,
    }
    Path(args.out).write_text(json.dumps(plan, ensure_ascii=False))
    print(f"load plan: {len(sessions)} citizens, {len(catalogue)} published procedures -> {args.out}")


if __name__ == "__main__":
    main()
