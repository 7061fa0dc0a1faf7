#!/bin/bash
# stop.sh - stop a test world started by start.sh, and only it.
#
# Usage: stop.sh WORLD_DIR
# Order: gpg-agent (and whatever it spawned, through gpgconf with the
# world's GNUPGHOME), then the card, then pcscd, then the emulated USB
# reader of start.sh --ccid.  Processes are signalled by
# the PIDs start.sh recorded, after checking that each PID still runs the
# program it was recorded for (a PID may have been reused).  Exits 1 if
# anything had to be killed with SIGKILL or the card did not exit with
# status 0.
set -uo pipefail

world=${1:?usage: stop.sh WORLD_DIR}
[ -f "$world/pids" ] || { echo "stop.sh: $world is no world" >&2; exit 1; }
status=0

# Does PID still run a program whose name contains NAME?
runs() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}

# SIGTERM, then up to 10 s of patience, then SIGKILL (and a failure).
stop_pid() {
  local name=$1 pid=$2 match=$3
  runs "$pid" "$match" || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do
    runs "$pid" "$match" || return 0
    sleep 0.1
  done
  echo "stop.sh: $name ($pid) ignored SIGTERM; killed" >&2
  kill -KILL "$pid" 2>/dev/null
  status=1
}

if [ -d "$world/gnupg" ]; then
  agent_pid=$(GNUPGHOME=$world/gnupg gpg-connect-agent --no-autostart \
    'getinfo pid' /bye 2>/dev/null | sed -n 's/^D //p')
  GNUPGHOME=$world/gnupg gpgconf --kill all 2>/dev/null
  if [ -n "$agent_pid" ]; then
    for _ in $(seq 100); do
      runs "$agent_pid" gpg-agent || break
      sleep 0.1
    done
    stop_pid gpg-agent "$agent_pid" gpg-agent
  fi
  # The card daemon the agent spawned sees EOF and exits.  One that has
  # not after 5 s is reported and killed: with the emulated reader a daemon
  # whose device was unplugged and replugged can block in umockdev's
  # preload while closing the old device (a real kernel answers ENODEV),
  # and nothing of a world may outlive it.
  for pid in $(pgrep -f -- "--homedir $world/gnupg" || true); do
    for _ in $(seq 50); do
      [ -d "/proc/$pid" ] || break
      sleep 0.1
    done
    if [ -d "/proc/$pid" ]; then
      echo "stop.sh: card daemon $pid did not exit after its agent; killed" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
fi

# Waits for the exit status the card's (or emulator's) subshell keeps in
# WORLD/NAME.status; it must be 0.
check_status() {
  local name=$1 prog=$2 st
  for _ in $(seq 50); do
    [ -s "$world/$name.status" ] && break
    sleep 0.1
  done
  st=$(cat "$world/$name.status" 2>/dev/null || echo unknown)
  if [ "$st" != 0 ]; then
    echo "stop.sh: $prog exit status $st; see $world/$name.log" >&2
    status=1
  fi
}

while read -r name pid; do
  case $name in
    vcard) stop_pid "$name" "$pid" dualscd-vcard ;;
  esac
done <"$world/pids"
if grep -q '^vcard ' "$world/pids"; then
  check_status vcard dualscd-vcard
fi

while read -r name pid; do
  case $name in
    pcscd) stop_pid "$name" "$pid" pcscd ;;
  esac
done <"$world/pids"

# The emulated USB reader (start.sh --ccid) goes last: pcscd used it.
while read -r name pid; do
  case $name in
    ccid-emu) stop_pid "$name" "$pid" dualscd-ccid-emu ;;
  esac
done <"$world/pids"
if grep -q '^ccid-emu ' "$world/pids"; then
  check_status emu dualscd-ccid-emu
fi
exit "$status"
