#!/usr/bin/env bash
# Load test on loopback: 50 virtual citizens browse the catalogue and file applications with two 1 MB PDF
# attachments for 5 minutes, against Folio served by the same stack as `make run` (gunicorn, 2 workers ×
# 4 threads, a db_worker, SQLite in WAL unless DATABASE_URL says otherwise). Before it, in the same run, the
# baseline: /_bench/bare, a view with no database and no template, under the same 50 users.
#
#   bash bench/load_test.sh            # LOAD_USERS=50 LOAD_SECONDS=300 BARE_SECONDS=60
#
# The load generator (locust) lives in its own virtualenv (LOCUST_VENV, default /tmp/folio-locust-venv),
# installed from bench/load/requirements.txt on first use. Results: bench/results/load.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
export FOLIO_VAR_DIR="${LOAD_VAR_DIR:-/tmp/folio-load}"
if [ "$(realpath -m "$FOLIO_VAR_DIR")" = "$(realpath -m var)" ]; then
  echo "load: refusing to use the development var/ directory" >&2; exit 2
fi
[ -z "${DATABASE_URL:-}" ] && rm -rf "$FOLIO_VAR_DIR"
mkdir -p "$FOLIO_VAR_DIR"
export FOLIO_ENV=development FOLIO_BENCH_VIEWS=1 FOLIO_OCR_ENABLED=0 FOLIO_LOG_LEVEL=WARNING
USERS="${LOAD_USERS:-50}"; SECONDS_RUN="${LOAD_SECONDS:-300}"; BARE_SECONDS="${BARE_SECONDS:-60}"
LOCUST_VENV="${LOCUST_VENV:-/tmp/folio-locust-venv}"
if [ ! -x "$LOCUST_VENV/bin/locust" ]; then
  python3 -m venv "$LOCUST_VENV"
  "$LOCUST_VENV/bin/pip" install -q -r bench/load/requirements.txt
fi
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); SMTP_PORT=$(free_port)
export FOLIO_PUBLIC_URL="http://127.0.0.1:$PORT" PORT
# Mail goes to a real SMTP server on loopback that accepts and discards it.
export FOLIO_EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend FOLIO_EMAIL_PORT="$SMTP_PORT"
OUT="$FOLIO_VAR_DIR/load"; mkdir -p "$OUT"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$PY" -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l "127.0.0.1:$SMTP_PORT" & PIDS+=($!)
"$PY" bench/load/prepare.py --out "$OUT/plan.json" --citizens "$USERS"
"$PY" bench/load/attachments.py "$OUT/a1.pdf" "$OUT/a2.pdf"
"$PY" manage.py collectstatic --no-input -v0
"$PY" manage.py db_worker --interval 1 > "$OUT/worker.log" 2>&1 & PIDS+=($!)
"$ROOT/.venv/bin/gunicorn" folio.wsgi --bind "127.0.0.1:$PORT" --workers 2 --threads 4 --timeout 120 --keep-alive 5 \
  --error-logfile "$OUT/gunicorn.log" & PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
export LOAD_START_LOADAVG="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "load: Folio on :$PORT, load average $LOAD_START_LOADAVG"

export LOAD_PLAN="$OUT/plan.json" LOAD_ATTACHMENTS="$OUT/a1.pdf,$OUT/a2.pdf"
LOCUST=("$LOCUST_VENV/bin/locust" -f bench/load/locustfile.py --headless --host "http://127.0.0.1:$PORT"
        --only-summary --loglevel WARNING)
LOAD_BARE_WAIT=0 "${LOCUST[@]}" BareUser -u "$USERS" -r "$USERS" -t "${BARE_SECONDS}s" --csv "$OUT/bare" || true
LOAD_BARE_FIXED=1 "${LOCUST[@]}" CitizenUser BareUser -u "$((USERS + 1))" -r 10 -t "${SECONDS_RUN}s" \
  --csv "$OUT/citizens" || true
cleanup; PIDS=()
"$PY" bench/load/report.py --dir "$OUT" --users "$USERS" --seconds "$SECONDS_RUN" --bare-seconds "$BARE_SECONDS"
