#!/usr/bin/env bash
# The cache key lives in the OS keyring, as on a desktop: Secret Service (gnome-keyring) in a
# private D-Bus session. With no key file, `careloop` creates a random key in the keyring on
# first use, finds it again in the next process, writes no key file, and refuses the cache
# when the keyring does not have the key. Then the sync refresh token: `careloop sync login`
# keeps it in the keyring, a later `sync run` (no password) resumes from it, `sync logout`
# revokes it on a real `careloop serve` and removes it, after which `sync run` is refused.
# Usage: tests/keyring.sh target/debug/careloop
set -euo pipefail
bin="$(realpath "$1")"
tmp="$(mktemp -d -t careloop-keyring.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
unset CARELOOP_KEY_FILE CARELOOP_DATA_DIR
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
mkdir -p "$HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$tmp/input"
printf '%s\n' '{"resourceType":"Patient","id":"k1","name":[{"given":["Keyring"],"family":"Canary"}]}' >"$tmp/input/Patient.ndjson"

# In a session whose keyring lives in $1: import, then read back from a new process.
in_keyring_session() {
  XDG_DATA_HOME="$1" dbus-run-session -- bash -c '
    set -euo pipefail
    echo -n careloop-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    shift
    "$@"
  ' _ "$@"
}

passed=0
failed=0
check() { if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $*" >&2; fi; }

mkdir -p "$tmp/keyring-a" "$tmp/keyring-b"
in_keyring_session "$tmp/keyring-a" bash -c "'$bin' --data-dir '$tmp/data' import '$tmp/input' >/dev/null && '$bin' --data-dir '$tmp/data' stats --format json" >"$tmp/stats.json"
check grep -q '"patients": 1' "$tmp/stats.json"
# Only the database lives in the data dir: no key beside it.
check test -z "$(ls "$tmp/data" | grep -v -E '^cache\.db(-wal|-shm)?$')"
# A keyring without the key: the cache is refused with the keyring error, exit code 1.
status=0
in_keyring_session "$tmp/keyring-b" "$bin" --data-dir "$tmp/data" stats 2>"$tmp/err.txt" || status=$?
check test "$status" -eq 1
check grep -q "no key for the local cache" "$tmp/err.txt"

# The sync refresh token, against a real server on loopback.
server="$tmp/server"
"$bin" demo --patients 5 --seed 3 --out "$tmp/panel" >/dev/null
CARELOOP_PASSWORD=keyring-pass "$bin" --data-dir "$server" admin user add kim --role coordinator --team north >/dev/null
"$bin" --data-dir "$server" admin panel --team north "$tmp/panel" >/dev/null
"$bin" --data-dir "$server" serve --listen 127.0.0.1:0 >"$tmp/serve.txt" 2>&1 &
serve_pid=$!
trap 'kill "$serve_pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$tmp/serve.txt" && break; sleep 0.1; done
url="$(sed -n 's/.*listening on \(https:[^ ]*\).*/\1/p' "$tmp/serve.txt")"
pin="$(sed -n 's/^certificate SHA-256: //p' "$tmp/serve.txt")"
export CARELOOP_KEY_FILE="$tmp/ws.key"
(umask 077; printf '%064d\n' 7 >"$CARELOOP_KEY_FILE")
ws=(--data-dir "$tmp/ws")
in_keyring_session "$tmp/keyring-a" bash -c "
  set -euo pipefail
  '$bin' ${ws[*]} sync connect '$url' --pin '$pin' >/dev/null
  CARELOOP_PASSWORD=keyring-pass '$bin' ${ws[*]} sync login --as-user kim >/dev/null
  '$bin' ${ws[*]} sync run --as-user kim --format json >'$tmp/run1.json'
  '$bin' ${ws[*]} sync run --as-user kim --format json >'$tmp/run2.json'
  '$bin' ${ws[*]} sync logout --as-user kim >/dev/null
  status=0; '$bin' ${ws[*]} sync run --as-user kim 2>'$tmp/run3.txt' || status=\$?
  echo \$status >'$tmp/run3.status'
" || echo "FAILED: the keyring sync session" >&2
check grep -q '"panel_items": [1-9]' "$tmp/run1.json"
check grep -q '"panel_items": 0' "$tmp/run2.json"
check test "$(cat "$tmp/run3.status" 2>/dev/null)" = 1
check grep -q "unauthorized" "$tmp/run3.txt"
# The refresh token was in the keyring: the workstation's data dir holds only its cache.
check test -z "$(ls "$tmp/ws" | grep -v -E '^cache\.db(-wal|-shm)?$')"

echo "keyring: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
