#!/usr/bin/env bash
# Runs the WebDriver end-to-end tests against a built Careloop binary, under Xvfb with a throwaway cache:
# test_patient_list.py (sign-in, patient list and its search), then test_outreach.py (worklist, case,
# script, channel rule, clinician callback, accented search, idle lock) on the same cache, then
# test_sync.py (a desktop against a real `careloop serve`, with its own tauri-driver and keyring).
# Usage: tests/e2e/run.sh target/debug/careloop-app   (needs tauri-driver on PATH and /usr/bin/WebKitWebDriver)
# Screenshots of each main screen go to target/e2e-screenshots/ in the repository (override with
# CARELOOP_E2E_SCREENSHOTS=DIR): 01-worklist, 02-case-sms-refused, 03-case-callback-routed,
# 04-callback-queue, 05-search, 06-idle-lock, 07-segment-editor, 08-weekly-review, 09-review-drill-down,
# 10-sync-claimed-by-ben, 11-sync-offline, patients, and failure-*.png when a test fails.
# CI keeps that directory. CARELOOP_E2E_SCREENSHOT=/path/shot.png also keeps the patient list's last window.
# The idle lock is shortened to CARELOOP_IDLE_LOCK_SECONDS (default here 15) so the test sees it engage.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Second stage, inside the X server: start tauri-driver, wait for its port, run the test, stop the driver.
# (xvfb-run is a /bin/sh script, which drops exported bash functions, so the script re-enters itself.)
if [ "${1:-}" = "--inside-xvfb" ]; then
  # setsid gives tauri-driver its own process group, so stopping it also stops WebKitWebDriver and the app.
  setsid tauri-driver --port "$DRIVER_PORT" --native-port "$NATIVE_PORT" --native-driver /usr/bin/WebKitWebDriver >"$DRIVER_LOG" 2>&1 &
  driver=$!
  trap 'kill -TERM -- "-$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true' EXIT

  tries=0
  until (exec 3<>/dev/tcp/127.0.0.1/"$DRIVER_PORT") 2>/dev/null; do
    if ! kill -0 "$driver" 2>/dev/null || [ "$tries" -ge 150 ]; then
      echo "tauri-driver did not start listening on port $DRIVER_PORT:" >&2
      cat "$DRIVER_LOG" >&2
      echo "0 passed, 1 failed"
      exit 1
    fi
    sleep 0.2
    tries=$((tries + 1))
  done

  passed=0
  failed=0
  for test in ${CARELOOP_E2E_TESTS:-test_patient_list.py test_outreach.py test_sync.py}; do
    echo "=== $test"
    if python3 "$E2E_DIR/$test" "$CARELOOP_APP"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      echo "--- tauri-driver log (last 50 lines) ---" >&2
      tail -n 50 "$DRIVER_LOG" >&2 || true
    fi
  done
  echo "e2e: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
fi

# First stage: check the tools, make a throwaway home for the app, and start the X server.
die() { echo "run.sh: $*" >&2; echo "0 passed, 1 failed"; exit 2; }

[ $# -ge 1 ] || die "usage: $0 PATH_TO_APP_BINARY"
[ -f "$1" ] && [ -x "$1" ] || die "not an executable file: $1"
command -v tauri-driver >/dev/null || die "tauri-driver is not on PATH (cargo install tauri-driver --locked)"
[ -x /usr/bin/WebKitWebDriver ] || die "/usr/bin/WebKitWebDriver is missing (apt-get install webkit2gtk-driver)"
command -v xvfb-run >/dev/null || die "xvfb-run is missing (apt-get install xvfb xauth)"
python3 -c 'import selenium' 2>/dev/null || die "python3 cannot import selenium (pip install selenium)"
command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null ||
  die "test_sync.py needs dbus-run-session and gnome-keyring-daemon (apt-get install dbus gnome-keyring)"

CARELOOP_APP="$(realpath "$1")"
tmp="$(mktemp -d -t careloop-e2e.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/xdg-data" "$tmp/xdg-cache" "$tmp/xdg-config" "$tmp/data"
(umask 077 && python3 -c 'import secrets;print(secrets.token_hex(32))' >"$tmp/key")
chmod 600 "$tmp/key"

# Two free loopback ports (tauri-driver and WebKitWebDriver), so parallel runs do not collide.
read -r DRIVER_PORT NATIVE_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
export DRIVER_PORT NATIVE_PORT CARELOOP_E2E_DRIVER_URL="http://127.0.0.1:$DRIVER_PORT"
export CARELOOP_APP DRIVER_LOG="$tmp/tauri-driver.log"
export XDG_DATA_HOME="$tmp/xdg-data" XDG_CACHE_HOME="$tmp/xdg-cache" XDG_CONFIG_HOME="$tmp/xdg-config"
export NO_AT_BRIDGE=1
export CARELOOP_DATA_DIR="$tmp/data" CARELOOP_KEY_FILE="$tmp/key" CARELOOP_DEMO_PATIENTS=300
export CARELOOP_EXPORT_DIR="$tmp/exports"
# A prepared cache instead of a new demo one (tests/e2e/measure.sh uses a 100,000-person panel).
if [ -n "${CARELOOP_E2E_DATA_DIR:-}" ]; then
  export CARELOOP_DATA_DIR="$CARELOOP_E2E_DATA_DIR" CARELOOP_KEY_FILE="$CARELOOP_E2E_KEY_FILE"
fi
export CARELOOP_IDLE_LOCK_SECONDS="${CARELOOP_IDLE_LOCK_SECONDS:-15}"
export CARELOOP_E2E_SCREENSHOTS="${CARELOOP_E2E_SCREENSHOTS:-$(realpath "$E2E_DIR/../..")/target/e2e-screenshots}"
mkdir -p "$CARELOOP_E2E_SCREENSHOTS"

status=0
xvfb-run -a -s "-screen 0 1280x800x24" bash "$E2E_DIR/run.sh" --inside-xvfb || status=$?
exit "$status"
