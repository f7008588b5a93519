#!/usr/bin/env bash
# Builds the Careloop Debian package with the Tauri bundler; the version is the workspace's
# (Cargo.toml). The package holds the desktop app (/usr/bin/careloop-app), the `careloop`
# command-line tool (/usr/bin/careloop), the desktop entry and the icons.
#
#   bash installers/build-deb.sh            # release build: target/release/bundle/deb/
#   bash installers/build-deb.sh --debug    # bundles the debug binaries the test build made
#                                           # (`cargo build --workspace --all-targets`), without
#                                           # building again; CI smoke test
#
# Prints the package's path, its size and its installed size.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
profile=release
cargo_profile=(--release)
tauri_profile=()
config=()
if [ "${1:-}" = "--debug" ]; then
  profile=debug
  tauri_profile=(--debug)
  config=(--config installers/linux/deb-debug.json)
fi

# The prebuilt Tauri CLI (npm), the UI's dependencies (the bundler builds ui/dist first).
npm --prefix installers install --no-audit --no-fund --loglevel=error >/dev/null
npm --prefix ui install --no-audit --no-fund --loglevel=error >/dev/null

if [ "$profile" = debug ]; then
  # Bundle what the workspace build made: building the app alone here would resolve other
  # features for the shared dependencies and rebuild the whole tree.
  for bin in careloop-app careloop; do
    [ -x "target/debug/$bin" ] || { echo "build-deb: target/debug/$bin is missing: run cargo build --workspace first" >&2; exit 1; }
  done
  installers/node_modules/.bin/tauri bundle "${tauri_profile[@]}" --bundles deb "${config[@]}" --ci
else
  # The command-line tool goes into the package beside the app.
  cargo build -p careloop-cli "${cargo_profile[@]}"
  installers/node_modules/.bin/tauri build "${tauri_profile[@]}" --bundles deb "${config[@]}" --ci
fi

deb="$(ls -t "target/$profile/bundle/deb/"*.deb | head -1)"
size=$(stat -c %s "$deb")
installed_kib=$(dpkg-deb -f "$deb" Installed-Size)
echo "built $deb"
echo "package size: $size bytes ($(awk "BEGIN {printf \"%.1f\", $size/1048576}") MiB); installed size: ${installed_kib} KiB ($(awk "BEGIN {printf \"%.1f\", $installed_kib/1024}") MiB)"
