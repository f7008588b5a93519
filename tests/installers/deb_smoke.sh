#!/usr/bin/env bash
# Smoke test of the Debian package: installs it into this machine with apt, checks that
# `careloop --version` answers and that the installed app's window comes up under Xvfb with a
# temporary data dir and key file (the app creates its encrypted cache there), then purges
# the package and checks that nothing it installed is left outside the data dir.
#
#   bash tests/installers/deb_smoke.sh target/debug/bundle/deb/Careloop_0.1.0_amd64.deb
#
# Needs root (apt), xvfb-run and xwininfo (x11-utils).
set -euo pipefail
deb="$(realpath "$1")"
tmp="$(mktemp -d -t careloop-deb-smoke.XXXXXX)"
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "deb smoke: FAILED: $*" >&2; exit 1; }

package="$(dpkg-deb -f "$deb" Package)"
version="$(dpkg-deb -f "$deb" Version)"
echo "deb smoke: $package $version from $(basename "$deb"), $(stat -c %s "$deb") bytes, installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
if dpkg -s "$package" >/dev/null 2>&1; then
  apt-get -o DPkg::Lock::Timeout=300 purge -y "$package" >/dev/null
fi

# Everything under the system directories before installing (paths, not contents).
snapshot() {
  find /usr /etc /opt -xdev -print 2>/dev/null | LC_ALL=C sort
}
snapshot >"$tmp/before"

DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1 \
  || { cat "$tmp/apt.log" >&2; fail "apt-get install"; }
dpkg -s "$package" | grep -q '^Status: install ok installed' || fail "$package is not installed"

# The command-line tool answers.
cli_version="$(careloop --version)"
[ "$cli_version" = "careloop $version" ] || fail "careloop --version says '$cli_version', expected 'careloop $version'"
echo "deb smoke: careloop --version: $cli_version"
desktop_file="$(dpkg -L "$package" | grep '^/usr/share/applications/.*\.desktop$' | head -1)"
[ -n "$desktop_file" ] || fail "no desktop entry installed"
grep -q '^Exec=careloop-app' "$desktop_file" || fail "the desktop entry does not start careloop-app"
app="$(command -v careloop-app)" || fail "careloop-app is not on PATH"

# The installed app, under Xvfb, with a temporary home, data dir and key file.
mkdir -p "$tmp/home"
(umask 077 && python3 -c 'import secrets;print(secrets.token_hex(32))' >"$tmp/key")
cat >"$tmp/run-app.sh" <<INNER
#!/usr/bin/env bash
set -u
"$app" &
pid=\$!
for _ in \$(seq 1 90); do
  if xwininfo -root -tree 2>/dev/null | grep -q '"Careloop"'; then
    # The window is up; wait until the cache exists (the backend ran), then stop.
    for _ in \$(seq 1 60); do
      [ -s "$tmp/data/cache.db" ] && break
      sleep 1
    done
    xwininfo -root -tree | grep '"Careloop"' | head -1
    kill \$pid
    wait \$pid 2>/dev/null
    exit 0
  fi
  if ! kill -0 \$pid 2>/dev/null; then echo "the app exited early" >&2; exit 1; fi
  sleep 1
done
echo "no Careloop window within 90 s" >&2
kill \$pid
exit 1
INNER
chmod +x "$tmp/run-app.sh"
env -i PATH="$PATH" HOME="$tmp/home" XDG_DATA_HOME="$tmp/home/.local/share" \
  XDG_CONFIG_HOME="$tmp/home/.config" XDG_CACHE_HOME="$tmp/home/.cache" \
  CARELOOP_DATA_DIR="$tmp/data" CARELOOP_KEY_FILE="$tmp/key" CARELOOP_DEMO_PATIENTS=50 \
  WEBKIT_DISABLE_COMPOSITING_MODE=1 \
  xvfb-run -a -s "-screen 0 1280x800x24" "$tmp/run-app.sh" >"$tmp/app.log" 2>&1 \
  || { cat "$tmp/app.log" >&2; fail "the installed app did not show its window"; }
grep '"Careloop"' "$tmp/app.log" | head -1 | sed 's/^ */deb smoke: window: /'
[ -s "$tmp/data/cache.db" ] || fail "the app did not create its encrypted cache in the data dir"
echo "deb smoke: the app created its cache in the data dir ($(stat -c %s "$tmp/data/cache.db") bytes)"

# Remove it: nothing it installed may be left.
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 purge -y "$package" >"$tmp/apt.log" 2>&1 \
  || { cat "$tmp/apt.log" >&2; fail "apt-get purge"; }
if dpkg -s "$package" >/dev/null 2>&1; then fail "$package is still known to dpkg"; fi
snapshot >"$tmp/after"
left=()
while IFS= read -r path; do
  # A new path that another package owns (a dependency apt pulled in) is not ours.
  if ! dpkg -S "$path" >/dev/null 2>&1; then left+=("$path"); fi
done < <(LC_ALL=C comm -13 "$tmp/before" "$tmp/after")
if [ ${#left[@]} -gt 0 ]; then
  printf '  %s\n' "${left[@]}" >&2
  fail "files left behind after purging $package"
fi
for path in /usr/bin/careloop /usr/bin/careloop-app "$desktop_file"; do
  [ ! -e "$path" ] || fail "$path is still there"
done
echo "deb smoke: passed (installed, CLI answered, window came up, purged without leftovers)"
