#!/bin/bash
# world-ctl.sh - disturb a running test world the way users do
#
# Usage: world-ctl.sh WORLD_DIR BUILD_DIR COMMAND
#   card-stop      SIGTERM to the card program (the card leaves the reader);
#                  returns at once, without waiting for it to exit
#   card-start     start the card program again (the card is inserted)
#   pcscd-restart  stop the world's pcscd and start it again as start.sh does
# Every process started is appended to WORLD_DIR/pids, so stop.sh stops it;
# a PID is signalled only after checking it still runs the recorded program.
set -euo pipefail

world=${1:?usage: world-ctl.sh WORLD BUILD COMMAND}
build=${2:?usage: world-ctl.sh WORLD BUILD COMMAND}
cmd=${3:?usage: world-ctl.sh WORLD BUILD COMMAND}
# shellcheck disable=SC1091
. "$world/env"

die() {
  echo "world-ctl.sh: $*" >&2
  exit 1
}

runs() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}

# The PID most recently recorded for NAME.
last_pid() {
  awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$world/pids"
}

card_stop() {
  local pid
  pid=$(cat "$world/vcard.pid")
  runs "$pid" dualscd-vcard || die "card ($pid) is not running"
  kill -TERM "$pid"
}

# As start.sh: a subshell keeps the exit status for stop.sh.
card_start() {
  local pid
  for _ in $(seq 100); do
    runs "$(cat "$world/vcard.pid")" dualscd-vcard || break
    sleep 0.1
  done
  [ -s "$world/vcard.status" ] && [ "$(cat "$world/vcard.status")" != 0 ] &&
    die "the previous card exited with status $(cat "$world/vcard.status")"
  rm -f "$world/vcard.pid" "$world/vcard.status"
  (
    "$build/tests/vcard/dualscd-vcard" --vpcd "127.0.0.1:$DUALSCD_WORLD_PORT" \
      --state "$world/card.state" --apdu-log "$world/apdu.log" \
      </dev/null >>"$world/vcard.log" 2>&1 &
    echo "$!" >"$world/vcard.pid"
    wait "$!" && rc=0 || rc=$?
    echo "$rc" >"$world/vcard.status"
  ) </dev/null >/dev/null 2>&1 &
  for _ in $(seq 50); do
    [ -s "$world/vcard.pid" ] && break
    sleep 0.05
  done
  pid=$(cat "$world/vcard.pid")
  echo "vcard $pid" >>"$world/pids"
}

pcscd_restart() {
  local pid socket=$PCSCLITE_CSOCK_NAME
  pid=$(last_pid pcscd)
  runs "$pid" pcscd || die "pcscd ($pid) is not running"
  kill -TERM "$pid"
  for _ in $(seq 100); do
    runs "$pid" pcscd || break
    sleep 0.1
  done
  runs "$pid" pcscd && die "pcscd ($pid) ignored SIGTERM"
  rm -f "$socket"
  # shellcheck disable=SC2016 # $1 and $2 expand in the inner sh
  unshare -m --propagation private sh -c \
    'mount --bind "$1" /run && exec pcscd -f -d -c "$2"' \
    sh "$world/run" "$world/reader.conf" \
    </dev/null >>"$world/pcscd.log" 2>&1 &
  echo "pcscd $!" >>"$world/pids"
  for _ in $(seq 100); do
    [ -S "$socket" ] && return 0
    sleep 0.1
  done
  die "pcscd socket $socket did not come back"
}

case $cmd in
  card-stop) card_stop ;;
  card-start) card_start ;;
  pcscd-restart) pcscd_restart ;;
  *) die "unknown command $cmd" ;;
esac
