#!/usr/bin/env bash
# Lighthouse 12.2.3 on the officer's check-in page (mobile) and the command-room screen (desktop).
#
#   bench/lighthouse.sh            # scores table on stdout; JSON reports in bench/out/lighthouse-*.json
#
# A seeded demo station (SQLite in a temp dir) served by gunicorn on 127.0.0.1, as `make run` would
# serve it; each page is opened with the session cookie of its user (logged in through the real
# form with httpx first) passed as Lighthouse's --extra-headers. Needs Node 20 and Debian's Chromium;
# `npm ci` in bench/lighthouse/ installs the pinned Lighthouse (13 needs Node 22).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=$REPO/.venv/bin/python
OUT=$REPO/bench/out
mkdir -p "$OUT"
[ -x bench/lighthouse/node_modules/.bin/lighthouse ] || (cd bench/lighthouse && npm ci --no-audit --no-fund)

WORK=$(mktemp -d /tmp/pingan-lighthouse-XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"  # the gunicorn master started below; it stops its workers
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export FLASK_APP=app:create_app DATABASE_URL="sqlite:///$WORK/station.db" PINGAN_DEMO=1 \
  SECRET_KEY=pingan-lighthouse-not-for-production UPLOAD_FOLDER="$WORK/uploads" LOGIN_RATE_LIMIT="100 per minute"
unset REDIS_URL PINGAN_PRODUCTION SESSION_COOKIE_SECURE
"$PY" -m flask db upgrade >/dev/null 2>&1
"$PY" -m flask demo seed --scale small >/dev/null
flock /tmp/pingan-i18n.lock "$REPO/.venv/bin/pybabel" compile -d translations >/dev/null  # .mo files are not in git
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
"$PY" -m gunicorn -w 2 -b "127.0.0.1:$PORT" --log-level warning --error-logfile "$OUT/lighthouse-gunicorn.log" \
  'app:create_app()' &
SERVER_PID=$!
for _ in $(seq 150); do curl -fs "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

cookie_for() {  # the Cookie header of a fresh session of demo user $1
  "$PY" - "$BASE" "$1" <<'EOF'
import re, sys, httpx
base, user = sys.argv[1], sys.argv[2]
with httpx.Client(base_url=base) as client:
    page = client.get("/auth/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    response = client.post("/auth/login", data={"login": user, "password": "pingan-demo", "csrf_token": token})
    assert response.status_code in (302, 303), response.status_code
    print("; ".join(f"{name}={value}" for name, value in client.cookies.items()))
EOF
}

run_lighthouse() {  # name, user, path, extra lighthouse flags...
  local name=$1 user=$2 path=$3; shift 3
  local headers
  headers=$("$PY" -c 'import json, sys; print(json.dumps({"Cookie": sys.argv[1]}))' "$(cookie_for "$user")")
  (cd bench/lighthouse && CHROME_PATH=/usr/bin/chromium npx lighthouse "$BASE$path" --quiet \
    --output=json --output-path="$OUT/lighthouse-$name.json" \
    --only-categories=performance,accessibility,best-practices \
    --extra-headers="$headers" \
    --chrome-flags="--headless=new --no-sandbox --disable-gpu" "$@")
}

run_lighthouse checkin demo-officer /patrol/check-in            # mobile form factor (the default)
run_lighthouse command demo-command /command/ --preset=desktop

"$PY" - "$OUT" <<'EOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print("| page | form factor | performance | accessibility | best practices |")
print("|---|---|---:|---:|---:|")
for name, label in (("checkin", "/patrol/check-in (demo-officer)"), ("command", "/command/ (demo-command)")):
    report = json.loads((out / f"lighthouse-{name}.json").read_text())
    cats = report["categories"]
    scores = [round(cats[key]["score"] * 100) for key in ("performance", "accessibility", "best-practices")]
    print(f"| `{label}` | {report['configSettings']['formFactor']} | " + " | ".join(map(str, scores)) + " |")
    for key in ("performance", "accessibility", "best-practices"):
        for ref in cats[key]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                print(f"    {name} {key}: {ref['id']} score {audit['score']}: {audit.get('displayValue', '')}")
EOF
