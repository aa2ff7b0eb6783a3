"""Shared helpers of the benchmarks: Django set-up on a separate var dir, machine facts, statistics and
the results file. Every bench script imports this module first."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_VAR_DIR = "/tmp/folio-bench"


def setup_django() -> None:
    """Point Django at the bench var dir (never the dev database) and start it."""
    sys.path.insert(0, str(ROOT))
    var_dir = os.environ.setdefault("FOLIO_VAR_DIR", DEFAULT_VAR_DIR)
    if Path(var_dir).resolve() == (ROOT / "var").resolve() and not os.environ.get("DATABASE_URL"):
        raise SystemExit("Refusing to benchmark the development database: set FOLIO_VAR_DIR (default /tmp/folio-bench)")
    Path(var_dir).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FOLIO_ENV", "development")
    os.environ.setdefault("FOLIO_OCR_ENABLED", "0")
    os.environ.setdefault("FOLIO_LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "folio.settings")
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _nproc() -> int:
    try:
        return int(subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip())
    except (OSError, ValueError, subprocess.CalledProcessError):
        return os.cpu_count() or 0


def machine() -> dict[str, Any]:
    import sqlite3

    from django.db import connection

    info: dict[str, Any] = {
        "nproc": _nproc(),
        "cpu_model": _cpu_model(),
        "ram_gib": _ram_gib(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "django": __import__("django").get_version(),
        "database": connection.vendor,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            info["postgresql"] = cur.fetchone()[0]
    return info


def stats_ms(samples_s: list[float]) -> dict[str, float]:
    """p50 / p95 / max (and mean) in milliseconds. p95 is the nearest-rank percentile."""
    ordered = sorted(samples_s)
    n = len(ordered)

    def rank(p: float) -> float:
        index = max(0, min(n - 1, int(-(-p * n // 100)) - 1))  # ceil(p*n/100) - 1
        return ordered[index]

    return {
        "n": n,
        "p50_ms": round(rank(50) * 1000, 2),
        "p95_ms": round(rank(95) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def finish(name: str, summary: dict[str, Any]) -> dict[str, Any]:
    """Add the date and load average, print the JSON summary and append it to bench/results/."""
    summary = {
        "benchmark": name,
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **summary,
    }
    summary.setdefault("machine", {})["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    line = json.dumps(summary, ensure_ascii=False)
    with (RESULTS_DIR / f"{name}.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return summary
