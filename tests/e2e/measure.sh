#!/usr/bin/env bash
# Measures the desktop app on a large panel (figures for the desktop issue; not part of CI):
#   bash tests/e2e/measure.sh [PATIENTS] [CASES]   # defaults: 100000 people, ~5,000 open cases
# Builds the release app and CLI, generates and imports the panel into a throwaway encrypted
# cache, opens about CASES cases (every segment's capacity set to CASES/12), then runs
# measure_desktop.py through tauri-driver under Xvfb (see run.sh) and prints its figures.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
patients="${1:-100000}"
cases="${2:-5000}"
cd "$root"
(cd ui && npm run --silent build)
cargo build --release -p careloop-cli -p careloop-app
tmp="$(mktemp -d -t careloop-measure.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
(umask 077 && python3 -c 'import secrets;print(secrets.token_hex(32))' >"$tmp/key")
cli=(target/release/careloop --data-dir "$tmp/data" --key-file "$tmp/key")
as_of="$(date -u +%F)"
target/release/careloop demo --patients "$patients" --as-of "$as_of" --out "$tmp/panel" >/dev/null
"${cli[@]}" import "$tmp/panel" >/dev/null
rm -rf "$tmp/panel"
mkdir -p "$tmp/definitions"
python3 - "$tmp/definitions" "$cases" <<'PY'
import json, pathlib, sys
out, cases = pathlib.Path(sys.argv[1]), int(sys.argv[2])
for f in sorted(pathlib.Path("schema/segments").glob("*.json")):
    d = json.loads(f.read_text())
    d["weekly_capacity"] = max(1, cases // 12)
    (out / f.name).write_text(json.dumps(d))
PY
"${cli[@]}" case open --as-of "$as_of" --definitions "$tmp/definitions" --as-user sue --role supervisor
CARELOOP_E2E_DATA_DIR="$tmp/data" CARELOOP_E2E_KEY_FILE="$tmp/key" CARELOOP_DEMO_ACCOUNTS=1 \
  CARELOOP_IDLE_LOCK_SECONDS=3600 CARELOOP_E2E_TESTS=measure_desktop.py \
  bash tests/e2e/run.sh target/release/careloop-app
