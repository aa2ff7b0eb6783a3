#!/usr/bin/env bash
# `make run`: migrate, load the Lota demo (idempotent), serve on 127.0.0.1:$PORT with a task worker.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-${PORT:-8000}}"
export FOLIO_PUBLIC_URL="${FOLIO_PUBLIC_URL:-http://127.0.0.1:${PORT}}"
export FOLIO_OCR_ENABLED="${FOLIO_OCR_ENABLED:-1}"
PY=.venv/bin/python
$PY manage.py migrate --no-input -v0
$PY manage.py collectstatic --no-input -v0
$PY manage.py load_demo
# Background jobs (OCR, e-mail) run in a worker that shares the database queue.
$PY manage.py db_worker --interval 1 >> "${FOLIO_VAR_DIR:-var}/worker.log" 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "Folio: http://127.0.0.1:${PORT}/  (Ctrl-C to stop)"
.venv/bin/gunicorn folio.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --threads 4 --timeout 120 --keep-alive 5 \
  --access-logfile - --error-logfile -
