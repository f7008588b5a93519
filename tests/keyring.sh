#!/usr/bin/env bash
# The cache key lives in the OS keyring, as on a desktop: Secret Service (gnome-keyring) in a
# private D-Bus session. With no key file, `careloop` creates a random key in the keyring on
# first use, finds it again in the next process, writes no key file, and refuses the cache
# when the keyring does not have the key.
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

echo "keyring: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
