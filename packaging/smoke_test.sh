#!/usr/bin/env bash
# Smoke test of the frozen app (after packaging/build.sh): it must start offscreen on the demo,
# sync, save a screenshot and exit 0; then sync and export headlessly. Any import error, missing
# Qt plugin or traceback fails the test. Usage: packaging/smoke_test.sh [dist/lowdash/lowdash]
set -euo pipefail
cd "$(dirname "$0")/.."

app="${1:-dist/lowdash/lowdash}"
[ -x "$app" ] || { echo "smoke: no frozen app at $app (run packaging/build.sh)" >&2; exit 1; }
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export QT_QPA_PLATFORM=offscreen
export LOWDASH_DATA_DIR="$work/data"
unset LOWDASH_API_KEY

check_log() {  # fail on anything that says a module or a Qt plugin could not be loaded
  if grep -E -i "Traceback|ModuleNotFoundError|ImportError|could not (find|load) the Qt platform plugin|Cannot load library|no Qt platform plugin|Failed to execute script" "$1"; then
    echo "smoke: $2 reported an error (above)" >&2
    exit 1
  fi
}

echo "smoke: GUI on the demo platform, screenshot"
timeout 300 "$app" --demo --generations 400 --screenshot "$work/out.png" >"$work/gui.log" 2>&1 \
  || { cat "$work/gui.log"; echo "smoke: the app exited non-zero" >&2; exit 1; }
check_log "$work/gui.log" "the GUI"
size=$(wc -c <"$work/out.png")
[ "$size" -gt 10000 ] || { echo "smoke: screenshot missing or tiny ($size bytes)" >&2; exit 1; }
cp "$work/out.png" "${SMOKE_SCREENSHOT:-/dev/null}" 2>/dev/null || true

echo "smoke: headless demo-server, sync, export csv and invoice"
"$app" demo-server --generations 300 >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 100); do
  [ "$(wc -l <"$work/server.out")" -ge 2 ] && break
  sleep 0.2
done
base_url=$(sed -n 1p "$work/server.out")
key=$(sed -n 2p "$work/server.out")
[ -n "$key" ] || { cat "$work/server.log"; echo "smoke: demo-server did not start" >&2; exit 1; }
LOWDASH_API_KEY="$key" timeout 120 "$app" sync --base-url "$base_url" --quiet >"$work/sync.log" 2>&1 \
  || { cat "$work/sync.log"; exit 1; }
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
timeout 120 "$app" export csv --out "$work/all.csv" >"$work/csv.log" 2>&1 \
  || { cat "$work/csv.log"; exit 1; }
head -1 "$work/all.csv" | grep -q "^id,created_at,key_id," || { echo "smoke: bad CSV" >&2; exit 1; }
invoice=$(python3 - "$work/data" <<'PY' 2>/dev/null || true
import glob, json, sqlite3, sys
db = glob.glob(f"{sys.argv[1]}/accounts/*/cache.sqlite3")[0]
print(sqlite3.connect(db).execute("SELECT id FROM invoices LIMIT 1").fetchone()[0])
PY
)
if [ -n "$invoice" ]; then
  # with no installed font but DejaVu (a bare machine): the Japanese buyer's name needs the
  # bundled CJK font, and a missing one is refused by name (exit 1)
  mkdir -p "$work/fc"
  printf '<?xml version="1.0"?><fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>%s</cachedir></fontconfig>\n' \
    "$work/fc" >"$work/fc/fonts.conf"
  FONTCONFIG_FILE="$work/fc/fonts.conf" timeout 120 "$app" export invoice "$invoice" \
    --out "$work/invoice.pdf" >"$work/pdf.log" 2>&1 || { cat "$work/pdf.log"; exit 1; }
  check_log "$work/pdf.log" "export invoice"
  head -c 5 "$work/invoice.pdf" | grep -q "%PDF-" || { echo "smoke: bad PDF" >&2; exit 1; }
fi
for log in sync csv; do check_log "$work/$log.log" "$log"; done
echo "smoke: OK (screenshot $size bytes; $(($(wc -l <"$work/all.csv") - 1)) CSV rows)"
