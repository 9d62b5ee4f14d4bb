#!/usr/bin/env bash
# dlpath as a PrairieLearn external grader entry point.
#
# PrairieLearn's contract (PrairieLearn/PrairieLearn, docs/externalGrading.md):
# the student's files are in /grade/student; the results go to
# /grade/results/results.json (the directory is not created for you); the entry
# point must exit 0, or PrairieLearn ignores the results file
# (apps/grader-host/src/index.ts). docs/check-json.md, "PrairieLearn", has the
# question's info.json.
#
# The student uploads the project as one archive (project.zip, project.tar.gz or
# project.tgz; a zip of the project folder, .git included) or as loose files.
#
# Settings (environment): DLPATH (the dlpath command, default: dlpath),
# DLPATH_CHECK_ARGS (more arguments for `dlpath check`), PL_GRADE_ROOT (/grade).
set -u
GRADE=${PL_GRADE_ROOT:-/grade}
results="$GRADE/results/results.json"
mkdir -p "$GRADE/results"
rm -f "$results"

export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'
export DVC_NO_ANALYTICS=1

work=$(mktemp -d "${TMPDIR:-/tmp}/dlpath-grade.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/project"
shopt -s nullglob
archives=("$GRADE"/student/*.zip "$GRADE"/student/*.tar.gz "$GRADE"/student/*.tgz)
if [ ${#archives[@]} -eq 1 ]; then
  # Extracted by Python (dlpath needs it anyway): no path may leave the folder.
  python3 - "${archives[0]}" "$work/project" <<'PY' || echo "could not extract ${archives[0]##*/}" >&2
import sys, tarfile, zipfile
archive, dest = sys.argv[1], sys.argv[2]
if archive.endswith(".zip"):
    with zipfile.ZipFile(archive) as z:
        z.extractall(dest)  # zipfile drops "..", absolute paths and drive letters
else:
    with tarfile.open(archive) as t:
        if hasattr(tarfile, "data_filter"):
            t.extractall(dest, filter="data")
        else:  # Python without extraction filters: refuse what could leave dest
            for m in t.getmembers():
                if m.name.startswith("/") or ".." in m.name.split("/") or m.islnk() \
                        or m.issym() or m.isdev():
                    sys.exit(f"unsafe member in the archive: {m.name}")
            t.extractall(dest)
PY
else
  cp -a "$GRADE/student/." "$work/project/" 2>/dev/null
fi
# The project is the folder holding .dlpath/ (an archive of the project folder
# has it one level down).
project="$work/project"
if [ ! -d "$project/.dlpath" ]; then
  found=$(find "$project" -maxdepth 3 -type d -name .dlpath -print 2>/dev/null | head -n 1)
  [ -n "$found" ] && project=$(dirname "$found")
fi

# shellcheck disable=SC2086
${DLPATH:-dlpath} check "$project" --format prairielearn --output "$results" ${DLPATH_CHECK_ARGS:-}
status=$?
if [ ! -s "$results" ]; then
  printf '%s\n' "{\"gradable\": false, \"format_errors\": [\"dlpath could not run (exit status $status).\"]}" > "$results"
fi
exit 0
