#!/usr/bin/env bash
# dlpath as an exercism test runner:  bin/run.sh SLUG INPUT_DIR OUTPUT_DIR
#
# exercism's contract (exercism/docs, building/tooling/test-runners/interface.md):
# INPUT_DIR holds the solution and is to be treated as read-only; the runner
# writes OUTPUT_DIR/results.json and exits 0 whatever the tests say. So the
# solution is checked in a temporary copy (dlpath records results and runs tests
# inside the project), and the script exits 0 once it has written the results:
# every outcome, errors included, is a valid results.json (docs/check-json.md,
# "exercism"). Only a call without the three arguments exits 2 (nowhere to write).
#
# Settings (environment): DLPATH (the dlpath command, default: dlpath),
# DLPATH_CHECK_ARGS (more arguments for `dlpath check`).
set -u
if [ $# -lt 3 ]; then
  echo "usage: $0 SLUG INPUT_DIR OUTPUT_DIR" >&2
  exit 2
fi
slug=$1
input=${2%/}
output=${3%/}
mkdir -p "$output"
results="$output/results.json"
rm -f "$results"

export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
export DVC_NO_ANALYTICS=1

work=$(mktemp -d "${TMPDIR:-/tmp}/dlpath-$slug.XXXXXX")
trap 'rm -rf "$work"' EXIT
solution="$work/solution"
if [ -d "$input" ]; then
  mkdir -p "$solution" && cp -a "$input/." "$solution/"
else
  solution=$input  # dlpath reports "not a directory" as an exercism error
fi

# shellcheck disable=SC2086
${DLPATH:-dlpath} check "$solution" --format exercism --output "$results" ${DLPATH_CHECK_ARGS:-}
status=$?
if [ ! -s "$results" ]; then
  printf '%s\n' "{\"version\": 2, \"status\": \"error\", \"message\": \"dlpath could not run (exit status $status).\"}" > "$results"
fi
exit 0
