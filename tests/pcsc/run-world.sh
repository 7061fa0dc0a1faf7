#!/bin/bash
# run-world.sh BUILD_DIR TEST_PROGRAM - run a PC/SC backend test in a fresh
# test world (tests/world/start.sh), then stop the world.  The program gets
# the world's environment plus DUALSCD_BUILD and DUALSCD_PCSC_CTL (the
# world-ctl.sh command prefix) and writes TAP.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: run-world.sh BUILD_DIR TEST_PROGRAM}" && pwd)
prog=${2:?usage: run-world.sh BUILD_DIR TEST_PROGRAM}
world=$(mktemp -d /tmp/dualscd-pcsc.XXXXXX)

if ! "$here/../world/start.sh" "$build" "$world" >"$world.env" 2>"$world.err"; then
  echo "not ok 1 - the test world starts"
  sed 's/^/# /' "$world.err"
  "$here/../world/stop.sh" "$world" >/dev/null 2>&1
  echo "1..1"
  exit 1
fi
# shellcheck disable=SC1090
. "$world.env"
export DUALSCD_BUILD=$build
export DUALSCD_PCSC_CTL="$here/world-ctl.sh $world $build"
export DUALSCD_PCSC_NEIGHBOUR="/usr/bin/python3 $here/neighbour.py"
"$prog"
rc=$?
if ! "$here/../world/stop.sh" "$world" >"$world.stop" 2>&1; then
  echo "# stop.sh failed:"
  sed 's/^/# /' "$world.stop"
  rc=1
fi
if [ "$rc" -eq 0 ]; then
  rm -rf "$world" "$world.env" "$world.err" "$world.stop"
else
  tail -n 20 "$world/pcscd.log" | sed 's/^/# pcscd.log: /'
  echo "# world kept in $world"
fi
exit "$rc"
