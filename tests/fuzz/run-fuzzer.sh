#!/bin/sh
# run-fuzzer.sh FUZZER SEED-CORPUS WORK-DIR [SECONDS]
# A short libFuzzer run that starts from the committed seeds. New inputs go
# to WORK-DIR, never into the committed corpus; a crash makes the test fail
# and leaves the reproducer in WORK-DIR.
set -eu
fuzzer=$1 seeds=$2 work=$3 secs=${4:-${DUALSCD_FUZZ_SECONDS:-10}}
rm -rf "$work"
mkdir -p "$work/corpus"
case $fuzzer in /*) ;; *) fuzzer=$PWD/$fuzzer ;; esac
cd "$work"
exec "$fuzzer" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 \
  -print_final_stats=1 "$work/corpus" "$seeds"
