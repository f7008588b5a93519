#!/usr/bin/env bash
# Checks `careloop segment` against an independent implementation of CARE_GAP_RULES.md
# (care_gaps.py) on both shared Synthea archives and several as-of dates.
# Usage: tests/reference/run.sh target/debug/careloop [SHARED_DATA_DIR]
set -euo pipefail
bin="$(realpath "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
data="${2:-${CARELOOP_SHARED_DATA:-$here/../../../shared/data}}"
tmp="$(mktemp -d -t careloop-reference.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
(umask 077 && python3 -c 'import secrets;print(secrets.token_hex(32))' >"$tmp/key")
passed=0
failed=0
for archive in smart-on-fhir-generated-sample-data-R4-SYNTHEA.tar.gz fhir-data-pipes-synthea-hiv-sample_data.tar.gz; do
  dir="$tmp/${archive%%.*}"
  "$bin" --data-dir "$dir" --key-file "$tmp/key" import "$data/$archive" >/dev/null
  for as_of in 2021-03-31 2020-06-30 2019-02-28 2021-09-30; do
    "$bin" --data-dir "$dir" --key-file "$tmp/key" segment --as-of "$as_of" --format json >"$tmp/run.json"
    echo "-- $archive as of $as_of"
    if python3 "$here/care_gaps.py" "$data/$archive" "$as_of" "$tmp/run.json"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
  done
done
echo "reference: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
