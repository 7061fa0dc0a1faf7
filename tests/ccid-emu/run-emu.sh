#!/bin/bash
# run-emu.sh - run a command against a private dualscd-ccid-emu
#
# Usage: run-emu.sh EMU [EMU_OPTIONS...] -- CMD [ARGS...]
# Starts EMU --dir TMP EMU_OPTIONS, waits for READY, runs CMD with the
# emulator's environment (UMOCKDEV_DIR, LD_PRELOAD) and DUALSCD_EMU_DIR,
# DUALSCD_EMU_CONTROL, DUALSCD_EMU_PID, then stops the emulator with SIGTERM
# and fails if CMD failed or the emulator did not exit cleanly.
set -uo pipefail

emu=${1:?usage: run-emu.sh EMU [OPTIONS] -- CMD}
shift
opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  opts+=("$1")
  shift
done
[ "${1:-}" = -- ] || { echo "run-emu.sh: no -- CMD" >&2; exit 2; }
shift

dir=$(mktemp -d /tmp/dualscd-emu.XXXXXX)
"$emu" --dir "$dir" "${opts[@]}" >"$dir/stdout" 2>"$dir/stderr" &
emu_pid=$!
for _ in $(seq 200); do
  grep -q READY "$dir/stdout" 2>/dev/null && break
  kill -0 "$emu_pid" 2>/dev/null || break
  sleep 0.05
done
if ! grep -q READY "$dir/stdout"; then
  echo "run-emu.sh: emulator did not start:" >&2
  cat "$dir/stderr" >&2
  kill "$emu_pid" 2>/dev/null
  wait "$emu_pid" 2>/dev/null
  rm -rf "$dir"
  exit 1
fi

(
  # shellcheck disable=SC1091
  . "$dir/env"
  # A sanitized client loads the preload before the ASan runtime.
  export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
  export DUALSCD_EMU_DIR=$dir DUALSCD_EMU_CONTROL=$dir/control DUALSCD_EMU_PID=$emu_pid
  "$@"
)
rc=$?

kill -TERM "$emu_pid" 2>/dev/null
wait "$emu_pid"
emu_rc=$?
if [ "$emu_rc" -ne 0 ]; then
  echo "# emulator exit status $emu_rc" >&2
  sed 's/^/# emu: /' "$dir/stderr" >&2
  rc=1
fi
rm -rf "$dir"
exit "$rc"
