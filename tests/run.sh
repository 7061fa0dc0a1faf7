#!/bin/sh
# run.sh - install what is needed, build, and run the whole test suite.
# Ends with one line "N passed, M failed"; exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."

sh tests/deps.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build
rm -f build/meson-logs/testlog.json
rc=0
meson test -C build --print-errorlogs || rc=$?
python3 tests/summary.py build/meson-logs/testlog.json || rc=1
exit "$rc"
