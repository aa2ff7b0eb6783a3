#!/usr/bin/env bash
# `make bench`: intake throughput, then a 1,000,000-registration book, then search and page latency; then
# the expediente electrónico (large expediente page and index, archival export, whole-expediente PDF).
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
#   BENCH_CASE_FILES=1        run the expediente electrónico benchmarks (0: skip them)
#   BENCH_CF_DOCUMENTS=2000   documents of the expediente whose page and index API are timed
#   BENCH_CF_MEGABYTES=1024   payload of the expediente exported as a BagIt package
#   BENCH_CF_PDF_PAGES="500 2000"  document pages of the expedientes certified as one PDF
#   BENCH_CAT_APPLICATIONS=10000   applications in the database while the procedures catalogue is timed
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
$PY bench/signatures.py
$PY bench/acts.py

# Expediente electrónico (issue 3): an expediente of 2,000 documents (page and index API), a 1 GB archival
# export side by side with sha256sum, a 500-page whole-expediente PDF (and a larger one, for memory).
if [ "${BENCH_CASE_FILES:-1}" = "1" ]; then
  $PY bench/case_file_pages.py --documents "${BENCH_CF_DOCUMENTS:-2000}"
  $PY bench/case_file_archive.py --megabytes "${BENCH_CF_MEGABYTES:-1024}" --validate
  # shellcheck disable=SC2086  # the page counts are a list
  $PY bench/case_file_pdf.py --pages ${BENCH_CF_PDF_PAGES:-500 2000}
fi
# Catálogo de trámites (issue 4): the public catalogue /tramites/ with 10,000 applications in the database.
$PY bench/catalogue.py --applications "${BENCH_CAT_APPLICATIONS:-10000}"
# The citizen's /mis-tramites/ and the staff inbox over the same 10,000 applications.
$PY bench/citizen_pages.py --applications "${BENCH_CAT_APPLICATIONS:-10000}"
# The load test (50 citizens, 5 minutes, over HTTP to gunicorn) runs on its own: bash bench/load_test.sh
echo "bench: done; summaries appended to bench/results/"
