"""Summarize a load-test run (bench/load_test.sh): locust's CSV statistics of both phases, and a check of the
database afterwards — every submitted application has its expediente and its certificate, nothing half-saved.
Prints a JSON summary and appends it to bench/results/load.jsonl; exits 1 if there was any error."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import common


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out.append({
                "name": row["Name"], "method": row["Type"],
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0), "p99_ms": float(row["99%"] or 0),
                "max_ms": round(float(row["Max Response Time"] or 0), 1),
                "requests_per_s": round(float(row["Requests/s"] or 0), 2),
            })
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--seconds", type=int, required=True)
    parser.add_argument("--bare-seconds", type=int, required=True)
    args = parser.parse_args()
    out = Path(args.dir)
    common.setup_django()
    from folio.applications.models import Application, ApplicationState

    submitted = Application.objects.exclude(state=ApplicationState.DRAFT).filter(
        applicant__username__startswith="load-"
    )
    incomplete = submitted.filter(case_file__isnull=True).count()
    bare = _rows(out / "bare_stats.csv")
    citizens = _rows(out / "citizens_stats.csv")
    failures = sum(r["failures"] for r in bare + citizens if r["name"] != "Aggregated")
    machine = common.machine()
    if os.environ.get("LOAD_START_LOADAVG"):
        machine["loadavg_start"] = [float(x) for x in os.environ["LOAD_START_LOADAVG"].split()]
    summary = common.finish("load", {
        "machine": machine,
        "server": "gunicorn gthread, 2 workers x 4 threads, keep-alive 5 s (as make run), db_worker, OCR off",
        "users": args.users,
        "citizen_phase_s": args.seconds,
        "bare_phase_s": args.bare_seconds,
        "bare_alone": bare,
        "citizens": citizens,
        "applications_submitted": submitted.count(),
        "applications_without_expediente": incomplete,
        "errors": failures,
    })
    if summary["errors"] or incomplete or not citizens:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
