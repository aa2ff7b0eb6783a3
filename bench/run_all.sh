#!/usr/bin/env bash
# `make bench`: intake throughput, then a 1,000,000-registration book, then search and page latency.
#
# SQLite by default, in its own directory (BENCH_VAR_DIR, default /tmp/folio-bench) so the development
# database under var/ is never touched. PostgreSQL: set DATABASE_URL to a dedicated, empty database, e.g.
#   DATABASE_URL=postgres://postgres@127.0.0.1:55434/folio_bench bash bench/run_all.sh
# Every script prints a JSON summary and appends it to bench/results/<name>.jsonl.
#
#   BENCH_ROWS=1000000        registrations of the main organization (Lota)
#   BENCH_OTHER_ROWS=50000    registrations of the second organization (Coronel)
#   BENCH_INTAKE_COUNT=1000   documents registered by the intake benchmark
#   BENCH_FRESH=1             (SQLite) delete BENCH_VAR_DIR first and start from an empty database
set -euo pipefail
cd "$(dirname "$0")/.."

# The Makefile exports FOLIO_VAR_DIR=var for the application; the benchmarks never use it.
export FOLIO_VAR_DIR="${BENCH_VAR_DIR:-/tmp/folio-bench}"
if [ "$(realpath -m "$FOLIO_VAR_DIR")" = "$(realpath -m var)" ]; then
  echo "bench: refusing to use the development var/ directory; set BENCH_VAR_DIR elsewhere" >&2
  exit 2
fi
export FOLIO_ENV="${FOLIO_ENV:-development}"
export FOLIO_OCR_ENABLED=0
PY="${PY:-.venv/bin/python}"

if [ -z "${DATABASE_URL:-}" ] && [ "${BENCH_FRESH:-0}" = "1" ]; then
  rm -rf "$FOLIO_VAR_DIR"
fi
mkdir -p "$FOLIO_VAR_DIR"
echo "bench: database ${DATABASE_URL:-sqlite in $FOLIO_VAR_DIR}; load average $(cut -d' ' -f1-3 /proc/loadavg)"

$PY bench/intake.py --count "${BENCH_INTAKE_COUNT:-1000}"
$PY bench/intake.py --count "${BENCH_INTAKE_COUNT:-1000}" --processes 2
$PY bench/generate.py --rows "${BENCH_ROWS:-1000000}" --other-rows "${BENCH_OTHER_ROWS:-50000}"
$PY bench/search.py
$PY bench/pages.py
echo "bench: done; summaries appended to bench/results/"
